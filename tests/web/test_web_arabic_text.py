"""Every staff page in Arabic says nothing in English but data.

Each page route of the web app (found from its router, so that a new page is covered without being
listed here) is opened in chromium in Arabic, as the coordinator (who may see everything) and as the
observer (who is refused some pages and sees others without names). What a reader sees is
collected: the text of the page (hidden parts too, e.g. a message shown later), the labels of
controls (aria-label, title, placeholder, alt) and the document's title. Data is set aside: text
the templates mark as data (``<code>``, ``<bdi>``, ``<kbd>``, ``dir="ltr"``/``dir="auto"``,
``translate="no"``, another ``lang``), the data of the demo operation (names of people, places,
vehicles, users, the operation and its scenario), codes (words with digits, upper-case codes such
as BUS) and the project's own names. Any English word left is a fault: its page and its context
are named.

Also here: age bands (and other options) are chosen by typing their first characters in Arabic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine, select

from corridor.reports.tripsheets import node_names
from corridor.scenario.load import load_scenario
from corridor.server.access.tables import Device, User
from corridor.server.seed import PUBLISHER
from corridor.server.web.routes import router
from web.conftest import SCREENSHOTS, LiveServer, log_in

# The project's and the formats' own names, abbreviations that are codes in every language, and the
# names printed on keyboards' keys.
ALLOWED = {
    *("corridor", "qr", "csv", "hxl", "geojson", "pdf", "utc", "gmt", "sha", "json", "https", "http"),
    *("openstreetmap", "osm", "tab", "enter", "ctrl", "shift", "esc"),
}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
# Pages that are not pages: files, data and scripts.
NOT_PAGES = re.compile(r"\.(pdf|geojson|js|ico|csv|json|crt|svg|png)$|/snapshot$|/live$")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z']+")
CODE = re.compile(r"`[^`]*`|\[[\w.]+\]|[A-Za-z]*\d[\w-]*|\b[A-Z][A-Z0-9_-]+\b|\w+[-_./:]\w[\w./:-]*")

COLLECT = """() => {
  const skipTags = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "CODE", "KBD", "SAMP", "BDI", "TEMPLATE"]);
  const isData = (el) => {
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      if (skipTags.has(e.tagName) || e.getAttribute("translate") === "no") return true;
      const dir = e.getAttribute("dir");
      if (dir === "ltr" || dir === "auto") return true;
      if (e.hasAttribute("lang") && !e.getAttribute("lang").startsWith("ar")) return true;
    }
    return false;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.textContent.trim() && !isData(node.parentElement)) out.push(node.textContent);
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    if (isData(el)) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (el.hasAttribute(name)) out.push(el.getAttribute(name));
    }
  }
  for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) out.push(el.value);
  for (const el of document.querySelectorAll("template")) {
    const copy = document.createElement("div");
    copy.appendChild(el.content.cloneNode(true));
    const data = "code, bdi, kbd, [dir=ltr], [dir=auto], [translate=no]";
    for (const d of copy.querySelectorAll(data)) d.remove();
    out.push(copy.textContent);
    for (const c of copy.querySelectorAll("[aria-label], [title], [placeholder]")) {
      for (const name of ["aria-label", "title", "placeholder"]) {
        if (c.hasAttribute(name)) out.push(c.getAttribute(name));
      }
    }
  }
  out.push(document.title);
  return out;
}"""


def _get_paths(routes: Any) -> Iterator[str]:
    """The GET paths of a router, through the routers it includes."""
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from _get_paths(inner.routes)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield str(route.path)


def _strings(value: Any, keys: set[str]) -> Iterator[str]:
    """String values of ``keys`` anywhere in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys and isinstance(item, str):
                yield item
            else:
                yield from _strings(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, keys)


