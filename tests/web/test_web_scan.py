"""The checkpoint scanning screen in a real browser: loud answers, the offline queue, the page kept
for use without a network, English and Arabic, and what log-out leaves behind (nothing)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot

OUT = Path(__file__).resolve().parents[2] / "out"
# Bytes a first visit to the scanning screen may cost (a 2G link carries ~5-10 KB/s).
PAGE_BUDGET = 60_000


@dataclass
class Person:
    id: str
    wristband: str
    name: str


@dataclass
class Party:
    """Three people of one household on ``vehicle``, one more person on ``other_vehicle``."""

    vehicle: str
    family: list[Person]
    other_vehicle: str
    other: Person


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code < 300, answer.text
    return answer.json()


def make_party(api: httpx.Client, server: LiveServer) -> Party:
    """Register this test's own people on its own vehicles (codes sorting first, exactly sized, so
    that the assignment puts each household on its own vehicle)."""
    tag = secrets.token_hex(3)
    base = f"/api/operations/{server.operation_id}"
    # Place whoever others left unassigned first. The demo's convoy trips take only the people of
    # their gathering points, so vehicles outside the plan take the rest: ambulances, which the
    # assignment offers to everyone else only after every bus (this test's buses come first).
    left = len(_ok(api.post(f"{base}/manifests"))["unplaced"])
    for k in range(0, left, 200):
        seats = min(200, left - k)
        _ok(
            api.post(f"{base}/vehicles", json={"code": f"000-{tag}-{k}", "kind": "ambulance", "seats": seats})
        )
    _ok(api.post(f"{base}/manifests"))  # whoever is still left needs a place these vehicles lack
    vehicle, other_vehicle = f"00S-{tag}-A", f"00S-{tag}-B"
    for code, seats in ((vehicle, 3), (other_vehicle, 1)):
        _ok(api.post(f"{base}/vehicles", json={"code": code, "kind": "bus", "seats": seats}))

    def household(names: list[str]) -> list[Person]:
        people = [
            {"name": name, "age_band": "18-59", "sex": "female", "wristband": f"WB-{tag}-{name[-1]}"}
            for name in names
        ]
        made = _ok(api.post(f"{base}/households", json={"people": people}))
        return [Person(p["id"], p["wristband"], p["name"]) for p in made["people"]]

    family = household([f"Rana {tag} 1", f"Huda {tag} 2", f"Layla {tag} 3"])
    [other] = household([f"Mariam {tag} 4"])
    _ok(api.post(f"{base}/manifests"))
    rows = {row[0]: row for row in _ok(api.get(f"/operations/{server.operation_id}/scan/snapshot"))["people"]}
    assert [rows[p.id][2] for p in family] == [vehicle] * 3
    assert rows[other.id][2] == other_vehicle
    return Party(vehicle, family, other_vehicle, other)


def open_scan(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/operations/{server.operation_id}/scan")
    expect(page.locator("#scan")).to_have_attribute("data-ready", "yes")
    expect(page.locator("#scan")).to_have_attribute("data-kept", "yes")


def scan(page: Page, code: str) -> None:
    page.fill("#scan-code", code)
    page.press("#scan-code", "Enter")


def answer_is(page: Page, outcome: str, who: str) -> None:
    expect(page.locator("#scan-answer .answer-head")).to_contain_text(who)
    expect(page.locator("#scan-answer")).to_have_attribute("data-outcome", outcome)


def waiting(page: Page, count: int) -> None:
    expect(page.locator("#scan-queue")).to_have_attribute("data-count", str(count))


def status_of(api: httpx.Client, server: LiveServer, person: Person) -> dict[str, Any]:
    answer = api.get(f"/api/operations/{server.operation_id}/status/person/{person.id}")
    body: dict[str, Any] = _ok(answer)
    return body


def test_scans_answer_loudly_and_survive_going_offline(
    page: Page, context: BrowserContext, live_server: LiveServer, api: httpx.Client
) -> None:
    party = make_party(api, live_server)
    first, second, third = party.family
    log_in(page, live_server, "checkpoint_marshal")
    open_scan(page, live_server)
    expect(page.locator("#scan-code")).to_be_focused()
    page.select_option("#scan-point", "amiriyah")
    page.select_option("#scan-vehicle", party.vehicle)
    scan(page, first.wristband)
    answer_is(page, "expected", first.name)
    scan(page, party.other.wristband)
    answer_is(page, "not_on_manifest", party.other.name)
    expect(page.locator("#scan-answer")).to_contain_text(f"Manifest: {party.other_vehicle}")
    page.select_option("#scan-point", "rashideen")
    scan(page, first.id)
    answer_is(page, "expected", first.name)
    waiting(page, 0)
    scan(page, first.wristband)
    answer_is(page, "already", first.name)
    expect(page.locator("#scan-answer")).to_contain_text("Already arrived")
    scan(page, "NO-SUCH-CODE")
    expect(page.locator("#scan-answer")).to_have_attribute("data-outcome", "flagged")
    assert problems(page) == []
    screenshot(page, "scan-en")

    context.set_offline(True)
    page.select_option("#scan-point", "ramouseh")
    page.select_option("#scan-vehicle", "")
    for person in (second, third, party.other):
        scan(page, person.wristband)
        answer_is(page, "expected", person.name)
    waiting(page, 3)
    expect(page.locator("#scan-queue")).to_have_text("3 scans waiting to be sent")
    expect(page.locator("#scan-net")).to_have_attribute("data-online", "no")
    screenshot(page, "scan-offline")

    answer = page.reload()  # without a network: the service worker answers from its cache
    assert answer is not None and answer.from_service_worker
    expect(page.locator("#scan")).to_have_attribute("data-ready", "yes")
    waiting(page, 3)
    expect(page.locator("#scan-point")).to_have_value("ramouseh")  # the choice is remembered
    scan(page, second.wristband)
    answer_is(page, "already", second.name)  # judged from the encrypted copy kept offline
    waiting(page, 3)

    context.set_offline(False)
    waiting(page, 0)
    assert status_of(api, live_server, first)["status"] == "arrived"
    for person in (second, third, party.other):
        state = status_of(api, live_server, person)
        assert state["status"] == "passed_checkpoint"
        assert state["events"] == 2  # registered + one checkpoint passage: no duplicate
    assert status_of(api, live_server, first)["events"] == 3  # registered, boarded, arrived
    pending = _ok(api.get(f"/api/operations/{live_server.operation_id}/reconciliation"))["data_pending"]
    assert not [d for d in pending if d.startswith("user:demo-checkpoint_marshal/")]


def test_the_same_flow_in_arabic(page: Page, live_server: LiveServer, api: httpx.Client) -> None:
    party = make_party(api, live_server)
    first = party.family[0]
    log_in(page, live_server, "checkpoint_marshal", lang="ar")
    open_scan(page, live_server)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    page.select_option("#scan-point", "amiriyah")
    page.select_option("#scan-vehicle", party.vehicle)
    scan(page, first.wristband)
    answer_is(page, "expected", first.name)
    expect(page.locator("#scan-answer .answer-head")).to_contain_text("متوقَّع")
    scan(page, party.other.wristband)
    answer_is(page, "not_on_manifest", party.other.name)
    page.select_option("#scan-point", "rashideen")
    scan(page, first.wristband)
    answer_is(page, "expected", first.name)
    scan(page, first.wristband)
    answer_is(page, "already", first.name)
    expect(page.locator("#scan-answer .answer-head")).to_contain_text("وصل من قبل")
    waiting(page, 0)
    expect(page.locator("#scan-queue")).to_contain_text("لا شيء بانتظار الإرسال")
    assert problems(page) == []
    screenshot(page, "scan-ar")
    assert status_of(api, live_server, first)["status"] == "arrived"


def test_a_person_reported_missing_is_flagged(page: Page, live_server: LiveServer, api: httpx.Client) -> None:
    party = make_party(api, live_server)
    missing = party.family[1]
    report = {
        "event_id": secrets.token_hex(8),
        "device_id": f"user:demo-coordinator/{secrets.token_hex(4)}",
        "seq": 1,
        "device_time": "2016-12-15T10:00:00Z",
        "type": "missing",
        "payload": {"person_id": missing.id, "point": "ramouseh"},
    }
    _ok(api.post(f"/api/operations/{live_server.operation_id}/events", json=report))
    log_in(page, live_server, "checkpoint_marshal")
    open_scan(page, live_server)
    expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
    page.select_option("#scan-point", "ramouseh")
    scan(page, missing.wristband)
    answer_is(page, "flagged", missing.name)
    expect(page.locator("#scan-answer")).to_contain_text("Reported: Missing. Hold and call the coordinator.")
    waiting(page, 0)  # the sighting is recorded, and the alarm stands
    assert status_of(api, live_server, missing)["status"] == "missing"


def test_a_scan_the_server_refuses_needs_attention(
    page: Page, context: BrowserContext, live_server: LiveServer, api: httpx.Client
) -> None:
    """The route changes while a phone is offline: its queued scan names a point no longer on the
    route; the server refuses it and the marshal sees it listed, no longer waiting."""
    tag = secrets.token_hex(3)
    route = [
        {"id": "start", "name": "Start", "kind": "departure", "expected_minutes": 0},
        {"id": "cp1", "name": "Gate 1", "kind": "checkpoint", "expected_minutes": 20},
        {"id": "end", "name": "Camp", "kind": "arrival", "expected_minutes": 60},
    ]
    windows = [{"start": "2016-12-15T06:00:00Z", "end": "2016-12-15T18:00:00Z"}]
    made = _ok(
        api.post(
            "/api/operations",
            json={"name": f"Scan test {tag}", "scenario_name": "test", "route": route, "windows": windows},
        )
    )
    base = f"/api/operations/{made['id']}"
    member = {"username": "demo-checkpoint_marshal", "role": "checkpoint_marshal"}
    assert api.post(f"{base}/members", json=member).status_code == 204
    _ok(api.post(f"{base}/vehicles", json={"code": "BUS-1", "kind": "bus", "seats": 5}))
    people = [{"name": f"Omar {tag}", "age_band": "18-59", "sex": "male", "wristband": f"WB-{tag}"}]
    _ok(api.post(f"{base}/households", json={"people": people}))
    _ok(api.post(f"{base}/manifests"))

    log_in(page, live_server, "checkpoint_marshal")
    page.goto(f"{live_server.url}/operations/{made['id']}/scan")
    expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
    context.set_offline(True)
    page.select_option("#scan-point", "cp1")
    scan(page, f"WB-{tag}")
    answer_is(page, "expected", f"Omar {tag}")
    waiting(page, 1)
    route[1] = {"id": "cp2", "name": "Gate 2", "kind": "checkpoint", "expected_minutes": 25}
    _ok(api.patch(base, json={"route": route}))
    context.set_offline(False)
    waiting(page, 0)
    expect(page.locator("#scan-attention")).to_be_visible()
    expect(page.locator("#scan-attention li")).to_contain_text("point 'cp1' is not on the route")
    assert problems(page) == []


def test_log_out_leaves_no_scan_data_in_the_browser(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "checkpoint_marshal")
    open_scan(page, live_server)
    expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
    kept = page.evaluate(
        "async () => ({dbs: (await indexedDB.databases()).map(d => d.name), caches: await caches.keys(),"
        " workers: (await navigator.serviceWorker.getRegistrations()).length})"
    )
    assert "corridor-scan" in kept["dbs"] and kept["caches"] and kept["workers"] == 1
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#wipe-status")).to_have_attribute("data-wiped", "yes")
    left = page.evaluate(
        "async () => ({dbs: (await indexedDB.databases()).map(d => d.name), caches: await caches.keys(),"
        " workers: (await navigator.serviceWorker.getRegistrations()).length})"
    )
    assert left == {"dbs": [], "caches": [], "workers": 0}


def test_the_scan_screen_is_light_enough_for_2g(browser: Browser, live_server: LiveServer) -> None:
    """A first visit (empty cache) costs at most PAGE_BUDGET bytes on the wire, counting every
    response's encoded body and headers: the page, its files, the snapshot, the service worker and
    the copies the page keeps for offline use."""
    login = browser.new_context()
    log_in(login.new_page(), live_server, "checkpoint_marshal")
    session = login.storage_state()  # the session cookies, nothing cached
    login.close()
    context = browser.new_context(
        viewport={"width": 412, "height": 860}, locale="en-GB", storage_state=session
    )
    sizes: dict[str, int] = {}

    def count(request: Any) -> None:
        measured = request.sizes()
        key = f"{request.url} #{len(sizes)}"
        sizes[key] = measured["responseBodySize"] + measured["responseHeadersSize"]

    context.on("requestfinished", count)
    try:
        page = context.new_page()
        open_scan(page, live_server)
        expect(page.locator("#scan")).to_have_attribute("data-fetched", "yes")
    finally:
        context.close()
    # Chromium reports no body size for the service worker's script: count it as sent.
    with httpx.Client() as client:
        worker = client.get(f"{live_server.url}/sw.js", headers={"Accept-Encoding": "gzip"})
    for key in sizes:
        if "/sw.js " in key:
            sizes[key] += worker.num_bytes_downloaded
    total = sum(sizes.values())
    lines = [f"{size:>7}  {url}" for url, size in sorted(sizes.items(), key=lambda item: -item[1])]
    OUT.mkdir(exist_ok=True)
    (OUT / "page-weight.txt").write_text(
        f"scan screen, first visit: {total} bytes in {len(sizes)} responses (budget {PAGE_BUDGET})\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    assert total < PAGE_BUDGET, "\n".join(lines)
