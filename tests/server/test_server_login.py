"""Logging in: limited per user name and per address, the same work for unknown names, and no
password hashing inside the write transaction."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from corridor.server.access.login import LoginLimiter, TooManyAttemptsError
from corridor.server.auth import Passwords, TooManyRequestsError
from server.conftest import PASSWORD, World


def attempt(world: World, username: str, password: str = "wrong password!") -> Any:
    return world.client.post("/api/auth/token", data={"username": username, "password": password})


def test_five_failures_for_a_name_then_429_with_retry_after(world: World) -> None:
    for _ in range(5):
        assert attempt(world, "registrar-user").status_code == 401
    refused = attempt(world, "registrar-user", PASSWORD)  # even the right password, for now
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = refused.json()["error"]
    assert error["status"] == 429 and error["code"] == "too_many_requests"
    assert error["where"] == "user name" and error["hint"]
    # Another name from the same address still logs in.
    assert attempt(world, "observer-user", PASSWORD).status_code == 200


def test_failures_from_one_address_are_limited_across_names(world: World) -> None:
    answers = [attempt(world, f"nobody-{n}").status_code for n in range(25)]
    assert answers[:20] == [401] * 20
    assert set(answers[20:]) == {429}
    assert attempt(world, "observer-user", PASSWORD).json()["error"]["where"] == "address"


def test_successful_log_ins_do_not_count() -> None:
    now = [0.0]
    limiter = LoginLimiter(name_failures=2, address_failures=100, window_seconds=60, clock=lambda: now[0])
    for _ in range(10):
        limiter.succeeded("amal", "10.0.0.1", limiter.begin("amal", "10.0.0.1"))
    limiter.begin("amal", "10.0.0.1")
    limiter.begin("amal", "10.0.0.1")
    with pytest.raises(TooManyAttemptsError) as refused:
        limiter.begin("amal", "10.0.0.1")
    assert refused.value.headers == {"Retry-After": "60"}
    now[0] = 45.0
    with pytest.raises(TooManyAttemptsError) as refused:
        limiter.begin("amal", "10.0.0.1")
    assert refused.value.headers == {"Retry-After": "15"}
    now[0] = 60.5  # the window has passed
    limiter.begin("amal", "10.0.0.1")


def test_one_address_guessing_a_name_does_not_lock_its_owner_out_elsewhere() -> None:
    limiter = LoginLimiter(name_failures=5, address_failures=20, name_total_failures=12)
    for _ in range(5):
        limiter.begin("amal", "10.0.0.66")  # guesses, never succeeding
    with pytest.raises(TooManyAttemptsError) as refused:
        limiter.begin("amal", "10.0.0.66")
    assert refused.value.where == "user name"
    limiter.succeeded("amal", "10.0.0.7", limiter.begin("amal", "10.0.0.7"))  # her own phone
    # Spread over many addresses, the guesses slow the name everywhere.
    for n in range(7):
        limiter.begin("amal", f"10.0.1.{n}")
    with pytest.raises(TooManyAttemptsError) as refused:
        limiter.begin("amal", "10.0.0.7")
    assert refused.value.where == "user name"


def test_attempts_sent_at_once_are_limited_too() -> None:
    """An attempt counts from its start, so 16 at once do not all reach the password check."""
    limiter = LoginLimiter(name_failures=5, address_failures=100)
    admitted = 0
    for _ in range(16):
        try:
            limiter.begin("amal", "10.0.0.1")
            admitted += 1
        except TooManyAttemptsError:
            pass
    assert admitted == 5


class CountingPasswords(Passwords):
    """Passwords that count the hashes checked, and may wait on ``gate`` inside a check."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_kib=64)
        self.checked: list[str] = []
        self.gate: threading.Event | None = None
        self.inside = threading.Event()

    def verify(self, stored_hash: str, password: str) -> bool:
        self.checked.append(stored_hash)
        if self.gate is not None:
            self.inside.set()
            self.gate.wait(timeout=10)
        return super().verify(stored_hash, password)


def test_an_unknown_name_costs_one_password_check_as_a_known_one(world: World) -> None:
    passwords = CountingPasswords()
    world.client.app.state.runtime.passwords = passwords  # type: ignore[attr-defined]
    unknown = attempt(world, "no-such-user")
    known = attempt(world, "monitor-user")
    assert unknown.status_code == known.status_code == 401
    assert unknown.json() == known.json()
    assert len(passwords.checked) == 2
    dummy, real = passwords.checked
    assert dummy == passwords.dummy_hash() and dummy != real
    assert dummy.split("$")[:4] == real.split("$")[:4]  # argon2id, same version and parameters


def test_the_password_is_checked_with_no_write_transaction_open(world: World) -> None:
    """While a log-in's password check runs, another request writes (on SQLite the write lock
    would keep it out until the check ended)."""
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    passwords = CountingPasswords()
    passwords.gate = threading.Event()
    runtime.passwords = passwords
    order: list[str] = []

    def log_in() -> None:
        answer = attempt(world, "monitor-user", PASSWORD)
        order.append(f"log-in {answer.status_code}")

    thread = threading.Thread(target=log_in)
    thread.start()
    assert passwords.inside.wait(timeout=10)
    with runtime.db.writing() as session:  # not kept waiting by the log-in
        session.connection()
        order.append("write")
    passwords.gate.set()
    thread.join(timeout=30)
    assert order == ["write", "log-in 200"]


def test_a_few_passwords_are_checked_at_once_and_the_rest_answered_429() -> None:
    passwords = Passwords(time_cost=1, memory_kib=64, concurrent=1, waiting=1, wait_seconds=0.05)
    stored = passwords.hash(PASSWORD)
    with passwords._turn():  # one check running
        with pytest.raises(TooManyRequestsError) as busy:
            passwords.verify(stored, PASSWORD)  # waits its turn, in vain
        assert busy.value.status_code == 429 and busy.value.headers == {"Retry-After": "1"}
    assert passwords.verify(stored, PASSWORD)


def test_a_busy_answer_does_not_count_against_the_name(world: World) -> None:
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    runtime.passwords = Passwords(time_cost=1, memory_kib=64, concurrent=1, waiting=0)
    with runtime.passwords._turn():
        for _ in range(6):
            busy = attempt(world, "monitor-user", PASSWORD)
            assert busy.status_code == 429 and busy.json()["error"]["where"] == "password"
    assert attempt(world, "monitor-user", PASSWORD).status_code == 200


def test_the_passwords_thread_rests_between_checks_as_long_as_the_last_took() -> None:
    passwords = Passwords(time_cost=1, memory_kib=64, rest=1e6)  # the rests are noted, not taken
    stored = passwords.hash(PASSWORD)
    rests: list[float] = []
    passwords._sleep = rests.append

    def check() -> bool:
        return asyncio.run(passwords.check(stored, PASSWORD))

    began = time.monotonic()
    assert check()  # alone: no rest before it
    took = time.monotonic() - began
    assert rests == []
    assert check() is True  # straight after: it rests first, at most rest times as long as the first took
    assert len(rests) == 1 and 0 < rests[0] <= passwords.rest * took
    passwords.rest = 0.0
    passwords._rest_until = float("-inf")
    assert check() and len(rests) == 1  # no rest asked, none taken