DATA_KEYS = {
    "name",
    "scenario_name",
    "code",
    "node",
    "point",
    "username",
    "display_name",
    "id",
    "device_id",
    "gathering_point",
    "published_by",
    "by",
    "reported_by",
    "place_name",
    "description",
    "label",
}


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> dict[str, Any]:
    """Ids to fill the pages' paths with, and the demo operation's data (to set aside)."""
    op = f"/api/operations/{live_server.operation_id}"
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        token = client.post(
            "/api/auth/token",
            data={"username": "demo-coordinator", "password": live_server.password("coordinator")},
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        household = client.post(
            f"{op}/households",
            json={
                "gathering_point": "amiriyah",
                "people": [{"name": "Arabic Check", "age_band": "18-59", "sex": "female"}],
            },
        )
        assert household.status_code == 201, household.text
        # one registered without a gathering point: the dashboard names that row in Arabic too
        nowhere = client.post(
            f"{op}/households",
            json={"people": [{"name": "Arabic Nowhere", "age_band": "18-59", "sex": "male"}]},
        )
        assert nowhere.status_code == 201, nowhere.text
        data: set[str] = {"Arabic Check", "Arabic Nowhere", "demo", "Demo", PUBLISHER}
        # (other tests of the session may have made operations of their own: their names are data)
        for path in ("/api/operations", op, f"{op}/vehicles", f"{op}/people"):
            answer = client.get(path)
            if answer.status_code == 200:
                data |= set(_strings(answer.json(), DATA_KEYS))
        # what other tests of the session typed: users, scanner devices and their labels
        engine = create_engine(live_server.settings.database_url)
        with engine.connect() as db:
            data |= set(db.scalars(select(User.username)))
            for row in db.execute(select(Device.device_id, Device.label, Device.point)):
                data |= {str(v) for v in row if v}
        engine.dispose()
        # the places of the scenario's network, by id and by name
        names = node_names(load_scenario(EXAMPLE))
        data |= set(names) | set(names.values())
        vehicles = client.get(f"{op}/vehicles").json()
        code = vehicles[0]["code"] if isinstance(vehicles, list) and vehicles else "BUS-01"
    for role in ("coordinator", "observer", "registrar", "planner", "monitor", "checkpoint_marshal"):
        data |= {f"demo-{role}", f"Demo {role.replace('_', ' ')}"}
    return {
        "operation_id": live_server.operation_id,
        "household_id": household.json()["id"],
        "code": code,
        # A job's page needs a job run (seconds of CPU): an unknown id shows its "not found" page;
        # the plan page shows a job's progress in its place while it plans.
        "job_id": "0" * 32,
        "data": sorted((d for d in data if len(d) >= 2), key=len, reverse=True),
    }


def _pages(world: dict[str, Any]) -> list[str]:
    paths = sorted({p for p in _get_paths(router.routes) if not NOT_PAGES.search(p)})
    filled = []
    for path in paths:
        names = set(re.findall(r"{(\w+)}", path))
        missing = names - set(world)
        assert not missing, (
            f"{path}: give this test a value for {sorted(missing)} so that the page is covered"
        )
        filled.append(re.sub(r"{(\w+)}", lambda m: str(world[m.group(1)]), path))
    return filled


def english_words(texts: list[str], data: list[str]) -> list[str]:
    """The English words of ``texts`` once data, codes and allowed names are set aside."""
    found = []
    for text in texts:
        for value in data:  # with what is joined to it: a place's id may be a name and a word
            if value in text:
                text = re.sub(rf"[\w.-]*{re.escape(value)}[\w.-]*", " ", text)
        text = CODE.sub(" ", text)
        for word in ENGLISH_WORD.findall(text):
            if word.lower() not in ALLOWED:
                found.append(f"{word} (in: {' '.join(text.split())[:120]})")
    return found


def _read(page: Page, url: str) -> tuple[int, list[str]]:
    answer = page.goto(url, wait_until="load")
    status = answer.status if answer is not None else 0
    page.wait_for_timeout(150)  # htmx loads a page's parts right after load
    texts: list[str] = page.evaluate(COLLECT)
    return status, texts


@pytest.mark.parametrize("role", ["coordinator", "observer"])
def test_every_page_in_arabic_has_no_english_but_data(
    context: BrowserContext, live_server: LiveServer, world: dict[str, Any], role: str
) -> None:
    page = context.new_page()
    page.set_default_timeout(60_000)  # a page that plans (plan, map) takes seconds on a busy machine
    log_in(page, live_server, role, lang="ar")
    faults: dict[str, list[str]] = {}
    seen = 0
    for path in _pages(world):
        status, texts = _read(page, f"{live_server.url}{path}")
        assert status < 500, (path, status)
        seen += status == 200
        if path == f"/operations/{world['operation_id']}":
            # times in the operation's zone, named: the demo scenario's offset (its start is +02:00)
            assert any("UTC+02:00" in text for text in texts), "the dashboard's time names no zone"
        if path.endswith("/scan") and status == 200:
            # the scan screen's script writes times in the operation's zone too, named
            expect(page.locator("#scan-snapshot")).to_contain_text("UTC+02:00")
        words = english_words(texts, world["data"])
        if words:
            faults[f"{path} ({status})"] = words
    # The error page of a page not found, and the log-in page, as someone logged out sees them.
    for path in ("/operations/no-such-operation", "/login?lang=ar"):
        if path.startswith("/login"):
            context.clear_cookies()
        _, texts = _read(page, f"{live_server.url}{path}")
        words = english_words(texts, world["data"])
        if words:
            faults[path] = words
    assert seen >= (10 if role == "coordinator" else 5), f"only {seen} pages opened: the test sees too little"
    assert not faults, "English on Arabic pages:\n" + "\n".join(f"{p}: {w[:8]}" for p, w in faults.items())


def test_the_check_finds_english_and_spares_data() -> None:
    data = ["East Aleppo 2016 (demo)", "al-Amiriyah"]
    assert english_words(["وصل 12 شخصًا إلى al-Amiriyah (QR, PDF)"], data) == []
    assert english_words(["الحافلة BUS-01 · H3 · 2016-12-15 14:30 UTC+02:00"], data) == []
    assert english_words(["جدول [risk] في `corridor plan`"], data) == []
    assert english_words(["East Aleppo 2016 (demo): الخطة"], data) == []
    assert [w.split()[0] for w in english_words(["الخطة: Published version 3"], data)] == [
        "Published",
        "version",
    ]


def test_age_bands_and_other_options_are_chosen_by_typing_in_arabic_and_english(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "registrar", lang="ar")
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register")
    texts = page.eval_on_selector_all("#p-0-age_band option", "os => os.map(o => o.textContent)")
    assert all(not t or t[0] not in "\u200e\u200f\u2066\u2067\u2068\u2069\u202a\u202b" for t in texts), texts
    age = page.locator("#p-0-age_band")
    age.focus()
    page.keyboard.type("60")
    expect(age).to_have_value("60+")
    age.screenshot(path=str(screenshot_path("register-age-60-ar")))  # shows "60+", not "+60"
    page.keyboard.press("Tab")  # let the typed search reset before the next one
    age.focus()
    page.wait_for_timeout(1100)
    page.keyboard.type("18")
    expect(age).to_have_value("18-59")
    # Words too: the Arabic "unknown" (غير معروف) typed picks the unknown band.
    page.wait_for_timeout(1100)
    _type_keys(page, "غير")
    expect(age).to_have_value("unknown")
    sex = page.locator("#p-0-sex")
    sex.focus()
    _type_keys(page, "أنث")
    expect(sex).to_have_value("female")
    # And in English.
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register?lang=en")
    age.focus()
    page.keyboard.type("unk")
    expect(age).to_have_value("unknown")
    page.wait_for_timeout(1100)
    page.keyboard.type("5")
    expect(age).to_have_value("5-11")
    sex.focus()
    page.keyboard.type("fem")
    expect(sex).to_have_value("female")


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def _type_keys(page: Page, text: str) -> None:
    """Press the keys of ``text`` one by one, as an Arabic keyboard does (a key event per letter,
    which a select's type-to-choose answers; typing as inserted text would not)."""
    session = page.context.new_cdp_session(page)
    for letter in text:
        key = {"key": letter, "text": letter, "unmodifiedText": letter}
        session.send("Input.dispatchKeyEvent", {"type": "keyDown", **key})
        session.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": letter})
    session.detach()
