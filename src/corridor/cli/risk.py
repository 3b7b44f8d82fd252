"""``corridor risk``: simulate a plan many times under the scenario's ``[risk]`` disruptions.

Exit codes as every command: 0 ok, 1 a run that failed (a scheduler that cannot be reached, batches
lost for good, a plan that fails verification), 2 bad input (the scenario, the plan file or an option;
the message names the place).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from corridor.core.errors import CorridorError, InputError
from corridor.simulate.axes import Axis, SweepPoint
from corridor.simulate.risk import RiskResult
from corridor.simulate.sweep import PlanKind

out = Console()
err = Console(stderr=True)


def _fail(exc: CorridorError) -> None:
    err.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except CorridorError as exc:
        _fail(exc)


Say = Callable[[str], None]
Tick = Callable[[int, int], None]


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Say, Tick]]:
    if not enabled:
        yield (lambda _: None), (lambda done, total: None)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("loading the scenario", total=None)

        def say(text: str) -> None:
            bar.update(task, description=text, completed=0, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield say, tick


def _read_convoy_plan(path: Path, scenario: Any, network: Any) -> Any:
    """A convoy.json written by ``corridor convoy``, checked against the scenario: its timetable."""
    from corridor.plan.convoy import ConvoyPlan
    from corridor.problem.convoy import compile_convoy
    from corridor.simulate.timetable import convoy_timetable

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        plan = ConvoyPlan.from_dict(data)
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}", where=str(path)) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"not a convoy plan: {type(exc).__name__}: {exc}",
            where=str(path),
            hint="give the convoy.json that `corridor convoy --out DIR` writes",
        ) from None
    problem, _ = compile_convoy(scenario, network)
    if problem is None:
        raise InputError("the scenario has no convoy problem", where=str(path))
    violations = plan.verify(problem)
    if violations:
        raise InputError(
            f"the plan does not fit the scenario: {'; '.join(violations[:3])}",
            where=str(path),
            hint="simulate the plan with the scenario it was made for",
        )
    return convoy_timetable(plan, problem)


def _summary_table(result: RiskResult) -> Table:
    s = result.summary()
    table = Table(title=f"{result.scenario}: risk of the {result.plan_kind} plan", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    left = s["left"]
    rows = [
        ("runs", f"{s['runs']:,} (seed {s['seed']})"),
        ("people to evacuate", f"{s['people']:,}"),
        ("out by the deadline, as planned", f"{s['planned_out']:,}"),
        ("chance everyone is out", f"{100 * s['p_all_out']:.1f} %"),
        ("chance the plan's figure is met", f"{100 * s['p_plan_met']:.1f} %"),
        ("mean people out", f"{s['mean_out']:,.0f}"),
        ("people left inside (5/50/95 %)", f"{left['p5']:,.0f} / {left['p50']:,.0f} / {left['p95']:,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for point, v in s["left_by_point"].items():
        table.add_row(f"left at {point} (mean / 95 %)", f"{v['mean']:,.0f} / {v['p95']:,.0f}")
    for e in s["most_damaging"]:
        table.add_row(f"costs: {e['disruption']}", f"{e['damage']:,.0f} people on average")
    return table


def _sweep_table(points: list[SweepPoint], axis: Axis) -> Table:
    table = Table(title=f"risk against {axis.label}")
    for name in (
        axis.label,
        "plan: out",
        "mean out",
        "5 % of runs",
        "95 % of runs",
        "everyone out",
        "plan met",
    ):
        table.add_column(name, justify="right")
    for p in points:
        s = p.result.summary()
        people = s["people"]
        table.add_row(
            f"{p.value:g}",
            f"{p.planned_out:,}",
            f"{s['mean_out']:,.0f}",
            f"{people - s['left']['p95']:,.0f}",
            f"{people - s['left']['p5']:,.0f}",
            f"{100 * s['p_all_out']:.1f} %",
            f"{100 * s['p_plan_met']:.1f} %",
        )
    return table


def _write(out_dir: Path, result: RiskResult) -> list[str]:
    from corridor.reports.risk_figures import fan_chart, tornado_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "risk.json").write_text(json.dumps(result.summary(), indent=1))
    lines = ["run,people_out", *(f"{k},{int(n)}" for k, n in enumerate(result.out.tolist()))]
    (out_dir / "runs.csv").write_text("\n".join(lines) + "\n")
    fan_chart(result, out_dir / "fan.png")
    tornado_chart(result, out_dir / "tornado.png")
    return ["risk.json", "runs.csv", "fan.png", "tornado.png"]


def _write_sweep(out_dir: Path, points: list[SweepPoint], axis: Axis) -> list[str]:
    from corridor.reports.risk_figures import sweep_chart, sweep_fans, tornado_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    data = [{"value": p.value, **p.result.summary()} for p in points]
    (out_dir / "sweep.json").write_text(json.dumps({"axis": axis.label, "points": data}, indent=1))
    sweep_chart(points, axis, out_dir / "sweep.png")
    sweep_fans(points, axis, out_dir / "sweep-fans.png")
    written = ["sweep.json", "sweep.png", "sweep-fans.png"]
    for p in points:
        name = f"tornado-{p.value:g}.png"
        tornado_chart(p.result, out_dir / name)
        written.append(name)
    return written


def risk(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario TOML file with a [risk] table (see docs/scenario.md).")
    ],
    runs: Annotated[
        int,
        typer.Option(
            help="Simulated runs (per sweep value; at most 200,000: every run's curve is kept).",
            min=1,
            max=200_000,
        ),
    ] = 1000,
    seed: Annotated[
        int, typer.Option(help="Seed of the first run; the same seed gives the same runs.", min=0)
    ] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a Dask scheduler (tcp://HOST:8786) to run the batches on."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes of a local Dask cluster (default: 2 when runs are many).", min=1),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for risk.json, runs.csv, fan.png and tornado.png (or the sweep's)."
        ),
    ] = None,
    plan_file: Annotated[
        Path | None,
        typer.Option("--plan", help="A convoy.json written by `corridor convoy` (default: plan afresh)."),
    ] = None,
    flow: Annotated[
        bool, typer.Option("--flow", help="Simulate the flow plan (`corridor plan`), not the convoy plan.")
    ] = False,
    method: Annotated[
        str | None,
        typer.Option(help="Planning method when planning afresh (default: greedy convoys, ccrp flows)."),
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds for anytime planning methods.", min=0.0)] = 20.0,
    sweep_axis: Annotated[
        str | None,
        typer.Option(
            "--sweep",
            help="Plan and assess per value: fleet:ID=10,20,30, checkpoint:ID=6,12,24 or deadline=12,16,20.",
        ),
    ] = None,
    sensitivity_runs: Annotated[
        int | None,
        typer.Option(help="Runs with each disruption off and doubled (default: min(runs, 2000)).", min=0),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Simulate a plan many times under seeded disruptions: the chance everyone is out, people left
    inside, people out against time, and the disruptions that cost most."""
    from corridor.network.build import load_network
    from corridor.scenario.load import load_scenario
    from corridor.simulate.cluster import open_runner
    from corridor.simulate.risk import assess
    from corridor.simulate.sweep import make_plan, parse_axis, sweep

    with _errors():
        axis = parse_axis(sweep_axis) if sweep_axis is not None else None
        if axis is not None and plan_file is not None:
            raise InputError("a sweep plans afresh for each value; leave out --plan", where="--sweep")
    with _progress(not as_json and sys.stderr.isatty()) as (say, tick), _errors():
        loaded = load_scenario(scenario)
        say("loading the network")
        network = load_network(loaded.network, loaded.base_dir)
        kind: PlanKind = "flow" if flow or not loaded.fleet else "convoy"
        if plan_file is not None and kind == "flow":
            raise InputError("--plan reads a convoy plan; leave out --flow", where="--plan")
        risk_settings = loaded.risk
        say("opening the cluster" if scheduler or workers else "planning")
        with open_runner(scheduler, workers, runs) as runner:
            if axis is not None:
                points = sweep(
                    loaded,
                    network,
                    axis,
                    kind=kind,
                    method=method,
                    time_limit=time_limit,
                    risk=risk_settings,
                    runs=runs,
                    seed=seed,
                    runner=runner,
                    sensitivity_runs=sensitivity_runs,
                    say=say,
                    progress=tick,
                )
                _report_sweep(points, axis, out_dir, as_json)
                return
            if plan_file is not None:
                tt = _read_convoy_plan(plan_file, loaded, network)
            else:
                say(f"planning ({kind})")
                tt = make_plan(loaded, network, kind, method, time_limit).timetable
            say(f"simulating ({runner.name})")
            result = assess(
                tt,
                risk_settings,
                runs=runs,
                seed=seed,
                runner=runner,
                sensitivity_runs=sensitivity_runs,
                progress=tick,
            )
    _report(result, out_dir, as_json)


