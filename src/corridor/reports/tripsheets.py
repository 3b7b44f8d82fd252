"""Trip sheets: one printable sheet per vehicle of a convoy plan, in English or Arabic.

A sheet lists each trip of the vehicle with clock times on the scenario's clock (its UTC offset): the
drive to the gathering point (from the depot, or back empty from the last reception point), boarding
and whom to board (source and people, by group, the most urgent first), the loaded drive with its
route, the inspection slot at each checkpoint, the arrival at the reception point and the end of
unloading; after the last trip, where the vehicle stays.

Functions are pure (plan in, text or bytes out): :func:`trip_sheet_html` (one vehicle, a whole page
or the ``<article>`` alone for a page of the web app), :func:`trip_sheets_html` (every vehicle, one
document) and :func:`trip_sheets_pdf` (every vehicle, one page or more each). Pass the
:class:`ConvoyProblem` for the vehicle types, the groups and the checkpoints' and reception points'
places, and ``names`` (node id -> name, e.g. :func:`node_names`) for places people know; without
them the sheet uses ids. Words come from the gettext catalogs ``locales/<lang>/LC_MESSAGES/corridor.po``
(read as the web app's, by :mod:`corridor.core.catalogs`; English for a missing key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from corridor.core import catalogs
from corridor.plan.convoy import ConvoyPlan, Drive, Trip
from corridor.problem.convoy import ConvoyProblem
from corridor.scenario.model import Scenario

LOCALES = Path(__file__).parent / "locales"
TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_LANG = "en"
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


@dataclass(frozen=True, eq=False)
class Language(catalogs.Language):
    """A language of the trip sheets: values are bidi isolates in right-to-left text."""

    def text(self, key: str, **values: object) -> str:
        """Message ``key`` (English if missing here) filled with ``values``, each a bidi isolate in
        right-to-left text so that ids and times keep their own order."""
        if self.rtl:
            values = {k: _isolate(v) if isinstance(v, str) else v for k, v in values.items()}
        return super().text(key, **values)

    def word(self, prefix: str, name: str) -> str:
        """A scenario's word (a vehicle type, a group) in this language if known, else as written."""
        key = f"tripsheet.{prefix}_{name}"
        return self.text(key) if self.has(key) else name


def _isolate(words: str) -> str:
    """``words`` as a bidi isolate, unless it is one already: left to right (LRI ... PDI) when it holds
    no right-to-left letter, so that a time such as ``07:00 (+1)`` or an id keeps its order inside
    Arabic text (a first-strong isolate of digits alone would take the paragraph's direction), else
    first-strong (FSI ... PDI)."""
    if words.startswith((LRI, FSI)):
        return words
    return f"{FSI if _RTL_LETTER.search(words) else LRI}{words}{PDI}"


@cache
def languages() -> dict[str, Language]:
    """The languages of the trip sheets, by code (a gettext catalog in ``locales/`` each, read by
    the project's one loader of languages)."""
    loaded = catalogs.load_languages(LOCALES)
    found: dict[str, Language] = {}
    for code, lang in loaded.items():
        values = {f.name: getattr(lang, f.name) for f in fields(catalogs.Language)}
        found[code] = Language(**values)
    return found


def language(code: str) -> Language:
    """The language ``code``; a ``ValueError`` naming the known ones otherwise."""
    known = languages()
    if code not in known:
        raise ValueError(f"no trip sheet language {code!r}; known: {', '.join(sorted(known))}")
    return known[code]


def node_names(scenario: Scenario) -> dict[str, str]:
    """Node id -> ``name`` of the named points of a GeoJSON network (empty for other formats)."""
    from corridor.io.geojson import read_feature_collection

    ref = scenario.network
    if ref.format != "geojson":
        return {}
    names: dict[str, str] = {}
    for feature in read_feature_collection(scenario.base_dir / ref.path):
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        if geometry.get("type") == "Point" and props.get("id") is not None and props.get("name"):
            names[str(props["id"])] = str(props["name"])
    return names


# --- what a sheet says, independent of the language ---------------------------------------------


@dataclass(frozen=True)
class Load:
    source: str
    group: str  # "" when the problem is not given
    people: int
    stretcher: bool


