"""A labelled set of record pairs for duplicate detection, made from name lists by written rules.

Names come from ``src/corridor/ops/data/arabic_names.json`` (the names the matcher knows: "seen")
and ``tests/data/names/held_out.csv`` (names it has never seen: "held out", kept apart to measure
how it does on names outside its list). Each name has its Arabic spelling and a romanization that
marks long vowels (ā ī ū), from which the variants are drawn:

Same person, written twice (positive pairs)
  * Latin spellings: a long vowel as one or two letters (ū: u, ou, oo, o; ī: i, ee, ie, y at the
    end; ā: a, aa), a short vowel as its neighbour (u: o; a: e; i: e), "ay" as ai/ei/ey, a doubled
    consonant single or a single one doubled, q as k, j as g or dj, dh as z or d, th as t, a
    final -a as -ah; the article as al-, el-, Al, al, or assimilated (ash-Shami), or none;
    "Abd al-X" as Abdul X, Abdel X, AbdulX, Abd-al-X; capitals as they come.
  * Arabic spellings: hamza seats (أ إ آ -> ا), ة as ه, ي as ى, عبد الX as عبدالX, the family
    article dropped, a vowel mark or a tatweel added.
  * the father's name left out; "bin"/"ibn"/"بن" put between; the family name written first;
    one typing slip (a letter dropped, doubled or two swapped) in one word in ten.
  * sex the same (one side "unknown" in one pair in ten); age band the same, or the next band in
    15% (an estimate); another household (registered twice), or the same one in 10% (typed twice).
Different people (negative pairs)
  * brothers and sisters: one household, the same father and family, another first name, most
    often a similar one (Hussein/Hassan, Omar/Amr, Mohammed/Mahmoud, Ali/Alaa/Layla, and every
    pair of first names that the old skeleton matcher confused or that differ by little);
  * strangers with similar first names, of the same or another family;
  * namesakes two age bands or more apart (a grandfather and the grandson named after him);
  * the same unisex first name (Alaa, Nour) on a man and a woman;
  * random strangers of the same sex and age band;
  * exact namesakes (same name, sex and age band, another household), 1% of the negatives: no
    one could tell them apart, and they are counted as the errors they would be.

Two negatives for each positive. Everything is drawn from ``random.Random(seed)``.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from rapidfuzz.distance import Indel

from corridor.ops.matching import AGE_BANDS, Record
from corridor.ops.names import name_skeleton

ROOT = Path(__file__).resolve().parents[1]
SEEN = ROOT / "src" / "corridor" / "ops" / "data" / "arabic_names.json"
HELD_OUT = ROOT / "tests" / "data" / "names" / "held_out.csv"
ALWAYS_CONFUSED = [
    ("Husayn", "Hasan"),
    ("Umar", "Amr"),
    ("Muhammad", "Mahmūd"),
    ("Alī", "Alā"),
    ("Alī", "Laylā"),
]


@dataclass(frozen=True)
class Name:
    arabic: str
    romanized: str
    sex: str  # male, female, unknown (either); "" for a family name


@dataclass(frozen=True)
class Pair:
    a: Record
    b: Record
    same: bool
    kind: str
    scripts: str  # latin-latin, arabic-latin, arabic-arabic


@dataclass(frozen=True)
class Lists:
    given: list[Name]
    family: list[Name]

    def first_names(self, sex: str) -> list[Name]:
        return [n for n in self.given if n.sex in (sex, "unknown")]


def read_lists(path: Path) -> Lists:
    """The names of a CSV or JSON list (columns or keys arabic, romanized, sex, kind)."""
    if path.suffix == ".json":
        rows: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["names"]
    else:
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    given = [Name(r["arabic"], r["romanized"], r["sex"]) for r in rows if r["kind"] == "given"]
    family = [Name(r["arabic"], r["romanized"], "") for r in rows if r["kind"] == "family"]
    return Lists(given, family)


# --- spellings ---------------------------------------------------------------------------------

_LONG = {
    "ā": [("a", 8), ("aa", 2)],
    "ī": [("i", 5), ("ee", 3), ("ie", 1)],
    "ū": [("u", 4), ("ou", 4), ("oo", 1), ("o", 1)],
}
_SHORT = {"u": [("u", 6), ("o", 4)], "a": [("a", 7), ("e", 3)], "i": [("i", 7), ("e", 3)]}


def _pick(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def latin_word(rng: random.Random, word: str) -> str:
    """One Latin spelling of a romanized word (macrons mark long vowels)."""
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        rest = word[i:]
        lower = ch.lower()
        if rest.lower().startswith("ay") and (len(rest) == 2 or rest[2] not in "aāeiīouū"):
            out.append(_pick(rng, [("ay", 4), ("ai", 3), ("ei", 2), ("ey", 1)]))
            i += 2
            continue
        if lower == "ī" and i == len(word) - 1:
            out.append(_pick(rng, [("i", 6), ("y", 2), ("ee", 1), ("ie", 1)]))
        elif lower in _LONG:
            out.append(_pick(rng, _LONG[lower]))
        elif lower in _SHORT and i > 0:
            out.append(_pick(rng, _SHORT[lower]))
        elif rest.lower().startswith("dh"):
            out.append(_pick(rng, [("dh", 5), ("z", 3), ("d", 2)]))
            i += 2
            continue
        elif rest.lower().startswith("th"):
            out.append(_pick(rng, [("th", 7), ("t", 3)]))
            i += 2
            continue
        elif lower == "q":
            out.append(_pick(rng, [("q", 6), ("k", 4)]))
        elif lower == "j":
            out.append(_pick(rng, [("j", 8), ("g", 1), ("dj", 1)]))
        elif i + 1 < len(word) and word[i + 1] == ch and lower.isalpha():
            out.append(lower if rng.random() < 0.3 else lower * 2)
            i += 2
            continue
        elif lower in "bdfklmnrz" and 0 < i < len(word) - 1 and word[i + 1] != "h" and rng.random() < 0.08:
            out.append(lower * 2)
        else:
            out.append(lower)
        i += 1
    text = "".join(out)
    if text.endswith("a") and rng.random() < 0.25:
        text += "h"
    return text


_ARTICLE = [("al-", 5), ("el-", 3), ("Al ", 1), ("al", 1), ("", 2)]
_SUN = set("tdrzsnl")


def latin_part(rng: random.Random, romanized: str) -> str:
    """A romanized name (maybe "al-X" or "Abd al-X") in one of its Latin spellings."""
    if romanized.startswith("Abd "):
        rest = romanized[4:]
        rest = rest[3:] if rest.startswith("al-") else rest
        body = latin_word(rng, rest)
        form = _pick(
            rng, [("Abd al-{}", 3), ("Abdul {}", 3), ("Abdel {}", 2), ("Abdul{}", 2), ("Abd-al-{}", 1)]
        )
        return form.format(body if "{} " in form or (form.endswith("{}") and " " in form) else body.lower())
    if romanized.startswith("al-"):
        body = latin_word(rng, romanized[3:])
        article = _pick(rng, _ARTICLE)
        if body[0].lower() in _SUN and rng.random() < 0.15:
            sun = "sh" if body.lower().startswith("sh") else body[0].lower()
            article = f"a{sun}-"
        return article + body
    return latin_word(rng, romanized)


def _case(rng: random.Random, text: str) -> str:
    return _pick(rng, [(text.title(), 7), (text.upper(), 1), (text.lower(), 2)])


def _slip(rng: random.Random, words: list[str]) -> list[str]:
    """One typing slip in one long word."""
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return words
    i = rng.choice(long)
    w = words[i]
    at = rng.randrange(1, len(w) - 1)
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        w = w[:at] + w[at + 1 :]
    elif kind == "double":
        w = w[:at] + w[at] + w[at:]
    else:
        w = w[: at - 1] + w[at] + w[at - 1] + w[at + 1 :]
    return [*words[:i], w, *words[i + 1 :]]


_ARABIC_MARKS = ["\u064e", "\u064f", "\u0650", "\u0651"]


def arabic_part(rng: random.Random, arabic: str, *, family: bool) -> str:
    text = arabic
    if rng.random() < 0.3:
        text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    if text.endswith("ة") and rng.random() < 0.3:
        text = text[:-1] + "ه"
    if text.endswith("ى") and rng.random() < 0.3:
        text = text[:-1] + "ي"
    elif text.endswith("ي") and rng.random() < 0.1:
        text = text[:-1] + "ى"
    if text.startswith("عبد ") and rng.random() < 0.4:
        text = "عبد" + text[4:]
    if family and text.startswith("ال") and rng.random() < 0.2:
        text = text[2:]
    if rng.random() < 0.1:
        at = rng.randrange(1, len(text))
        if text[at - 1] != " ":
            text = text[:at] + rng.choice([*_ARABIC_MARKS, "\u0640"]) + text[at:]
    return text


@dataclass(frozen=True)
class Person:
    given: Name
    father: Name
    family: Name
    sex: str
    band: str


def write(rng: random.Random, person: Person, script: str) -> str:
    """The person's name as one registrar might write it."""
    drop_father = rng.random() < 0.2
    if script == "arabic":
        parts = [arabic_part(rng, person.given.arabic, family=False)]
        if not drop_father:
            if rng.random() < 0.1:
                parts.append("بن")
            parts.append(arabic_part(rng, person.father.arabic, family=False))
        parts.append(arabic_part(rng, person.family.arabic, family=True))
        if rng.random() < 0.1:
            parts = [parts[-1], *parts[:-1]]
        return " ".join(parts)
    parts = [latin_part(rng, person.given.romanized)]
    if not drop_father:
        if rng.random() < 0.1:
            parts.append(rng.choice(["bin", "ibn", "Bin"]))
        parts.append(latin_part(rng, person.father.romanized))
    parts.append(latin_part(rng, person.family.romanized))
    if rng.random() < 0.1:
        parts = [parts[-1], *parts[:-1]]
    words = " ".join(_case(rng, p) for p in parts).split()
    if rng.random() < 0.1:
        words = _slip(rng, words)
    return unicodedata.normalize("NFC", " ".join(words))


