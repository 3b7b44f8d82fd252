"""Notices to the people of an evacuation, made from the published plans.

One notice per gathering point and group of people (the wounded of al-Mashhad, everyone else of
al-Mashhad, ...): where to be, the time window, what to bring, who goes first there, where they
will be taken and, when a convoy plan is published, which vehicles and trips load them. The
flow plan gives the window when there is no convoy plan; the convoy plan, when there is one,
gives the boarding times of its trips.

Functions are pure: :func:`make_notices` (scenario and plans in, :class:`Notice` list out), and
the words of a notice in a language: :func:`notice_lines` (a poster or page) and
:func:`sms_text` (a text message). A notice is plain data (:meth:`Notice.to_dict`) so that an
issued notice is stored as it was and its :attr:`Notice.fingerprint` tells whether a re-plan
changed it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from corridor.plan.convoy import ConvoyPlan
from corridor.plan.model import Plan
from corridor.reports.layers import leaves_at
from corridor.reports.notice_words import Words
from corridor.scenario.model import Scenario

# A notice names at most this many vehicles; the rest are counted ("and 12 more").
SHOWN_VEHICLES = 6


@dataclass(frozen=True)
class Ride:
    """A vehicle's trip that loads people of the notice: boarding from ``start`` to ``end``."""

    vehicle: str
    trip: int
    start: str  # ISO time on the scenario's clock
    end: str


@dataclass(frozen=True)
class Notice:
    """What the people of ``group`` at gathering point ``point`` (a network node) are told.

    ``order`` is the groups waiting at the point, the first to go first; ``start`` and ``end``
    the window to be there (ISO times on the scenario's clock, None when no plan moves them);
    ``people`` how many the plan moves; ``receptions`` the reception points' names; ``rides``
    the convoy trips that load them; ``basis`` ``convoy``, ``plan`` or ``none``."""

    point: str
    point_name: str
    group: str
    stretcher: bool
    priority: int
    order: tuple[str, ...]
    start: str | None
    end: str | None
    people: int
    receptions: tuple[str, ...]
    rides: tuple[Ride, ...]
    basis: str

    @property
    def key(self) -> str:
        return f"{self.point}/{self.group}"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the notice's canonical JSON: equal when nothing it says changed."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Notice:
        return Notice(
            point=str(data["point"]),
            point_name=str(data["point_name"]),
            group=str(data["group"]),
            stretcher=bool(data["stretcher"]),
            priority=int(data["priority"]),
            order=tuple(str(g) for g in data["order"]),
            start=data.get("start"),
            end=data.get("end"),
            people=int(data["people"]),
            receptions=tuple(str(r) for r in data["receptions"]),
            rides=tuple(
                Ride(str(r["vehicle"]), int(r["trip"]), str(r["start"]), str(r["end"])) for r in data["rides"]
            ),
            basis=str(data["basis"]),
        )


@dataclass
class _Gathered:
    people: int = 0
    first: datetime | None = None
    last: datetime | None = None
    receptions: set[str] | None = None
    rides: list[Ride] | None = None

    def seen(self, start: datetime, end: datetime, people: int, reception: str) -> None:
        self.people += people
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)
        self.receptions = (self.receptions or set()) | {reception}


def make_notices(
    scenario: Scenario,
    plan: Plan | None,
    convoy: ConvoyPlan | None,
    *,
    names: Mapping[str, str] | None = None,
    vehicles: Mapping[str, str] | None = None,
    offsets: Mapping[str, int] | None = None,
) -> list[Notice]:
    """One notice per gathering point and group of the scenario's sources, in the scenario's
    order of points and the groups' priority order.

    ``names`` maps node ids to names people know (e.g. ``tripsheets.node_names``); ``vehicles``
    the convoy plan's vehicle ids to the operation's codes, ``offsets`` the trip numbers a
    re-plan's trips follow. Without either plan every notice says that no time is set yet.
    """
    names = dict(names or {})
    vehicles = dict(vehicles or {})
    offsets = dict(offsets or {})
    groups = {g.name: g for g in scenario.groups}
    source_at = {s.id: (s.node or s.id, s.group) for s in scenario.sources}
    reception = {d.id: names.get(d.node or d.id, d.id) for d in scenario.destinations}
    keys: dict[tuple[str, str], None] = {}
    for source in scenario.sources:
        if source.people > 0:
            keys[source_at[source.id]] = None
    flow: dict[tuple[str, str], _Gathered] = {}
    if plan is not None:
        for route in plan.routes:
            at = source_at.get(route.source)
            step = leaves_at(route)
            if at is None or step is None or route.people <= 0:
                continue
            gathered = flow.setdefault(at, _Gathered())
            start = plan.time_of(step)
            end = plan.time_of(step + 1)
            gathered.seen(start, end, route.people, reception.get(route.destination, route.destination))
    rides: dict[tuple[str, str], _Gathered] = {}
    if convoy is not None:
        for trip in sorted(convoy.trips, key=lambda t: (t.board_start, t.vehicle, t.number)):
            start, end = convoy.time_of(trip.board_start), convoy.time_of(trip.board_end)
            code = vehicles.get(trip.vehicle, trip.vehicle)
            number = offsets.get(trip.vehicle, 0) + trip.number
            for source_id, people in trip.load:
                at = source_at.get(source_id)
                if at is None or people <= 0:
                    continue
                gathered = rides.setdefault(at, _Gathered(rides=[]))
                gathered.seen(start, end, people, reception.get(trip.reception, trip.reception))
                ride = Ride(code, number, start.isoformat(), end.isoformat())
                if gathered.rides is not None and ride not in gathered.rides:
                    gathered.rides.append(ride)

    def priority(group: str) -> int:
        found = groups.get(group)
        return found.priority if found is not None else 1 << 20

    notices = []
    points = list(dict.fromkeys(point for point, _ in keys))
    for point in points:
        here = sorted((g for p, g in keys if p == point), key=lambda g: (priority(g), g))
        for group in here:
            chosen = rides.get((point, group)) if convoy is not None else flow.get((point, group))
            basis = (
                "none" if plan is None and convoy is None else ("convoy" if convoy is not None else "plan")
            )
            found = groups.get(group)
            notices.append(
                Notice(
                    point=point,
                    point_name=names.get(point, point),
                    group=group,
                    stretcher=bool(found.stretcher) if found is not None else False,
                    priority=priority(group) if found is not None else 0,
                    order=tuple(here),
                    start=chosen.first.isoformat() if chosen and chosen.first else None,
                    end=chosen.last.isoformat() if chosen and chosen.last else None,
                    people=chosen.people if chosen else 0,
                    receptions=tuple(sorted(chosen.receptions or ())) if chosen else (),
                    rides=tuple(chosen.rides or ()) if chosen else (),
                    basis=basis,
                )
            )
    return notices


