"""Manifests: who rides in which vehicle. Wounded to ambulances first; households kept together.

The assignment, in order:

1. households are served by their most urgent member: a stretcher case first, then the wounded,
   then other vulnerabilities (wheelchair, pregnant, elderly, unaccompanied child), then the rest;
   within a level, larger households first (first-fit decreasing);
2. a stretcher case needs a stretcher place (ambulances); other wounded prefer an ambulance seat;
   everybody else prefers a bus, leaving ambulance seats for the wounded;
3. a household goes whole into the first vehicle with room for it, in the order of preference;
   only when no vehicle has room is it split, largest part first, and the split is reported;
4. whoever finds no place is listed as unplaced, never dropped silently.

A space is one trip of one vehicle (``trip`` 1, 2, ...): a bus makes many trips. A trip of a convoy
plan carries people of given sources only (``quota``: source id -> people, its load in the plan);
a passenger then goes only to trips whose quota has room for their ``source``, the earliest first
(``order``). A space without a quota takes anyone (a vehicle with no planned trips).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

URGENT = ("wheelchair", "pregnant", "elderly", "unaccompanied_child")


@dataclass(frozen=True)
class Passenger:
    person_id: str
    household_id: str
    vulnerabilities: frozenset[str] = frozenset()
    source: str | None = None  # the plan's source (gathering point and group) this person belongs to

    @property
    def stretcher(self) -> bool:
        return "stretcher" in self.vulnerabilities

    @property
    def urgency(self) -> int:
        """0 is served first."""
        if self.stretcher:
            return 0
        if "wounded" in self.vulnerabilities:
            return 1
        if self.vulnerabilities & set(URGENT):
            return 2
        return 3


@dataclass
class Space:
    """Free places in one trip of a vehicle. ``ambulance`` vehicles are kept for the wounded.

    ``quota`` (source id -> people still to board) restricts the trip to the sources its plan loads;
    ``order`` sorts trips before the vehicle preference (the planned boarding time).
    """

    code: str
    seats: int
    stretchers: int = 0
    ambulance: bool = False
    wave: int = 0
    trip: int = 1
    quota: dict[str, int] | None = None
    order: float = 0.0


@dataclass(frozen=True)
class Seat:
    person_id: str
    vehicle: str
    place: str  # "seat" or "stretcher"
    trip: int = 1


@dataclass
class Manifest:
    seats: list[Seat] = field(default_factory=list)
    split_households: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)

    def by_vehicle(self) -> dict[str, list[Seat]]:
        result: dict[str, list[Seat]] = {}
        for seat in self.seats:
            result.setdefault(seat.vehicle, []).append(seat)
        return result

    def by_trip(self) -> dict[tuple[str, int], list[Seat]]:
        result: dict[tuple[str, int], list[Seat]] = {}
        for seat in self.seats:
            result.setdefault((seat.vehicle, seat.trip), []).append(seat)
        return result


def assign(passengers: Iterable[Passenger], spaces: Sequence[Space]) -> Manifest:
    """Place passengers in the free spaces (which this changes) and say what could not be done."""
    households: dict[str, list[Passenger]] = {}
    for passenger in passengers:
        households.setdefault(passenger.household_id, []).append(passenger)
    order = sorted(
        households.items(),
        key=lambda item: (min(p.urgency for p in item[1]), -len(item[1]), item[0]),
    )
    # The order of preference depends only on whether a household has wounded: sort twice.
    preferences = {wounded: _preference(wounded, spaces) for wounded in (False, True)}
    manifest = Manifest()
    for household_id, members in order:
        preferred = preferences[any(p.urgency <= 1 for p in members)]
        sources = {p.source for p in members}
        candidates = [
            space
            for space in preferred
            if (space.seats > 0 or space.stretchers > 0)
            and (space.quota is None or any(space.quota.get(src or "", 0) > 0 for src in sources))
        ]
        _place_household(household_id, members, candidates, manifest)
    return manifest


def _preference(wounded: bool, spaces: Sequence[Space]) -> list[Space]:
    return sorted(spaces, key=lambda s: (s.order, s.ambulance != wounded, s.wave, s.code, s.trip))


def _fits(space: Space, members: Sequence[Passenger]) -> bool:
    stretchers = sum(p.stretcher for p in members)
    if space.quota is not None:
        wanted: dict[str | None, int] = {}
        for p in members:
            wanted[p.source] = wanted.get(p.source, 0) + 1
        if any(src is None or space.quota.get(src, 0) < n for src, n in wanted.items()):
            return False
    return space.stretchers >= stretchers and space.seats >= len(members) - stretchers


def _board(space: Space, members: Sequence[Passenger], manifest: Manifest) -> None:
    for p in members:
        if p.stretcher:
            space.stretchers -= 1
        else:
            space.seats -= 1
        if space.quota is not None and p.source is not None:
            space.quota[p.source] -= 1
        place = "stretcher" if p.stretcher else "seat"
        manifest.seats.append(Seat(p.person_id, space.code, place, space.trip))


def _place_household(
    household_id: str, members: list[Passenger], preferred: Sequence[Space], manifest: Manifest
) -> None:
    for space in preferred:
        if _fits(space, members):
            _board(space, members, manifest)
            return
    # No vehicle takes the whole household: place each member where there is room.
    placed = 0
    for person in sorted(members, key=lambda p: p.urgency):
        room = next((s for s in preferred if _fits(s, [person])), None)
        if room is None:
            manifest.unplaced.append(person.person_id)
            continue
        _board(room, [person], manifest)
        placed += 1
    if placed > 1 or (placed == 1 and len(members) > 1):
        manifest.split_households.append(household_id)
