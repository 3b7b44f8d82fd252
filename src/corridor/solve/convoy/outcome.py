"""What a convoy method may return besides its plan and status (see ``solve_convoy``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from corridor.solve.convoy.schedule import Schedule


@dataclass
class MethodOutcome:
    """A method's plan and status, with the figures it adds to the plan's stats (what it skipped, how
    long its phases took) and a bound it proved on the people out (None: none of its own); the plan
    reports the tighter of that bound and :mod:`.bounds`' best."""

    schedule: Schedule
    status: str
    stats: dict[str, float] = field(default_factory=dict)
    bound: int | None = None
    bound_kind: str = ""


__all__ = ["MethodOutcome"]
