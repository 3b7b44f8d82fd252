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
    """Free places in a vehicle. ``ambulance`` vehicles are kept for the wounded."""

    code: str
    seats: int
    stretchers: int = 0
    ambulance: bool = False
    wave: int = 0


@dataclass(frozen=True)
class Seat:
    person_id: str
    vehicle: str
    place: str  # "seat" or "stretcher"


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


def assign(passengers: Iterable[Passenger], spaces: Sequence[Space]) -> Manifest:
    """Place passengers in the free spaces (which this changes) and say what could not be done."""
    households: dict[str, list[Passenger]] = {}
    for passenger in passengers:
        households.setdefault(passenger.household_id, []).append(passenger)
    order = sorted(
        households.items(),
        key=lambda item: (min(p.urgency for p in item[1]), -len(item[1]), item[0]),
    )
    manifest = Manifest()
    for household_id, members in order:
        _place_household(household_id, members, spaces, manifest)
    return manifest


def _preference(members: Sequence[Passenger], spaces: Sequence[Space]) -> list[Space]:
    wounded = any(p.urgency <= 1 for p in members)
    return sorted(spaces, key=lambda s: (s.ambulance != wounded, s.wave, s.code))


def _fits(space: Space, members: Sequence[Passenger]) -> bool:
    stretchers = sum(p.stretcher for p in members)
    return space.stretchers >= stretchers and space.seats >= len(members) - stretchers


def _board(space: Space, members: Sequence[Passenger], manifest: Manifest) -> None:
    for p in members:
        if p.stretcher:
            space.stretchers -= 1
        else:
            space.seats -= 1
        manifest.seats.append(Seat(p.person_id, space.code, "stretcher" if p.stretcher else "seat"))


def _place_household(
    household_id: str, members: list[Passenger], spaces: Sequence[Space], manifest: Manifest
) -> None:
    preferred = _preference(members, spaces)
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
