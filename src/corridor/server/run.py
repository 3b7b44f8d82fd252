"""Serving the operations service: ``serve()`` is what ``corridor serve`` (and ``make run``) call."""

from __future__ import annotations

import gc
import sys

import uvicorn

from corridor.server import seed as demo
from corridor.server.app import create_app
from corridor.server.db import upgrade
from corridor.server.runtime import Runtime
from corridor.server.settings import Settings

# The cyclic collector's thresholds once the app is built (generation 0 counts allocations less
# deallocations of tracked objects; generations 1 and 2 count collections of the one below).
GC_THRESHOLDS = (50_000, 20, 100)
# How long a thread holding the GIL runs before one waiting for it may take it (Python's default is
# 5 ms). The ledger writer waits for the database several times per group; each time its answer is
# in, it needs the GIL back from the event loop, which under load always has work: with 5 ms, one
# group of single events waited up to 5 ms per statement.
SWITCH_INTERVAL = 0.0005


def serve(*, host: str, port: int, db_url: str | None, seed_example: bool) -> None:
    """Migrate the database, optionally seed the demo, print the demo passwords, and serve.

    ``db_url`` overrides ``CORRIDOR_DATABASE_URL`` (default: a SQLite file in ``corridor-data/``).
    Runs one process; blocks until stopped (Ctrl-C or SIGTERM).
    """
    settings = Settings() if db_url is None else Settings(database_url=db_url)
    upgrade(settings.database_url)
    if seed_example:
        _print_demo(settings)
    print(f"corridor: open http://{host}:{port}/ in a browser (API documentation at /docs)", flush=True)
    app = create_app(settings)
    # Everything made so far lives as long as the process: keep it out of the cyclic garbage
    # collector's full passes, which otherwise stall every request for tens of milliseconds.
    gc.freeze()
    # Then collect less often: with the default thresholds (700, 10, 10) a young collection ran
    # every request or two and the collector took about a tenth of the server's CPU. A young pass
    # over at most GC_THRESHOLDS[0] objects takes well under a millisecond, and the full passes,
    # over what was made since the freeze, become rare.
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def _print_demo(settings: Settings) -> None:
    runtime = Runtime.start(settings)
    try:
        passwords = demo.seed_example(runtime)
    finally:
        runtime.db.dispose()
    lines = ["Demo users (passwords are new at every start):"]
    lines += [f"  {username:32} {password}" for username, password in passwords.items()]
    print("\n".join(lines), flush=True)
