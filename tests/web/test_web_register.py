"""Registration in a real browser: a household by keyboard alone, duplicate warnings while typing
(across spellings and scripts), errors next to their fields, and wristbands with QR codes."""

from __future__ import annotations

import io
import secrets

import openpyxl  # type: ignore[import-untyped, unused-ignore]
import pytest
from playwright.sync_api import Page, expect

from corridor.server.web.i18n import languages
from web.a11y import problems
from web.conftest import LiveServer, log_in, screenshot
from web.test_web_arabic_text import english_words


def _open(page: Page, server: LiveServer, lang: str = "en") -> None:
    log_in(page, server, "registrar", lang=lang)
    page.goto(f"{server.url}/operations/{server.operation_id}/register")
    expect(page.locator("#p-0-name")).to_be_visible()


def _type_person(page: Page, name: str, sex: str, age: str) -> None:
    """Type one person in the focused name field, moving on with Tab only."""
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(sex)
    page.keyboard.press("Tab")
    page.keyboard.type(age)


def _register(page: Page, server: LiveServer, *people: tuple[str, str, str]) -> None:
    """Register a household through the form (the same keyboard path as a registrar's)."""
    page.focus("#p-0-name")
    for number, (name, sex, age) in enumerate(people):
        if number:
            page.keyboard.press("Enter")
        _type_person(page, name, sex, age)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#registered-h")).to_be_visible()


def test_a_household_of_three_by_keyboard_alone(page: Page, live_server: LiveServer) -> None:
    _open(page, live_server)
    family = "Keyboard" + secrets.token_hex(3)
    page.focus("#gathering_point")
    page.keyboard.press("ArrowDown")  # the first gathering point
    chosen = page.eval_on_selector("#gathering_point", "e => e.value")
    assert chosen
    page.keyboard.press("Tab")  # -> the first person's name
    _type_person(page, f"Huda {family}", "f", "18")
    page.keyboard.press("Enter")  # a new row, its name focused
    expect(page.locator("#p-1-name")).to_be_focused()
    _type_person(page, f"Omar {family}", "m", "5")
    for _ in range(2):  # on through "wounded", tick "stretcher"
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator("#p-2-name")).to_be_focused()
    _type_person(page, f"ليلى {family}", "f", "0")
    for _ in range(7):  # six needs, then the wristband
        page.keyboard.press("Tab")
    band = "WB-" + secrets.token_hex(4).upper()
    page.keyboard.type(band)
    assert problems(page) == []
    screenshot(page, "register-en")
    page.keyboard.press("Control+Enter")

    result = page.locator(".registered")
    expect(result.locator("#registered-h")).to_have_text("Household registered: 3 people")
    rows = result.locator("tbody tr")
    expect(rows).to_have_count(3)
    for name in (f"Huda {family}", f"Omar {family}", f"ليلى {family}"):
        expect(result).to_contain_text(name)
    expect(result.locator("tr", has_text=f"ليلى {family}")).to_contain_text(band)
    expect(result.locator("tr", has_text=f"Omar {family}")).to_contain_text("5-11")
    ids = result.locator("tbody td code").all_inner_texts()
    assert len(ids) == 3 and all(len(i) == 32 for i in ids)
    # The form is ready for the next household, at the same gathering point.
    expect(page.locator("#people .person")).to_have_count(1)
    expect(page.locator("#people .person .name")).to_be_focused()
    expect(page.locator("#people .person .name")).to_have_value("")
    assert page.eval_on_selector("#gathering_point", "e => e.value") == chosen
    page.reload()
    assert page.eval_on_selector("#gathering_point", "e => e.value") == chosen
    assert problems(page) == []


# A person registered, then typed again in another spelling or script, in each language.
NEAR = {"en": ("Mohammed Tartousi", "Muhammad Tartusi"), "ar": ("Khaled Shami", "خالد الشامي")}


