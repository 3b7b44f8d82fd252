"""The service's jobs: started on the Dask cluster by kind and recorded in the ``jobs`` table.

The cluster is joined on first use (``corridor serve`` joins it at start, so that a scheduler
that cannot be reached stops the service with a clear error): the embedded cluster of
``settings.workers`` worker processes, or the scheduler at ``settings.scheduler``. The service
submits tasks by name (:mod:`corridor.jobs`) and never imports the planner.

A job's row says where it stands; while it runs, its progress is read from the cluster. When it
ends, its row is settled once: a plan job's plan is kept as a version of the operation's plans
(by ``job:<id>``, not published: the operation's plan hash does not change), a failed job's
error is kept, and the cluster forgets it. A job whose service stopped while it ran (the cluster
that held it is gone with it) is marked failed when next read, never left running.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError, InputError
from corridor.jobs import Jobs, JobState
from corridor.plan.model import Plan
from corridor.server.columns import utc_now
from corridor.server.db import Database
from corridor.server.errors import NotFoundError
from corridor.server.ids import new_id
from corridor.server.jobs.tables import Job
from corridor.server.operations import versions
from corridor.server.operations.tables import Operation
from corridor.server.settings import Settings

# Who a plan version made by a job was "published" by: ``job:<id>`` (it is not published).
BY_JOB = "job:"

# A kind's result kept in two steps: ``prepare(result, params)`` outside the write transaction
# (reading and checking a large plan takes seconds, and the transaction would hold back every
# scan), then ``keep(session, job, prepared)`` inside it, short; what ``keep`` returns is the job's
# ``result``. Convoy plans and re-plans have theirs in :mod:`corridor.server.convoys.jobs`.
Prepare = Callable[[Any, dict[str, Any]], Any]
Keep = Callable[[Session, Job, Any], dict[str, Any]]


@dataclass(frozen=True)
class JobView:
    """A job as pages and the API show it: its row, with live progress while it runs."""

    id: str
    kind: str
    operation_id: str | None
    params: dict[str, Any]
    state: str
    progress: float
    message: str
    error: str | None
    result: dict[str, Any] | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def final(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    @staticmethod
    def of(job: Job, live: JobState | None = None) -> JobView:
        return JobView(
            id=job.id,
            kind=job.kind,
            operation_id=job.operation_id,
            params=dict(job.params),
            state=live.state if live is not None else job.state,
            progress=live.progress if live is not None else job.progress,
            message=live.message if live is not None else job.message,
            error=job.error,
            result=job.result,
            created_by=job.created_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )

    @staticmethod
    def of_live(view: JobView, live: JobState) -> JobView:
        return replace(view, state=live.state, progress=live.progress, message=live.message)


@dataclass(frozen=True)
class PreparedPlan:
    """A plan job's plan (or its figures), with its hash and file body."""

    plan: Plan | versions.Figures
    plan_hash: str
    body: dict[str, Any]


def prepare_plan(result: Any, params: dict[str, Any]) -> PreparedPlan:
    """A plan job's result, ready to keep (outside any transaction). The worker worked out the
    plan's hash and figures: the body is kept as it came, not read back into objects here (a
    city's plan is megabytes, and this process serves the scanners); a page reads it with the plan
    file's one reader when it shows it. A result without them is read back here."""
    figures, plan_hash, body = result.get("figures"), result.get("plan_hash"), result["plan"]
    if isinstance(figures, dict) and isinstance(plan_hash, str) and isinstance(body, dict):
        made = versions.Figures(str(figures["method"]), int(figures["evacuated"]), int(figures["evacuees"]))
        return PreparedPlan(made, plan_hash, body)
    plan = Plan.from_dict(body)
    return PreparedPlan(plan, plan.content_hash(), plan.to_dict())


