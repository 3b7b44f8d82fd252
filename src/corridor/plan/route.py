"""One route of a plan: people of one group from one source to one destination, hop by hop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """``people`` of ``group`` from ``source`` to ``destination`` along ``nodes``."""

    source: str
    group: str
    people: int
    destination: str
    nodes: tuple[str, ...]
    arcs: tuple[int, ...]
    departures: tuple[int, ...]
    arrival: int

    @property
    def departure(self) -> int:
        return self.departures[0] if self.departures else 0
