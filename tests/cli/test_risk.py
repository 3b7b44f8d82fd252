"""``corridor risk`` end to end, in process and on a real Dask cluster (a ``dask scheduler`` and ``dask
worker`` processes on loopback): the same seeds give the same runs wherever they run, a worker killed
mid-run costs no run, and bad input or an unreachable scheduler is a clear error, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from corridor.cli.main import app
from corridor.network.build import load_network
from corridor.scenario.load import load_scenario
from corridor.simulate import cluster
from corridor.simulate.cluster import DaskRunner, InProcess
from corridor.simulate.runs import BatchSpec
from corridor.simulate.sweep import make_plan
from corridor.simulate.timetable import Timetable

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016"
DASK = str(Path(sys.executable).with_name("dask"))
RISK = """
[risk]
travel_time_spread = 0.15
checkpoint_hold_probability = 0.3
checkpoint_hold_minutes = 90
closure_probability = 0.3
ceasefire_end_probability = 0.2
ceasefire_earliest = 2016-12-16T02:00:00+02:00
no_show_probability = 0.05
breakdown_probability = 0.02
"""
runner = CliRunner()


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def _scenario(folder: Path, extra: str = RISK) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("network.geojson", "sources.csv"):
        (folder / name).write_bytes((EXAMPLE / name).read_bytes())
    path = folder / "scenario.toml"
    # the example's own [risk] table (its last) gives way to the test's
    path.write_text((EXAMPLE / "scenario.toml").read_text().split("\n[risk]")[0] + extra)
    return path


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _scenario(tmp_path_factory.mktemp("risk"))


@pytest.fixture(scope="module")
def planned(scenario: Path) -> tuple[Timetable, Path]:
    """The scenario's greedy convoy plan: its timetable, and its convoy.json beside the scenario."""
    loaded = load_scenario(scenario)
    made = make_plan(loaded, load_network(loaded.network, loaded.base_dir), "convoy", None, 5)
    path = scenario.with_name("convoy.json")
    path.write_text(json.dumps(made.plan.to_dict()))
    return made.timetable, path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A scheduler and workers, each its own process, on loopback."""

    def __init__(self, logs: Path) -> None:
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.scheduler = self._start(
            ["scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1]]
        )

    def _start(self, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{args[0]}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([DASK, *args, "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def worker(self) -> subprocess.Popen[bytes]:
        return self._start(["worker", self.address, "--nthreads", "1", "--nworkers", "1", "--no-nanny"])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Any]]:
    """A real TCP cluster: a scheduler and two workers, and a client of it."""
    from distributed import Client

    c = Cluster(tmp_path_factory.mktemp("dask-logs"))
    try:
        c.worker()
        c.worker()
        client = Client(c.address, timeout="30s", set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield c, client
        client.close()
    finally:
        c.stop()


def test_a_risk_run_on_the_cluster_is_the_run_in_process(
    scenario: Path, planned: tuple[Timetable, Path], dask_cluster: tuple[Cluster, Any], tmp_path: Path
) -> None:
    c, _ = dask_cluster
    args = ["risk", str(scenario), "--plan", str(planned[1]), "--runs", "300", "--seed", "3"]
    args += ["--sensitivity-runs", "100", "--json"]
    there = runner.invoke(app, [*args, "--scheduler", c.address, "--out", str(tmp_path / "there")])
    no_traceback(there)
    assert there.exit_code == 0, there.output
    here = runner.invoke(app, args)
    assert here.exit_code == 0, here.output
    summary = json.loads(there.output)
    assert summary == json.loads(here.output)
    assert summary["runs"] == 300
    assert 0 < summary["mean_out"] < summary["planned_out"]
    assert {e["field"] for e in summary["most_damaging"]} == {
        "travel_time_spread",
        "checkpoint_hold_probability",
        "closure_probability",
        "ceasefire_end_probability",
        "no_show_probability",
        "breakdown_probability",
    }
    written = {p.name for p in (tmp_path / "there").iterdir()}
    assert written == {"risk.json", "runs.csv", "fan.png", "tornado.png"}
    assert (tmp_path / "there" / "runs.csv").read_text().count("\n") == 301
    assert (tmp_path / "there" / "fan.png").read_bytes()[:4] == b"\x89PNG"


def test_a_worker_killed_mid_run_costs_no_run(
    scenario: Path, planned: tuple[Timetable, Path], dask_cluster: tuple[Cluster, Any]
) -> None:
    c, client = dask_cluster
    tt = planned[0]
    risk = load_scenario(scenario).risk
    # SimPy batches: slow enough that the worker is killed while it holds one.
    specs = [BatchSpec(0, b, 12, 7, risk, "simpy") for b in range(8)]
    before = set(client.scheduler_info()["workers"])
    doomed = c.worker()
    client.wait_for_workers(3, timeout=60)
    (address,) = set(client.scheduler_info()["workers"]) - before
    lost: list[int] = []

    def kill_once(done: int, total: int) -> None:
        if lost:
            return
        deadline = time.monotonic() + 20
        while not client.processing().get(address) and time.monotonic() < deadline:
            time.sleep(0.05)
        lost.append(len(client.processing().get(address, ())))  # tasks it held when killed
        os.kill(doomed.pid, signal.SIGKILL)

    batches = DaskRunner(client).run(tt, specs, kill_once)
    assert doomed.wait(timeout=10) == -signal.SIGKILL
    assert lost and lost[0] >= 1  # it died holding work, which was done again elsewhere
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) > 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(client.scheduler_info()["workers"]) == 2
    assert sum(b.runs for b in batches) == 96
    alone = InProcess().run(tt, specs[:3], lambda done, total: None)
    assert [b.out.tolist() for b in batches[:3]] == [b.out.tolist() for b in alone]


def test_the_timetable_is_sent_once_and_the_batches_come_back_whole(
    scenario: Path, planned: tuple[Timetable, Path], dask_cluster: tuple[Cluster, Any]
) -> None:
    """Two jobs on one timetable send it to the workers once; batches grouped into tasks and fetched
    straight from the workers are the runs computed in process, in order."""
    _, client = dask_cluster
    tt = planned[0]
    risk = load_scenario(scenario).risk
    specs = [BatchSpec(0, b, 20, 5, risk) for b in range(12)]
    specs += [BatchSpec(1, b, 20, 5, risk, full=False) for b in range(12)]
    remote = DaskRunner(client, direct=True)  # loopback: the workers are reachable
    seen: list[tuple[int, int]] = []
    first = remote.run(tt, specs, lambda done, total: seen.append((done, total)))
    kept = remote._kept
    second = remote.run(tt, specs[:5], lambda done, total: None)
    assert kept is not None and remote._kept is kept  # the same data on the workers, not sent again
    assert seen[-1] == (480, 480) and len(seen) <= 4 * 2  # a few tasks per worker thread
    alone = InProcess().run(tt, specs, lambda done, total: None)
    for got in (first, second):
        for a, b in zip(got, alone, strict=False):
            assert (a.job, a.batch) == (b.job, b.batch)
            assert np.array_equal(a.out, b.out) and np.array_equal(a.curve, b.curve)
    remote.forget()
    deadline = time.monotonic() + 10  # the release reaches the scheduler on its own stream
    while kept[1].key in client.who_has() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert remote._kept is None and kept[1].key not in client.who_has()


def test_only_a_local_cluster_is_read_from_its_workers_directly(dask_cluster: tuple[Cluster, Any]) -> None:
    """A client outside a remote cluster may not reach its workers: results come through the
    scheduler there; from the local cluster ``corridor risk`` starts, straight from the workers."""
    c, _ = dask_cluster
    with cluster.open_runner(c.address, None, 10) as remote:
        assert isinstance(remote, DaskRunner) and remote.direct is None
    with cluster.open_runner(None, 1, 10) as local:
        assert isinstance(local, DaskRunner) and local.direct is True
    with cluster.open_runner(None, None, 10) as alone:
        assert isinstance(alone, InProcess)


def test_an_unreachable_scheduler_is_a_clear_error(scenario: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "2s")
    result = runner.invoke(
        app, ["risk", str(scenario), "--runs", "10", "--scheduler", f"tcp://127.0.0.1:{_free_port()}"]
    )
    no_traceback(result)
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in result.output
    bad = runner.invoke(app, ["risk", str(scenario), "--runs", "10", "--scheduler", "no-such-scheme://x"])
    no_traceback(bad)
    assert bad.exit_code == 1
    assert "cannot reach the Dask scheduler" in bad.output


def test_a_sweep_writes_a_point_per_value(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "risk",
            str(scenario),
            "--runs",
            "40",
            "--sweep",
            "fleet:bus=10,20",
            "--sensitivity-runs",
            "0",
            "--out",
            str(out),
            "--json",
        ],
    )
    no_traceback(result)
    assert result.exit_code == 0, result.output
    points = json.loads(result.output)
    assert [p["value"] for p in points] == [10, 20]
    assert [p["runs"] for p in points] == [40, 40]
    assert points[0]["planned_out"] < points[1]["planned_out"]
    assert {"sweep.json", "sweep.png", "sweep-fans.png"} <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sweep", "fleet=10,20"], "--sweep: 'fleet=10,20' is not a sweep"),
        (["--sweep", "fleet:tank=1,2"], "no [[fleet]] entry 'tank'"),
        (["--sweep", "deadline=0,4"], "must be positive"),
        (["--sweep", "checkpoint:nowhere=6"], "no [[checkpoints]] entry 'nowhere'"),
        (["--runs", "0"], "--runs"),
        (["--runs", "300000"], "--runs"),
    ],
)
def test_bad_options_are_named(scenario: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["risk", str(scenario), "--runs", "5", *args])
    no_traceback(result)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_a_plan_file_that_is_not_a_plan_is_named(scenario: Path, tmp_path: Path) -> None:
    bad = tmp_path / "convoy.json"
    bad.write_text('{"trips": 3}')
    result = runner.invoke(app, ["risk", str(scenario), "--runs", "5", "--plan", str(bad)])
    no_traceback(result)
    assert result.exit_code == 2
    assert f"{bad}: not a convoy plan" in " ".join(result.output.split())


def test_impossible_risk_parameters_are_named(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "\n[risk]\nbreakdown_probability = 2\n")
    result = runner.invoke(app, ["risk", str(path), "--runs", "5"])
    no_traceback(result)
    assert result.exit_code == 2
    assert "risk.breakdown_probability" in result.output


def test_the_flow_plan_is_simulated_too(scenario: Path) -> None:
    result = runner.invoke(
        app, ["risk", str(scenario), "--flow", "--runs", "50", "--sensitivity-runs", "0", "--json"]
    )
    no_traceback(result)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["plan"] == "flow"
    assert summary["runs"] == 50
    assert 0 < summary["mean_out"] <= summary["planned_out"]
    assert summary["most_damaging"] == []
