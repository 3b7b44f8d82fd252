"""Trip sheets: every trip's clock times and loads on its vehicle's sheet, Arabic right to left, the PDF."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan, Trip
from corridor.problem.convoy import ConvoyProblem, compile_convoy
from corridor.reports.sitrep_pdf import FONT_DIR, FONT_FILES
from corridor.reports.tripsheets import (
    language,
    languages,
    node_names,
    trip_sheet_html,
    trip_sheets_html,
    trip_sheets_pdf,
    vehicle_sheet,
)
from corridor.scenario.load import load_scenario
from corridor.solve.convoy import solve_convoy

ALEPPO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
ARABIC = re.compile(r"[\u0600-\u06FF]")
needs_font = pytest.mark.skipif(
    not all((FONT_DIR / f).is_file() for f in FONT_FILES.values()),
    reason="fonts-dejavu-core is not installed (make setup-fonts installs it)",
)


@pytest.fixture(scope="module")
def planned() -> tuple[ConvoyPlan, ConvoyProblem, dict[str, str]]:
    scenario = load_scenario(ALEPPO)
    problem, findings = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None, findings
    plan = solve_convoy(problem, method="greedy")
    assert plan.verify(problem) == []
    return plan, problem, node_names(scenario)


class _Text(HTMLParser):
    """The visible text of a page, and the attributes of its <html> and <article> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.attrs: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("html", "article"):
            self.attrs.setdefault(tag, dict(attrs))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return re.sub("[\u2066-\u2069]", "", " ".join(self.parts))


def page_text(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def hhmm(plan: ConvoyPlan, step: int) -> str:
    """The clock time of a step, computed here from the plan's start and step length."""
    return (plan.start + timedelta(minutes=step * plan.dt)).strftime("%H:%M")


def times_of(plan: ConvoyPlan, trip: Trip) -> list[int]:
    steps = [
        trip.approach.start,
        trip.board_start,
        trip.board_end,
        trip.haul.start,
        trip.arrival,
        trip.unload_end,
    ]
    for inspection in trip.inspections:
        steps += [inspection.start, inspection.end]
    return steps


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_trip_has_its_clock_times_and_loads_on_its_sheet(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]], lang: str
) -> None:
    plan, problem, names = planned
    assert plan.trips
    for vehicle in plan.vehicles:
        text = page_text(trip_sheet_html(plan, vehicle, lang, problem=problem, names=names)).text
        assert vehicle in text
        for trip in plan.trips_of(vehicle):
            for step in times_of(plan, trip):
                assert hhmm(plan, step) in text, (vehicle, trip.number, step)
            for source, people in trip.load:
                assert source in text and str(people) in text
            assert names[trip.gathering] in text  # places by their names in the network file
        # no other vehicle's trips on this sheet
        others = {t.vehicle for t in plan.trips} - {vehicle}
        assert not any(re.search(rf"\b{re.escape(o)}\b", text) for o in others)


def test_sheet_gives_each_trip_in_order_with_checkpoint_and_reception(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, problem, names = planned
    vehicle = max(plan.vehicles, key=lambda v: len(plan.trips_of(v)))
    sheet = vehicle_sheet(plan, vehicle, problem=problem, names=names)
    trips = plan.trips_of(vehicle)
    assert [t.number for t in sheet.trips] == [t.number for t in trips] == list(range(1, len(trips) + 1))
    for trip, on_sheet in zip(trips, sheet.trips, strict=True):
        keys = [row.key for row in on_sheet.rows]
        assert keys.count("tripsheet.inspection") == len(trip.inspections)
        starts = [row.start for row in on_sheet.rows]
        assert starts == sorted(starts)  # the sheet reads in time order
        assert on_sheet.people == trip.people
        assert keys[-2:] == ["tripsheet.arrive_reception", "tripsheet.unload"]
    assert sheet.end is not None and sheet.end.start == trips[-1].unload_end
    # The first trip leaves from the depot, later ones return from the last reception point.
    assert sheet.trips[0].rows[0].key == "tripsheet.drive_first"
    if len(trips) > 1:
        assert sheet.trips[1].rows[0].key == "tripsheet.drive_return"


def test_times_after_midnight_are_marked_as_the_next_day(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, problem, names = planned
    late = next(t for t in plan.trips if plan.time_of(t.unload_end).date() > plan.start.date())
    text = page_text(trip_sheet_html(plan, late.vehicle, "en", problem=problem, names=names)).text
    assert f"{hhmm(plan, late.unload_end)} (+1)" in text


def test_wounded_board_first(planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]]) -> None:
    plan, problem, _ = planned
    bus = next(t for t in plan.trips if t.vehicle.startswith("bus"))
    mixed = replace(bus, load=(("general-mashhad", 3), ("wounded-mashhad", 2)))
    changed = replace(plan, trips=(mixed,))
    sheet = vehicle_sheet(changed, bus.vehicle, problem=problem)
    board = next(row for row in sheet.trips[0].rows if row.key == "tripsheet.board_mixed")
    assert [(load.source, load.group, load.stretcher) for load in board.loads] == [
        ("wounded-mashhad", "wounded", True),
        ("general-mashhad", "general", False),
    ]


