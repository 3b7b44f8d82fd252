"""How often the public tracing form may be asked: per code and per address, over sliding windows.

Every query counts, answered or not, so that guessing codes is slow from one address and one
code cannot be watched minute by minute. Past a limit the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# Queries allowed: per code, per hour; per address, per ten minutes (an address may be a whole
# camp behind one router, so it is allowed more).
CODE_QUERIES = 6
CODE_WINDOW = 3600.0
ADDRESS_QUERIES = 30
ADDRESS_WINDOW = 600.0


@dataclass
class _Windowed:
    limit: int
    seconds: float
    times: dict[str, deque[float]] = field(default_factory=dict)

    def wait(self, key: str, now: float) -> int:
        """Seconds until ``key`` may ask again (0: now)."""
        times = self.times.get(key)
        if times is None:
            if len(self.times) > 50_000:
                for stale in [k for k, t in self.times.items() if not t or t[-1] <= now - self.seconds]:
                    del self.times[stale]
            return 0
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if len(times) < self.limit:
            return 0
        return max(1, math.ceil(times[0] + self.seconds - now))

    def count(self, key: str, now: float) -> None:
        self.times.setdefault(key, deque()).append(now)


class TracingLimits:
    """The limits of one app (kept on ``app.state``); ``clock`` for tests that need their own."""

    def __init__(
        self,
        *,
        code_queries: int = CODE_QUERIES,
        code_window: float = CODE_WINDOW,
        address_queries: int = ADDRESS_QUERIES,
        address_window: float = ADDRESS_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._codes = _Windowed(code_queries, code_window)
        self._addresses = _Windowed(address_queries, address_window)
        self._clock = clock
        self._lock = threading.Lock()

    def take(self, code_digest: str, address: str) -> int:
        """Count a query; 0 when it may be answered, else the seconds to wait (not counted)."""
        now = self._clock()
        with self._lock:
            wait = max(self._codes.wait(code_digest, now), self._addresses.wait(address, now))
            if wait:
                return wait
            self._codes.count(code_digest, now)
            self._addresses.count(address, now)
            return 0
