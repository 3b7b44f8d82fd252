"""``corridor convoy``: plan a scenario's fleet trip by trip, verify the plan, print and write it.

Exit codes as every command: 0 ok, 1 a plan that fails verification (or a solver failure),
2 bad input (the scenario, its fleet or an option; the message names the file and the field).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from corridor.core.errors import CorridorError, InputError
from corridor.core.findings import Finding, Severity
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import ConvoyProblem
from corridor.scenario.model import Scenario

out = Console()
err = Console(stderr=True)
LANGS = ("en", "ar")
DEFAULT_METHODS = ("search", "greedy")  # the first registered is the default


def _fail(exc: CorridorError) -> None:
    err.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


def _bad(where: str, message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(where)}: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("loading the scenario", total=None)
        yield lambda text: bar.update(task, description=text)


@dataclass(frozen=True)
class Compiled:
    scenario: Scenario
    problem: ConvoyProblem
    findings: list[Finding]


def _print_findings(findings: list[Finding]) -> None:
    for f in findings:
        colour = {"error": "red", "warning": "yellow"}.get(f.severity, "blue")
        err.print(
            f"[{colour}]{f.severity}[/]: {escape(f.where)}: {escape(f.message)}",
            highlight=False,
            soft_wrap=True,
        )
        if f.hint:
            err.print(f"    {escape(f.hint)}", style="dim", highlight=False, soft_wrap=True)


def compile_file(path: Path, say: Callable[[str], None]) -> Compiled:
    """Load, check and compile the scenario's convoy problem; exit 2 naming every error."""
    from corridor.network.build import load_network
    from corridor.problem.convoy import compile_convoy
    from corridor.scenario.load import load_scenario

    try:
        scenario = load_scenario(path)
        say("loading the network")
        network = load_network(scenario.network, scenario.base_dir)
        say("compiling the convoy problem")
        problem, findings = compile_convoy(scenario, network)
    except CorridorError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if problem is None or errors:
        _print_findings(findings)
        _bad(
            str(path),
            f"{len(errors)} error(s) in the scenario (listed above); fix them and rerun",
        )
    assert problem is not None
    from corridor.problem.convoy_checks import check_convoy

    return Compiled(scenario, problem, [*findings, *check_convoy(problem)])


def _minutes(plan: ConvoyPlan, minutes: float | None) -> str:
    if minutes is None:
        return "-"
    moment = plan.time_of(round(minutes / plan.dt))
    return f"{moment:%Y-%m-%d %H:%M} ({minutes:,.0f} min, {minutes / 60:.1f} h)"


