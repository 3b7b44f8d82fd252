"""Logging in: passwords checked outside the write transaction, attempts limited per user name and
per client address, and the same work whether or not the name exists.

On SQLite one writer holds the database at a time; an argon2 hash (tens of milliseconds, by
design) inside the write transaction made every scan wait behind it. So the user is read in a
read transaction, the password checked with no transaction open, and only the new token is
written, in a short write transaction that checks the user was not changed meanwhile.

An unknown name is checked against a dummy hash made with the same parameters, so that its
answer takes as long as a wrong password's. Failed attempts (and attempts still running) are
counted over a sliding window per user name from one address, per address, and per user name
from every address (a higher limit); past a limit the answer is 429 with ``Retry-After`` at once,
before any hashing. So one address guessing a marshal's password locks out that address, not the
marshal logging in from their own phone; only a guess spread over many addresses slows the name
everywhere.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, delete, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from corridor.core.errors import InputError
from corridor.server.access.service import WrongPasswordError, new_api_token, set_password
from corridor.server.access.tables import ApiToken, User
from corridor.server.auth import Passwords, TooManyRequestsError
from corridor.server.columns import utc_now
from corridor.server.db import Database
from corridor.server.errors import AuthRequiredError

# Failed log-ins allowed per window: per user name from one address, per client address (an
# address may be a whole office behind one router, so it is allowed more), and per user name from
# every address together.
NAME_FAILURES = 5
ADDRESS_FAILURES = 20
NAME_TOTAL_FAILURES = 50
WINDOW_SECONDS = 60.0


class TooManyAttemptsError(TooManyRequestsError):
    """429: too many failed log-ins for this name or from this address; ``Retry-After`` says when
    to try again."""

    def __init__(self, *, where: str, retry_after: int) -> None:
        super().__init__(
            f"too many failed log-ins for this {where}; try again in {retry_after} s",
            where=where,
            hint=f"wait {retry_after} seconds; ask a coordinator if the password is lost",
            retry_after=retry_after,
        )


@dataclass
class _Window:
    limit: int
    times: dict[str, deque[float]]


class LoginLimiter:
    """Counts log-in attempts per user name from one address, per client address and per user
    name from every address, over a sliding window.

    An attempt counts from when it starts (so that many sent at once are limited too); one that
    succeeds stops counting. ``clock`` is ``time.monotonic`` unless a test gives its own."""

    def __init__(
        self,
        *,
        name_failures: int = NAME_FAILURES,
        address_failures: int = ADDRESS_FAILURES,
        name_total_failures: int = NAME_TOTAL_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window_seconds
        self.clock = clock
        self._pairs = _Window(name_failures, {})
        self._addresses = _Window(address_failures, {})
        self._names = _Window(name_total_failures, {})
        self._lock = threading.Lock()

    def begin(self, name: str, address: str) -> float:
        """Count an attempt, or raise :class:`TooManyAttemptsError`; returns its ticket."""
        now = self.clock()
        with self._lock:
            for window, key, where in self._keys(name, address):
                times = self._recent(window, key, now)
                if len(times) >= window.limit:
                    wait = max(1, math.ceil(times[0] + self.window - now))
                    raise TooManyAttemptsError(where=where, retry_after=wait)
            for window, key, _ in self._keys(name, address):
                window.times.setdefault(key, deque()).append(now)
            return now

    def _keys(self, name: str, address: str) -> tuple[tuple[_Window, str, str], ...]:
        return (
            (self._pairs, f"{address}\n{name}", "user name"),
            (self._addresses, address, "address"),
            (self._names, name, "user name"),
        )

    def succeeded(self, name: str, address: str, ticket: float) -> None:
        """A successful attempt no longer counts against the name or the address."""
        with self._lock:
            for window, key, _ in self._keys(name, address):
                times = window.times.get(key)
                if times is not None and ticket in times:
                    times.remove(ticket)

    def _recent(self, window: _Window, key: str, now: float) -> deque[float]:
        times = window.times.get(key)
        if times is None:
            if len(window.times) > 10_000:  # forget keys with nothing recent (names sprayed at random)
                for stale in [k for k, t in window.times.items() if not t or t[-1] <= now - self.window]:
                    del window.times[stale]
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


def address_of(request: Request) -> str:
    """The client's address as the server sees it (the proxy's, behind one)."""
    return request.client.host if request.client is not None else "unknown"


_WRONG = "wrong username or password"
_WRONG_HINT = "check both; ask a coordinator to reset it"


async def log_in_awaited(
    db: Database,
    *,
    passwords: Passwords,
    limiter: LoginLimiter,
    username: str,
    password: str,
    address: str,
    hours: float,
) -> tuple[str, datetime]:
    """:func:`log_in` for an async route: the limits on the event loop (a refused attempt costs
    no thread), the user read and the token written on the shared worker threads (a moment each),
    the password checked on the passwords' own threads (:meth:`Passwords.check`), awaited."""
    ticket = limiter.begin(username, address)
    found = await run_in_threadpool(_user, db, username)
    try:
        right = await passwords.check(found.password_hash if found is not None else None, password)
    except TooManyRequestsError:
        limiter.succeeded(username, address, ticket)  # not checked: not counted against the name
        raise
    if found is None or found.disabled or not right:
        raise AuthRequiredError(_WRONG, hint=_WRONG_HINT)
    token = await run_in_threadpool(_new_token, db, found, hours)
    limiter.succeeded(username, address, ticket)
    return token


def _user(db: Database, username: str) -> Row[str, str, bool] | None:
    with db.reading() as session:
        return session.execute(
            select(User.id, User.password_hash, User.disabled).where(User.username == username)
        ).first()


def _new_token(db: Database, found: Row[str, str, bool], hours: float) -> tuple[str, datetime]:
    with db.writing() as session:
        user = session.get(User, found.id)
        if user is None or user.disabled or user.password_hash != found.password_hash:
            raise AuthRequiredError(_WRONG, hint=_WRONG_HINT)  # changed while the password was checked
        session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at < utc_now()))
        return new_api_token(session, user_id=user.id, hours=hours)


def change_password(
    db: Database,
    *,
    passwords: Passwords,
    user_id: str,
    old_password: str,
    new_password: str,
    keep_token: str,
) -> None:
    """Set a new password after checking the old one (400 if wrong), both hashes worked out with
    no transaction open; the user's other tokens are deleted."""
    with db.reading() as session:
        query = select(User.password_hash).where(User.id == user_id, User.disabled.is_(False))
        checked = session.scalar(query)
    if checked is None:
        raise AuthRequiredError("this account is disabled or gone", hint="ask a coordinator")
    if not passwords.verify(checked, old_password):
        raise WrongPasswordError(
            "the current password is wrong", where="old_password", hint="give the password you log in with"
        )
    if new_password == old_password:
        raise InputError(
            "the new password is the current one", where="new_password", hint="choose another password"
        )
    new_hash = passwords.hash(new_password)
    with db.writing() as session:
        set_password(session, user_id=user_id, checked_hash=checked, new_hash=new_hash, keep_token=keep_token)