def test_arabic_sheet_is_right_to_left_and_in_arabic(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, problem, names = planned
    vehicle = plan.trips[0].vehicle
    page = page_text(trip_sheet_html(plan, vehicle, "ar", problem=problem, names=names))
    assert page.attrs["html"]["dir"] == "rtl" and page.attrs["html"]["lang"] == "ar"
    assert page.attrs["article"]["dir"] == "rtl"
    assert len(ARABIC.findall(page.text)) > 100
    english = page_text(trip_sheet_html(plan, vehicle, "en", problem=problem, names=names))
    assert english.attrs["html"]["dir"] == "ltr" and not ARABIC.search(english.text)
    # The fragment for a page of the web app is the article alone, still right to left.
    fragment = trip_sheet_html(plan, vehicle, "ar", problem=problem, names=names, standalone=False)
    assert "<html" not in fragment and 'dir="rtl"' in fragment


def test_every_language_has_every_message() -> None:
    known = languages()
    assert {"en", "ar"} <= set(known)
    for code, lang in known.items():
        assert set(lang.messages) == set(known["en"].messages), code
        assert lang.direction in ("ltr", "rtl")


def test_without_the_problem_the_sheet_uses_ids(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, _, _ = planned
    trip = plan.trips[0]
    text = page_text(trip_sheet_html(plan, trip.vehicle, "en")).text
    assert trip.gathering in text and trip.reception in text
    assert hhmm(plan, trip.board_start) in text


def test_a_vehicle_without_trips_is_told_to_wait(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, problem, names = planned
    idle = plan.vehicles[-1]
    changed = replace(plan, trips=tuple(t for t in plan.trips if t.vehicle != idle))
    text = page_text(trip_sheet_html(changed, idle, "en", problem=problem, names=names)).text
    assert "no trip" in text and names["ramouseh-junction"] in text


def test_unknown_vehicle_is_refused_and_unknown_language_is_english(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, _, _ = planned
    with pytest.raises(KeyError, match="tram-01"):
        trip_sheet_html(plan, "tram-01", "en")
    page = page_text(trip_sheet_html(plan, plan.vehicles[0], "xx"))
    assert page.attrs["html"]["lang"] == "en" and "Trip sheet" in page.text
    with pytest.raises(ValueError, match="xx"):
        language("xx")


def test_all_sheets_in_one_page_break_per_vehicle(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]],
) -> None:
    plan, problem, names = planned
    html = trip_sheets_html(plan, "en", problem=problem, names=names)
    assert html.count("<article") == len(plan.vehicles)
    assert "break-after: page" in html


@needs_font
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_pdf_parses_and_holds_each_vehicle_and_its_times(
    planned: tuple[ConvoyPlan, ConvoyProblem, dict[str, str]], lang: str
) -> None:
    plan, problem, names = planned
    chosen = [plan.vehicles[0], plan.vehicles[-1]]  # a bus and an ambulance
    data = trip_sheets_pdf(plan, lang, chosen, problem=problem, names=names)
    reader = PdfReader(io.BytesIO(data))
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) >= len(chosen)
    # Each vehicle starts a page of its own, and its trips' times follow.
    starts = [next(k for k, t in enumerate(texts) if v in t) for v in chosen]
    assert starts[0] == 0 and starts[1] > starts[0]
    for vehicle, first, last in zip(chosen, starts, [*starts[1:], len(texts)], strict=True):
        text = "".join(texts[first:last])
        for trip in plan.trips_of(vehicle):
            assert hhmm(plan, trip.board_start) in text and hhmm(plan, trip.arrival) in text
    if lang == "ar":
        assert ARABIC.search("".join(texts))
