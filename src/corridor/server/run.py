"""Serving the operations service: ``serve()`` is what ``corridor serve`` (and ``make run``) call."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from corridor.core.errors import InputError
from corridor.jobs import Jobs
from corridor.server import seed as demo
from corridor.server import tls
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
# group of single events waited up to 5 ms per statement. 0.2 ms rather than 0.5: beside a
# 20,000-row import, observers and a log-in flood from 16 addresses, the scans' p99 was 58-59 ms in
# two quiet runs against 77 ms (bench.load_beside, docs/performance.md).
SWITCH_INTERVAL = 0.0002


def serve(
    *,
    host: str,
    port: int,
    db_url: str | None,
    seed_example: bool,
    use_tls: bool = False,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    host_names: Sequence[str] = (),
    scheduler: str | None = None,
    workers: int | None = None,
) -> None:
    """Migrate the database, optionally seed the demo, print the demo passwords, and serve.

    ``db_url`` overrides ``CORRIDOR_DATABASE_URL`` (default: a SQLite file in ``corridor-data/``).
    With ``use_tls``, HTTPS with ``cert_file`` and ``key_file``, or without them a certificate
    signed by a local CA kept in the data folder (:mod:`corridor.server.tls`) for this machine's
    names and addresses and ``host_names``. Runs one process; blocks until stopped (Ctrl-C or
    SIGTERM). Plans run as jobs on the Dask scheduler at ``scheduler`` (``tcp://HOST:8786``), or
    on an embedded cluster of ``workers`` worker processes (``CORRIDOR_SCHEDULER``,
    ``CORRIDOR_WORKERS``); a scheduler that cannot be reached stops it before it serves.
    """
    settings = Settings() if db_url is None else Settings(database_url=db_url)
    cluster = {k: v for k, v in (("scheduler", scheduler), ("workers", workers)) if v is not None}
    settings = settings.model_copy(update=cluster)
    # The TLS files first: a bad --cert or --key is refused at once, before a cluster starts.
    served = tls_files(
        settings, use_tls=use_tls, cert_file=cert_file, key_file=key_file, host_names=host_names
    )
    Jobs.connect(settings.scheduler, workers=settings.workers).close()  # reachable, or stop here
    upgrade(settings.database_url)
    if seed_example:
        _print_demo(settings)
    scheme = "https" if served else "http"
    print(f"corridor: open {scheme}://{host}:{port}/ in a browser (API documentation at /docs)", flush=True)
    if served is not None:
        _print_tls(served, host, port)
    app = create_app(settings, trust=tls.trust_of(served))
    jobs = app.state.runtime.jobs.connect()
    print(f"corridor: plans run as jobs on the Dask cluster at {jobs.address}", flush=True)
    # Everything made so far lives as long as the process: keep it out of the cyclic garbage
    # collector's full passes, which otherwise stall every request for tens of milliseconds.
    gc.freeze()
    # Then collect less often: with the default thresholds (700, 10, 10) a young collection ran
    # every request or two and the collector took about a tenth of the server's CPU. A young pass
    # over at most GC_THRESHOLDS[0] objects takes well under a millisecond, and the full passes,
    # over what was made since the freeze, become rare.
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        ssl_certfile=str(served.cert_file) if served else None,
        ssl_keyfile=str(served.key_file) if served else None,
    )


def tls_files(
    settings: Settings,
    *,
    use_tls: bool,
    cert_file: Path | None,
    key_file: Path | None,
    host_names: Sequence[str],
) -> tls.TlsFiles | None:
    """What to serve HTTPS with (None: plain HTTP), checked before anything else starts."""
    if (cert_file is None) != (key_file is None):
        given = "--cert" if cert_file is not None else "--key"
        raise InputError(
            f"{given} was given alone",
            where=given,
            hint="give both --cert FILE and --key FILE, or --tls alone for a certificate made here",
        )
    if cert_file is not None and key_file is not None:
        if host_names:
            raise InputError(
                "--host-name names what a certificate made here covers, not one you give",
                where="--host-name",
                hint="leave out --host-name, or --cert and --key",
            )
        return tls.given_tls(cert_file, key_file)
    if not use_tls:
        if host_names:
            raise InputError("--host-name needs --tls", where="--host-name", hint="add --tls")
        return None
    return tls.ensure_local_tls(settings.data_dir, host_names)


def _print_tls(served: tls.TlsFiles, host: str, port: int) -> None:
    places = [*served.names, *(f"[{a}]" if ":" in a else a for a in served.addresses)]
    lines = ["HTTPS for: " + ", ".join(places)]
    if host in ("127.0.0.1", "localhost", "::1"):
        lines.append(f"Listening on {host} only: for phones on the LAN, serve with --host 0.0.0.0")
    if served.ca_file is not None:
        first = next((a for a in served.addresses if not a.startswith(("127.", "::1"))), "localhost")
        lines += [
            f"Local CA {served.ca_file}: install it on each phone (once) from "
            f"https://{first}:{port}/ca (a QR code to scan, and the file at /ca.crt)",
            f"CA fingerprint (SHA-256): {served.fingerprint}",
        ]
    else:
        lines.append(f"Certificate fingerprint (SHA-256): {served.fingerprint}")
    print("\n".join(lines), flush=True)


def _print_demo(settings: Settings) -> None:
    runtime = Runtime.start(settings)
    try:
        passwords = demo.seed_example(runtime)
    finally:
        runtime.db.dispose()
    lines = ["Demo users (passwords are new at every start):"]
    lines += [f"  {username:32} {password}" for username, password in passwords.items()]
    print("\n".join(lines), flush=True)
