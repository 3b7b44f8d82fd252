"""The situation report (sitrep) of an operation, in the layout humanitarian coordination uses:
period covered, highlights, key figures, overview with a clearance curve, gaps and constraints,
next report.

A sitrep is read by observers, so it holds counts only: no name, no person id. The server builds
a :class:`Sitrep` from the reconciliation and the incidents; the page and the PDF render it. Words
come from the caller's ``text(key, **values)`` (the web app's messages in the reader's language), so
this module decides what is said and the caller's language decides how.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# When the next report is due, counted from the moment this one is made.
NEXT_REPORT_AFTER = timedelta(hours=24)

Text = Callable[..., str]


@dataclass(frozen=True)
class OverdueVehicle:
    """A vehicle not seen at ``expected_point`` by ``expected_by`` (vehicle codes are not personal)."""

    vehicle: str
    last_point: str | None
    expected_point: str
    expected_by: datetime


@dataclass(frozen=True)
class Sitrep:
    """Everything a sitrep says, as counts. ``people`` and ``vehicles`` are the reconciliation's
    counts by status; ``incidents`` counts incidents by kind; ``arrivals`` are the times people
    arrived (for the clearance curve)."""

    operation: str
    period_start: datetime
    period_end: datetime
    next_report: datetime
    people: Mapping[str, int]
    vehicles: Mapping[str, int]
    incidents: Mapping[str, int]
    overdue_vehicles: tuple[OverdueVehicle, ...] = ()
    people_not_seen: int = 0
    not_seen_data_pending: int = 0
    scanners_pending: int = 0
    events_pending: int = 0
    open_alarms: int = 0
    window_end: datetime | None = None
    minutes_left: float | None = None
    people_inside: int = 0
    arrivals: tuple[datetime, ...] = field(default_factory=tuple)
    # Where the clearance curve's time axis ends (default: the end of the period); an operation
    # whose windows closed long ago draws its curve over the windows, not up to today.
    curve_end: datetime | None = None

    @property
    def curve_until(self) -> datetime:
        return max(self.curve_end or self.period_end, self.period_start)

    def count(self, status: str) -> int:
        return int(self.people.get(status, 0))

    @property
    def people_total(self) -> int:
        return sum(self.people.values())

    @property
    def vehicles_total(self) -> int:
        return sum(self.vehicles.values())

    @property
    def vehicles_departed(self) -> int:
        """Vehicles that have left the departure point (every status but ``registered``)."""
        return self.vehicles_total - int(self.vehicles.get("registered", 0))

    @property
    def incidents_total(self) -> int:
        return sum(self.incidents.values())


# Key figures in the order they are shown: (message key, what it counts).
FIGURES: tuple[tuple[str, Callable[[Sitrep], int]], ...] = (
    ("sitrep.fig_registered", lambda s: s.people_total),
    ("sitrep.fig_waiting", lambda s: s.count("registered")),
    ("sitrep.fig_boarded", lambda s: s.count("boarded")),
    ("sitrep.fig_in_transit", lambda s: s.count("passed_checkpoint")),
    ("sitrep.fig_arrived", lambda s: s.count("arrived")),
    ("sitrep.fig_returned", lambda s: s.count("returned")),
    ("sitrep.fig_missing", lambda s: s.count("missing")),
    ("sitrep.fig_detained", lambda s: s.count("detained")),
    ("sitrep.fig_vehicles_departed", lambda s: s.vehicles_departed),
    ("sitrep.fig_vehicles_arrived", lambda s: int(s.vehicles.get("arrived", 0))),
    ("sitrep.fig_vehicles_overdue", lambda s: len(s.overdue_vehicles)),
    ("sitrep.fig_incidents", lambda s: s.incidents_total),
)


def key_figures(sitrep: Sitrep, text: Text) -> list[tuple[str, int]]:
    """(label, value) of each key figure."""
    return [(text(key), value(sitrep)) for key, value in FIGURES]


def highlights(sitrep: Sitrep, text: Text) -> list[str]:
    """Three to five lines that say what matters most, made from the figures."""
    total = sitrep.people_total
    arrived = sitrep.count("arrived")
    share = round(100 * arrived / total) if total else 0
    lines = [text("sitrep.hl_arrived", n=arrived, total=total, share=share)]
    alarms = sitrep.count("missing") + sitrep.count("detained")
    if alarms:
        lines.append(
            text(
                "sitrep.hl_alarms",
                n=alarms,
                missing=sitrep.count("missing"),
                detained=sitrep.count("detained"),
            )
        )
    else:
        lines.append(text("sitrep.hl_no_alarms"))
    if sitrep.minutes_left is not None:
        hours, minutes = divmod(round(sitrep.minutes_left), 60)
        lines.append(text("sitrep.hl_window", hours=hours, minutes=minutes, n=sitrep.people_inside))
    else:
        lines.append(text("sitrep.hl_no_window", n=sitrep.people_inside))
    lines.append(
        text(
            "sitrep.hl_vehicles",
            departed=sitrep.vehicles_departed,
            arrived=int(sitrep.vehicles.get("arrived", 0)),
            overdue=len(sitrep.overdue_vehicles),
        )
    )
    if sitrep.incidents_total:
        kinds = ", ".join(
            f"{n} {text('sitrep.incident_' + kind)}" for kind, n in sorted(sitrep.incidents.items()) if n
        )
        lines.append(text("sitrep.hl_incidents", n=sitrep.incidents_total, kinds=kinds))
    else:
        lines.append(text("sitrep.hl_no_incidents"))
    return lines


def overview(sitrep: Sitrep, text: Text) -> str:
    """A short paragraph from the figures."""
    return text(
        "sitrep.overview_text",
        total=sitrep.people_total,
        arrived=sitrep.count("arrived"),
        moving=sitrep.count("boarded") + sitrep.count("passed_checkpoint"),
        waiting=sitrep.count("registered"),
        returned=sitrep.count("returned"),
        vehicles=sitrep.vehicles_total,
        departed=sitrep.vehicles_departed,
    )


def gaps(sitrep: Sitrep, text: Text) -> list[str]:
    """Gaps and constraints: overdue vehicles, people not seen, scanner data pending, open alarms."""
    lines = [
        text(
            "sitrep.gap_vehicle",
            vehicle=o.vehicle,
            point=o.expected_point,
            time=stamp(o.expected_by),
            last=o.last_point or "–",
        )
        for o in sitrep.overdue_vehicles
    ]
    if sitrep.people_not_seen:
        lines.append(
            text("sitrep.gap_not_seen", n=sitrep.people_not_seen, pending=sitrep.not_seen_data_pending)
        )
    if sitrep.scanners_pending:
        lines.append(text("sitrep.gap_pending", n=sitrep.scanners_pending, events=sitrep.events_pending))
    if sitrep.open_alarms:
        lines.append(text("sitrep.gap_alarms", n=sitrep.open_alarms))
    return lines or [text("sitrep.gap_none")]


def isolating(text: Text) -> Text:
    """``text`` with each string value made a bidi isolate (FSI ... PDI), as Unicode advises for
    values put into a sentence: a time such as ``2016-12-15 12:30 UTC`` or a code such as
    ``BUS-07`` keeps its own order inside Arabic text, and Arabic values keep theirs in English."""

    def isolated(key: str, **values: object) -> str:
        return text(key, **{k: f"\u2068{v}\u2069" if isinstance(v, str) else v for k, v in values.items()})

    return isolated


def stamp(moment: datetime) -> str:
    """A moment as the sitrep prints it: UTC, to the minute."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def curve_points(sitrep: Sitrep) -> list[tuple[datetime, int]]:
    """People arrived against time: (time, count so far), in time order."""
    return [(t, i + 1) for i, t in enumerate(sorted(sitrep.arrivals))]
