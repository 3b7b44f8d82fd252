"""Demo data: the East Aleppo 2016 example as an operation, and one demo user per role.

Used by ``corridor serve --seed-example`` (and so ``make run``). The operation is made once; the
demo users get fresh random passwords at every start, which are returned to be printed. When the
operation is made and ``make run`` has just planned the example (``out/east-aleppo-2016/plan.json``),
that plan is published as the operation's version 1; the seed never solves (it would delay the
start by seconds), so without the file the demo has no published plan until one is published.

The demo also follows a convoy plan: ``out/east-aleppo-2016/convoy/convoy.json`` when ``corridor
convoy --out`` wrote it, else the example's fleet planned by a convoy plan job on the cluster,
started once the operation is made (the start does not wait for it: the plan is published as
version 1 when the job ends, and the demo households are registered then). A later start that
finds the operation without a convoy plan and no job running for it (the job failed, or the
service stopped while it ran) starts the job again. Its buses and ambulances are the operation's
(``bus-07`` is ``BUS-07``, ``ambulance-3`` is ``AMB-3``; the vehicles the demo lacks are
registered). The demo households are registered at the gathering points the plan's trips load
people at (people on stretchers only where they load stretcher cases), so that everyone
registered is assigned to its trips.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.core.errors import CorridorError
from corridor.plan.convoy import ConvoyPlan
from corridor.server.access import service as access
from corridor.server.access.tables import User
from corridor.server.auth import Role
from corridor.server.convoys import jobs as convoy_jobs
from corridor.server.convoys import service as convoys
from corridor.server.convoys.scenario import Basis, load, problem, verify
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.jobs.service import JobView
from corridor.server.manifests import service as manifests
from corridor.server.manifests.schemas import VehicleIn
from corridor.server.operations import service as operations
from corridor.server.operations.plans import PlanIn
from corridor.server.operations.schemas import OperationIn, PointIn, WindowIn
from corridor.server.operations.tables import Operation
from corridor.server.public.consent import grant
from corridor.server.registration import service as registration
from corridor.server.registration.schemas import HouseholdIn, PersonIn
from corridor.server.registration.tables import Person
from corridor.server.runtime import Runtime

CHECKOUT = Path(__file__).resolve().parents[3]
EXAMPLE = CHECKOUT / "examples" / "east-aleppo-2016" / "scenario.toml"
DEMO_PLAN = CHECKOUT / "out" / "east-aleppo-2016" / "plan.json"  # written by `make run`
DEMO_CONVOY = CHECKOUT / "out" / "east-aleppo-2016" / "convoy" / "convoy.json"  # `corridor convoy --out`
# Where the demo route points stand on the example's network (examples/east-aleppo-2016).
DEMO_NODES = {"amiriyah": "amiriyah-crossing", "ramouseh": "ramouseh-checkpoint", "rashideen": "rashideen"}
PUBLISHER = "corridor serve --seed-example"
DEMO_HOUSEHOLDS = "demo-households"  # what the demo's convoy plan job does as it publishes
DEMO_NAME = "East Aleppo 2016 (demo)"
log = logging.getLogger(__name__)
# The demo's people are named from the name list the duplicate matcher ships (ops/data): a given
# name, the father's given name and a family name, written in Arabic or in Latin letters per
# household, so that the duplicate warnings they raise mean something.
NAME_LIST = Path(__file__).resolve().parents[1] / "ops" / "data" / "arabic_names.json"


@cache
def _name_list() -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]]]:
    """Given names by sex (each as Arabic and Latin letters) and family names."""
    names = json.loads(NAME_LIST.read_text(encoding="utf-8"))["names"]

    def latin(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))

    given: dict[str, list[tuple[str, str]]] = {"female": [], "male": []}
    family: list[tuple[str, str]] = []
    for n in names:
        pair = (n["arabic"], latin(n["romanized"]))
        if n["kind"] == "family":
            family.append(pair)
        for sex in ("female", "male"):
            if n["kind"] == "given" and n["sex"] in (sex, "unknown"):
                given[sex].append(pair)
    return given, family


# The demo's family tracing code (docs/operations.md, "Civilians"): the first demo person's status.
DEMO_TRACING_CODE = "DEMO-0000-0001"


def _example() -> tuple[str, datetime, datetime, list[str]]:
    """Scenario name, start, deadline and gathering points of the example (if it is there)."""
    try:
        from corridor.scenario.load import load_scenario

        scenario = load_scenario(EXAMPLE)
        points = [s.id for s in scenario.sources]
        return scenario.name, scenario.start, scenario.deadline, points
    except (CorridorError, OSError, ImportError):
        start = datetime.fromisoformat("2016-12-15T14:30:00+02:00")
        return "east-aleppo-2016", start, start + timedelta(hours=16, minutes=30), ["mashhad"]


def seed_example(
    runtime: Runtime,
    *,
    households: int = 40,
    plan_file: Path | None = DEMO_PLAN,
    convoy_file: Path | None = DEMO_CONVOY,
) -> dict[str, str]:
    """Make the demo operation if missing (with ``plan_file`` published, if it is there); give
    each demo user a new password; return them."""
    passwords = {f"demo-{role}": secrets.token_urlsafe(9) for role in Role}
    to_plan: str | None = None  # the operation whose convoy plan is to be made by a job
    with runtime.db.writing() as session:
        operation = session.scalar(select(Operation).where(Operation.name == DEMO_NAME))
        if operation is None:
            operation, points = _make_operation(session)
            _publish_demo_plan(session, operation, plan_file)
            if convoy_file is not None and convoy_file.is_file():
                served = _publish_demo_convoy(session, runtime, operation, convoy_file)
                _register(session, runtime, operation, households, points, served)
                _demo_consent(session, runtime, operation)
                manifests.assign_unassigned(session, operation_id=operation.id)
            else:  # registered where the job's plan loads people, when it is published
                to_plan = operation.id
        elif convoys.current(session, operation.id) is None:
            # Its plan was never published (the job failed, or the service stopped while it ran):
            # planned again, unless a job runs for it (start_plan answers with that one).
            to_plan = operation.id
        for role in Role:
            username = f"demo-{role}"
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                user = access.create_user(
                    session,
                    username=username,
                    password=passwords[username],
                    passwords=runtime.passwords,
                )
            else:
                user.password_hash = runtime.passwords.hash(passwords[username])
            scope = None if role is Role.COORDINATOR else operation.id
            access.grant(session, user_id=user.id, role=role, operation_id=scope)
    if to_plan is not None:  # once the operation is stored: the job's row refers to it
        _start_demo_convoy_job(runtime, to_plan, households)
    return passwords


def demo_convoy_job(runtime: Runtime) -> JobView | None:
    """The demo operation's latest convoy plan job (None: none was started, the plan file was
    there or the operation is not made)."""
    with runtime.db.reading() as session:
        operation_id = session.scalar(select(Operation.id).where(Operation.name == DEMO_NAME))
    return None if operation_id is None else convoy_jobs.latest(runtime, operation_id)


def _start_demo_convoy_job(runtime: Runtime, operation_id: str, households: int) -> None:
    """Start the job that plans the example's fleet (or find the one running); its plan is
    published with the demo's vehicle codes when it ends, the demo households registered where its
    trips load people and everyone registered assigned to its trips. The start does not wait."""
    try:
        with runtime.db.reading() as session:
            name = operations.get(session, operation_id).scenario_name
        compiled = problem(load(runtime.settings.scenarios_dir, name), Basis())
        convoy_jobs.after_publishing(DEMO_HOUSEHOLDS, _registering(runtime, households))
        job = convoy_jobs.start_plan(
            runtime,
            operation_id,
            by=PUBLISHER,
            vehicles={v: demo_vehicle(v) for v in compiled.vehicle_ids},
            assign=True,
            # Not ``again``: a job found done has published its plan (settled as it was looked up,
            # after this seeding saw none), so the one found is the plan; a failed or cancelled
            # one is started again anyway.
            then=DEMO_HOUSEHOLDS,
        )
    except (OSError, ValueError, CorridorError) as error:
        log.warning("demo operation made without a convoy plan: %s", error)
        return
    log.info("demo operation: its convoy plan is being made (job %s); published when it ends", job.id)


def _registering(runtime: Runtime, households: int) -> convoy_jobs.Published:
    """What the demo's convoy plan job does as it publishes: the demo households registered where
    the plan loads people (once: not when the operation has people already), and the demo consent."""

    def register(session: Session, operation: Operation, plan: ConvoyPlan, version: ConvoyVersion) -> None:
        if session.scalar(select(Person.id).where(Person.operation_id == operation.id).limit(1)):
            return
        served = _served(plan, version)
        _register(session, runtime, operation, households, [s["id"] for s in served], served)
        _demo_consent(session, runtime, operation)

    return register


def _served(plan: ConvoyPlan, version: ConvoyVersion) -> list[dict[str, Any]]:
    """The version's sources, each with the people the plan loads there (``load``)."""
    loads: dict[str, int] = {}
    for trip in plan.trips:
        for source, people in trip.load:
            loads[source] = loads.get(source, 0) + people
    return [{**s, "load": loads.get(s["id"], 0)} for s in version.basis["sources"]]


