"""The ``corridor`` command: thin commands, each calling one library function.

Exit codes: 0 ok, 1 findings or a result that needs attention, 2 bad input or usage.
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
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from corridor.core.errors import CorridorError, InputError
from corridor.core.findings import Severity
from corridor.plan.model import Plan

app = typer.Typer(
    help="Plan, run and account for civilian evacuations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario TOML file (see docs/scenario.md).", show_default=False)
]


def _fail(exc: CorridorError) -> None:
    err.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
    raise typer.Exit(2 if isinstance(exc, InputError) else 1)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except CorridorError as exc:
        _fail(exc)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("loading the scenario", total=None)
        yield lambda text: bar.update(task, description=text)


@app.command()
def check(
    scenario: ScenarioArg,
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON.")] = False,
) -> None:
    """Check a scenario and its network; print findings only (exit 1 if any is an error)."""
    from corridor.solve.pipeline import check_file

    with _errors():
        checked = check_file(scenario)
    findings = checked.findings
    if as_json:
        out.print_json(json.dumps([f.as_dict() for f in findings]))
    elif not findings:
        out.print(f"[green]no findings[/] in {scenario}")
    for f in [] if as_json else findings:
        colour = {"error": "red", "warning": "yellow"}.get(f.severity, "blue")
        out.print(f"[{colour}]{f.severity}[/]: {f.where}: {f.message}", highlight=False)
        if f.hint:
            out.print(f"    {f.hint}", style="dim", highlight=False)
    if any(f.severity is Severity.ERROR for f in findings):
        raise typer.Exit(1)


def _summary_table(plan: Plan) -> Table:
    s = plan.summary()
    table = Table(title=f"{plan.scenario} ({plan.method}, {plan.objective})", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")

    def minutes(value: Any) -> str:
        return "-" if value is None else f"{value:,.0f} min ({value / 60:.1f} h)"

    rows = [
        ("people to evacuate", f"{s['evacuees']:,}"),
        ("out by the deadline", f"{s['evacuated_by_deadline']:,}"),
        ("bound (proved)" if s["status"] == "optimal" else "bound", f"{s['bound']:,}"),
        ("status", s["status"]),
        ("quickest time for everyone", minutes(s["evacuation_time"])),
        ("last arrival in the window", minutes(s["last_arrival"])),
        ("routes", f"{s['routes']:,}"),
        *((f"out: {group}", f"{n:,}") for group, n in s["by_group"].items()),
        ("plan hash", s["plan_hash"][:16]),
    ]
    for name, value in rows:
        table.add_row(name, value)
    quickest, last = s["evacuation_time"], s["last_arrival"]
    if s["evacuated_by_deadline"] == s["evacuees"] and quickest is not None and (last or 0) > quickest:
        # Reception capacities can make the two objectives part: say so rather than look wrong.
        table.caption = (
            "This plan has the least total evacuation time; getting everyone out by the quickest"
            " time takes a plan with more total time (reception capacities trade one for the other)."
        )
    return table


@app.command()
def plan(
    scenario: ScenarioArg,
    method: Annotated[str, typer.Option(help="'exact' or 'ccrp'.")] = "exact",
    objective: Annotated[
        str, typer.Option(help="'earliest' (least total time) or 'max-flow' (fastest).")
    ] = "earliest",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for plan.json, map.png, clearance.png."),
    ] = None,
    quickest: Annotated[bool, typer.Option(help="Also find the quickest time for everyone.")] = True,
) -> None:
    """Plan a scenario: the most people out by the deadline, and when everyone can be out."""
    from corridor.reports.figures import clearance_curve, route_map
    from corridor.solve.pipeline import plan_file

    with _errors(), _progress(not as_json and sys.stderr.isatty()) as say:
        planned = plan_file(scenario, method=method, objective=objective, quickest=quickest, progress=say)
    result = planned.plan
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "plan.json").write_text(json.dumps(result.to_dict(), indent=1))
        route_map(result, planned.problem, out_dir / "map.png")
        clearance_curve(result, out_dir / "clearance.png")
    if as_json:
        out.print_json(json.dumps(result.summary()))
        return
    for f in planned.findings:
        err.print(f"[yellow]{f.severity}[/]: {f.where}: {f.message}", highlight=False)
    out.print(_summary_table(result))
    if out_dir is not None:
        out.print(f"plan, map and clearance curve written to [bold]{out_dir}[/]")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    from corridor.scenario.schema import scenario_json_schema

    out.print_json(json.dumps(scenario_json_schema()))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db_url: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: SQLite in corridor-data/).")
    ] = None,
    seed_example: Annotated[
        bool, typer.Option(help="Seed the East Aleppo demo operation and demo users.")
    ] = False,
) -> None:
    """Serve the operations web service (registration, scans, reconciliation, incidents)."""
    from corridor.server.run import serve as run_server

    with _errors():
        run_server(host=host, port=port, db_url=db_url, seed_example=seed_example)


@app.command("verify-ledger")
def verify_ledger(
    db_url: Annotated[str, typer.Argument(help="Database URL of the operations service.")],
) -> None:
    """Prove the event ledger untouched, or show the first entry that was changed."""
    from corridor.server.ledger_check import verify_ledger as check_chain

    with _errors():
        result = check_chain(db_url)
    (out if result.ok else err).print(result.render(), highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry point
    app()