# --- pairs ------------------------------------------------------------------------------------


def confusable(lists: Lists) -> list[tuple[Name, Name]]:
    """First names of one sex that are easy to take for each other: the classic confusions, those
    the old skeleton matched, and those whose romanizations differ by little."""
    by_latin = {n.romanized: n for n in lists.given}
    pairs = {(by_latin[a], by_latin[b]) for a, b in ALWAYS_CONFUSED if a in by_latin and b in by_latin}
    for a, b in combinations(lists.given, 2):
        if a.romanized == b.romanized:
            continue
        plain_a, plain_b = _plain(a.romanized), _plain(b.romanized)
        if (
            name_skeleton(a.arabic) == name_skeleton(b.arabic)
            or Indel.normalized_similarity(plain_a, plain_b) >= 0.7
        ):
            pairs.add((a, b))
    return sorted(pairs, key=lambda p: (p[0].romanized, p[1].romanized))


def _plain(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if ch.isalpha() and ch.isascii())


def _sex_of(rng: random.Random, name: Name) -> str:
    return name.sex if name.sex in ("male", "female") else rng.choice(["male", "female"])


def _band(rng: random.Random) -> str:
    return rng.choice(["0-4", "5-11", "12-17", "18-59", "18-59", "18-59", "60+"])


def _next_band(rng: random.Random, band: str) -> str:
    i = AGE_BANDS.index(band)
    return AGE_BANDS[rng.choice([j for j in (i - 1, i + 1) if 0 <= j < len(AGE_BANDS)])]


