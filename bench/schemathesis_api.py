"""A long schemathesis run over the whole API, as every role, on SQLite and PostgreSQL side by side.

Not part of ``make test`` (the suite runs the same driver, ``tests/server/api_fuzz.py``, with 3
cases per operation and mode). Each database gets a fresh service (an operation, one user per role,
a scanner); every operation of the OpenAPI document is sent ``--examples`` valid and as many
invalid requests, each as coordinator, registrar, checkpoint marshal and observer (and the scanner
on the scan routes), with new random cases at every run (``--seeded`` repeats the suite's).

It prints, for each database, the requests sent, the answers by status class, and the failures:
server errors, answers the document does not list or whose body does not match it, errors not in
the one shape. The exit status is 1 if any database had a failure.

    .venv/bin/python bench/schemathesis_api.py                    # 100 cases per operation and mode
    .venv/bin/python bench/schemathesis_api.py --examples 1000 --db sqlite
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corridor.server.app import create_app  # noqa: E402
from corridor.server.db import upgrade  # noqa: E402
from corridor.server.settings import Settings  # noqa: E402
from server.api_fuzz import Tally, fuzz  # type: ignore[import-not-found, unused-ignore]  # noqa: E402
from server.conftest import PG_SERVER, make_world  # type: ignore[import-not-found, unused-ignore]  # noqa: E402

console = Console()


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str | None]:
    """A fresh, migrated database (a SQLite file, or a PostgreSQL database dropped afterwards);
    None when PostgreSQL does not answer."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'corridor.db'}"
        upgrade(url)
        yield url
        return
    libpq = make_url(PG_SERVER).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(libpq, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    name = f"corridor_fuzz_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def run(kind: str, examples: int, seeded: bool) -> Tally | None:
    with tempfile.TemporaryDirectory() as folder, database(kind, Path(folder)) as url:
        if url is None:
            console.print(f"[yellow]{kind}: {PG_SERVER} does not answer; skipped")
            return None
        settings = Settings(
            database_url=url,
            data_dir=Path(folder) / "data",
            key_file=Path(folder) / "keys" / "corridor.key",
            argon2_time_cost=1,
            argon2_memory_kib=64,
        )
        app = create_app(settings)
        with TestClient(app, raise_server_exceptions=False) as client, Progress(console=console) as progress:
            world = make_world(client, settings)
            document = client.get("/openapi.json").json()
            total = sum(len(methods) for methods in document["paths"].values())
            task = progress.add_task(f"{kind}: operations", total=total)

            def done(label: str, tally: Tally) -> None:
                progress.update(task, advance=1, description=f"{kind}: {label[:60]}")

            return fuzz(world, examples=examples, on_operation=done, derandomize=seeded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=100, help="cases per operation and mode")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seeded", action="store_true", help="the suite's cases, not new ones")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    tallies = {kind: run(kind, args.examples, args.seeded) for kind in kinds}
    table = Table(title=f"schemathesis, {args.examples} cases per operation and mode, every role")
    for column in ("database", "operations", "requests", "2xx", "4xx", "5xx", "failures"):
        table.add_column(column, justify="right")
    failed = False
    for kind, tally in tallies.items():
        if tally is None:
            continue
        classes = Counter(f"{status // 100}xx" for (_, status), n in tally.answers.items() for _ in range(n))
        operations = len({label for label, _ in tally.answers})
        table.add_row(
            kind,
            str(operations),
            str(tally.requests),
            *(str(classes.get(c, 0)) for c in ("2xx", "4xx", "5xx")),
            str(len(tally.failures)),
        )
        failed = failed or bool(tally.failures)
    console.print(table)
    for kind, tally in tallies.items():
        for failure in (tally.failures if tally else [])[:50]:
            console.print(f"[red]{kind}[/red] {failure}", markup=True, highlight=False)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
