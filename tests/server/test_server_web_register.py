"""The registration page's routes without a browser, on SQLite and PostgreSQL: who may use them,
what they store (through the same service as the API) and how they answer errors."""

from __future__ import annotations

import re

from server.conftest import PASSWORD, World

HTMX = {"HX-Request": "true", "Accept": "text/html"}


def _log_in(world: World, username: str) -> dict[str, str]:
    """A browser-like session for ``username``: the cookies, and the headers htmx would send."""
    client = world.client
    client.headers.pop("Authorization", None)
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return {**HTMX, "X-CSRF-Token": client.cookies["corridor_csrf"]}


def _page(world: World, tail: str = "") -> str:
    return f"/operations/{world.operation_id}/register{tail}"


def test_without_a_session_the_page_goes_to_log_in(world: World) -> None:
    answer = world.client.get(_page(world), headers={"Accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={_page(world)}"


def test_an_observer_may_neither_open_nor_register(world: World) -> None:
    headers = _log_in(world, "observer-user")
    assert world.client.get(_page(world), headers={"Accept": "text/html"}).status_code == 403
    person = {"p-0-name": "Huda Haddad", "p-0-sex": "female", "p-0-age_band": "18-59"}
    refused = world.client.post(_page(world), data=person, headers=headers)
    assert refused.status_code == 403
    assert 'class="alert bad"' in refused.text
    assert world.client.post(_page(world, "/duplicates"), data=person, headers=headers).status_code == 403


def test_a_registrar_registers_a_household_through_the_api_service(world: World) -> None:
    headers = _log_in(world, "registrar-user")
    opened = world.client.get(_page(world), headers={"Accept": "text/html"})
    assert opened.status_code == 200
    assert 'value="start"' in opened.text  # the route's departure point is a gathering point
    form = {
        "gathering_point": "start",
        "p-0-name": "Huda Haddad",
        "p-0-sex": "female",
        "p-0-age_band": "18-59",
        "p-0-vuln": "pregnant",
        "p-0-wristband": "WB-1",
        "p-3-name": "عمر حداد",
        "p-3-sex": "male",
        "p-3-age_band": "0-4",
        "p-3-vuln": ["wounded", "stretcher"],
        "p-7-name": "",  # an empty row at the end is left out
    }
    answer = world.client.post(_page(world), data=form, headers=headers)
    assert answer.status_code == 201, answer.text
    assert "Household registered: 2 people" in answer.text
    people = world.client.get(world.url("/people"), headers=world.coordinator).json()["people"]
    by_name = {p["name"]: p for p in people}
    assert set(by_name) == {"Huda Haddad", "عمر حداد"}
    assert by_name["عمر حداد"]["vulnerabilities"] == ["stretcher", "wounded"]
    assert by_name["Huda Haddad"]["wristband"] == "WB-1"
    assert {p["gathering_point"] for p in people} == {"start"}
    assert all(p["id"] in answer.text for p in people)
    household = by_name["Huda Haddad"]["household_id"]
    assert f"/register/households/{household}/wristbands" in answer.text


def test_possible_duplicates_are_found_across_spellings_and_scripts(world: World) -> None:
    world.household({"name": "Mohammed Tartousi", "sex": "male", "age_band": "18-59"})
    headers = _log_in(world, "registrar-user")
    asked = {**headers, "HX-Trigger-Name": "p-2-name"}
    row = {"p-2-name": "محمد طرطوسي", "p-2-sex": "male", "p-2-age_band": "18-59"}
    found = world.client.post(_page(world, "/duplicates"), data=row, headers=asked)
    assert found.status_code == 200
    assert "Mohammed Tartousi" in found.text
    other = world.client.post(_page(world, "/duplicates"), data={**row, "p-2-sex": "female"}, headers=asked)
    assert other.status_code == 200 and other.text == ""
    unfinished = world.client.post(_page(world, "/duplicates"), data={"p-2-name": "Muhammad"}, headers=asked)
    assert unfinished.text == ""
    # Registered anyway: never merged, the answer names the earlier registration.
    made = world.client.post(_page(world), data={"p-0-name": "Muhammad Tartusi", **_male()}, headers=headers)
    assert made.status_code == 201
    assert 'id="registered-duplicates"' in made.text and "Mohammed Tartousi" in made.text
    assert len(world.client.get(world.url("/people"), headers=world.coordinator).json()["people"]) == 2


def _male() -> dict[str, str]:
    return {"p-0-sex": "male", "p-0-age_band": "18-59"}


def test_errors_are_given_next_to_their_fields_and_nothing_is_stored(world: World) -> None:
    headers = _log_in(world, "registrar-user")
    form = {"p-0-name": "Rana", "p-0-sex": "female", "p-1-sex": "male", "p-1-age_band": "alien"}
    answer = world.client.post(_page(world), data=form, headers=headers)
    assert answer.status_code == 422
    marked = dict(re.findall(r'id="([\w-]+)-error" hx-swap-oob="true">([^<]*)<', answer.text))
    assert marked["p-0-age_band"] == "Required"
    assert marked["p-1-name"] == "Required"
    assert "p-1-age_band" in marked and "p-0-name" not in marked
    assert world.client.post(_page(world), data={"p-0-name": ""}, headers=headers).status_code == 422
    person = {"name": "Rana", "sex": "female", "age_band": "18-59"}
    crowd = {f"p-{i}-{field}": value for i in range(61) for field, value in person.items()}
    too_many = world.client.post(_page(world), data=crowd, headers=headers)
    assert too_many.status_code == 422 and 'id="people-error" hx-swap-oob="true">' in too_many.text
    assert world.client.get(world.url("/people"), headers=world.coordinator).json()["people"] == []


def test_a_wristband_already_given_is_refused_on_its_field(world: World) -> None:
    world.household({"name": "Samir", "sex": "male", "age_band": "18-59", "wristband": "WB-7"})
    headers = _log_in(world, "registrar-user")
    form = {"p-0-name": "Samia", "p-0-sex": "female", "p-0-age_band": "18-59", "p-0-wristband": "WB-7"}
    answer = world.client.post(_page(world), data=form, headers=headers)
    assert answer.status_code == 409
    assert 'id="p-0-wristband-error" hx-swap-oob="true">This wristband is already given' in answer.text


def test_a_change_without_the_page_token_is_refused(world: World) -> None:
    headers = _log_in(world, "registrar-user")
    del headers["X-CSRF-Token"]
    form = {"p-0-name": "Huda", "p-0-sex": "female", "p-0-age_band": "18-59"}
    assert world.client.post(_page(world), data=form, headers=headers).status_code == 403


def test_wristbands_have_one_qr_code_per_person(world: World) -> None:
    made = world.household(
        {"name": "Huda Haddad", "sex": "female", "age_band": "18-59", "wristband": "WB-9"},
        {"name": "Omar Haddad", "sex": "male", "age_band": "5-11"},
    )
    _log_in(world, "registrar-user")
    answer = world.client.get(_page(world, f"/households/{made['id']}/wristbands"))
    assert answer.status_code == 200
    assert answer.text.count('class="qr"') == 2
    omar = next(p for p in made["people"] if p["name"] == "Omar Haddad")
    assert 'data-code="WB-9"' in answer.text and f'data-code="{omar["id"]}"' in answer.text
    missing = world.client.get(
        _page(world, "/households/nothing/wristbands"), headers={"Accept": "text/html"}
    )
    assert missing.status_code == 404


def test_errors_on_arabic_pages_say_what_happened_in_arabic(world: World) -> None:
    _log_in(world, "registrar-user")
    page = world.client.get(
        _page(world, "/households/nothing/wristbands?lang=ar"), headers={"Accept": "text/html"}
    )
    assert page.status_code == 404
    assert "لم يُعثر على المطلوب" in page.text  # the kind of error, in Arabic
    assert '<span lang="en" dir="ltr">' in page.text  # the service's own words, marked as English
    fragment = world.client.get(
        _page(world, "/households/nothing/wristbands?lang=ar"),
        headers={"Accept": "text/html", "HX-Request": "true"},
    )
    assert fragment.status_code == 404 and "لم يُعثر على المطلوب" in fragment.text
    english = world.client.get(
        _page(world, "/households/nothing/wristbands?lang=en"), headers={"Accept": "text/html"}
    )
    assert "لم يُعثر" not in english.text and '<span lang="en" dir="ltr">' not in english.text
