"""Family tracing by consent, the leak sweep of every public answer, and the coordinator's
Notices page (posters and SMS batches recorded as sent, gateway failures read back)."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from typing import Any

from pypdf import PdfReader

from corridor.server.public.limits import TracingLimits
from corridor.server.web.session import SESSION_COOKIE
from server.conftest import World
from server.test_server_public import SLUG, plans, publish, sqlite_only

T = "2016-12-15T08:{:02d}:00Z"
PEOPLE = [
    {"name": "Zaynab Qassab", "age_band": "18-59", "sex": "female", "phone": "+963 944 123 456"},
    {"name": "مروان الدباغ", "age_band": "60+", "sex": "male", "phone": "0944777888"},
    {"name": "Idris Tamer", "age_band": "5-11", "sex": "male", "phone": "not a number"},
]
RELATIVE = "Hala Qassab"


def register(world: World, gathering_point: str = "general-mashhad") -> tuple[list[str], str, str]:
    """Register the household with a consent for its first person: (person ids, household id, code)."""
    answer = world.client.post(
        world.url("/households"),
        json={
            "gathering_point": gathering_point,
            "people": PEOPLE,
            "tracing": [{"person": 0, "relative": RELATIVE}],
        },
        headers=world.coordinator,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    [granted] = body["tracing_codes"]
    assert granted["person_id"] == body["people"][0]["id"] and granted["relative"] == RELATIVE
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", granted["code"])
    return [p["id"] for p in body["people"]], body["id"], granted["code"]


def ask(world: World, code: str, lang: str = "en") -> Any:
    return world.client.post(f"/public/{SLUG}/trace?lang={lang}", data={"code": code})


def answer_of(html: str) -> str:
    found = re.search(r'<p class="answer (\w+)" id="answer" role="status">([^<]*)</p>', html)
    assert found is not None, html
    return f"{found.group(1)}: {found.group(2)}"


def scan(n: int, kind: str, minute: int, **payload: str) -> dict[str, Any]:
    return {
        "event_id": f"scanner-1-{n}",
        "device_id": "scanner-1",
        "seq": n,
        "device_time": T.format(minute),
        "type": kind,
        "payload": payload,
    }


def test_a_relative_learns_only_registered_left_or_arrived(world: World) -> None:
    world.client.app.state.tracing_limits = TracingLimits()  # type: ignore[attr-defined]
    ids, _, code = register(world)
    assert (
        answer_of(ask(world, code).text)
        == "registered: Registered: your relative is registered and has not left yet."
    )
    # Typed in lower case, with spaces, O for 0: the same code.
    typed = code.lower().replace("-", " ").replace("0", "o")
    assert answer_of(ask(world, typed).text).startswith("registered:")
    world.vehicle("BUS-1")
    for event in (
        scan(1, "boarded", 1, person_id=ids[0], vehicle_id="BUS-1", point="start"),
        scan(2, "checkpoint", 20, person_id=ids[0], point="cp1"),
    ):
        assert world.client.post(world.url("/events"), json=event, headers=world.device).status_code in (
            200,
            201,
        )
    left = ask(world, code)
    assert answer_of(left.text) == "left: Left: your relative has left the gathering point."
    assert "cp1" not in left.text and "Ramouseh" not in left.text and "BUS-1" not in left.text
    arrived_event = scan(3, "arrived", 59, person_id=ids[0], point="end")
    assert world.client.post(world.url("/events"), json=arrived_event, headers=world.device).status_code in (
        200,
        201,
    )
    assert answer_of(ask(world, code).text) == "arrived: Arrived at Khan al-Asal."
    assert "وصل إلى" in answer_of(ask(world, code, "ar").text)
    # Withdrawn: the code answers as a wrong code does (only a registrar or coordinator may).
    withdraw = world.url(f"/people/{ids[0]}/tracing")
    assert world.client.delete(withdraw, headers=world.as_role("observer")).status_code == 403
    assert (
        world.client.delete(world.url(f"/people/{'0' * 32}/tracing"), headers=world.coordinator).status_code
        == 404
    )
    assert world.client.delete(withdraw, headers=world.as_role("registrar")).status_code == 204
    assert answer_of(ask(world, code).text).startswith("unknown: No status can be given")
    # A wrong code: the same page and status, and nothing learnt.
    wrong = ask(world, "ABCD-EFGH-JKMN")
    assert wrong.status_code == 200 and answer_of(wrong.text).startswith("unknown: No status can be given")
    assert ask(world, "").status_code == 200
    # Every query is in the access log: the answered ones allowed, the wrong code denied.
    log = world.client.get(
        "/api/access-log", params={"operation": world.operation_id}, headers=world.coordinator
    )
    decisions = [(e["action"], e["decision"]) for e in log.json() if e["action"] == "tracing.query"]
    assert (
        decisions.count(("tracing.query", "allow")) == 5
        and decisions.count(("tracing.query", "deny")) >= 2
        and ("tracing.query", "deny") in decisions
    )
    assert all(code not in e["path"] for e in log.json())


def test_consents_are_refused_naming_the_field(world: World) -> None:
    body = {"gathering_point": "gp-a", "people": PEOPLE[:1], "tracing": [{"person": 1, "relative": "Hala"}]}
    answer = world.client.post(world.url("/households"), json=body, headers=world.coordinator)
    assert answer.status_code == 422 and "tracing names person 1" in answer.text
    body["tracing"] = [{"person": 0, "relative": "   "}]
    assert (
        world.client.post(world.url("/households"), json=body, headers=world.coordinator).status_code == 422
    )
    assert world.client.get(world.url("/people"), headers=world.coordinator).json()["people"] == []


def test_queries_are_limited_per_code_and_per_address(world: World) -> None:
    world.client.app.state.tracing_limits = TracingLimits(code_queries=2, address_queries=3)  # type: ignore[attr-defined]
    _, _, code = register(world)
    assert ask(world, code).status_code == 200
    assert ask(world, code).status_code == 200
    limited = ask(world, code)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert answer_of(limited.text).startswith("limited: Too many questions")
    assert ask(world, "AAAA-AAAA-AAAA").status_code == 200  # another code: the third counted from here
    assert ask(world, "BBBB-BBBB-BBBB").status_code == 429  # the address's limit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "action") and value and value.startswith(("/public/", "?")):
                self.links.append(value.replace("&amp;", "&"))


def crawl(world: World, todo: list[str], *, tag: str, pdfs: set[str]) -> dict[str, str]:
    """Every public page reachable from ``todo``, by URL; the posters' URLs go to ``pdfs``."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen or ".pdf" in url:
            if ".pdf" in url:
                pdfs.add(url)
            continue
        seen.add(url)
        got = world.client.get(url)
        assert got.status_code == 200, (url, got.status_code)
        found[f"{url} {tag}"] = got.text
        parser = _Links()
        parser.feed(got.text)
        base = url.split("?")[0]
        todo += [
            base + link if link.startswith("?") else link for link in parser.links if "method" not in link
        ]
    return found


