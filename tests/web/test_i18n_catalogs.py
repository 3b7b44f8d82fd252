"""The languages' gettext catalogs: CLDR plural forms, English for what a language lacks, every word
the code and the templates use said in Arabic, and a broken PO file named with what to do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from corridor.core.catalog_update import fold, main, unknown_keys
from corridor.core.catalogs import load_languages, po_path
from corridor.reports import notice_words, tripsheets
from corridor.server.web.i18n import LOCALES, languages

ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.mark.parametrize(
    ("n", "arabic"),
    [
        (0, "سُجّلت الأسرة: 0 شخص"),
        (1, "سُجّلت الأسرة: شخص واحد"),
        (2, "سُجّلت الأسرة: شخصان"),
        (3, "سُجّلت الأسرة: 3 أشخاص"),
        (11, "سُجّلت الأسرة: 11 شخصًا"),
        (100, "سُجّلت الأسرة: 100 شخص"),
    ],
)
def test_arabic_counts_take_their_cldr_plural_form(n: int, arabic: str) -> None:
    assert languages()["ar"].text("register.done", n=n) == arabic


def test_english_counts_take_one_or_other() -> None:
    english = languages()["en"]
    assert english.text("register.done", n=1) == "Household registered: 1 person"
    assert english.text("register.done", n=0) == "Household registered: 0 people"
    assert english.plural("count.trips", 2) == "2 trips"


def test_every_message_with_a_count_has_every_plural_form() -> None:
    for folder in (LOCALES, tripsheets.LOCALES):
        for code, language in load_languages(folder).items():
            english = load_languages(folder)["en"]
            assert language.plural_keys == english.plural_keys, (folder, code)
            for key in language.plural_keys:
                for n in (0, 1, 2, 3, 11, 100):
                    said = language.text(key, n=n, **{p: "x" for p in _placeholders(english, key)})
                    assert said and "{" not in said, (code, key, n)
                    assert (code == "ar") == bool(ARABIC.search(said)), (code, key, n)


def _placeholders(language: object, key: str) -> set[str]:
    text = getattr(language, "messages")[key]  # noqa: B009
    return set(re.findall(r"{(\w+)}", text)) - {"n"}


def test_the_web_app_and_the_trip_sheets_share_one_loader() -> None:
    sheet = tripsheets.languages()["ar"]
    assert sheet.direction == "rtl" and sheet.name == "العربية"
    assert isinstance(sheet, type(languages()["ar"]))
    assert languages()["en"].direction == "ltr" and languages()["en"].name == "English"
    # the sheets isolate their values in right-to-left text; the web app's templates do it themselves
    assert "\u2066" in sheet.text("tripsheet.title") + sheet.text("tripsheet.vehicle", vehicle="B1", kind="k")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "locales"
    for code, entries in {
        "en": 'msgid "a.hello"\nmsgstr "Hello"\n\nmsgid "a.bye"\nmsgstr "Bye"\n',
        "ar": 'msgid "a.hello"\nmsgstr "مرحبا"\n\nmsgid "a.bye"\nmsgstr ""\n',
    }.items():
        path = po_path(folder, code)
        path.parent.mkdir(parents=True)
        path.write_text(f'msgid ""\nmsgstr ""\n"Language: {code}\\n"\n\n{entries}', encoding="utf-8")
    return folder


def test_a_language_says_in_english_what_it_lacks(tmp_path: Path) -> None:
    found = load_languages(_folder(tmp_path))
    assert found["ar"].text("a.hello") == "مرحبا"
    assert found["ar"].text("a.bye") == "Bye"  # untranslated (empty msgstr)
    assert found["ar"].text("a.nowhere") == "a.nowhere"


def test_a_new_language_is_made_whole_from_english(tmp_path: Path) -> None:
    folder = tmp_path / "locales"
    shutil.copytree(LOCALES, folder)
    fr = po_path(folder, "fr")
    fr.parent.mkdir(parents=True)
    fr.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n', encoding="utf-8")
    added = fold(folder)
    assert "register.done" in added["fr"] and added["en"] == added["ar"] == []
    text = fr.read_text(encoding="utf-8")
    assert "#. English: Household registered: {n} person | Household registered: {n} people" in text
    french = load_languages(folder)["fr"]
    assert french.text("register.done", n=1) == "Household registered: 1 person"  # until translated


def test_keys_used_but_not_defined_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    used = tmp_path / "used.pot"
    used.write_text('msgid "a.hello"\nmsgstr ""\n\nmsgid "a.gone"\nmsgstr ""\n', encoding="utf-8")
    assert unknown_keys(folder, used) == ["a.gone"]
    assert main([str(folder), "--used", str(used)]) == 0
    assert main([str(folder), "--used", str(used), "--strict"]) == 1
    assert "a.gone" in capsys.readouterr().out


def test_a_broken_po_file_is_named_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    po_path(folder, "ar").write_text('msgid "a.hello"\nmsgstr "x\nmsgid', encoding="utf-8")
    with pytest.raises(ValueError, match=r"ar/LC_MESSAGES/corridor.po.*fix the file"):
        load_languages(folder)
    assert main([str(folder)]) == 2
    assert "corridor.po" in capsys.readouterr().err


def test_a_script_gets_every_plural_form_by_cldr_category() -> None:
    arabic = languages()["ar"].forms("scan.snapshot")
    assert isinstance(arabic, dict) and list(arabic) == ["zero", "one", "two", "few", "many", "other"]
    assert "شخص واحد" in arabic["one"] and "{n} أشخاص" in arabic["few"]
    assert languages()["en"].forms("scan.snapshot") == {
        "one": "List of people from {time}: {n} person.",
        "other": "List of people from {time}: {n} people.",
    }
    assert languages()["ar"].forms("nav.dashboard") == languages()["ar"].text("nav.dashboard")


SOURCES = Path(__file__).resolve().parents[2] / "src" / "corridor"
# A message used in code or a template: t("key"), text("key"), plural("key", n) or forms("key") (the
# words a page hands its script), with a key such as "nav.dashboard".
USED = re.compile(r"""\b(?:t|text|plural|forms)\(\s*["']([a-z_]+\.[a-z_.]+)["']""")


def _used_keys() -> set[str]:
    used: set[str] = set()
    for folder in (SOURCES / "server", SOURCES / "reports"):
        for path in [*folder.rglob("*.html"), *folder.rglob("*.py")]:
            used |= set(USED.findall(path.read_text(encoding="utf-8")))
    return used


def test_every_message_used_in_code_and_templates_is_said_in_arabic() -> None:
    """Every key the pages, the reports and their scripts use has its own Arabic text (not the
    English said for a missing one); a key ending in "_" or "." is the prefix of keys made at run
    time (e.g. "status." ~ value), of which at least one must be said in Arabic."""
    said = {*languages()["ar"].messages, *tripsheets.languages()["ar"].messages}
    used = _used_keys()
    assert len(used) > 300, "few messages found: the pattern is wrong"
    prefixes = {key for key in used if key.endswith(("_", "."))}
    assert sorted(used - prefixes - said) == []
    assert sorted(p for p in prefixes if not any(key.startswith(p) for key in said)) == []


def test_the_po_files_are_the_only_files_of_words() -> None:
    for folder in (LOCALES, tripsheets.LOCALES):
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert files == {f"{code}/LC_MESSAGES/corridor.po" for code in ("ar", "en")}, folder


def test_each_catalog_says_every_english_message_in_arabic() -> None:
    for folder in (LOCALES, tripsheets.LOCALES):
        found = load_languages(folder)
        assert sorted(set(found["en"].messages) - set(found["ar"].messages)) == [], folder


def test_notices_take_their_words_from_the_reports_catalogs() -> None:
    """A notice, its poster, its SMS and the public page say the words of the reports' catalog,
    in Arabic with each value isolated (a Latin place name keeps its order)."""
    arabic = notice_words.words("ar")
    assert arabic.rtl and arabic.direction == "rtl"
    assert arabic.text("notice.title", point="Gate 1") == "إعلان الإجلاء: \u2066Gate 1\u2069"
    assert (
        arabic.group("wounded") == tripsheets.languages()["ar"].text("group.wounded") == "الجرحى (على نقالات)"
    )
    assert arabic.group("elderly", stretcher=True) == arabic.text("group.stretcher")
    assert arabic.group("elderly") == "elderly"  # a scenario's own group, as written
    assert notice_words.words("en").text("public.none") == "No notice has been issued yet."
    with pytest.raises(ValueError, match="known: ar, en"):
        notice_words.words("fr")