def _fill_person(page: Page, row: int, name: str, sex: str, age: str) -> None:
    page.fill(f"#p-{row}-name", name)
    page.select_option(f"#p-{row}-sex", sex)
    page.select_option(f"#p-{row}-age_band", age)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_near_duplicate_in_another_spelling_or_script_is_shown_before_registering(
    page: Page, live_server: LiveServer, lang: str
) -> None:
    said = languages()[lang]
    first, again = NEAR[lang]
    _open(page, live_server, lang)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    if lang == "en":  # by keyboard, as a registrar types
        _register(page, live_server, (first, "m", "18"))
        page.reload()
        page.focus("#p-0-name")
        _type_person(page, again, "m", "18")
    else:
        _fill_person(page, 0, first, "male", "18-59")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#registered-h")).to_be_visible()
        page.reload()
        _fill_person(page, 0, again, "male", "18-59")
    warning = page.locator("#p-0-dups .alert.warn")
    expect(warning).to_contain_text(first)
    expect(warning.locator("p")).to_have_text(said.text("register.maybe_registered", n=1))
    expect(warning.locator("li")).to_contain_text(said.text("register.sex_male"))
    # Another sex: not the same person.
    page.select_option("#p-0-sex", "female")
    expect(warning).to_have_count(0)
    page.select_option("#p-0-sex", "male")
    expect(warning).to_contain_text(first)
    if lang == "ar":
        expect(warning.locator("p")).to_contain_text("ربما سُجّل من قبل (1)")
        shown = english_words(warning.all_inner_texts(), [first])
        assert shown == [], "\n".join(shown)
    screenshot(page, f"register-duplicate-{lang}")
    # Registered anyway (shown, never merged): the result names the possible duplicate.
    page.keyboard.press("Control+Enter")
    result = page.locator("#registered-duplicates")
    expect(result).to_contain_text(first)
    expect(result.locator("p")).to_have_text(said.text("register.check_duplicates"))
    expect(page.locator(".registered tbody tr")).to_have_count(1)
    expect(page.locator("#registered-h")).to_have_text(said.text("register.done", n=1))
    if lang == "ar":
        expect(page.locator("#registered-h")).to_have_text("سُجّلت الأسرة: شخص واحد")
        shown = english_words(page.locator(".registered").all_inner_texts(), [first, again])
        assert shown == [], "\n".join(shown)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_registration_form_for_odk_and_kobo_is_offered_on_the_registration_page(
    page: Page, live_server: LiveServer, lang: str
) -> None:
    said = languages()[lang]
    _open(page, live_server, lang)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    offer = page.locator("#xlsform")
    expect(offer.locator("h2")).to_have_text(said.text("register.xlsform_title"))
    expect(offer).to_contain_text("ODK Collect, KoBoCollect")
    link = page.locator("#xlsform-link")
    expect(link).to_have_text(f"{said.text('register.xlsform')} (XLSForm)")
    if lang == "ar":
        expect(link).to_contain_text("تنزيل استمارة التسجيل")
        shown = english_words(offer.all_inner_texts(), ["ODK Collect, KoBoCollect", "(XLSForm)"])
        assert shown == [], "\n".join(shown)
    offer.scroll_into_view_if_needed()
    screenshot(page, f"register-xlsform-{lang}")
    with page.expect_download() as download:
        link.click()
    name = download.value.suggested_filename
    assert "_registration-form_" in name and name.endswith(".xlsx"), name
    # The form itself: its questions, labelled in both languages, with the service's codes.
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True)
    survey = [row for row in book["survey"].iter_rows(values_only=True)]
    header = list(survey[0])
    assert {"label::English (en)", "label::Arabic (ar)"} <= set(header), header
    fields = {row[header.index("name")] for row in survey[1:]}
    assert {"name", "sex", "age_band", "wristband"} <= fields, fields
    choices = [row for row in book["choices"].iter_rows(values_only=True)]
    assert {"female", "male", "18-59", "60+"} <= {row[choices[0].index("name")] for row in choices[1:]}