# --- words ------------------------------------------------------------------------------------


def _clock(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def window(notice: Notice) -> tuple[str, str, str] | None:
    """(start, end, date) of the notice's window as people read them: ``14:30``, ``02:10 (+1)``
    for the next day, ``2016-12-15``; None without a window."""
    if notice.start is None or notice.end is None:
        return None
    start, end = _clock(notice.start), _clock(notice.end)
    days = (end.date() - start.date()).days
    later = f" (+{days})" if days > 0 else ""
    return f"{start:%H:%M}", f"{end:%H:%M}{later}", f"{start:%Y-%m-%d}"


def _order(notice: Notice, words: Words, stretcher: Mapping[str, bool]) -> str:
    return ", ".join(
        f"{n}. {words.group(g, stretcher.get(g, False))}" for n, g in enumerate(notice.order, start=1)
    )


def _rides(notice: Notice, words: Words) -> str:
    shown = [
        words.text(
            "notice.vehicle",
            vehicle=r.vehicle,
            trip=r.trip,
            start=f"{_clock(r.start):%H:%M}",
            end=f"{_clock(r.end):%H:%M}",
        )
        for r in notice.rides[:SHOWN_VEHICLES]
    ]
    rest = len(notice.rides) - len(shown)
    if rest > 0:
        shown.append(words.text("notice.more_vehicles", n=rest))
    return "; ".join(shown)


def notice_title(notice: Notice, words: Words) -> str:
    return words.text("notice.title", point=notice.point_name)


def notice_lines(
    notice: Notice,
    words: Words,
    *,
    version: int,
    issued: datetime,
    url: str,
    stretcher: Mapping[str, bool] | None = None,
) -> list[str]:
    """What the notice says in ``words``' language, line by line (the title aside)."""
    kinds = dict(stretcher or {})
    kinds.setdefault(notice.group, notice.stretcher)
    lines = [words.text("notice.for", group=words.group(notice.group, notice.stretcher))]
    times = window(notice)
    if times is not None:
        start, end, date = times
        lines.append(words.text("notice.when", point=notice.point_name, start=start, end=end, date=date))
    elif notice.basis == "none":
        lines.append(words.text("notice.when_unknown", point=notice.point_name))
    else:
        lines.append(words.text("notice.not_planned", point=notice.point_name))
    if notice.receptions:
        lines.append(words.text("notice.to", receptions=", ".join(notice.receptions)))
    if len(notice.order) > 1:
        lines.append(words.text("notice.first", order=_order(notice, words, kinds)))
    if notice.rides:
        lines.append(words.text("notice.vehicles", vehicles=_rides(notice, words)))
    # one call per key, so that `make messages` finds each
    things = words.text("notice.bring_stretcher") if notice.stretcher else words.text("notice.bring_general")
    lines.append(words.text("notice.bring", things=things))
    lines.append(
        words.text("notice.version", key=notice.key, version=version, issued=f"{issued:%Y-%m-%d %H:%M}")
    )
    lines.append(words.text("notice.check", url=url))
    return lines


def sms_text(notice: Notice, words: Words, *, version: int, url: str) -> str:
    """The notice as one short text message."""
    group = words.group(notice.group, notice.stretcher)
    times = window(notice)
    if times is None:
        return words.text("sms.text_unknown", point=notice.point_name, group=group, version=version, url=url)
    start, end, date = times
    first = words.group(notice.order[0]) if notice.order else group
    return words.text(
        "sms.text",
        point=notice.point_name,
        group=group,
        start=start,
        end=end,
        date=date,
        first=first,
        version=version,
        url=url,
    )


def changed(old: Sequence[Notice], new: Sequence[Notice]) -> tuple[list[Notice], list[str]]:
    """The notices of ``new`` that differ from (or are not in) ``old``, and the keys of ``old``
    that ``new`` no longer has."""
    before = {n.key: n.fingerprint for n in old}
    after = {n.key for n in new}
    return [n for n in new if before.get(n.key) != n.fingerprint], [k for k in before if k not in after]
