"""A real Dask cluster on loopback for the job tests: a ``dask scheduler`` process and two
``dask worker`` processes (one thread each, no nanny: a worker killed stays dead), started once
for the session and killed at its end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from corridor.jobs import Jobs

DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class TcpCluster:
    """The scheduler's address and the processes of the cluster."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                str(DASK),
                "worker",
                self.address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(process)
        return process

    def wait_for_workers(self, jobs: Jobs, n: int) -> None:
        jobs.client.wait_for_workers(n, timeout=60)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def tcp_cluster() -> Iterator[TcpCluster]:
    """``dask scheduler`` and two ``dask worker`` processes on loopback."""
    port = _free_port()
    scheduler = subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cluster = TcpCluster(f"tcp://127.0.0.1:{port}", scheduler)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise RuntimeError("the dask scheduler did not start")
            time.sleep(0.1)
        cluster.start_worker()
        cluster.start_worker()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def tcp_jobs(tcp_cluster: TcpCluster) -> Iterator[Jobs]:
    """A client of the TCP cluster, once both workers have joined."""
    jobs = Jobs.connect(tcp_cluster.address)
    tcp_cluster.wait_for_workers(jobs, 2)
    try:
        yield jobs
    finally:
        jobs.close()


@pytest.fixture(scope="session")
def local_jobs() -> Iterator[Jobs]:
    """A client of the process's embedded cluster (two worker processes)."""
    jobs = Jobs.connect(workers=2)
    try:
        yield jobs
    finally:
        jobs.close()