def _make_operation(session: Session) -> tuple[Operation, list[str]]:
    name, start, deadline, points = _example()
    # The demo runs now: its ceasefire window opens at the seeding (as long as the example's), so
    # that the time left shows and today's scans fall inside it; the example's plans keep their
    # own times (the dashboard draws the plan from the window's start).
    opens = datetime.now(UTC).replace(second=0, microsecond=0)
    start, deadline = opens, opens + (deadline - start)
    body = OperationIn(
        name=DEMO_NAME,
        scenario_name=name,
        route=[
            PointIn(id="amiriyah", name="al-Amiriyah crossing", kind="departure", expected_minutes=0),
            PointIn(
                id="ramouseh",
                name="Ramouseh checkpoint",
                kind="checkpoint",
                expected_minutes=25,
                pcode="SY0200",
                admin_level=1,
            ),
            PointIn(id="rashideen", name="al-Rashideen", kind="arrival", expected_minutes=55),
        ],
        windows=[WindowIn(start=start, end=deadline)],
    )
    operation = operations.create(session, body)
    operation.state = "active"
    for i in range(4):
        vehicle = VehicleIn(code=f"AMB-{i + 1}", kind="ambulance", seats=2, stretchers=2)
        manifests.add_vehicle(session, operation_id=operation.id, body=vehicle)
    for i in range(10):
        vehicle = VehicleIn(code=f"BUS-{i + 1:02d}", kind="bus", seats=50, wave=i // 4)
        manifests.add_vehicle(session, operation_id=operation.id, body=vehicle)
    return operation, points


def _register(
    session: Session,
    runtime: Runtime,
    operation: Operation,
    households: int,
    points: list[str],
    served: list[dict[str, Any]] | None,
) -> None:
    """Demo households at the gathering points; with a convoy plan, at points its trips serve
    (and people on stretchers only where its trips load them), so that everyone gets a place."""
    stretcher_points: set[str] | None = None
    if served:
        node = {s["id"]: s["node"] for s in served}
        seated = {s["node"] for s in served if s["load"] and not s["stretcher"]}
        lying = {s["node"] for s in served if s["load"] and s["stretcher"]}
        points = [p for p in points if node.get(p) in seated] or points
        stretcher_points = {p for p in points if node.get(p) in lying}
    rng = random.Random(2016)
    for h in range(households):
        registration.register_household(
            session,
            sealer=runtime.sealer,
            operation_id=operation.id,
            body=_household(rng, h, points, stretcher_points),
        )


def _demo_consent(session: Session, runtime: Runtime, operation: Operation) -> None:
    """The first demo person allows a relative to learn their status with ``DEMO_TRACING_CODE``."""
    session.flush()
    first = session.scalar(
        select(Person.id).where(Person.operation_id == operation.id).order_by(Person.registered_at, Person.id)
    )
    if first is not None:
        grant(
            session,
            sealer=runtime.sealer,
            operation_id=operation.id,
            person_id=first,
            relative="Demo relative",
            code=DEMO_TRACING_CODE,
        )


def demo_vehicle(plan_vehicle: str) -> str:
    """The demo's code for a vehicle of the example's fleet: bus-07 -> BUS-07, ambulance-03 -> AMB-3."""
    kind, _, number = plan_vehicle.rpartition("-")
    if kind == "bus" and number.isdigit():
        return f"BUS-{int(number):02d}"
    if kind == "ambulance" and number.isdigit():
        return f"AMB-{int(number)}"
    return plan_vehicle


def _publish_demo_convoy(
    session: Session, runtime: Runtime, operation: Operation, convoy_file: Path
) -> list[dict[str, Any]] | None:
    """Publish the example's convoy plan file as convoy version 1; the scenario's sources with the
    people the plan loads at each (None when the file is not usable)."""
    try:
        loaded = load(runtime.settings.scenarios_dir, operation.scenario_name)
        plan = convoys.parse(json.loads(convoy_file.read_text(encoding="utf-8")))
        compiled = verify(plan, loaded, Basis())
        version = convoys.publish(
            session,
            operation,
            plan=plan,
            loaded=loaded,
            problem=compiled,
            basis=Basis(),
            mapping={v: demo_vehicle(v) for v in plan.vehicles},
            by=PUBLISHER,
        )
    except (OSError, ValueError, CorridorError) as error:
        log.warning("demo operation made without a convoy plan: %s", error)
        return None
    log.info("demo operation: convoy plan version %d, %d trips", version.version, version.trips)
    return _served(plan, version)


def _publish_demo_plan(session: Session, operation: Operation, plan_file: Path | None) -> None:
    """Publish the example's plan file as version 1, or say in the log why the demo has none."""
    if plan_file is None or not plan_file.is_file():
        log.warning(
            "demo operation made without a published plan: no %s (`make run` plans the example first; "
            "the seed does not solve)",
            plan_file,
        )
        return
    try:
        plan = PlanIn.model_validate_json(plan_file.read_bytes()).to_plan()
        version = operations.publish(session, operation, plan=plan, nodes=DEMO_NODES, by=PUBLISHER)
    except (OSError, ValidationError, CorridorError) as error:
        log.warning("demo operation made without a published plan: %s is not usable (%s)", plan_file, error)
        return
    log.info("demo operation: published %s as plan version %d", plan_file, version.version)


def _household(
    rng: random.Random, number: int, points: list[str], stretcher_points: set[str] | None = None
) -> HouseholdIn:
    given, families = _name_list()
    family = rng.choice(families)
    script = rng.choice([0, 0, 1])  # two households in three write their names in Arabic
    father = rng.choice(given["male"])
    point = rng.choice(points)
    people = []
    for i in range(rng.randint(1, 6)):
        if i == 0:  # the head of the household, then their children
            band, sex = rng.choice(["18-59", "18-59", "60+"]), rng.choice(["female", "male"])
            parts = (rng.choice(given[sex]), rng.choice(given["male"]), family)
        else:
            band, sex = rng.choice(["0-4", "5-11", "12-17", "18-59"]), rng.choice(["female", "male"])
            parts = (rng.choice(given[sex]), father, family)  # the children of ``father``
        if i == 0 and sex == "male":
            father = parts[0]
        needs: list[str] = []
        if rng.random() < 0.05 and (stretcher_points is None or point in stretcher_points):
            needs = ["wounded", "stretcher"]
        elif band == "60+":
            needs = ["elderly"]
        people.append(
            PersonIn.model_validate(
                {
                    "name": " ".join(part[script] for part in parts),
                    "age_band": band,
                    "sex": sex,
                    "vulnerabilities": needs,
                }
            )
        )
    return HouseholdIn(reference=f"demo-{number}", gathering_point=point, people=people)
