"""Slow work beside the scans, by structure (no timing): an import works out its possible
duplicates with no write transaction open and shows what one look-up at a time would; a scan
is stored between two of its chunks; log-ins check passwords on their own bounded threads."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from anyio import to_thread
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.core.errors import ConflictError
from corridor.ops.ledger import EventType
from corridor.server.auth import PASSWORD_NICE, Passwords, lower_this_thread
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.ids import new_id
from corridor.server.ledger.tables import LedgerRow
from corridor.server.operations import service as operations
from corridor.server.operations.schemas import OperationIn, PointIn
from corridor.server.registration import duplicates, import_worker, imports, service
from corridor.server.registration.schemas import HouseholdIn, PersonIn
from corridor.server.registration.tables import Person
from server.conftest import PASSWORD, World
from server.test_server_login import CountingPasswords, attempt

GIVEN = ["Mohammed", "محمد", "Muhammad", "Ahmad", "أحمد", "Ahmed", "Omar", "Amr"]
FAMILY = ["Halabi", "الحلبي", "al-Halabi", "Haddad", "حداد"]
BANDS = ["12-17", "18-59", "60+"]


def alike_households(count: int, seed: int) -> list[list[PersonIn]]:
    """Households of one to four people with alike names (blocks of many namesakes, near names,
    both scripts, a word left out), sexes and age bands mixed."""
    rng = random.Random(seed)
    households = []
    for _ in range(count):
        family = rng.choice(FAMILY)
        members = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(GIVEN), rng.choice(GIVEN), family][rng.choice([0, 0, 1]) :]
            members.append(
                PersonIn(
                    name=" ".join(words),
                    sex=rng.choice(["male", "male", "female"]),
                    age_band=rng.choice(BANDS),
                )
            )
        households.append(members)
    return households


def new_operation(db: Database) -> str:
    route = [
        PointIn(id="start", name="al-Amiriyah", kind="departure", expected_minutes=0),
        PointIn(id="end", name="al-Rashideen", kind="arrival", expected_minutes=55),
    ]
    with db.writing() as session:
        return operations.create(session, OperationIn(name="import", scenario_name="test", route=route)).id


@pytest.mark.parametrize("per_key", [6, duplicates.MAX_PER_KEY])
def test_an_import_shows_the_duplicates_that_one_look_up_at_a_time_would(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_key: int
) -> None:
    """Household by household, the import's matcher (blocks read once, in memory, scored by
    distinct name) against the look-up in the database that a registration makes, on the same
    people: the same matches in the same order. With six people a key the blocks overflow, and
    which people are read under a key (the first by id) must agree too."""
    monkeypatch.setattr(duplicates, "MAX_PER_KEY", per_key)
    db = Database(db_url)
    sealer = Sealer.from_file(tmp_path / "key")
    operation_id = new_operation(db)
    matcher = duplicates.ImportMatcher(sealer, operation_id, per_key=per_key)
    households = alike_households(70, seed=per_key)
    with db.writing() as session:  # registered before the import began
        for members in households[:10]:
            service.register_household(
                session, sealer=sealer, operation_id=operation_id, body=HouseholdIn(people=members)
            )
    shown_somewhere = 0
    for members in households[10:]:
        household_id, ids = new_id(), [new_id() for _ in members]
        with db.reading() as session:
            matcher.load(session, [p.name for p in members])
        records = [duplicates.Record(p.name, p.sex, p.age_band, household_id) for p in members]
        fast = matcher.household(records, ids)
        with db.writing() as session:
            done = service.register_household(
                session,
                sealer=sealer,
                operation_id=operation_id,
                body=HouseholdIn(people=members),
                ids=ids,
                household_id=household_id,
            )
        looked_up = {d.person_id: d.matches for d in done.duplicates}
        assert fast == [looked_up.get(pid, []) for pid in ids]
        shown_somewhere += sum(1 for found in fast if found)
    assert shown_somewhere > 50  # the case is not empty
    db.dispose()


class WatchedDatabase(Database):
    """A database that notes when write transactions begin and end, and may run ``between``
    once, when the import is about to open its second write transaction."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.writing_now = False
        self.writes = 0
        self.between: list[object] = []
        self.act: object = None

    @contextmanager
    def writing(self, *, durable: bool = True) -> Iterator[Session]:
        self.writes += 1
        if self.writes == 2 and callable(self.act):
            self.act()
        with super().writing(durable=durable) as session:
            self.writing_now = True
            try:
                yield session
            finally:
                self.writing_now = False