@dataclass(frozen=True)
class Row:
    """One line of a sheet: from ``start`` (to ``end``), a message key and its values, sub-lines."""

    start: int
    end: int | None
    key: str
    values: tuple[tuple[str, str | int], ...]
    loads: tuple[Load, ...] = ()
    route: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetTrip:
    number: int
    people: int
    reception: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Sheet:
    vehicle: str
    kind: str
    seats: int | None
    stretchers: int | None
    depot: str
    trips: tuple[SheetTrip, ...]
    end: Row | None


class _Places:
    """Display names of nodes, checkpoints and reception points."""

    def __init__(self, problem: ConvoyProblem | None, names: Mapping[str, str] | None) -> None:
        self.names = dict(names or {})
        self.checkpoint_node: dict[str, str] = {}
        self.dest_node: dict[str, str] = {}
        if problem is not None:
            flow = problem.flow
            ids = flow.network.node_ids
            self.checkpoint_node = {
                c: ids[int(n)]
                for c, n in zip(flow.checkpoint_ids, flow.checkpoint_node.tolist(), strict=True)
            }
            self.dest_node = {
                d: ids[int(n)] for d, n in zip(flow.dest_ids, flow.dest_node.tolist(), strict=True)
            }

    def node(self, node_id: str) -> str:
        return self.names.get(node_id, node_id)

    def checkpoint(self, checkpoint_id: str) -> str:
        node = self.checkpoint_node.get(checkpoint_id)
        return self.names.get(node or "", checkpoint_id)

    def reception(self, dest_id: str) -> str:
        node = self.dest_node.get(dest_id)
        return self.names.get(node or "", dest_id)


def _kind(plan_vehicle: str, problem: ConvoyProblem | None) -> tuple[str, int | None, int | None]:
    if problem is not None and plan_vehicle in problem.vehicle_ids:
        v = problem.vehicle_ids.index(plan_vehicle)
        k = int(problem.vehicle_type[v])
        return problem.type_ids[k], int(problem.type_seats[k]), int(problem.type_stretchers[k])
    head, _, tail = plan_vehicle.rpartition("-")
    return (head if head and tail.isdigit() else plan_vehicle), None, None


def _loads(trip: Trip, problem: ConvoyProblem | None) -> tuple[Load, ...]:
    """The trip's load by group, the most urgent (and stretcher) groups first."""
    if problem is None:
        return tuple(Load(s, "", n, False) for s, n in trip.load)
    flow = problem.flow
    index = {s: i for i, s in enumerate(flow.source_ids)}
    loads: list[tuple[tuple[int, int, int], Load]] = []
    for order, (source, people) in enumerate(trip.load):
        i = index.get(source)
        if i is None:
            loads.append(((1 << 30, 0, order), Load(source, "", people, False)))
            continue
        g = int(flow.source_group[i])
        stretcher = bool(problem.group_stretcher[g])
        key = (int(flow.group_priority[g]), 0 if stretcher else 1, order)
        loads.append((key, Load(source, flow.group_names[g], people, stretcher)))
    return tuple(load for _, load in sorted(loads, key=lambda x: x[0]))


def _approach(trip: Trip, places: _Places, first: bool) -> list[Row]:
    drive = trip.approach
    gathering = places.node(trip.gathering)
    if len(drive.nodes) <= 1:
        return [Row(drive.arrival, None, "tripsheet.already_there", (("gathering", gathering),))]
    key = "tripsheet.drive_first" if first else "tripsheet.drive_return"
    rows = [
        Row(
            drive.start,
            None,
            key,
            (("place", places.node(drive.nodes[0])), ("gathering", gathering)),
            route=_route(drive, places),
        )
    ]
    if drive.arrival < trip.board_start:
        rows.append(Row(drive.arrival, None, "tripsheet.arrive_gathering", (("gathering", gathering),)))
    return rows


def _route(drive: Drive, places: _Places) -> tuple[str, ...]:
    return tuple(places.node(n) for n in drive.nodes)


