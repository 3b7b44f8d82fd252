"""The demo's seeding never plans in the starting service: without the convoy file it starts a
convoy plan job and returns; the job publishes the plan with the demo's vehicle codes and assigns
everyone registered to its trips. With the file, the file is published and no job starts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from corridor.server.access.tables import AccessLogEntry
from corridor.server.convoys.jobs import start_plan
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.manifests.tables import ManifestEntry
from corridor.server.operations.tables import Operation
from corridor.server.registration.tables import Person
from corridor.server.runtime import Runtime
from corridor.server.seed import DEMO_NAME, PUBLISHER, demo_convoy_job, demo_vehicle, seed_example
from corridor.server.settings import Settings
from server.test_server_convoy import example_plan


def _counts(runtime: Runtime) -> tuple[list[ConvoyVersion], int, int]:
    with runtime.db.reading() as session:
        operation_id = session.scalars(select(Operation.id).where(Operation.name == DEMO_NAME)).one()
        versions = list(
            session.scalars(select(ConvoyVersion).where(ConvoyVersion.operation_id == operation_id))
        )
        people = session.scalar(
            select(func.count()).select_from(Person).where(Person.operation_id == operation_id)
        )
        assigned = session.scalar(
            select(func.count()).select_from(ManifestEntry).where(ManifestEntry.operation_id == operation_id)
        )
        session.expunge_all()
    return versions, int(people or 0), int(assigned or 0)


def test_without_the_convoy_file_the_demo_plan_is_a_job(settings: Settings, tmp_path: Path) -> None:
    runtime = Runtime.start(settings)
    try:
        seed_example(runtime, households=3, plan_file=None, convoy_file=tmp_path / "absent" / "convoy.json")
        job = demo_convoy_job(runtime)
        assert job is not None and job.kind == "convoy-plan" and job.params["assign"] is True
        assert job.params["vehicles"] == {v: demo_vehicle(v) for v in job.params["vehicles"]}
        assert "BUS-01" in job.params["vehicles"].values()
        versions, people, assigned = _counts(runtime)
        if not job.final:  # the seed returned before the plan was made: nobody registered yet
            assert versions == [] and people == assigned == 0
        ended = runtime.jobs.wait(job.id, 300)
        assert (ended.state, ended.error) == ("done", None)
        versions, people, assigned = _counts(runtime)
        assert [v.version for v in versions] == [1] and versions[
            0
        ].published_by == "corridor serve --seed-example"
        assert set(versions[0].vehicles.values()) <= set(job.params["vehicles"].values())
        # Registered where the plan's trips load people: everyone is assigned.
        assert people > 0 and assigned == people
        seed_example(runtime, households=3, plan_file=None, convoy_file=tmp_path / "absent" / "convoy.json")
        again = demo_convoy_job(runtime)
        assert again is not None and again.id == job.id  # the operation exists: nothing started again
    finally:
        runtime.jobs.stop()
        runtime.db.dispose()


def test_a_demo_plan_never_made_is_planned_again_at_the_next_start(
    settings: Settings, tmp_path: Path
) -> None:
    """A job that did not end (the service stopped, or it failed) is started again by the next
    seeding; one that runs is not doubled."""
    absent = tmp_path / "absent" / "convoy.json"
    runtime = Runtime.start(settings)
    try:
        seed_example(runtime, households=3, plan_file=None, convoy_file=absent)
        first = demo_convoy_job(runtime)
        assert first is not None
        seed_example(runtime, households=3, plan_file=None, convoy_file=absent)
        running = demo_convoy_job(runtime)
        assert running is not None
        if not first.final and not running.final:  # one job runs: the seeding found it
            assert running.id == first.id
        stopped = runtime.jobs.cancel(running.id)
    finally:
        runtime.jobs.stop()
        runtime.db.dispose()
    if stopped.state == "done":  # it ended before it could be stopped: nothing to plan again
        return
    runtime = Runtime.start(settings)  # the service started again
    try:
        assert _counts(runtime)[0] == []
        seed_example(runtime, households=3, plan_file=None, convoy_file=absent)
        again = demo_convoy_job(runtime)
        assert again is not None and again.id not in (first.id, running.id)
        ended = runtime.jobs.wait(again.id, 300)
        assert (ended.state, ended.error) == ("done", None)
        versions, people, assigned = _counts(runtime)
        assert [v.version for v in versions] == [1] and people > 0 and assigned == people
    finally:
        runtime.jobs.stop()
        runtime.db.dispose()


def test_a_job_asked_to_do_what_this_service_does_not_know_publishes_nothing(settings: Settings) -> None:
    runtime = Runtime.start(settings)
    try:
        seed_example(runtime, households=3, plan_file=None, convoy_file=None)
        job = demo_convoy_job(runtime)
        assert job is not None and job.operation_id is not None
        unknown = start_plan(runtime, job.operation_id, by="test", then="nobody-knows")
        assert unknown.id != job.id
        failed = runtime.jobs.wait(unknown.id, 300)
        assert failed.state == "failed" and "nobody-knows" in (failed.error or "")
        assert runtime.jobs.wait(job.id, 300).state == "done"
        with runtime.db.reading() as session:
            logged = list(
                session.scalars(
                    select(AccessLogEntry.actor).where(
                        AccessLogEntry.operation_id == job.operation_id,
                        AccessLogEntry.action == "convoy.published",
                    )
                )
            )
        assert logged == [PUBLISHER]  # the demo's job published; the other did not
    finally:
        runtime.jobs.stop()
        runtime.db.dispose()


def test_with_the_convoy_file_no_job_is_started(settings: Settings, tmp_path: Path) -> None:
    convoy = tmp_path / "convoy.json"
    convoy.write_text(json.dumps(example_plan().to_dict()), encoding="utf-8")
    runtime = Runtime.start(settings)
    try:
        seed_example(runtime, households=3, plan_file=None, convoy_file=convoy)
        assert demo_convoy_job(runtime) is None
        versions, people, assigned = _counts(runtime)
        assert [v.version for v in versions] == [1] and people > 0 and assigned == people
    finally:
        runtime.db.dispose()


def test_the_service_starts_without_loading_the_simulator() -> None:
    """The jobs' cluster settings (LEAN) are read without importing the simulator's cluster module."""
    code = (
        "import sys, corridor.server.app, corridor.jobs.embedded\n"
        "from corridor.simulate.dask_settings import LEAN\n"
        "assert corridor.jobs.embedded.LEAN is LEAN\n"
        "print(sorted(m for m in sys.modules if m.startswith('corridor.simulate.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['corridor.simulate.dask_settings']"


def test_a_seeding_that_finds_the_job_ended_but_not_yet_settled_starts_no_second_one(
    settings: Settings, tmp_path: Path
) -> None:
    """The job ends on the cluster after the seeding saw no plan and before it looks the job up:
    the look-up settles it (its plan published), and that job is the demo's plan, not a reason
    to plan again (a second job had been started, and a second version published)."""
    absent = tmp_path / "absent" / "convoy.json"
    runtime = Runtime.start(settings)
    try:
        runtime.jobs.connect()
        runtime.jobs._settler = None  # settled only when looked up, as if its settling were late
        seed_example(runtime, households=3, plan_file=None, convoy_file=absent)
        first = demo_convoy_job(runtime)
        assert first is not None
        cluster = runtime.jobs.connect()
        key = f"corridor-job-{first.id}"
        deadline = time.monotonic() + 300
        while not cluster.state(key).final and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cluster.state(key).state == "done"
        assert _counts(runtime)[0] == []  # ended there, not settled here: no plan yet
        seed_example(runtime, households=3, plan_file=None, convoy_file=absent)
        again = demo_convoy_job(runtime)
        assert again is not None and again.id == first.id and again.state == "done"
        assert [v.version for v in _counts(runtime)[0]] == [1]
    finally:
        runtime.jobs.stop()
        runtime.db.dispose()
