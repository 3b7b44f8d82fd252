"""What the app holds while it runs: settings, database, encryption and password hashing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from corridor.server.access.login import LoginLimiter
from corridor.server.auth import Actor, Passwords
from corridor.server.checkpoints.service import EventRequest, record_group
from corridor.server.db import Database
from corridor.server.encryption import Sealer
from corridor.server.jobs.service import JobService
from corridor.server.ledger.anchor import Checkpointer, say_if_in_the_old_place
from corridor.server.ledger.counts import LedgerCounts
from corridor.server.ledger.writer import LedgerWriter
from corridor.server.operations.states import OperationStates
from corridor.server.problems import Problems
from corridor.server.settings import Settings


class DeviceCache:
    """Scanner tokens recently seen, so that a scan needs no token look-up. A revoked token stops
    working within ``seconds``."""

    def __init__(self, *, seconds: float) -> None:
        self.seconds = seconds
        self._actors: dict[str, tuple[Actor, float]] = {}

    def get(self, token: str) -> Actor | None:
        found = self._actors.get(token)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def put(self, token: str, actor: Actor) -> None:
        if len(self._actors) > 10_000:
            self._actors.clear()
        self._actors[token] = (actor, time.monotonic() + self.seconds)

    def forget(self, device_id: str) -> None:
        """Drop a revoked device's tokens, so that it stops working at once in this process."""
        for token, (actor, _) in list(self._actors.items()):
            if actor.name == device_id:
                self._actors.pop(token, None)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    sealer: Sealer
    passwords: Passwords
    writer: LedgerWriter[EventRequest] = field(init=False)
    devices: DeviceCache = field(init=False)
    operations: OperationStates = field(init=False)
    logins: LoginLimiter = field(init=False)
    counts: LedgerCounts = field(init=False)
    checkpointer: Checkpointer = field(init=False)
    jobs: JobService = field(init=False)
    problems: Problems = field(init=False)

    def __post_init__(self) -> None:
        self.writer = LedgerWriter(self.db, record_group)
        self.devices = DeviceCache(seconds=30.0)
        self.logins = LoginLimiter()
        self.operations = OperationStates(self.db, seconds=2.0)
        self.counts = LedgerCounts(self.db, self.sealer)
        self.counts.start()
        say_if_in_the_old_place(self.settings)
        self.checkpointer = Checkpointer(
            self.db, self.settings.signing_key_path, minutes=self.settings.checkpoint_minutes
        )
        self.checkpointer.start()
        self.jobs = JobService(self.db, self.settings)
        self.problems = Problems()

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database(
                settings.database_url,
                sqlite_synchronous=settings.sqlite_synchronous,
                background_checkpoints=True,
            ),
            sealer=Sealer.from_file(settings.key_file),
            passwords=Passwords(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib),
        )

    def stop(self) -> None:
        self.jobs.stop()
        self.checkpointer.stop()
        self.counts.stop()
        self.writer.stop()
        self.db.dispose()
