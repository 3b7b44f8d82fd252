"""Password checks on one thread: the same answers as argon2-cffi's own verify, for hashes of any
lanes, versions of the parameters and wrong or malformed input; and no thread of the C library's."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from hypothesis import given, settings
from hypothesis import strategies as st

from corridor.server.argon2_one_thread import verify_on_one_thread
from corridor.server.auth import Passwords


def _threads() -> int:
    return sum(1 for _ in Path("/proc/self/task").iterdir())


def _reference(encoded: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(encoded, password)
    except VerificationError:
        return False


@settings(max_examples=25, deadline=None)
@given(
    password=st.text(max_size=30),
    guess=st.text(max_size=30),
    lanes=st.integers(1, 4),
    passes=st.integers(1, 3),
    memory=st.sampled_from([64, 256, 1024]),
    hash_len=st.sampled_from([16, 32]),
)
def test_the_answer_is_argon2s_own(
    password: str, guess: str, lanes: int, passes: int, memory: int, hash_len: int
) -> None:
    hasher = PasswordHasher(
        time_cost=passes, memory_cost=max(memory, 8 * lanes), parallelism=lanes, hash_len=hash_len
    )
    encoded = hasher.hash(password)
    assert verify_on_one_thread(encoded, password) is True is _reference(encoded, password)
    assert verify_on_one_thread(encoded, guess) is _reference(encoded, guess) is (guess == password)


def test_a_changed_hash_or_salt_is_refused() -> None:
    encoded = PasswordHasher(time_cost=1, memory_cost=64, parallelism=2).hash("pass")
    head, salt, digest = encoded.rsplit("$", 2)
    flipped = digest[:-2] + ("A" if digest[-2] != "A" else "B") + digest[-1]
    assert verify_on_one_thread(f"{head}${salt}${flipped}", "pass") is False
    other_salt = ("A" if salt[0] != "A" else "B") + salt[1:]
    assert verify_on_one_thread(f"{head}${other_salt}${digest}", "pass") is False


MALFORMED = [
    "",
    "not a hash",
    "$argon2id$v=19$m=64,t=1,p=1$",
    "$argon2id$v=19$m=64,t=1,p=1$!!!!$!!!!",
    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
]


@pytest.mark.parametrize("encoded", MALFORMED)
def test_a_malformed_hash_raises_as_argon2_does(encoded: str) -> None:
    with pytest.raises(InvalidHashError):
        verify_on_one_thread(encoded, "pass")
    assert Passwords(time_cost=1, memory_kib=64).verify(encoded, "pass") is False  # a log-in refused


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts the process' threads in /proc")
def test_a_check_of_a_four_lane_hash_starts_no_thread() -> None:
    """While a check of a four-lane hash runs, the process never has more threads than before it
    (argon2-cffi's verify starts the C library's threads, one a lane: the same loop sees them)."""
    encoded = PasswordHasher(time_cost=3, memory_cost=16384, parallelism=4).hash("pass")

    def most_threads_while(check: object) -> int:
        done = threading.Event()
        most = 0

        def run() -> None:
            for _ in range(5):
                check(encoded, "wrong")  # type: ignore[operator]
            done.set()

        worker = threading.Thread(target=run)
        before = _threads()  # this thread and the rest, the worker not yet
        worker.start()
        while not done.is_set():
            most = max(most, _threads())
        worker.join()
        return most - before  # the worker itself is one

    assert most_threads_while(verify_on_one_thread) == 1
    assert most_threads_while(_reference) > 1  # the same loop sees the library's threads