def _report(result: RiskResult, out_dir: Path | None, as_json: bool) -> None:
    written: list[str] = []
    if out_dir is not None:
        try:
            written = _write(out_dir, result)
        except OSError as exc:
            _fail(InputError(f"cannot write there: {exc.strerror or exc}", where=str(out_dir)))
    if as_json:
        out.print_json(json.dumps(result.summary()))
        return
    if not result.risk.disrupted:
        err.print("[yellow]note:[/] the scenario sets no disruption ([risk] table): every run is the plan")
    out.print(_summary_table(result))
    if written:
        out.print(f"written to [bold]{out_dir}[/]: {', '.join(written)}", highlight=False)


def _report_sweep(points: list[SweepPoint], axis: Axis, out_dir: Path | None, as_json: bool) -> None:
    written: list[str] = []
    if out_dir is not None:
        try:
            written = _write_sweep(out_dir, points, axis)
        except OSError as exc:
            _fail(InputError(f"cannot write there: {exc.strerror or exc}", where=str(out_dir)))
    if as_json:
        out.print_json(json.dumps([{"value": p.value, **p.result.summary()} for p in points]))
        return
    out.print(_sweep_table(points, axis))
    if written:
        out.print(f"written to [bold]{out_dir}[/]: {', '.join(written)}", highlight=False)


__all__ = ["risk"]