def _scripts(rng: random.Random) -> tuple[str, str]:
    return _pick_pair(rng, [(("latin", "latin"), 4), (("arabic", "latin"), 4), (("arabic", "arabic"), 2)])


def _pick_pair(rng: random.Random, options: list[tuple[tuple[str, str], int]]) -> tuple[str, str]:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _person(
    rng: random.Random, lists: Lists, given: Name | None = None, family: Name | None = None
) -> Person:
    given = given or rng.choice(lists.given)
    sex = _sex_of(rng, given)
    return Person(
        given,
        rng.choice(lists.first_names("male")),
        family or rng.choice(lists.family),
        sex,
        _band(rng),
    )


def _record(
    rng: random.Random, person: Person, script: str, household: str, *, band: str | None = None
) -> Record:
    return Record(write(rng, person, script), person.sex, band or person.band, household)


def _label(scripts: tuple[str, str]) -> str:
    return (
        "-".join(sorted(scripts, reverse=True)) if scripts[0] != scripts[1] else f"{scripts[0]}-{scripts[1]}"
    )


def positive(rng: random.Random, lists: Lists, n: int) -> Pair:
    person = _person(rng, lists)
    scripts = _scripts(rng)
    household = f"h{n}"
    other = household if rng.random() < 0.1 else f"h{n}-again"
    a = _record(rng, person, scripts[0], household)
    band = _next_band(rng, person.band) if rng.random() < 0.15 else person.band
    b = _record(rng, person, scripts[1], other, band=band)
    if rng.random() < 0.1:
        b = Record(b.name, "unknown", b.age_band, b.household)
    return Pair(a, b, True, "same person", _label(scripts))


