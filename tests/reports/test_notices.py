"""Notices from the plans (pure), their words in Arabic and English, SMS lengths and batches, posters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from corridor.network.build import load_network
from corridor.plan.convoy import ConvoyPlan
from corridor.problem.convoy import compile_convoy
from corridor.reports.layers import leaves_at
from corridor.reports.notice_words import words
from corridor.reports.notices import Notice, changed, make_notices, notice_lines, sms_text
from corridor.reports.posters_pdf import poster_pdf
from corridor.reports.sitrep_pdf import FONT_DIR, FONT_FILES
from corridor.reports.sms import Message, batch_csv, length, normal_phone, read_statuses
from corridor.reports.tripsheets import node_names
from corridor.scenario.load import load_scenario
from corridor.scenario.model import Scenario
from corridor.solve.convoy import solve_convoy
from corridor.solve.pipeline import Planned, plan_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
ISSUED = datetime(2016, 12, 15, 10, 0, tzinfo=UTC)
needs_font = pytest.mark.skipif(
    not all((FONT_DIR / f).is_file() for f in FONT_FILES.values()),
    reason="fonts-dejavu-core is not installed (make setup-fonts installs it)",
)


@pytest.fixture(scope="module")
def convoy() -> tuple[Scenario, ConvoyPlan]:
    scenario = load_scenario(EXAMPLE)
    problem, _ = compile_convoy(scenario, load_network(scenario.network, scenario.base_dir))
    assert problem is not None
    return scenario, solve_convoy(problem, method="greedy")


@pytest.fixture(scope="module")
def flow() -> Planned:
    return plan_file(EXAMPLE, method="ccrp")


def test_a_notice_per_gathering_point_and_group_with_the_convoy_plans_trips(
    convoy: tuple[Scenario, ConvoyPlan],
) -> None:
    scenario, plan = convoy
    notices = make_notices(
        scenario, None, plan, names=node_names(scenario), vehicles={"bus-01": "BUS-01"}, offsets={"bus-01": 2}
    )
    assert {n.key for n in notices} == {f"{s.node}/{s.group}" for s in scenario.sources if s.people}
    mashhad = {n.group: n for n in notices if n.point == "mashhad"}
    assert mashhad["wounded"].order == ("wounded", "general") and mashhad["wounded"].stretcher
    assert mashhad["general"].point_name == "al-Mashhad (gathering point)"
    trips = [t for t in plan.trips if any(s == "general-mashhad" for s, _ in t.load)]
    general = mashhad["general"]
    assert general.basis == "convoy"
    assert general.start == plan.time_of(min(t.board_start for t in trips)).isoformat()
    assert general.end == plan.time_of(max(t.board_end for t in trips)).isoformat()
    assert general.people == sum(n for t in trips for s, n in t.load if s == "general-mashhad")
    assert len(general.rides) == len(trips)
    ours = [r for r in general.rides if r.vehicle == "BUS-01"]  # the operation's code, numbers after 2
    assert ours and all(r.trip > 2 for r in ours)
    assert "bus-01" not in {r.vehicle for r in general.rides}
    assert Notice.from_dict(general.to_dict()) == general


def test_the_flow_plan_gives_the_window_without_a_convoy_plan(flow: Planned) -> None:
    notices = make_notices(flow.scenario, flow.plan, None)
    by_key = {n.key: n for n in notices}
    routes = [r for r in flow.plan.routes if r.source == "general-ansari" and leaves_at(r) is not None]
    steps = [leaves_at(r) for r in routes]
    ansari = by_key["ansari/general"]
    assert ansari.basis == "plan" and not ansari.rides
    assert ansari.start == flow.plan.time_of(min(s for s in steps if s is not None)).isoformat()
    assert ansari.people == sum(r.people for r in routes)
    none = make_notices(flow.scenario, None, None)
    assert {n.basis for n in none} == {"none"} and all(n.start is None for n in none)
    # A notice changes when what it says changes, and only then.
    fresh, gone = changed(none, notices)
    assert {n.key for n in fresh} == {n.key for n in notices} and gone == []  # every basis changed
    assert changed(notices, notices) == ([], [])
    assert changed(notices, notices[1:]) == ([], [notices[0].key])


def test_words_in_english_and_arabic(convoy: tuple[Scenario, ConvoyPlan]) -> None:
    scenario, plan = convoy
    notice = next(
        n
        for n in make_notices(scenario, None, plan, names=node_names(scenario))
        if n.key == "mashhad/general"
    )
    english = notice_lines(notice, words("en"), version=3, issued=ISSUED, url="https://x.example/public/e")
    assert english[0] == "For: everyone else"
    assert english[1].startswith("Be at al-Mashhad (gathering point) between ")
    assert "Who goes first here: 1. the wounded (on stretchers), 2. everyone else." in english
    assert any(line.startswith("Vehicles: ") and "more" in line for line in english)
    assert "Notice mashhad/general, version 3, issued 2016-12-15 10:00 UTC." in english
    arabic = notice_lines(notice, words("ar"), version=3, issued=ISSUED, url="https://x.example/public/e")
    assert arabic[0] == "لمن: \u2068جميع الآخرين\u2069"
    assert "\u2066al-Mashhad (gathering point)\u2069" in arabic[1]  # a Latin name keeps its order
    with pytest.raises(ValueError, match="known: ar, en"):
        words("fr")


def test_sms_lengths_gsm7_and_ucs2() -> None:
    assert length("a" * 160) == length("a" * 160) and length("a" * 160).parts == 1
    assert (length("a" * 161).encoding, length("a" * 161).parts) == ("GSM-7", 2)
    assert length("a" * 306).parts == 2 and length("a" * 307).parts == 3  # 153 per part
    assert length("{}[]€").characters == 10  # the extension table takes two places each
    assert length("ب" * 70) == length("ب" * 70) and (length("ب" * 70).encoding, length("ب" * 70).parts) == (
        "UCS-2",
        1,
    )
    assert length("ب" * 71).parts == 2 and length("ب" * 134).parts == 2 and length("ب" * 135).parts == 3
    assert length("a" * 150 + "ب").encoding == "UCS-2"  # one Arabic letter makes it all UCS-2
    assert length("😀").characters == 2  # outside the BMP: two UTF-16 units


def test_sms_batch_csv_and_gateway_reports(convoy: tuple[Scenario, ConvoyPlan]) -> None:
    scenario, plan = convoy
    notice = make_notices(scenario, None, plan, names=node_names(scenario))[1]
    text = sms_text(notice, words("ar"), version=2, url="https://x.example/public/e")
    out = batch_csv([Message("+963944123456", text, "ar", notice.key, 2)])
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["urn"] == "tel:+963944123456" and row["language"] == "ara" and row["message"] == text
    assert row["encoding"] == "UCS-2" and int(row["characters"]) == len(text.encode("utf-16-le")) // 2
    assert int(row["parts"]) == -(-int(row["characters"]) // 67) and row["version"] == "2"
    assert normal_phone("00963 944-123-456") == "+963944123456"
    assert normal_phone("call me") is None and normal_phone("12345") is None
    report = read_statuses("Phone,Status\ntel:+963944123456,Failed\n0944,delivered\n")
    assert [(r.phone, r.failed) for r in report] == [("+963944123456", True), ("0944", False)]
    with pytest.raises(ValueError, match="line 1"):
        read_statuses("number,state\n1,2\n")
    with pytest.raises(ValueError, match="line 3"):
        read_statuses("urn,status\ntel:1,sent\n,failed\n")


@needs_font
def test_a_poster_in_arabic_a3_with_its_qr_code_and_void_banner(convoy: tuple[Scenario, ConvoyPlan]) -> None:
    scenario, plan = convoy
    notice = make_notices(scenario, None, plan, names=node_names(scenario))[0]
    w = words("ar")
    url = "https://x.example/public/e"
    data = poster_pdf(
        "إعلان الإجلاء",
        notice_lines(notice, w, version=1, issued=ISSUED, url=url),
        url=url,
        scan=w.text("poster.scan"),
        rtl=True,
        size="A3",
        void=w.text("notice.void"),
    )
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 1191)
    text = page.extract_text()
    assert "ملغى" in text and "x.example/public/e" in text
    assert len(data) < 120_000
