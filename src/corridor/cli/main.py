"""The ``corridor`` command: thin commands, each calling one library function.

Exit codes: 0 ok, 1 findings or a result that needs attention, 2 bad input or usage.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from corridor.core.errors import CorridorError, InputError
from corridor.core.findings import Finding, Severity

if TYPE_CHECKING:
    from rich.table import Table
    from typer._click import Command, Context

    from corridor.plan.model import Plan
    from corridor.problem.model import Problem

# Commands whose modules are imported only when they are run or help lists them: the convoy model,
# the simulator and the form writer are no part of `corridor plan`, whose start-up they slowed.
LAZY = {
    "convoy": "corridor.cli.convoy",
    "risk": "corridor.cli.risk",
    "xlsform": "corridor.cli.xlsform",
}


class Commands(TyperGroup):
    """The commands of ``corridor``; those of :data:`LAZY` are made when first named."""

    def list_commands(self, ctx: Context) -> list[str]:
        names = [n for n in super().list_commands(ctx) if n not in LAZY]
        at = names.index("plan") + 1 if "plan" in names else len(names)
        return [*names[:at], *LAZY, *names[at:]]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in LAZY and cmd_name not in self.commands:
            self.commands[cmd_name] = lazy_command(cmd_name)
        return super().get_command(ctx, cmd_name)


def lazy_command(name: str) -> Command:
    """The command ``name`` of :data:`LAZY`: its module imported, its function made a command."""
    single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    single.command(name)(getattr(importlib.import_module(LAZY[name]), name))
    return typer.main.get_command(single)


app = typer.Typer(
    cls=Commands,
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
    err.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True)
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
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
        out.print(f"[{colour}]{f.severity}[/]: {escape(f.where)}: {escape(f.message)}", highlight=False)
        if f.hint:
            out.print(f"    {escape(f.hint)}", style="dim", highlight=False)
    if any(f.severity is Severity.ERROR for f in findings):
        raise typer.Exit(1)


# Findings that name one source each: past SHOWN of a kind, `plan` prints one line for them all.
PER_SOURCE = {
    "unreachable-source": "cannot reach any destination",
    "route-longer-than-window": "cannot be out by the deadline (their shortest route is longer than"
    " the window)",
}
SHOWN = 5


def _print_findings(findings: list[Finding], problem: Problem, *, verbose: bool) -> None:
    """Findings on stderr; many per-source ones of a kind as one line: how many sources and
    people, and the few with the most people (``verbose``: every one)."""
    ids = problem.network.node_ids
    people: dict[str, int] = {}
    nodes, counts = problem.source_node.tolist(), problem.source_people.tolist()
    for sid, node, n in zip(problem.source_ids, nodes, counts, strict=True):
        where = f"source {sid} (node {ids[node]})"
        people[where] = people.get(where, 0) + int(n)
    grouped: dict[str, list[Finding]] = {}
    for f in findings:
        grouped.setdefault(f.code if f.code in PER_SOURCE and not verbose else f"#{id(f)}", []).append(f)
    for code, group in grouped.items():
        if len(group) <= SHOWN:
            for f in group:
                err.print(f"[yellow]{f.severity}[/]: {escape(f.where)}: {escape(f.message)}", highlight=False)
            continue
        total = sum(people.get(f.where, 0) for f in group)
        worst = sorted(group, key=lambda f: -people.get(f.where, 0))[:SHOWN]
        named = ", ".join(f"{f.where}: {people.get(f.where, 0):,}" for f in worst)
        err.print(
            f"[yellow]{group[0].severity}[/]: {len(group):,} sources ({total:,} people) {PER_SOURCE[code]};"
            f" most people: {escape(named)}; --verbose lists every one",
            highlight=False,
        )


def _summary_table(plan: Plan, *, quickest_computed: bool = True) -> Table:
    from rich.table import Table

    s = plan.summary()
    table = Table(title=f"{plan.scenario} ({plan.method}, {plan.objective})", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")

    def minutes(value: Any) -> str:
        return "-" if value is None else f"{value:,.0f} min ({value / 60:.1f} h)"

    quickest_text = minutes(s["evacuation_time"])
    if s["evacuation_time"] is None:
        quickest_text = "never: some cannot get out" if quickest_computed else "not computed (--no-quickest)"
    rows = [
        ("people to evacuate", f"{s['evacuees']:,}"),
        ("out by the deadline", f"{s['evacuated_by_deadline']:,}"),
        ("bound (proved)" if s["status"] == "optimal" else "bound", f"{s['bound']:,}"),
        ("status", s["status"]),
        ("quickest time for everyone", quickest_text),
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
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Print every finding (many of a kind are summarised).")
    ] = False,
) -> None:
    """Plan a scenario: the most people out by the deadline, and when everyone can be out."""
    from corridor.solve.pipeline import plan_file

    with _errors(), _progress(not as_json and sys.stderr.isatty()) as say:
        planned = plan_file(scenario, method=method, objective=objective, quickest=quickest, progress=say)
    result = planned.plan
    # Exact plans leave the quickest time out under --no-quickest, unless their own flow proved it.
    computed = quickest or result.method != "exact" or result.evacuation_steps is not None
    written = "plan and clearance curve"
    if out_dir is not None:
        from corridor.reports.figures import clearance_curve, has_coordinates, route_map

        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "plan.json").write_text(json.dumps(result.to_dict(), indent=1))
        if has_coordinates(planned.problem.network):
            route_map(result, planned.problem, out_dir / "map.png")
            written = "plan, map and clearance curve"
        else:
            err.print(
                "[yellow]warning[/]: map.png not drawn: the map needs node coordinates and every node"
                f" of {escape(planned.problem.network.name)} is at one point (a TNTP network needs its"
                " node file: set network.nodes)",
                highlight=False,
            )
        clearance_curve(result, out_dir / "clearance.png")
    if as_json:
        out.print_json(json.dumps({**result.summary(), "evacuation_time_computed": computed}))
        return
    _print_findings(planned.findings, planned.problem, verbose=verbose)
    out.print(_summary_table(result, quickest_computed=computed))
    if out_dir is not None:
        out.print(f"{written} written to [bold]{out_dir}[/]")


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
    use_tls: Annotated[
        bool,
        typer.Option(
            "--tls",
            help="Serve HTTPS with a certificate made here, signed by a local CA kept in the data "
            "folder (phones install the CA once from /ca).",
        ),
    ] = False,
    cert: Annotated[
        Path | None, typer.Option("--cert", help="Serve HTTPS with this certificate (PEM), with --key.")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="The private key (PEM, no password) of --cert.")
    ] = None,
    host_name: Annotated[
        list[str] | None,
        typer.Option(
            "--host-name",
            help="Another name (or address) the certificate made by --tls covers; repeatable.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run plans as jobs on this running Dask scheduler (tcp://HOST:8786) instead of an "
            "embedded cluster."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes of the embedded Dask cluster (default 2)."),
    ] = None,
) -> None:
    """Serve the operations web service (registration, scans, reconciliation, incidents)."""
    from corridor.server.run import serve as run_server

    with _errors():
        run_server(
            host=host,
            port=port,
            db_url=db_url,
            seed_example=seed_example,
            use_tls=use_tls,
            cert_file=cert,
            key_file=key,
            host_names=host_name or [],
            scheduler=scheduler,
            workers=workers,
        )


@app.command("verify-ledger")
def verify_ledger(
    db_url: Annotated[str, typer.Argument(help="Database URL of the operations service.")],
    signing_key: Annotated[
        Path | None,
        typer.Option(help="The ledger's signing key file (default: the service's setting, if it exists)."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(help="The signing key's public key (64 hex digits), instead of the key file."),
    ] = None,
    head: Annotated[
        list[Path] | None,
        typer.Option(
            help="A head export kept elsewhere (`corridor ledger-head`); the chain must pass through it."
        ),
    ] = None,
    no_signatures: Annotated[
        bool,
        typer.Option(
            "--no-signatures",
            help="Accept signed checkpoints left unchecked for want of a key (exit 0, not 3).",
        ),
    ] = False,
) -> None:
    """Prove the event ledger untouched, or show the first entry that can no longer be trusted.

    Exit 0: intact; 1: changed; 2: bad input; 3: the chain holds together but its signed
    checkpoints could not be checked (no key given or found; ``--no-signatures`` accepts that)."""
    from corridor.server.ledger import anchor
    from corridor.server.ledger_check import verify_ledger as check_chain

    with _errors():
        exports = [
            anchor.HeadExport.from_json(p.read_text(encoding="utf-8"), where=str(p)) for p in head or []
        ]
        key = _ledger_public_key(signing_key, public_key, exports)
        result = check_chain(db_url, key, exports)
    (out if result.ok and not result.unchecked else err).print(result.render(), highlight=False)
    if not result.ok:
        raise typer.Exit(1)
    if result.unchecked and not no_signatures:
        raise typer.Exit(3)


def _ledger_public_key(signing_key: Path | None, public_key: str | None, exports: list[Any]) -> Any:
    from corridor.server.ledger import anchor
    from corridor.server.settings import Settings

    if public_key:
        return anchor.public_key_from_hex(public_key, where="--public-key")
    path = signing_key or Settings().signing_key_path
    if path.exists():
        return anchor.load_or_create_signing_key(path).public_key()
    if signing_key is not None:
        raise InputError("the signing key file does not exist", where=str(signing_key))
    if exports:
        return anchor.public_key_from_hex(exports[0].public_key, where="head export")
    return None


@app.command("ledger-head")
def ledger_head(
    db_url: Annotated[str, typer.Argument(help="Database URL of the operations service.")],
    signing_key: Annotated[
        Path | None, typer.Option(help="The ledger's signing key file (default: the service's setting).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Also write the export to this file.")] = None,
) -> None:
    """Sign a checkpoint of the ledger's head now and print it, to keep elsewhere (print it, or
    give it to another server); `verify-ledger --head FILE` checks the ledger passes through it."""
    from corridor.server.db import Database
    from corridor.server.ledger import anchor
    from corridor.server.settings import Settings

    with _errors():
        db = Database(db_url)
        try:
            export = anchor.checkpoint_now(db, signing_key or Settings().signing_key_path)
        finally:
            db.dispose()
    text = export.to_json()
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
    out.print(text, highlight=False, soft_wrap=True)


@app.command("backup")
def backup(
    db_url: Annotated[str, typer.Argument(help="Database URL of the operations service.")],
    dest: Annotated[Path, typer.Argument(help="New backup file (SQLite copy, or pg_dump SQL).")],
) -> None:
    """Back up the database while the service runs, then verify the ledger in the copy (SQLite)."""
    from corridor.server import backup as backups
    from corridor.server.ledger_check import verify_ledger as check_chain

    with _errors():
        backups.backup(db_url, dest)
        if db_url.startswith("sqlite"):
            result = check_chain(f"sqlite:///{dest.resolve()}")
            (out if result.ok else err).print(f"backup {dest}: {result.render()}", highlight=False)
            if not result.ok:
                raise typer.Exit(1)
        else:
            out.print(
                f"backup {dest} written; restore it with `corridor restore` to verify it", highlight=False
            )


@app.command("restore")
def restore(
    source: Annotated[Path, typer.Argument(help="Backup file made by `corridor backup`.")],
    db_url: Annotated[str, typer.Argument(help="A new SQLite file, or an empty PostgreSQL database.")],
) -> None:
    """Restore a backup into a new database, then verify its ledger."""
    from corridor.server import backup as backups
    from corridor.server.ledger_check import verify_ledger as check_chain

    with _errors():
        backups.restore(source, db_url)
        result = check_chain(db_url)
    (out if result.ok else err).print(result.render(), highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@app.command("rotate-key")
def rotate_key(
    db_url: Annotated[str, typer.Argument(help="Database URL of the operations service (stopped).")],
    key_file: Annotated[Path, typer.Option(help="The encryption key file.")],
    data_dir: Annotated[Path | None, typer.Option(help="The service's data folder (evidence files).")] = None,
) -> None:
    """Encrypt personal fields and evidence under a new key, and drop the old key from the key file.
    Run with the service stopped; backups made before need the old key."""
    from corridor.server.key_rotation import rotate_key as rotate

    with _errors():
        done = rotate(db_url, key_file, data_dir / "evidence" if data_dir else None)
    out.print(
        f"key rotated{' (resumed)' if done.resumed else ''}: {done.people} people, "
        f"{done.incidents} incidents, {done.evidence_files} evidence files encrypted again",
        highlight=False,
    )


def main() -> None:  # pragma: no cover - console entry point
    app()
