"""Notices and the public page: made from the published convoy plan, re-issued when it changes
(the old version void), the same answer with or without a staff cookie, at most 30 KB, posters."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import compile_convoy
from corridor.scenario.load import load_scenario
from corridor.server.web.session import SESSION_COOKIE
from corridor.solve.convoy import solve_convoy
from server.conftest import World

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
SLUG = "east-aleppo"  # the operation of make_world is named "East Aleppo"
MAX_PAGE = 30 * 1024
ARABIC = re.compile(r"[\u0600-\u06FF]")


@cache
def plans() -> tuple[ConvoyPlan, ConvoyPlan]:
    """The example's greedy convoy plan, and a re-plan of it without the last trip of bus-01
    (fewer people from al-Mashhad; every other notice as it was)."""
    scenario = load_scenario(SCENARIO)
    problem, _ = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None
    plan = solve_convoy(problem, method="greedy")
    last = max(plan.trips_of("bus-01"), key=lambda t: t.number)
    group = {s.id: s.group for s in scenario.sources}
    by_group = dict(plan.by_group)
    for source, people in last.load:
        by_group[group[source]] -= people
    replanned = replace(
        plan,
        trips=tuple(t for t in plan.trips if t is not last),
        evacuated=plan.evacuated - last.people,
        by_group=tuple(by_group.items()),
    )
    assert replanned.verify(problem) == []
    return plan, replanned


def sqlite_only(world: World) -> None:
    """For tests of what is rendered (PDFs above all, slow to make): the database plays no part."""
    if not world.settings.database_url.startswith("sqlite"):
        pytest.skip("renders the same on every database; tested on SQLite")


def publish(world: World, plan: ConvoyPlan) -> None:
    answer = world.client.post(world.url("/convoy"), json={"plan": plan.to_dict()}, headers=world.coordinator)
    assert answer.status_code == 200, answer.text


def versions(html: str) -> dict[str, int]:
    """Notice key -> version of the notices in force on a public page."""
    return {
        k: int(v) for k, v in re.findall(r'class="notice"[^>]*data-key="([^"]+)" data-version="(\d+)"', html)
    }


def public(world: World, tail: str = "", **params: Any) -> Any:
    return world.client.get(f"/public/{SLUG}{tail}", params=params)


def test_notices_come_from_the_convoy_plan_and_a_replan_reissues_the_changed_ones(world: World) -> None:
    before = public(world, lang="en")
    assert before.status_code == 200, before.text
    # No plan yet: a notice per gathering point and group all the same, saying no time is set.
    assert "not set yet" in before.text and set(versions(before.text).values()) == {1}
    plan, replanned = plans()
    publish(world, plan)
    first = public(world, lang="en")
    found = versions(first.text)
    assert set(found) >= {"mashhad/wounded", "mashhad/general", "amiriyah/general"}
    assert found["mashhad/general"] == 2  # the plan gave it a time: a new version, the first void
    assert "bus-01" in first.text and "Be at al-Mashhad (gathering point) between" in first.text
    publish(world, replanned)
    second = public(world, lang="en")
    again = versions(second.text)
    assert again["mashhad/general"] == 3
    assert {k: v for k, v in again.items() if k != "mashhad/general"} == {
        k: v for k, v in found.items() if k != "mashhad/general"
    }
    void = re.findall(r'class="void-notice" data-key="([^"]+)" data-version="(\d+)"', second.text)
    assert ("mashhad/general", "2") in void
    assert "VOID" in second.text
    # The same page again issues nothing new.
    assert versions(public(world, lang="en").text) == again


def test_the_public_page_is_small_ignores_staff_cookies_and_speaks_arabic(world: World) -> None:
    publish(world, plans()[0])
    for lang in ("en", "ar"):
        answer = public(world, lang=lang)
        assert answer.status_code == 200
        assert len(answer.content) <= MAX_PAGE, len(answer.content)
        assert len(answer.content) + len(world.client.get("/static/public.css").content) <= MAX_PAGE
        assert "set-cookie" not in answer.headers
    arabic = public(world, lang="ar").text
    assert '<html lang="ar" dir="rtl">' in arabic and ARABIC.search(arabic)
    assert re.search(r'data-state="(soon|on|paused|over)"', arabic)
    # A coordinator's session cookie changes nothing: the same bytes, no staff link or data.
    anonymous = public(world, lang="en").content
    world.client.cookies.set(SESSION_COOKIE, world.tokens["coordinator"])
    with_cookie = public(world, lang="en").content
    world.client.cookies.clear()
    assert with_cookie == anonymous
    assert b"/operations/" not in with_cookie and b"logout" not in with_cookie.lower()
    # The operation's id works as well as its slug; another address is 404.
    assert world.client.get(f"/public/{world.operation_id}?lang=en").status_code == 200
    assert world.client.get("/public/no-such-evacuation").status_code == 404


def test_a_poster_is_a_pdf_in_a4_or_a3_with_the_notice(world: World) -> None:
    sqlite_only(world)
    publish(world, plans()[0])
    page = public(world, lang="en").text
    notice_id = re.search(r'id="notice-([0-9a-f]+)" data-key="mashhad/general"', page)
    assert notice_id is not None
    for size, height in (("A4", 842), ("A3", 1191)):
        answer = public(world, f"/notices/{notice_id.group(1)}/poster.pdf", size=size, lang="en")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(answer.content))
        assert round(float(reader.pages[0].mediabox.height)) == height
        text = reader.pages[0].extract_text()
        assert "al-Mashhad" in text and "Vehicles: bus-" in text
    assert public(world, f"/notices/{'0' * 32}/poster.pdf").status_code == 404
    assert public(world, f"/notices/{notice_id.group(1)}/poster.pdf", size="A5").status_code == 422