def test_no_public_answer_holds_a_name_a_phone_number_or_an_id(world: World) -> None:
    """Crawl every public page and poster from the status page, in both languages, with and
    without a staff cookie, and ask the tracing form with a valid and a wrong code."""
    sqlite_only(world)
    world.client.app.state.tracing_limits = TracingLimits()  # type: ignore[attr-defined]
    publish(world, plans()[0])
    ids, household, code = register(world)
    publish(world, plans()[1])  # a void notice too
    secrets = [p["name"] for p in PEOPLE] + [RELATIVE, household, *ids]
    secrets += [w for p in PEOPLE for w in p["name"].split()] + [
        "Qassab",
        "944123456",
        "944 123 456",
        "0944777888",
    ]
    answers: dict[str, str] = {}
    pdfs: set[str] = set()
    queue = [f"/public/{SLUG}?lang=en", f"/public/{SLUG}?lang=ar", f"/public/{world.operation_id}"]
    for cookie in (None, world.tokens["coordinator"]):
        if cookie:
            world.client.cookies.set(SESSION_COOKIE, cookie)
        answers.update(crawl(world, list(queue), tag=str(cookie), pdfs=pdfs))
        for lang in ("en", "ar"):
            for typed in (code, "ZZZZ-ZZZZ-ZZZZ"):
                answers[f"trace {lang} {typed} {cookie}"] = ask(world, typed, lang).text
        world.client.cookies.clear()
    # Every notice's poster (slow to make: each in one language, the languages taken in turn).
    ids = re.findall(r'id="notice-([0-9a-f]+)"', answers[f"/public/{SLUG}?lang=en None"])
    assert len(ids) >= 8 and all(any(i in url for url in pdfs) for i in ids)
    for n, notice_id in enumerate(ids):
        url = f"/public/{SLUG}/notices/{notice_id}/poster.pdf?size=A4&lang={('en', 'ar')[n % 2]}"
        got = world.client.get(url)
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        answers[url] = PdfReader(io.BytesIO(got.content)).pages[0].extract_text()
    assert any("trace" in k for k in answers)
    for where, text in answers.items():
        for secret in secrets:
            assert secret not in text, (secret, where)
        bare = re.sub(r"[0-9a-f]{32}|\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", "", text)
        assert not re.search(r"\+?\d[\d ]{8,}\d", bare), where