def _trip_rows(trip: Trip, problem: ConvoyProblem | None, places: _Places, first: bool) -> SheetTrip:
    gathering = places.node(trip.gathering)
    reception = places.reception(trip.reception)
    rows = _approach(trip, places, first)
    loads = _loads(trip, problem)
    mixed = len({(load.group, load.stretcher) for load in loads}) > 1
    rows.append(
        Row(
            trip.board_start,
            trip.board_end,
            "tripsheet.board_mixed" if mixed else "tripsheet.board",
            (("gathering", gathering),),
            loads=loads,
        )
    )
    rows.append(
        Row(
            trip.haul.start,
            None,
            "tripsheet.haul",
            (("gathering", gathering), ("reception", reception)),
            route=_route(trip.haul, places),
        )
    )
    rows.extend(
        Row(i.start, i.end, "tripsheet.inspection", (("checkpoint", places.checkpoint(i.checkpoint)),))
        for i in trip.inspections
    )
    rows.append(
        Row(
            trip.haul.arrival,
            None,
            "tripsheet.arrive_reception",
            (("reception", reception), ("n", trip.people)),
        )
    )
    rows.append(Row(trip.unload_end, None, "tripsheet.unload", (("reception", reception),)))
    return SheetTrip(trip.number, trip.people, reception, tuple(rows))


def vehicle_sheet(
    plan: ConvoyPlan,
    vehicle: str,
    *,
    problem: ConvoyProblem | None = None,
    names: Mapping[str, str] | None = None,
) -> Sheet:
    """What the sheet of ``vehicle`` says (``KeyError`` if the plan has no such vehicle)."""
    if vehicle not in plan.vehicles:
        raise KeyError(f"no vehicle {vehicle!r} in the plan")
    places = _Places(problem, names)
    kind, seats, stretchers = _kind(vehicle, problem)
    depot = ""
    if problem is not None and vehicle in problem.vehicle_ids:
        v = problem.vehicle_ids.index(vehicle)
        depot = problem.network.node_ids[int(problem.vehicle_node[v])]
    trips = plan.trips_of(vehicle)
    if trips:
        depot = trips[0].approach.nodes[0]
    sheet_trips = tuple(_trip_rows(t, problem, places, k == 0) for k, t in enumerate(trips))
    end = None
    if trips:
        last = trips[-1]
        end = Row(
            last.unload_end,
            None,
            "tripsheet.end",
            (("place", places.reception(last.reception)), ("time", "")),
        )
    return Sheet(vehicle, kind, seats, stretchers, places.node(depot) if depot else "", sheet_trips, end)


# --- words and clock times ------------------------------------------------------------------------


def clock(plan: ConvoyPlan, step: int) -> str:
    """Step ``step`` on the scenario's clock, ``HH:MM``, with ``(+n)`` ``n`` days after the start."""
    moment = plan.time_of(step)
    days = (moment.date() - plan.start.date()).days
    return moment.strftime("%H:%M") + (f" (+{days})" if days else "")


def _span(plan: ConvoyPlan, row: Row) -> str:
    if row.end is None or row.end == row.start:
        return clock(plan, row.start)
    return f"{clock(plan, row.start)}–{clock(plan, row.end)}"


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset()
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


@dataclass(frozen=True)
class Line:
    """A rendered line: the time, the instruction, and the lines under it."""

    time: str
    text: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class RenderedTrip:
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Rendered:
    """A sheet in words: what the HTML template and the PDF both print."""

    lang: Language
    vehicle: str
    heading: str
    facts: tuple[str, ...]
    trips: tuple[RenderedTrip, ...]
    closing: str


def _line(plan: ConvoyPlan, row: Row, lang: Language) -> Line:
    values = dict(row.values)
    if row.key == "tripsheet.end":
        values["time"] = clock(plan, row.start)
    details: list[str] = []
    for load in row.loads:
        group = lang.word("group", load.group) if load.group else lang.text("tripsheet.people")
        key = "tripsheet.load_stretchers" if load.stretcher else "tripsheet.load_seats"
        details.append(lang.text(key, people=load.people, group=group, source=load.source))
    if len(row.route) > 1:
        sep = lang.messages.get("tripsheet.route_sep", " → ")
        route = sep.join(_isolate(n) if lang.rtl else n for n in row.route)
        details.append(lang.text("tripsheet.route", route=route))
    return Line(_span(plan, row), lang.text(row.key, **values), tuple(details))