def summary_table(plan: ConvoyPlan) -> Table:
    s = plan.summary()
    table = Table(title=f"{plan.scenario}: convoys ({plan.method})", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    bound_name = "bound (proved)" if s["status"] == "optimal" else f"bound ({s['bound_kind']})"
    rows = [
        ("people to evacuate", f"{s['evacuees']:,}"),
        ("out by the deadline", f"{s['evacuated_by_deadline']:,}"),
        (bound_name, f"{s['bound']:,}"),
        ("gap to the bound", f"{100 * s['gap']:.1f} %"),
        ("status", s["status"]),
        ("vehicles used", f"{s['vehicles_used']} of {s['vehicles']}"),
        ("trips", f"{s['trips']:,}"),
        ("last arrival", _minutes(plan, s["completion"])),
        *((f"out: {group}", f"{n:,}") for group, n in s["by_group"].items()),
        ("plan hash", s["plan_hash"][:16]),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def write_outputs(
    plan: ConvoyPlan, compiled: Compiled, out_dir: Path, say: Callable[[str], None] = lambda _: None
) -> list[str]:
    """convoy.json, trip sheets (HTML per language, PDF per language) and timeline.png; file names."""
    from corridor.reports.convoy_figures import timeline_png
    from corridor.reports.tripsheets import node_names, trip_sheets_html, trip_sheets_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    written = ["convoy.json"]
    (out_dir / "convoy.json").write_text(json.dumps(plan.to_dict(), indent=1))
    names = node_names(compiled.scenario)
    for lang in LANGS:
        say(f"writing the trip sheets ({lang})")
        html = trip_sheets_html(plan, lang, problem=compiled.problem, names=names)
        (out_dir / f"tripsheets.{lang}.html").write_text(html, encoding="utf-8")
        written.append(f"tripsheets.{lang}.html")
        try:
            pdf = trip_sheets_pdf(plan, lang, problem=compiled.problem, names=names)
        except CorridorError as exc:  # no font: the HTML sheets print as well
            err.print(f"[yellow]warning:[/] no PDF trip sheets: {escape(exc.render())}", highlight=False)
            continue
        (out_dir / f"tripsheets.{lang}.pdf").write_bytes(pdf)
        written.append(f"tripsheets.{lang}.pdf")
    say("drawing the timeline")
    timeline_png(plan, out_dir / "timeline.png", compiled.problem)
    written.append("timeline.png")
    return written


def convoy(
    scenario: Annotated[
        Path,
        typer.Argument(help="Scenario TOML file with a fleet (see docs/scenario.md).", show_default=False),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for convoy.json, tripsheets.<lang>.html/.pdf (en, ar) and timeline.png."
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help=(
                "Convoy method: 'search' (the default: local search from the dispatcher's plan until it"
                " stalls or the time limit), 'greedy' (the dispatcher alone, instant), 'exact' (CP-SAT:"
                " proves optimality on small fleets), 'route' (the timed route programme's plan as the"
                " start, then search with restarts until the time limit: for large instances where"
                " not everyone can get out and minutes are available, e.g. --time-limit 300)."
            )
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(help="Seconds for anytime methods ('route' uses all of them).", min=0.0),
    ] = 60.0,
    fleet_sweep: Annotated[
        str | None,
        typer.Option(
            "--fleet-sweep",
            help="A fleet entry id (e.g. 'bus'): plan with each count --sweep-from .. --sweep-to of it.",
        ),
    ] = None,
    seat_sweep: Annotated[
        str | None,
        typer.Option(
            "--seat-sweep", help="A fleet entry id: plan with each seat count --sweep-from .. --sweep-to."
        ),
    ] = None,
    sweep_from: Annotated[int | None, typer.Option(help="First value of a sweep.", min=0)] = None,
    sweep_to: Annotated[int | None, typer.Option(help="Last value of a sweep.", min=0)] = None,
    sweep_step: Annotated[int, typer.Option(help="Step of a sweep.", min=1)] = 1,
    sweep_counts: Annotated[
        list[str] | None,
        typer.Option("--count", help="In a sweep, another entry's count: ID=N (repeatable)."),
    ] = None,
    smallest: Annotated[
        bool,
        typer.Option(
            "--smallest-fleet", help="Find the fewest vehicles of each entry that get as many people out."
        ),
    ] = False,
) -> None:
    """Plan the fleet trip by trip: who boards which vehicle where and when, verified, with its bound."""
    from corridor.solve.convoy import CONVOY_METHODS, solve_convoy

    if method is None:
        method = next(m for m in (*DEFAULT_METHODS, *CONVOY_METHODS) if m in CONVOY_METHODS)
    if method not in CONVOY_METHODS:
        _bad("--method", f"unknown convoy method {method!r}; use one of {', '.join(CONVOY_METHODS)}")
    with _progress(not as_json and sys.stderr.isatty()) as say:
        compiled = compile_file(scenario, say)
        if fleet_sweep is not None or seat_sweep is not None:
            ask = Sweep(fleet_sweep, seat_sweep, sweep_from, sweep_to, sweep_step, sweep_counts or [])
            _sweep(compiled, ask, method, time_limit, as_json, say)
            return
        if smallest:
            _smallest(compiled, method, time_limit, as_json, say)
            return
        say(f"planning ({method})")

        def progress(trips: int, people: int) -> None:
            say(f"planning ({method}): {trips:,} trips, {people:,} people out")

        try:
            plan = solve_convoy(compiled.problem, method=method, time_limit=time_limit, progress=progress)
        except CorridorError as exc:
            _fail(exc)
            raise
        say("verifying the plan")
        violations = plan.verify(compiled.problem)
        if out_dir is not None and not violations:
            try:
                written = write_outputs(plan, compiled, out_dir, say)
            except OSError as exc:
                _bad(str(out_dir), f"cannot write there: {exc.strerror or exc}")
    if not as_json:
        _print_findings(compiled.findings)
    if violations:
        for v in violations[:20]:
            err.print(f"[red]violation:[/] {escape(v)}", highlight=False, soft_wrap=True)
        more = f" (first 20 of {len(violations)})" if len(violations) > 20 else ""
        err.print(
            f"[bold red]error:[/] the {method} plan fails verification{more}; nothing written"
            " (a defect: please report it with the scenario)",
            highlight=False,
        )
        raise typer.Exit(1)
    if as_json:
        out.print_json(json.dumps(plan.summary()))
        return
    out.print(summary_table(plan))
    if out_dir is not None:
        out.print(f"written to [bold]{out_dir}[/]: {', '.join(written)}", highlight=False)


@dataclass(frozen=True)
class Sweep:
    counts_of: str | None
    seats_of: str | None
    first: int | None
    last: int | None
    step: int
    fixed: list[str]


def _fixed_counts(fixed: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in fixed:
        name, _, value = item.partition("=")
        if not name or not value.strip().isdigit():
            _bad("--count", f"{item!r} is not ID=N (e.g. bus=40)")
        counts[name.strip()] = int(value)
    return counts


def _sweep(
    compiled: Compiled,
    ask: Sweep,
    method: str,
    time_limit: float,
    as_json: bool,
    say: Callable[[str], None],
) -> None:
    from corridor.solve.convoy.fleet import FleetError, sweep_counts, sweep_seats

    if ask.counts_of is not None and ask.seats_of is not None:
        _bad("--seat-sweep", "sweep either counts (--fleet-sweep) or seats (--seat-sweep), not both")
    entry = ask.counts_of or ask.seats_of or ""
    option = "--fleet-sweep" if ask.counts_of else "--seat-sweep"
    parts = {p.id: p for p in compiled.scenario.fleet}
    if entry not in parts:
        _bad(option, f"no [[fleet]] entry {entry!r}; use one of {', '.join(parts) or '(none)'}")
    part = parts[entry]
    fixed = _fixed_counts(ask.fixed)
    if ask.counts_of:
        values = range(1 if ask.first is None else ask.first, (ask.last or part.count) + 1, ask.step)
    else:
        first = part.seats if ask.first is None else ask.first
        values = range(first, (first + 20 if ask.last is None else ask.last) + 1, ask.step)
    if not values:
        _bad("--sweep-to", f"no value from {values.start} to {values.stop - 1}")

    def progress(k: int, total: int) -> None:
        say(f"{option}: {entry} ({k} of {total})")

    try:
        if ask.counts_of:
            others = {k: v for k, v in fixed.items() if k != entry}
            points = sweep_counts(
                compiled.scenario,
                compiled.problem.network,
                entry,
                values,
                method=method,
                time_limit=time_limit,
                progress=progress,
                others=others,
            )
        else:
            points = sweep_seats(
                compiled.scenario,
                compiled.problem.network,
                entry,
                values,
                counts=fixed,
                method=method,
                time_limit=time_limit,
                progress=progress,
            )
    except FleetError as exc:
        _bad(option, exc.render())
        return
    what = "count" if ask.counts_of else "seats"
    _print_points(f"{compiled.scenario.name}: {what} of '{entry}' ({method})", points, as_json)


def _print_points(title: str, points: list[Any], as_json: bool) -> None:
    rows: list[dict[str, Any]] = [p.as_dict() for p in points]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title=title)
    groups = list(dict.fromkeys(g for r in rows for g in r["by_group"]))
    names = ("fleet", "seats", "used", "trips", "out", *groups, "bound", "fleet b.", "checkp. b.", "flow b.")
    for name in names:
        table.add_column(name, justify="right")

    def number(value: int | None) -> str:
        return "-" if value is None else f"{value:,}"

    for r in rows:
        table.add_row(
            ", ".join(f"{n} {k}" for k, n in r["counts"].items()),
            ", ".join(str(r["seats"][k]) for k in r["counts"]),
            str(r["vehicles_used"]),
            f"{r['trips']:,}",
            f"{r['evacuated']:,}",
            *(number(r["by_group"].get(g, 0)) for g in groups),
            f"{r['bound']:,} ({r['bound_kind']})",
            number(r["fleet_bound"]),
            number(r["checkpoint_bound"]),
            number(r["flow_bound"]),
        )
    out.print(table)


def _smallest(
    compiled: Compiled, method: str, time_limit: float, as_json: bool, say: Callable[[str], None]
) -> None:
    from corridor.solve.convoy.fleet import smallest_fleet

    found = smallest_fleet(
        compiled.scenario,
        compiled.problem.network,
        method=method,
        time_limit=time_limit,
        progress=lambda k, total: say(f"smallest fleet: plan {k} (of at most {total})"),
    )
    if as_json:
        data = {
            "full": found.full.as_dict(),
            "smallest": found.smallest.as_dict(),
            "tried": [p.as_dict() for p in found.tried],
        }
        out.print_json(json.dumps(data))
        return
    _print_points(
        f"{compiled.scenario.name}: the whole fleet, then the smallest found ({method})",
        [found.full, found.smallest],
        False,
    )
    out.print(
        f"{found.smallest.vehicles} of {found.full.vehicles} vehicles get as many people out in every"
        f" group ({len(found.tried)} plans made)",
        highlight=False,
    )


__all__ = ["compile_file", "convoy", "summary_table", "write_outputs"]