def keep_plan(session: Session, job: Job, prepared: PreparedPlan) -> dict[str, Any]:
    """A plan job's plan, kept as a version of the operation's plans (the version holding the same
    plan already, if there is one)."""
    operation = session.get(Operation, job.operation_id)
    if operation is None:
        raise NotFoundError(f"operation {job.operation_id} is gone", where="operation_id")
    plan, plan_hash = prepared.plan, prepared.plan_hash
    kept = next((v for v in versions.listed(session, operation.id) if v.plan_hash == plan_hash), None)
    if kept is None:
        kept = versions.record(
            session,
            operation,
            plan=plan,
            nodes={},
            by=f"{BY_JOB}{job.id}",
            body=prepared.body,
            plan_hash=plan_hash,
        )
    return {"plan_version": kept.version, "plan_hash": plan_hash, "evacuated": plan.evacuated}


class JobService:
    """Jobs of one running service (held by its :class:`~corridor.server.runtime.Runtime`)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        # Convoy keepers use this module: imported when the service starts, not with it.
        from corridor.server.convoys.jobs import KEEPERS as CONVOY

        self.keepers: dict[str, tuple[Prepare, Keep]] = {"plan": (prepare_plan, keep_plan), **CONVOY}
        self._jobs: Jobs | None = None
        self._guard = threading.Lock()
        self._settler: ThreadPoolExecutor | None = None
        self._settling = threading.Lock()

    # -- the cluster

    def connect(self) -> Jobs:
        """The client of the cluster (joined now if not yet); raises when it cannot be reached."""
        with self._guard:
            if self._jobs is None:
                self._jobs = Jobs.connect(self.settings.scheduler, workers=self.settings.workers)
                self._settler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corridor-jobs")
            return self._jobs

    def stop(self) -> None:
        with self._guard:
            jobs, self._jobs = self._jobs, None
            settler, self._settler = self._settler, None
        if settler is not None:
            settler.shutdown(wait=True, cancel_futures=True)
        if jobs is not None:
            jobs.close()

    # -- jobs

    def start(
        self,
        *,
        kind: str,
        operation_id: str | None,
        params: dict[str, Any],
        payload: dict[str, Any],
        by: str,
    ) -> JobView:
        """Record a job of ``kind`` and submit it; ``params`` are what it is looked up by."""
        jobs = self.connect()
        job_id = new_id()
        key = f"corridor-job-{job_id}"
        with self.db.writing() as session:
            job = Job(
                id=job_id,
                kind=kind,
                operation_id=operation_id,
                params=dict(params),
                state="queued",
                progress=0.0,
                message="waiting for a worker",
                error=None,
                result=None,
                dask_key=key,
                created_by=by,
                created_at=utc_now(),
            )
            session.add(job)
            session.flush()
            view = JobView.of(job)
        try:
            jobs.submit(kind, payload, key=key)
        except Exception as error:
            self._finish(job_id, "failed", error=f"could not be started: {error}")
            raise
        jobs.on_done(key, self._ended)
        return view

    def latest(self, operation_id: str, kind: str, params: dict[str, Any] | None = None) -> JobView | None:
        """The operation's latest job of ``kind`` asked with ``params`` (any, when None), as it
        stands now."""
        with self.db.reading() as session:
            found = session.scalars(
                select(Job)
                .where(Job.operation_id == operation_id, Job.kind == kind)
                .order_by(Job.created_at.desc())
            )
            job = next((j for j in found if params is None or j.params == params), None)
            if job is None:
                return None
            view = JobView.of(job)
        return self.refresh(view)

    def get(self, job_id: str, operation_id: str | None = None) -> JobView:
        """The job ``job_id`` (of ``operation_id``, when given) as it stands now."""
        with self.db.reading() as session:
            job = session.get(Job, job_id)
            if job is None or (operation_id is not None and job.operation_id != operation_id):
                raise NotFoundError(f"there is no job {job_id}", where="job_id")
            view = JobView.of(job)
        return self.refresh(view)

    def wait(self, job_id: str, seconds: float) -> JobView:
        """The job once it has ended, or as it stands after ``seconds``."""
        until = time.monotonic() + seconds
        view = self.get(job_id)
        while not view.final and time.monotonic() < until:
            time.sleep(0.2)
            view = self.get(job_id)
        return view

    def listed(self, operation_id: str) -> list[JobView]:
        with self.db.reading() as session:
            query = select(Job).where(Job.operation_id == operation_id).order_by(Job.created_at)
            found = [JobView.of(j) for j in session.scalars(query)]
        # A job left queued or running by a service that stopped is marked failed here.
        return [self.refresh(v) for v in found]

    def refresh(self, view: JobView) -> JobView:
        """The job with its live state; settled when it has ended."""
        if view.final:
            return view
        jobs = self._jobs
        key = f"corridor-job-{view.id}"
        if jobs is None or not jobs.holds(key):
            self._finish(view.id, "failed", error="the service stopped while the job ran; start it again")
            return self.get(view.id)
        try:
            live = jobs.state(key)
        except InputError:  # settled and forgotten meanwhile: the row says how it ended
            return self.get(view.id)
        if live.final:
            self.settle(view.id)
            return self.get(view.id)
        if live.state == "running" and view.state == "queued":
            with self.db.writing() as session:
                job = session.get(Job, view.id)
                if job is not None and job.state == "queued":
                    job.state, job.started_at = "running", utc_now()
        return JobView.of_live(view, live)

    def cancel(self, job_id: str, operation_id: str | None = None) -> JobView:
        """Cancel a job (a job already ended stays as it ended)."""
        view = self.get(job_id, operation_id)
        if view.final:
            return view
        jobs = self._jobs
        if jobs is not None:
            jobs.cancel(f"corridor-job-{job_id}")
        self._finish(job_id, "cancelled", message="cancelled")
        return self.get(job_id)

    def settle(self, job_id: str) -> None:
        """Record how an ended job ended (once): its result kept, or its error."""
        jobs = self._jobs
        if jobs is None:
            return
        key = f"corridor-job-{job_id}"
        with self._settling:
            if jobs.holds(key):
                self._settle(jobs, job_id, key)

    def _settle(self, jobs: Jobs, job_id: str, key: str) -> None:
        live = jobs.state(key)
        if not live.final:
            return
        with self.db.reading() as session:
            found = session.get(Job, job_id)
            kind = found.kind if found is not None else ""
            params = dict(found.params) if found is not None else {}
        keeper = self.keepers.get(kind)
        prepared: Any = live.result
        failure: str | None = None
        if live.state == "done" and keeper is not None:
            try:
                prepared = keeper[0](live.result, params)
            except (CorridorError, KeyError, TypeError, ValueError) as error:
                failure = f"its result could not be kept: {error}"
        with self.db.writing() as session:
            job = session.get(Job, job_id)
            if job is None or job.state in ("done", "failed", "cancelled"):
                pass
            elif live.state == "done" and failure is None:
                try:
                    job.result = keeper[1](session, job, prepared) if keeper else {"value": prepared}
                    job.state, job.progress, job.message = "done", 1.0, live.message or "done"
                except (CorridorError, KeyError, TypeError, ValueError) as error:
                    job.state, job.error = "failed", f"its result could not be kept: {error}"
                job.finished_at = utc_now()
            else:
                job.state, job.error = ("failed", failure) if failure else (live.state, live.error)
                job.message = (live.message or job.state)[:300]
                job.finished_at = utc_now()
        jobs.forget(key)

    # -- inside

    def _ended(self, key: str) -> None:
        """A job's future ended (called on the cluster client's thread): settle it on ours."""
        settler = self._settler
        if settler is not None:
            with contextlib.suppress(RuntimeError):  # shutting down
                settler.submit(self.settle, key.removeprefix("corridor-job-"))

    def _finish(
        self, job_id: str, state: str, *, error: str | None = None, message: str | None = None
    ) -> None:
        with self.db.writing() as session:
            job = session.get(Job, job_id)
            if job is not None and job.state not in ("done", "failed", "cancelled"):
                job.state, job.error, job.finished_at = state, error, utc_now()
                job.message = (message or error or state)[:300]