def test_arabic_registration_is_right_to_left_and_warns_across_scripts(
    page: Page, live_server: LiveServer
) -> None:
    _open(page, live_server)
    _register(page, live_server, ("Mohamad Dalati", "m", "60"))
    page.goto(f"{live_server.url}/operations/{live_server.operation_id}/register?lang=ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("h1")).to_have_text("التسجيل")
    page.fill("#p-0-name", "محمد دالاتي")
    page.select_option("#p-0-sex", "male")
    page.select_option("#p-0-age_band", "60+")
    warning = page.locator("#p-0-dups .alert.warn")
    expect(warning).to_contain_text("Mohamad Dalati")
    expect(warning).to_contain_text("ربما سُجّل من قبل")
    assert page.eval_on_selector("#p-0-name", "e => e.getAttribute('dir')") == "auto"
    assert problems(page) == []
    screenshot(page, "register-ar")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#registered-h")).to_have_text("سُجّلت الأسرة: شخص واحد")


def test_a_missing_field_is_shown_next_to_it_and_nothing_typed_is_lost(
    page: Page, live_server: LiveServer
) -> None:
    _open(page, live_server)
    page.focus("#p-0-name")
    _type_person(page, "Rana Missingage", "f", "")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the second person: a sex and an age, but no name
    page.keyboard.type("m")
    page.keyboard.press("Tab")
    page.keyboard.type("18")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("alert")).to_contain_text("correct the marked fields")
    expect(page.locator("#p-0-age_band-error")).to_have_text("Required")
    expect(page.locator("#p-1-name-error")).to_have_text("Required")
    expect(page.locator("#p-0-name-error")).to_have_text("")
    expect(page.locator("#p-0-age_band")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#p-0-age_band")).to_be_focused()
    expect(page.locator("#p-0-name")).to_have_value("Rana Missingage")
    expect(page.locator("#p-1-sex")).to_have_value("male")
    assert problems(page) == []
    # Corrected, it registers; the errors go.
    page.select_option("#p-0-age_band", "18-59")
    page.fill("#p-1-name", "Khaled Missingage")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#registered-h")).to_have_text("Household registered: 2 people")
    expect(page.locator(".field-error:not(:empty)")).to_have_count(0)


def test_a_wristband_given_twice_is_refused_next_to_the_field(page: Page, live_server: LiveServer) -> None:
    _open(page, live_server)
    band = "WB-" + secrets.token_hex(4).upper()
    page.fill("#p-0-name", "Samir Twiceband")
    page.select_option("#p-0-sex", "male")
    page.select_option("#p-0-age_band", "18-59")
    page.fill("#p-0-wristband", band)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#registered-h")).to_be_visible()
    page.reload()
    page.fill("#p-0-name", "Samia Twiceband")
    page.select_option("#p-0-sex", "female")
    page.select_option("#p-0-age_band", "18-59")
    page.fill("#p-0-wristband", band)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#p-0-wristband-error")).to_contain_text("already given")
    expect(page.locator("#p-0-name")).to_have_value("Samia Twiceband")


def test_wristbands_print_with_one_qr_code_per_person(page: Page, live_server: LiveServer) -> None:
    _open(page, live_server)
    band = "WB-" + secrets.token_hex(4).upper()
    page.fill("#p-0-name", "Yusuf Printband")
    page.select_option("#p-0-sex", "male")
    page.select_option("#p-0-age_band", "12-17")
    page.fill("#p-0-wristband", band)
    page.click("#add-person")
    page.fill("#p-1-name", "يوسف الطباعة")
    page.select_option("#p-1-sex", "male")
    page.select_option("#p-1-age_band", "0-4")
    page.click("#register-submit")
    expect(page.locator(".registered tbody tr")).to_have_count(2)
    ids = page.locator(".registered tbody td code").all_inner_texts()
    assert len(ids) == 2
    href = page.get_attribute("#print-link", "href")
    assert href is not None
    page.goto(live_server.url + href)
    bands = page.locator("li.band")
    expect(bands).to_have_count(2)
    expect(page.locator("li.band svg.qr")).to_have_count(2)
    codes = set(bands.evaluate_all("items => items.map(i => i.dataset.code)"))
    assert band in codes and (codes - {band}) <= set(ids)
    expect(page.locator("li.band", has_text="يوسف الطباعة")).to_be_visible()
    assert page.locator("li.band svg.qr path").count() == 2
    assert problems(page) == []
    screenshot(page, "wristbands")