def render(plan: ConvoyPlan, sheet: Sheet, lang: Language) -> Rendered:
    """The sheet's words in ``lang``."""
    kind = lang.word("kind", sheet.kind)
    facts: list[str] = []
    if sheet.seats is not None and sheet.stretchers is not None:
        seats = lang.text("count.seats", n=sheet.seats)
        facts.append(
            lang.text(
                "tripsheet.capacity",
                seats=seats,
                stretchers=lang.text("count.stretchers", n=sheet.stretchers),
            )
        )
    status = lang.text(f"tripsheet.status_{plan.status}")
    facts.append(
        lang.text(
            "tripsheet.plan",
            scenario=plan.scenario,
            hash=plan.content_hash()[:12],
            method=lang.word("method", plan.method),
            status=status,
        )
    )
    facts.append(
        lang.text("tripsheet.clock", offset=f"UTC{_offset(plan.start)}", date=plan.start.strftime("%Y-%m-%d"))
    )
    facts.append(lang.text("tripsheet.deadline", time=clock(plan, plan.horizon)))
    people = sum(t.people for t in sheet.trips)
    facts.append(
        lang.text(
            "tripsheet.totals",
            trips=lang.text("count.trips", n=len(sheet.trips)),
            people=lang.text("count.people", n=people),
        )
    )
    trips = tuple(
        RenderedTrip(
            lang.text("tripsheet.trip", number=t.number, n=t.people, reception=t.reception),
            tuple(_line(plan, row, lang) for row in t.rows),
        )
        for t in sheet.trips
    )
    if sheet.end is not None:
        closing = _line(plan, sheet.end, lang).text
    else:
        closing = lang.text("tripsheet.no_trip", place=sheet.depot or "–")
    heading = lang.text("tripsheet.vehicle", vehicle=sheet.vehicle, kind=kind)
    return Rendered(lang, sheet.vehicle, heading, tuple(facts), trips, closing)


# --- HTML -----------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _rendered(
    plan: ConvoyPlan,
    vehicles: Sequence[str],
    lang: str,
    problem: ConvoyProblem | None,
    names: Mapping[str, str] | None,
) -> tuple[Language, list[Rendered]]:
    language_ = languages().get(lang) or languages()[DEFAULT_LANG]  # as the web app: English if unknown
    sheets = [render(plan, vehicle_sheet(plan, v, problem=problem, names=names), language_) for v in vehicles]
    return language_, sheets


def trip_sheet_html(
    plan: ConvoyPlan,
    vehicle: str,
    lang: str = DEFAULT_LANG,
    *,
    problem: ConvoyProblem | None = None,
    names: Mapping[str, str] | None = None,
    standalone: bool = True,
) -> str:
    """The sheet of ``vehicle``: a whole HTML page, or only its ``<article>`` (``standalone=False``)."""
    lang_, sheets = _rendered(plan, [vehicle], lang, problem, names)
    name = "tripsheets.html" if standalone else "tripsheet_article.html"
    return _environment().get_template(name).render(lang=lang_, sheets=sheets, plan=plan)


def trip_sheets_html(
    plan: ConvoyPlan,
    lang: str = DEFAULT_LANG,
    *,
    vehicles: Sequence[str] | None = None,
    problem: ConvoyProblem | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """Every vehicle's sheet (or those of ``vehicles``) in one page, a printed page each."""
    chosen = list(plan.vehicles if vehicles is None else vehicles)
    lang_, sheets = _rendered(plan, chosen, lang, problem, names)
    return _environment().get_template("tripsheets.html").render(lang=lang_, sheets=sheets, plan=plan)


# --- PDF ------------------------------------------------------------------------------------------


def trip_sheets_pdf(
    plan: ConvoyPlan,
    lang: str = DEFAULT_LANG,
    vehicles: Sequence[str] | None = None,
    *,
    problem: ConvoyProblem | None = None,
    names: Mapping[str, str] | None = None,
    font_dir: Path | None = None,
) -> bytes:
    """Every vehicle's sheet (or those of ``vehicles``) as PDF bytes, one page or more each (A4)."""
    from corridor.reports.tripsheets_pdf import sheets_pdf

    chosen = list(plan.vehicles if vehicles is None else vehicles)
    lang_, sheets = _rendered(plan, chosen, lang, problem, names)
    return sheets_pdf(sheets, rtl=lang_.rtl, title=lang_.text("tripsheet.title"), font_dir=font_dir)


__all__ = [
    "LRI",
    "Language",
    "Rendered",
    "Sheet",
    "clock",
    "language",
    "languages",
    "node_names",
    "render",
    "trip_sheet_html",
    "trip_sheets_html",
    "trip_sheets_pdf",
    "vehicle_sheet",
]
