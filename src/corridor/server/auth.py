"""Who may do what: roles per operation, the permission matrix, passwords and tokens.

Users log in with a password (hashed with argon2, never inside a write transaction: see
``corridor.server.access.login``) and get a bearer token; scanners get a device
token when a coordinator registers them. Only SHA-256 digests of tokens are stored. A role is held
in one operation, or in every operation (a membership without an operation).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.exceptions import HTTPException

from corridor.server.argon2_one_thread import verify_on_one_thread
from corridor.server.errors import AccessDeniedError, AuthRequiredError


class Role(StrEnum):
    COORDINATOR = "coordinator"
    PLANNER = "planner"
    REGISTRAR = "registrar"
    MARSHAL = "checkpoint_marshal"
    MONITOR = "monitor"
    OBSERVER = "observer"


ALL_ROLES = frozenset(Role)
C, P, R, M, MO, OB = (
    Role.COORDINATOR,
    Role.PLANNER,
    Role.REGISTRAR,
    Role.MARSHAL,
    Role.MONITOR,
    Role.OBSERVER,
)


@dataclass(frozen=True)
class Permission:
    """Roles allowed an action; whether scanners may do it; whether it touches personal data
    (every decision on those is logged); and whether a global membership is needed."""

    roles: frozenset[Role]
    devices: bool = False
    personal: bool = False
    needs_global: bool = False


def _p(*roles: Role, devices: bool = False, personal: bool = False, glob: bool = False) -> Permission:
    return Permission(frozenset(roles), devices, personal, glob)


# The permission matrix. Observers see counts only.
PERMISSIONS: Mapping[str, Permission] = {
    "users.create": _p(C, glob=True),
    "operations.create": _p(C, glob=True),
    "operations.list": _p(*ALL_ROLES),
    "operation.read": _p(*ALL_ROLES),
    "operation.update": _p(C, P),
    "members.write": _p(C),
    "devices.write": _p(C),
    "households.write": _p(C, R, personal=True),
    "people.read": _p(C, R, M, MO, personal=True),
    "imports.write": _p(C, R, personal=True),
    "vehicles.write": _p(C, P),
    "vehicles.read": _p(C, P, R, M, MO),
    "manifests.write": _p(C, P),
    "manifest.read": _p(C, R, M, personal=True),
    "events.write": _p(C, M, devices=True),
    "reconciliation.read": _p(C, P, M, MO),
    "counts.read": _p(*ALL_ROLES),
    "incidents.write": _p(C, M, MO),
    "incidents.read": _p(C, MO, personal=True),
    "evidence.write": _p(C, M, MO),
    "evidence.read": _p(C, MO, personal=True),
    "exports.people": _p(C, R, P, MO, personal=True),
    "exports.events": _p(C, MO),
    "exports.incidents": _p(C, MO, personal=True),
    "ledger.verify": _p(C, MO),
    "ledger.anchor": _p(C),
    "access_log.read": _p(C, glob=True),
    "purge": _p(C),
}
# Roles that may see names in exports; the others get pseudonymised rows.
NAME_ROLES = frozenset({Role.COORDINATOR, Role.REGISTRAR})


@dataclass(frozen=True)
class Actor:
    """The caller: a user with roles per operation (``None`` = every operation), or a device."""

    kind: str  # "user" or "device"
    name: str
    user_id: str | None = None
    roles: Mapping[str | None, frozenset[Role]] = field(default_factory=dict)
    device_operation: str | None = None
    device_point: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def roles_in(self, operation_id: str | None) -> frozenset[Role]:
        if operation_id is None:
            return frozenset().union(*self.roles.values()) if self.roles else frozenset()
        return self.roles.get(None, frozenset()) | self.roles.get(operation_id, frozenset())

    def operations(self) -> set[str] | None:
        """Operations this user is a member of; None when a global role covers all of them."""
        if None in self.roles:
            return None
        return {op for op in self.roles if op is not None}


def allowed(actor: Actor, action: str, operation_id: str | None) -> bool:
    rule = PERMISSIONS[action]
    if actor.kind == "device":
        return rule.devices and operation_id == actor.device_operation
    if rule.needs_global:
        return bool(rule.roles & actor.roles.get(None, frozenset()))
    return bool(rule.roles & actor.roles_in(operation_id))


def authorize(actor: Actor | None, action: str, operation_id: str | None) -> Actor:
    """The actor, if it may do ``action`` in ``operation_id``; else 401 or 403."""
    if actor is None:
        raise AuthRequiredError(
            "this request needs credentials",
            hint="log in at POST /api/auth/token and send 'Authorization: Bearer <token>'",
        )
    if not allowed(actor, action, operation_id):
        roles = ", ".join(sorted(PERMISSIONS[action].roles))
        scope = "every operation" if PERMISSIONS[action].needs_global else "this operation"
        raise AccessDeniedError(
            f"{actor.label} may not do {action}",
            where=f"operation {operation_id}" if operation_id else None,
            hint=f"it needs one of these roles in {scope}: {roles}",
        )
    return actor


class TooManyRequestsError(HTTPException):
    """429 in the one error shape (``where`` and ``hint`` are read from it), with Retry-After."""

    def __init__(self, message: str, *, where: str, hint: str, retry_after: int) -> None:
        super().__init__(status_code=429, detail=message, headers={"Retry-After": str(retry_after)})
        self.where = where
        self.hint = hint


# How much lower the passwords' threads' CPU priority is than the thread that starts them (nice).
# On Linux a nice value belongs to a thread: argon2 releases the interpreter's lock while it
# hashes, so a hash on a lowered thread gives a core up to the event loop answering scans.
PASSWORD_NICE = 10
# After a log-in's check, the passwords' thread rests PASSWORD_REST times as long as the check took
# before it starts the next: under a flood of log-ins from many addresses with new names (each one
# reaching argon2) hashing takes at most half of one core, and its memory traffic half the time. A
# log-in alone never waits for a rest; in a flood the log-ins wait their turn, or get 429.
PASSWORD_REST = 1.0


def lower_this_thread(nice: int) -> None:
    """Make the calling thread's nice value ``nice`` more than it is (at most 19); nothing where
    a thread has no nice value of its own or it may not be changed."""
    if not sys.platform.startswith("linux"):  # elsewhere the id would name a process, not a thread
        return
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


class Passwords:
    """argon2id password hashing, a few hashes at a time.

    Each hash takes ``memory_kib`` of memory and tens of milliseconds of a core, by design; so at
    most ``concurrent`` run at once (one: a flood of log-ins leaves the other cores to the scans)
    and at most ``waiting`` more wait for their turn (up to ``wait_seconds``). Past that the
    answer is 429 at once: a flood of log-ins neither takes all the memory and cores nor holds
    every worker thread while scans wait for one.

    A log-in checks its password with :meth:`check`, on these passwords' own ``concurrent``
    threads (``corridor-passwords``), not on the server's shared pool of worker threads: a log-in
    waiting for its turn holds no thread at all, only its place among the ``waiting``. argon2
    releases the interpreter's lock while it hashes, so the scans' event loop and writer go on;
    the passwords' threads run ``PASSWORD_NICE`` below the server's (Linux), so that the hashing
    yields the cores to the scans rather than sharing them."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_kib: int = 65536,
        concurrent: int = 1,
        waiting: int = 8,
        wait_seconds: float = 5.0,
        rest: float = PASSWORD_REST,
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self.rest = rest
        self._rest_until = float("-inf")  # when the passwords' thread may check the next log-in
        self._sleep: Callable[[float], None] = time.sleep
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrent)
        self._most_waiting = waiting
        self._waiting = 0
        self._count_lock = threading.Lock()
        self.wait_seconds = wait_seconds
        self.concurrent = concurrent
        self._pool: ThreadPoolExecutor | None = None
        self._admitted = 0  # checks handed to the pool and not answered yet
        self.thread_ids: list[int] = []  # the passwords' threads' native ids, as they start

    def _threads(self) -> ThreadPoolExecutor:
        with self._count_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.concurrent,
                    thread_name_prefix="corridor-passwords",
                    initializer=self._lowered,
                )
            return self._pool

    def _lowered(self) -> None:
        lower_this_thread(PASSWORD_NICE)
        with self._count_lock:
            self.thread_ids.append(threading.get_native_id())

    async def check(self, stored_hash: str | None, password: str) -> bool:
        """:meth:`verify` (against :meth:`dummy_hash` for ``None``) on the passwords' own threads,
        awaited without holding a thread; 429 at once past ``concurrent + waiting`` checks, and
        when one waited ``wait_seconds`` for its turn."""
        with self._count_lock:
            if self._admitted >= self.concurrent + self._most_waiting:
                raise _busy()
            self._admitted += 1
        try:
            queued = time.monotonic()
            work = self._threads().submit(self._check_now, stored_hash, password, queued)
            return await asyncio.wrap_future(work)
        finally:
            with self._count_lock:
                self._admitted -= 1

    def _check_now(self, stored_hash: str | None, password: str, queued: float) -> bool:
        pause = self._rest_until - time.monotonic()
        if pause > 0:
            self._sleep(pause)
        if time.monotonic() - queued > self.wait_seconds:
            raise _busy()
        began = time.monotonic()
        try:
            return self.verify(stored_hash if stored_hash is not None else self.dummy_hash(), password)
        finally:
            ended = time.monotonic()
            self._rest_until = ended + self.rest * (ended - began)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            with self._count_lock:
                if self._waiting >= self._most_waiting:
                    raise _busy()
                self._waiting += 1
            try:
                got = self._slots.acquire(timeout=self.wait_seconds)
            finally:
                with self._count_lock:
                    self._waiting -= 1
            if not got:
                raise _busy()
        try:
            yield
        finally:
            self._slots.release()

    def dummy_hash(self) -> str:
        """A hash of a random password, made once with the same parameters: checking a log-in of
        an unknown name against it takes as long as checking a wrong password."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hash(secrets.token_urlsafe(24))
            return self._dummy

    def hash(self, password: str) -> str:
        """The password's hash, made on the passwords' own (lowered) threads like every check: a
        user made or a password changed does not hash at the scans' priority."""
        if threading.get_native_id() in self.thread_ids:  # already on one (the dummy hash)
            return self._hash_now(password)
        return self._threads().submit(self._hash_now, password).result()

    def _hash_now(self, password: str) -> str:
        with self._turn():
            return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``, computed on this thread alone
        (:mod:`corridor.server.argon2_one_thread`: one core, however many lanes the hash has)."""
        with self._turn():
            try:
                return verify_on_one_thread(stored_hash, password)
            except (VerificationError, InvalidHashError):
                return False


def _busy() -> TooManyRequestsError:
    return TooManyRequestsError(
        "too many passwords are being checked at once; try again in a second",
        where="password",
        hint="retry after the time in Retry-After",
        retry_after=1,
    )


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