def negative(rng: random.Random, lists: Lists, similar: list[tuple[Name, Name]], n: int) -> Pair:
    kind = rng.choices(
        ["sibling", "similar stranger", "age namesake", "unisex", "random", "exact namesake"],
        weights=[30, 35, 10, 5, 19, 1],
    )[0]
    scripts = _scripts(rng)
    household = f"h{n}"
    if kind in ("sibling", "similar stranger"):
        first, second = rng.choice(similar) if similar and rng.random() < 0.75 else rng.sample(lists.given, 2)
        one = _person(rng, lists, given=first)
        if second.sex not in ("unknown", one.sex):
            second = rng.choice([n for n in lists.first_names(one.sex) if n != first])
        sex = one.sex
        family = one.family if kind == "sibling" or rng.random() < 0.5 else rng.choice(lists.family)
        father = one.father if kind == "sibling" else rng.choice(lists.first_names("male"))
        band = one.band if rng.random() < 0.6 else _next_band(rng, one.band)
        one = Person(one.given, one.father, one.family, sex, one.band)
        two = Person(second, father, family, sex, band)
        other = household if kind == "sibling" and rng.random() < 0.7 else f"h{n}-other"
        return Pair(
            _record(rng, one, scripts[0], household),
            _record(rng, two, scripts[1], other),
            False,
            kind,
            _label(scripts),
        )
    if kind == "age namesake":
        one = _person(rng, lists)
        far = [b for b in AGE_BANDS if abs(AGE_BANDS.index(b) - AGE_BANDS.index(one.band)) >= 2]
        two = Person(one.given, one.father, one.family, one.sex, rng.choice(far))
        other = household if rng.random() < 0.5 else f"h{n}-other"
        return Pair(
            _record(rng, one, scripts[0], household),
            _record(rng, two, scripts[1], other),
            False,
            kind,
            _label(scripts),
        )
    if kind == "unisex":
        unisex = [g for g in lists.given if g.sex == "unknown"] or lists.given
        one = _person(rng, lists, given=rng.choice(unisex))
        one = Person(one.given, one.father, one.family, "male", one.band)
        two = Person(one.given, rng.choice(lists.first_names("male")), one.family, "female", one.band)
        return Pair(
            _record(rng, one, scripts[0], household),
            _record(rng, two, scripts[1], f"h{n}-other"),
            False,
            kind,
            _label(scripts),
        )
    one = _person(rng, lists)
    if kind == "exact namesake":
        two = one
    else:
        two = _person(rng, lists, given=rng.choice(lists.first_names(one.sex)))
        two = Person(two.given, two.father, two.family, one.sex, one.band)
    return Pair(
        _record(rng, one, scripts[0], household),
        _record(rng, two, scripts[1], f"h{n}-other"),
        False,
        kind,
        _label(scripts),
    )


def pairs(lists: Lists, count: int, seed: int) -> list[Pair]:
    """``count`` pairs, a third of them the same person."""
    rng = random.Random(seed)
    similar = confusable(lists)
    made = []
    for n in range(count):
        made.append(positive(rng, lists, n) if n % 3 == 0 else negative(rng, lists, similar, n))
    return made


def seen_pairs(count: int = 3000, seed: int = 7) -> list[Pair]:
    return pairs(read_lists(SEEN), count, seed)


def held_out_pairs(count: int = 1500, seed: int = 11) -> list[Pair]:
    return pairs(read_lists(HELD_OUT), count, seed)