def test_an_import_matches_with_no_write_transaction_open_and_a_scan_is_stored_between_its_chunks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = WatchedDatabase(world.settings.database_url)
    matched_while_writing: list[bool] = []

    class Watched(duplicates.ImportMatcher):
        def household(self, records: object, ids: object) -> list[list[str]]:
            matched_while_writing.append(db.writing_now)
            return super().household(records, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(duplicates, "ImportMatcher", Watched)
    scan_answers: list[int] = []

    def scan() -> None:  # a scanner's event, sent while the import is mid-way
        person = world.household({"name": "Samir Haddad", "age_band": "60+", "sex": "male"})["people"][0]
        event = {
            "event_id": "beside-1",
            "device_id": "scanner-1",
            "seq": 1,
            "device_time": "2016-12-15T08:00:00Z",
            "type": "boarded",
            "payload": {"person_id": person["id"], "point": "start"},
        }
        scan_answers.append(
            world.client.post(world.url("/events"), json=event, headers=world.device).status_code
        )

    db.act = scan
    rows = "".join(f"H{n // 5},Person {n % 40} Haddad,30,{'fm'[n % 2]}\n" for n in range(1_200))
    prepared = imports.prepare(
        "big.csv", ("hh_id,name,age,sex\n" + rows).encode(), accept_valid_rows=False, max_rows=10_000
    )
    sealer = Sealer.from_file(world.settings.key_file)
    report = imports.store(db, sealer=sealer, operation_id=world.operation_id, prepared=prepared)
    db.dispose()
    assert report.people == 1_200 and report.possible_duplicates > 0
    assert matched_while_writing and not any(matched_while_writing)
    assert scan_answers == [201]
    with world.client.app.state.runtime.db.reading() as session:  # type: ignore[attr-defined]
        kinds = [
            (row.type, row.event_id)
            for row in session.execute(
                select(LedgerRow.type, LedgerRow.event_id)
                .where(LedgerRow.operation_id == world.operation_id)
                .order_by(LedgerRow.position)
            )
        ]
    registered = [n for n, (kind, _) in enumerate(kinds) if kind == EventType.REGISTERED.value]
    [scanned] = [n for n, (_, event_id) in enumerate(kinds) if event_id == "beside-1"]
    # The scan (and Samir's registration) came after the import's first chunk, before its last.
    before = sum(1 for n in registered if n < scanned)
    assert 1 < before < 1_200


def alike_csv(households: int, seed: int) -> bytes:
    """A form's export of :func:`alike_households` (many possible duplicates)."""
    lines = ["hh_id,name,age_band,sex"]
    for number, members in enumerate(alike_households(households, seed)):
        lines += [f"H{number},{p.name},{p.age_band},{p.sex}" for p in members]
    return ("\n".join(lines) + "\n").encode()


def test_an_import_is_matched_in_a_worker_process_below_the_service(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the API, an import's file is read and its matching runs in the import worker
    process (IMPORT_NICE below this one), not here: with this process's reader and matcher
    broken, the import still answers, and flags as many possible duplicates as the same file
    matched here in another operation."""
    data = alike_csv(120, seed=3)

    def broken(*_: object, **__: object) -> Any:
        raise AssertionError("done in the service process")

    with monkeypatch.context() as patched:
        patched.setattr(duplicates.ImportMatcher, "household", broken)
        patched.setattr(imports, "read_rows", broken)
        answer = world.client.post(
            world.url("/imports/registrations"),
            files={"file": ("alike.csv", data)},
            headers=world.coordinator,
        )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    pid, nice = import_worker.worker_pool().submit(import_worker.facts).result()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert pid != os.getpid() and nice == min(19, own + import_worker.IMPORT_NICE)
    db = Database(world.settings.database_url)
    here = imports.store(
        db,
        sealer=Sealer.from_file(world.settings.key_file),
        operation_id=new_operation(db),
        prepared=imports.prepare("alike.csv", data, accept_valid_rows=False, max_rows=10_000),
    )
    db.dispose()
    assert report["people"] == here.people > 200
    assert report["possible_duplicates"] == here.possible_duplicates > 50
    with world.client.app.state.runtime.db.reading() as session:  # type: ignore[attr-defined]
        registered = session.scalar(
            select(func.count())
            .select_from(LedgerRow)
            .where(LedgerRow.operation_id == world.operation_id, LedgerRow.type == EventType.REGISTERED.value)
        )
    assert registered == here.people  # each person stored once, with one event


def test_a_file_refused_in_the_import_worker_is_answered_as_before(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error raised while the worker process reads the file comes back as it was raised: 422
    with every rejected row named, 413 past a bound, 409 for a wristband given twice; nothing
    stored."""

    def broken(*_: object, **__: object) -> Any:
        raise AssertionError("read in the service process")

    monkeypatch.setattr(imports, "read_rows", broken)
    bad_rows = b"hh_id,name,age,sex\nH1,Amal Haddad,30,f\nH1,,30,f\nH2,Omar Haddad,999,m\n"
    twice = b"hh_id,name,age,sex,wristband\nH1,Amal Haddad,30,f,W1\nH2,Omar Haddad,40,m,W1\n"
    wide = ("," * 600 + "\n").encode()
    answers = {
        name: world.client.post(
            world.url("/imports/registrations"), files={"file": (name, data)}, headers=world.coordinator
        )
        for name, data in (("bad.csv", bad_rows), ("twice.csv", twice), ("wide.csv", wide))
    }
    bad = answers["bad.csv"].json()["error"]
    assert answers["bad.csv"].status_code == 422 and "nothing was imported" in bad["message"]
    assert {d["where"].split(":")[0] for d in bad["details"]} == {"row 3", "row 4"}
    assert answers["twice.csv"].status_code == 409
    assert "wristband W1 is given twice" in answers["twice.csv"].json()["error"]["message"]
    assert answers["wide.csv"].status_code == 413
    assert answers["wide.csv"].json()["error"]["where"] == "file wide.csv, row 1"
    people = world.client.get(world.url("/people"), headers=world.coordinator).json()["people"]
    assert people == []


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie left to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_the_import_worker_ends_when_the_service_is_killed() -> None:
    """A service killed with SIGKILL leaves no import worker behind (one more at every restart):
    the worker sees its service gone and ends."""
    code = (
        "import sys, time; from corridor.server.registration import import_worker as w; "
        "print(w.worker_pool().submit(w.facts).result()[0], flush=True); time.sleep(600)"
    )
    service = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert service.stdout is not None
        worker = int(service.stdout.readline())
        assert worker != service.pid and _running(worker)
    finally:
        service.kill()
        service.wait()
    for _ in range(600):
        if not _running(worker):
            break
        time.sleep(0.1)
    assert not _running(worker)


def test_the_import_worker_refuses_a_key_file_without_the_services_key(world: World, tmp_path: Path) -> None:
    """Names sealed under another key could never be read: the worker process checks that its key
    file holds the service's key (and never makes a missing one), and nothing is stored."""
    data = alike_csv(10, seed=4)
    db = Database(world.settings.database_url)
    sealer = Sealer.from_file(world.settings.key_file)
    Sealer.from_file(tmp_path / "other.key")  # a key file with another key
    for key_file, message in (
        (tmp_path / "other.key", "does not hold the service's key"),
        (tmp_path / "missing.key", "does not exist"),
    ):
        with pytest.raises(import_worker.WorkerFailedError, match=message):
            imports.store(
                db,
                sealer=sealer,
                operation_id=world.operation_id,
                prepared=imports.prepare("alike.csv", data, accept_valid_rows=False, max_rows=100),
                key_file=key_file,
            )
    assert not (tmp_path / "missing.key").exists()
    with db.reading() as session:
        assert not session.scalars(select(LedgerRow.event_id).where(LedgerRow.type == "registered")).all()
    db.dispose()


def test_an_import_whose_worker_dies_says_what_it_stored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import worker killed (SIGKILL) mid-import: the import stops with a 409 that says how
    many households it stored before (they stay) and from which row to import the rest, never a
    500 saying nothing was stored; the next import gets a new worker process."""
    data = alike_csv(200, seed=5)
    db = Database(world.settings.database_url)
    operation_id = new_operation(db)
    prepared = imports.prepare("alike.csv", data, accept_valid_rows=False, max_rows=10_000)
    calls = 0
    matching = import_worker.WorkerMatching.__call__

    def killed_on_the_third(self: import_worker.WorkerMatching, first: int, most_people: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            pid, _ = import_worker.worker_pool().submit(import_worker.facts).result()
            os.kill(pid, signal.SIGKILL)
        return matching(self, first, most_people)

    monkeypatch.setattr(import_worker.WorkerMatching, "__call__", killed_on_the_third)
    with pytest.raises(ConflictError) as raised:
        imports.store(
            db,
            sealer=Sealer.from_file(world.settings.key_file),
            operation_id=operation_id,
            prepared=prepared,
            chunk_people=20,
            key_file=world.settings.key_file,
        )
    error = raised.value
    assert "worker process failed" in error.message and error.where == "file"
    found = re.search(
        r"the (\d+) households stored before it stay registered; .* from row (\d+)", error.hint or ""
    )
    assert found is not None, error.hint
    stored_households, row = int(found.group(1)), int(found.group(2))
    with db.reading() as session:
        people = session.scalar(
            select(func.count()).select_from(Person).where(Person.operation_id == operation_id)
        )
    first_rows = [rows for _, rows, _ in prepared.households]
    assert stored_households > 0 and people == sum(
        len(body.people) for _, _, body in prepared.households[:stored_households]
    )
    assert row == min(first_rows[stored_households])  # the first row of the first household not stored
    monkeypatch.undo()
    again = imports.store(
        db,
        sealer=Sealer.from_file(world.settings.key_file),
        operation_id=operation_id,
        prepared=imports.prepare("alike.csv", alike_csv(5, seed=6), accept_valid_rows=False, max_rows=100),
        key_file=world.settings.key_file,
    )
    assert again.households == 5  # a new worker process
    db.dispose()


def _note_password_threads(runtime: Any) -> list[str]:
    """Give ``runtime`` passwords that note the name of each thread a password is checked on."""
    threads: list[str] = []

    class Noting(CountingPasswords):
        def verify(self, stored_hash: str, password: str) -> bool:
            threads.append(threading.current_thread().name)
            return super().verify(stored_hash, password)

    runtime.passwords = Noting()
    return threads


def test_a_log_in_checks_its_password_on_the_passwords_own_threads(world: World) -> None:
    """Not on the server's shared worker threads (whose every one a flood of log-ins would
    otherwise hold, waiting for the password check): on at most ``concurrent`` threads of its own."""
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    threads = _note_password_threads(runtime)
    assert attempt(world, "monitor-user", PASSWORD).status_code == 200
    assert attempt(world, "no-such-user").status_code == 401
    assert len(threads) == 2 and all(name.startswith("corridor-passwords") for name in threads)
    assert runtime.passwords.concurrent == 1


def test_the_passwords_own_threads_run_below_the_server(world: World) -> None:
    """On Linux a nice value is a thread's: the threads that hash passwords are lowered by
    ``PASSWORD_NICE`` (so that argon2 yields the cores to the scans), the server's are not."""
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    _note_password_threads(runtime)
    assert attempt(world, "no-such-user").status_code == 401
    assert attempt(world, "monitor-user", PASSWORD).status_code == 200
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    ids = runtime.passwords.thread_ids
    assert len(ids) == runtime.passwords.concurrent == 1
    assert [os.getpriority(os.PRIO_PROCESS, tid) for tid in ids] == [min(19, own + PASSWORD_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own  # the caller's unchanged


def test_a_password_is_hashed_on_the_passwords_own_threads_too() -> None:
    """A user made or a password changed hashes the password on the passwords' lowered threads, not
    on the caller's (a request thread at the scans' priority); the dummy hash a log-in of an unknown
    name is checked against is made there too, without waiting on itself."""
    passwords = Passwords(time_cost=1, memory_kib=64)
    hashed_on: list[int] = []

    class Noting(PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            hashed_on.append(threading.get_native_id())
            return super().hash(password, salt=salt)

    passwords._hasher = Noting(time_cost=1, memory_cost=64)
    made = passwords.hash("a long enough password")
    assert passwords.verify(made, "a long enough password")
    assert not asyncio.run(passwords.check(None, "anything"))  # makes the dummy hash on its thread
    assert len(hashed_on) == 2 and set(hashed_on) <= set(passwords.thread_ids)
    assert threading.get_native_id() not in hashed_on


def test_a_thread_is_lowered_at_most_to_19() -> None:
    """Lowering a thread already near the bottom stops at 19 (the lowest), with no error."""
    found: list[int] = []

    def lowered_twice() -> None:
        lower_this_thread(PASSWORD_NICE)
        lower_this_thread(PASSWORD_NICE)
        found.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=lowered_twice)
    thread.start()
    thread.join()
    assert found == [19]


def test_the_log_in_page_checks_its_password_on_the_passwords_own_threads_too(world: World) -> None:
    """The browser's log-in form takes the API's way: a flood of it waits on the passwords' own
    threads, not on the shared worker threads that answer scans."""
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    threads = _note_password_threads(runtime)
    right = world.client.post(
        "/login", data={"username": "monitor-user", "password": PASSWORD}, follow_redirects=False
    )
    assert right.status_code == 303 and "corridor_session" in right.cookies
    wrong = world.client.post("/login", data={"username": "no-such-user", "password": "wrong password!"})
    assert wrong.status_code == 401
    assert len(threads) == 2 and all(name.startswith("corridor-passwords") for name in threads)


def test_log_ins_waiting_for_their_turn_hold_no_worker_thread(world: World) -> None:
    """With one password check held at its gate and the waiting places full, further log-ins
    are answered 429 at once and a request needing a worker thread is answered meanwhile."""
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    passwords = CountingPasswords()
    passwords.gate = threading.Event()
    runtime.passwords = passwords
    waiting = runtime.passwords._most_waiting
    answers: list[int] = []

    def few_threads() -> None:  # fewer worker threads than log-ins waiting
        to_thread.current_default_thread_limiter().total_tokens = 3

    world.client.portal.call(few_threads)  # type: ignore[union-attr]

    def log_in(name: str) -> None:
        answers.append(attempt(world, name).status_code)

    senders = [threading.Thread(target=log_in, args=(f"nobody-{n}",)) for n in range(1 + waiting)]
    for sender in senders:
        sender.start()
    assert passwords.inside.wait(timeout=30)
    for _ in range(3000):  # until every log-in is checking or waiting its turn
        if passwords._admitted == 1 + waiting:
            break
        time.sleep(0.01)
    assert passwords._admitted == 1 + waiting
    counts = world.client.get(world.url("/counts"), headers=world.as_role("observer"))
    assert counts.status_code == 200
    assert answers == []  # answered while every log-in still waited
    refused = attempt(world, "no-such-user-either")
    assert refused.status_code == 429 and refused.json()["error"]["where"] == "password"
    passwords.gate.set()
    for sender in senders:
        sender.join(timeout=60)
    assert sorted(answers) == [401] * (1 + waiting)