def test_the_notices_page_records_posters_and_sms_and_reads_failures_back(world: World) -> None:
    publish(world, plans()[0])
    register(world)
    page = world.client.get(world.url("").replace("/api", "") + "/notices", headers=world.coordinator)
    assert page.status_code == 200 and 'data-key="mashhad/general"' in page.text
    notice = re.search(r"/notices/([0-9a-f]+)/poster\.pdf\?size=A4&amp;lang=en", page.text)
    assert notice is not None
    staff = world.url("").replace("/api", "")
    poster = world.client.get(
        f"{staff}/notices/{notice.group(1)}/poster.pdf?size=A4&lang=en", headers=world.coordinator
    )
    assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
    # The SMS batch: phone numbers are personal data (people.read, in the access log).
    assert world.client.get(f"{staff}/notices/sms.csv", headers=world.as_role("observer")).status_code == 403
    batch = world.client.get(f"{staff}/notices/sms.csv?lang=ar", headers=world.coordinator)
    assert batch.status_code == 200
    rows = list(csv.DictReader(io.StringIO(batch.text)))
    assert sorted(r["phone"] for r in rows) == ["+963944123456", "0944777888"]
    for row in rows:
        assert (
            row["urn"] == "tel:" + row["phone"]
            and row["language"] == "ara"
            and row["notice"] == "mashhad/general"
        )
        assert row["encoding"] == "UCS-2" and int(row["parts"]) == -(-int(row["characters"]) // 67)
    english = list(
        csv.DictReader(
            io.StringIO(world.client.get(f"{staff}/notices/sms.csv?lang=en", headers=world.coordinator).text)
        )
    )
    assert english[0]["encoding"] == "GSM-7" and english[0]["language"] == "eng"
    # The gateway's report: one failure recorded against the notice; a bad file names the line.
    report = "urn,status\ntel:+963944123456,failed\ntel:0944777888,delivered\n"
    sent = world.client.post(
        f"{staff}/notices/sms-status", files={"file": ("report.csv", report)}, headers=world.coordinator
    )
    assert sent.status_code == 200 and "1 failed" in sent.text
    bad = world.client.post(
        f"{staff}/notices/sms-status",
        files={"file": ("report.csv", "urn,status\n,failed\n")},
        headers=world.coordinator,
    )
    assert bad.status_code == 422 and "line 2" in bad.text
    after = world.client.get(f"{staff}/notices", headers=world.coordinator).text
    sent_cells = re.findall(r'class="sent">([^<]*)<', after)
    assert "1 posters, 0 SMS, 0 failed" in sent_cells  # the poster printed (the first notice's)
    assert (
        "0 posters, 4 SMS, 3 failed" in sent_cells
    )  # 2 + 2 sent; 1 + 1 unusable numbers, 1 from the gateway
    assert "people.read" in after and "/notices/sms.csv" in after  # the access log's entries
