"""Is this the same person? Name similarity across Arabic and Latin spellings, decided with sex,
age band and household.

A name is cut into words; the article ("al-", "el-", "ash-", "ال"), "ibn"/"bin" and marks are
dropped and compounds are joined ("Abd al-Rahman", "Abdulrahman" and "عبد الرحمن" are one word).
Each word gets a key in one Latin spelling in which the ways of writing a vowel or a consonant
are one letter: "Mohammed", "Muhammad" and "Mohamed" all read ``muhamad`` (``e`` reads as ``a``
and as ``i``, both are tried), "Hussein" and "Husayn" ``husin``; "Mahmoud" stays ``mahmud`` and
"Hassan" ``hasan``, so the names that only share consonants stay apart. An Arabic word takes the
key of its usual romanization when it is a known name (``data/arabic_names.json``); otherwise its
letters are compared with the consonants and long vowels of the Latin word.

Words are compared with RapidFuzz's indel similarity; a name's similarity is that of its *worst*
matched word (two brothers share every name but one), a word fewer costs a little (a father's name
left out) and the first name must match the first name when the counts differ. The decision adds
what a registrar knows: a different sex, or age bands further apart than the next band, is never
the same person; in the same household two people with near names are siblings unless the names
are the same; an adjacent age band asks for a closer name.

Nothing here merges anyone: a match is shown to the registrar as a possible duplicate.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import permutations, product

from rapidfuzz.distance import Indel

# Two people are flagged at or above this score (see bench/duplicates.py for the curve).
THRESHOLD = 0.83
AGE_BANDS = ("0-4", "5-11", "12-17", "18-59", "60+")
# Score taken off for an age band next to the other's, for each word one name lacks, and the
# score two people of one household need (siblings share all but their first names).
ADJACENT_BAND_PENALTY = 0.06
MISSING_WORD_PENALTY = 0.04
SAME_HOUSEHOLD_NEEDS = 0.92

_ARABIC_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ؤ": "و", "ئ": "ي", "ة": "ه"}
)
_SPLIT = re.compile(r"[\s\-_.,/()'’`ʿʾ\"]+")
_ARTICLES = {"al", "el", "ul", "il", "l"}
_SUN_ARTICLES = {
    "as",
    "ash",
    "ad",
    "ar",
    "an",
    "az",
    "at",
    "ath",
    "adh",
    "es",
    "esh",
    "ed",
    "er",
    "en",
    "ez",
    "et",
}
_PARTICLES = {"ibn", "bin", "bint", "ben", "ebn", "ابن", "بن", "بنت"}
_ABD = re.compile(r"^abd(?:ul|el|al|ol|il|u|e|a|o|i)?(?=[a-z]{3})")
_COMPOUND_HEADS = {"abd", "abdul", "abdel", "abdal", "abdol", "abu", "abou", "abo"}
_DIN = {"din", "deen", "dine", "eddin", "eddine", "uddin", "addin", "iddin", "aldin", "eldin", "ud", "ed"}
_LATIN_DIGRAPHS = [
    ("kh", "k"), ("gh", "G"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"), ("ph", "f"),
    ("dj", "j"), ("q", "k"), ("c", "k"), ("x", "ks"), ("g", "j"), ("p", "b"), ("v", "f"), ("G", "g"),
]  # fmt: skip
_LATIN_VOWELS = [("ou", "u"), ("oo", "u"), ("uu", "u"), ("ee", "i"), ("ii", "i"), ("ie", "i"),
                 ("ei", "i"), ("ey", "i"), ("ai", "i"), ("ay", "i"), ("aa", "a"), ("o", "u")]  # fmt: skip
_ARABIC_SOUNDS = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d",
    "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "پ": "b", "چ": "j", "ڤ": "f", "گ": "j", "ا": "A", "و": "U", "ي": "I", "ة": "A", "ع": "", "ء": "",
}  # fmt: skip


@dataclass(frozen=True)
class Word:
    """One word of a name: its keys in the common Latin spelling (several when a letter reads two
    ways), or, for an Arabic word that is not a known name, its consonants and long vowels."""

    text: str
    keys: tuple[str, ...]
    arabic: str | None = None  # consonants and long vowels (A, I, U) of an unknown Arabic word
    skeleton: str = ""  # consonants and long vowels of a Latin word, to compare with ``arabic``


@dataclass(frozen=True)
class Record:
    """What the registrar knows of a person."""

    name: str
    sex: str = "unknown"
    age_band: str = "unknown"
    household: str | None = None


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_LETTERS)
    # Latin accents off (é -> e, ā -> a); Arabic letters have no combining marks left.
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    ).translate(_ARABIC_LETTERS)


def split_name(name: str) -> list[str]:
    """The words of a name that tell people apart: no articles, no ibn/bin, compounds joined."""
    raw = [w for w in _SPLIT.split(_normal(name)) if w]
    words: list[str] = []
    index = 0
    while index < len(raw):
        word = raw[index]
        following = raw[index + 1] if index + 1 < len(raw) else None
        if word in _PARTICLES or word == "ال":
            index += 1
            continue
        if word in _ARTICLES and following is not None:
            index += 1
            continue
        if word in _SUN_ARTICLES and following is not None and following.startswith(word[1:]):
            index += 1
            continue
        if _is_arabic(word):
            word = _arabic_word(word)
            if word in ("عبد", "ابو") and following is not None:
                words.append(word + _arabic_word(following))
                index += 2
                continue
        else:
            if word in _COMPOUND_HEADS and following is not None:
                rest = (
                    raw[index + 2]
                    if following in _ARTICLES | _SUN_ARTICLES and index + 2 < len(raw)
                    else None
                )
                head = "abu" if word.startswith("ab") and not word.startswith("abd") else "abd"
                words.append(head + _latin_article_off(rest if rest is not None else following))
                index += 3 if rest is not None else 2
                continue
            if word in _DIN and words:
                words[-1] += "din"
                index += 1
                continue
            word = _latin_article_off(_ABD.sub("abd", word))
        words.append(word)
        index += 1
    return words


def _arabic_word(word: str) -> str:
    if word.startswith("عبدال") and len(word) > 6:
        return "عبد" + word[5:]
    return word[2:] if word.startswith("ال") and len(word) > 3 else word


def _latin_article_off(word: str) -> str:
    """ "alhalabi" -> "halabi"; a word left with fewer than four letters keeps it (Alaa, Ali)."""
    for article in ("al", "el", "ul"):
        if word.startswith(article) and len(word) >= len(article) + 4:
            return word[len(article) :]
    return word


def latin_keys(word: str) -> tuple[str, ...]:
    """The word in the common Latin spelling; ``e`` read as ``a`` and as ``i``."""
    text = "".join(ch for ch in word if "a" <= ch <= "z")
    if text.endswith("h") and len(text) > 2 and text[-2] in "aeiou":
        text = text[:-1]
    # y and w are consonants before a vowel or at the start; otherwise vowels (i, u).
    text = re.sub(r"y(?![aeiou])(?!^)", "i", text)
    text = re.sub(r"(?<=[aeiou])w(?![aeiou])", "u", text)
    for digraph, single in _LATIN_DIGRAPHS:
        text = text.replace(digraph, single)
    for digraph, single in _LATIN_VOWELS:
        text = text.replace(digraph, single)
    text = re.sub(r"(.)\1+", r"\1", text)
    if "e" not in text:
        return (text,)
    # Each e is a or i (Ahmed, Leila) or no vowel at all (Youssef for Yusuf, Fatme); past three
    # e the same reading is taken for all.
    parts = text.split("e")
    count = len(parts) - 1
    readings = list(product("ai", repeat=count)) if count <= 3 else [("a",) * count, ("i",) * count]
    keys = {_single("".join(p + v for p, v in zip(parts, (*r, ""), strict=True))) for r in readings}
    keys.add(_single(text.replace("e", "")))
    return tuple(sorted(keys))


def _single(text: str) -> str:
    return re.sub(r"(.)\1+", r"\1", text)


def _latin_skeleton(word: str) -> str:
    """A Latin word as Arabic letters would hold it: consonants; long vowels (a doubled vowel or
    a diphthong) as A, I, U; single vowels as a, i, u (``e`` stays: it reads as a or i); the
    first vowel of the word dropped (Arabic starts it with a letter of its own)."""
    text = "".join(ch for ch in word if "a" <= ch <= "z")
    if text.endswith("h") and len(text) > 2 and text[-2] in "aeiou":
        text = text[:-1]
    for digraph, single in _LATIN_DIGRAPHS:
        text = text.replace(digraph, single)
    for pattern, long in (("ou|oo|uu", "U"), ("ee|ii|ie|ei|ey|ai|ay", "I"), ("aa", "A")):
        text = re.sub(pattern, long, text)
    text = re.sub(r"y(?![aeiouAIU])", "i", text).replace("o", "u")
    text = re.sub(r"^[aeiuAIU]+", "V", text)
    return re.sub(r"(.)\1+", r"\1", text)


# What a letter of the Arabic word may stand for in the Latin one (و and ي are also w and y).
_SAME_VOWEL = {"A": "aAe", "I": "iIey", "U": "uUw", "E": "aAeiIy"}


@lru_cache(maxsize=16384)
def _script_distance(arabic: str, latin: str) -> float:
    """Edits from an Arabic word's letters (consonants, long vowels A I U) to a Latin word's
    (:func:`_latin_skeleton`): a short Latin vowel that Arabic does not write is free, a long
    vowel written on one side only costs 1, a long vowel read as the Latin vowel of its kind is
    free; any other change costs 1. Returned per letter of the longer side (0..1)."""
    rows, cols = len(arabic), len(latin)
    previous = [0.0] * (cols + 1)
    for j in range(1, cols + 1):
        previous[j] = previous[j - 1] + (0.0 if latin[j - 1] in "aiue" else 1.0)
    for i in range(1, rows + 1):
        current = [previous[0] + 1.0] + [0.0] * cols
        a = arabic[i - 1]
        for j in range(1, cols + 1):
            b = latin[j - 1]
            same = a == b or b in _SAME_VOWEL.get(a, "")
            current[j] = min(
                previous[j - 1] + (0.0 if same else 1.0),
                previous[j] + 1.0,
                current[j - 1] + (0.0 if b in "aiue" else 1.0),
            )
        previous = current
    longest = max(rows, sum(1 for ch in latin if ch not in "aiue"), 1)
    return min(previous[cols] / longest, 1.0)


def _arabic_skeleton(word: str) -> str:
    """Consonants and long vowels (A, I, U) of an Arabic word; V for the alif or ayn it starts
    with (a Latin word starts with a vowel there)."""
    start = ""
    if word[:1] in ("ا", "ع"):
        start, word = "V", word[2:] if word[1:2] in ("ي", "و") else word[1:]
    elif word[:1] in ("ي", "و"):
        start, word = {"ي": "y", "و": "w"}[word[0]], word[1:]
    letters = "".join(_ARABIC_SOUNDS.get(ch, "") for ch in word)
    if letters.endswith(("h", "I")):
        # ة written ه, and ى written ي (Yusra, Huda): a long vowel of either kind.
        letters = letters[:-1] + ("A" if letters.endswith("h") else "E")
    return re.sub(r"(.)\1+", r"\1", start + letters)


@cache
def _lexicon() -> dict[str, tuple[str, ...]]:
    """Known Arabic names (one word once split) -> the keys of their usual romanization."""
    source = resources.files("corridor.ops").joinpath("data", "arabic_names.json")
    found: dict[str, tuple[str, ...]] = {}
    for row in json.loads(source.read_text(encoding="utf-8"))["names"]:
        arabic, latin = split_name(row["arabic"]), split_name(row["romanized"])
        if len(arabic) == 1 and len(latin) == 1:
            found[arabic[0]] = latin_keys(latin[0])
    return found


@lru_cache(maxsize=16384)
def word_of(text: str) -> Word:
    if not _is_arabic(text):
        return Word(text, latin_keys(text), skeleton=_latin_skeleton(text))
    known = _lexicon().get(text)
    if known is not None:
        return Word(text, known)
    return Word(text, (), arabic=_arabic_skeleton(text))


@lru_cache(maxsize=4096)
def words_of(name: str) -> tuple[Word, ...]:
    return tuple(word_of(w) for w in split_name(name))


def word_similarity(a: Word, b: Word) -> float:
    """0..1: how alike two words sound, whatever their scripts."""
    if a.keys and b.keys:
        return max(Indel.normalized_similarity(x, y) for x in a.keys for y in b.keys)
    if a.arabic is not None and b.arabic is not None:
        return Indel.normalized_similarity(a.text, b.text)
    unknown, other = (a, b) if a.arabic is not None else (b, a)
    assert unknown.arabic is not None
    if other.skeleton:
        return 1.0 - _script_distance(unknown.arabic, other.skeleton)
    # A known Arabic name against an unknown one: their letters.
    return Indel.normalized_similarity(unknown.text, other.text)


def name_similarity(a: tuple[Word, ...], b: tuple[Word, ...]) -> float:
    """0..1: the similarity of the worst matched word, the words paired at best; a word one name
    lacks costs ``MISSING_WORD_PENALTY`` and then the first words must match each other."""
    if not a or not b:
        return 0.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) == len(long):
        return _paired(short, long)
    # Fewer words: the first to the first, the rest in order (a name left out in between); one
    # of the two may be written family name first.
    best = max(
        min(word_similarity(s[0], w[0]), _in_order(s[1:], w[1:]))
        for s, w in ((short, long), (_family_last(short), long), (short, _family_last(long)))
    )
    return best - MISSING_WORD_PENALTY * (len(long) - len(short))


def _family_last(words: tuple[Word, ...]) -> tuple[Word, ...]:
    """A name written family name first, in the usual order (its first word put last)."""
    return (*words[1:], words[0])


def _paired(short: tuple[Word, ...], long: tuple[Word, ...]) -> float:
    """Names of as many words: paired in the best order (in the order written past four)."""
    if len(short) > 4:
        return min(word_similarity(x, y) for x, y in zip(short, long, strict=True))
    return max(
        min(word_similarity(x, y) for x, y in zip(short, order, strict=True)) for order in permutations(long)
    )


def _in_order(short: tuple[Word, ...], long: tuple[Word, ...]) -> float:
    if not short:
        return 1.0
    if len(short) > len(long):
        return 0.0
    return max(
        min(word_similarity(short[0], long[i]), _in_order(short[1:], long[i + 1 :]))
        for i in range(len(long) - len(short) + 1)
    )


def names_alike(a: str, b: str) -> float:
    """:func:`name_similarity` of two names as written."""
    return name_similarity(words_of(a), words_of(b))


def _bands_apart(a: str, b: str) -> int | None:
    if a not in AGE_BANDS or b not in AGE_BANDS:
        return None
    return abs(AGE_BANDS.index(a) - AGE_BANDS.index(b))


def score(a: Record, b: Record, alike: Callable[[str, str], float] = names_alike) -> float:
    """0..1: how likely ``a`` and ``b`` are one person (0 when sex or age rule it out)."""
    if a.sex in ("female", "male") and b.sex in ("female", "male") and a.sex != b.sex:
        return 0.0
    apart = _bands_apart(a.age_band, b.age_band)
    if apart is not None and apart > 1:
        return 0.0
    words_a, words_b = words_of(a.name), words_of(b.name)
    similarity = alike(a.name, b.name)
    if apart == 1:
        similarity -= ADJACENT_BAND_PENALTY
    if a.household is not None and a.household == b.household:
        # In one household near names are brothers and sisters, not one person twice: the
        # words that are there must be (nearly) the same, a word left out aside.
        missing = abs(len(words_a) - len(words_b)) * MISSING_WORD_PENALTY
        if similarity + missing + (ADJACENT_BAND_PENALTY if apart == 1 else 0.0) < SAME_HOUSEHOLD_NEEDS:
            similarity -= 0.2
    return max(similarity, 0.0)


def same_person(a: Record, b: Record, threshold: float = THRESHOLD) -> bool:
    return score(a, b) >= threshold


# --- blocking: the keys under which candidates are looked up -----------------------------------


def _consonants(word: Word) -> str:
    """A coarse code of a word, the same in both scripts and most spellings: its consonants
    (w and y, which stand for vowels as often, left out)."""
    text = word.keys[0] if word.keys else word.arabic or ""
    return _single("".join(ch for ch in text if ch in "bdfghjklmnrstzq"))


def block_key(name: str) -> str | None:
    """The key a person is stored under: the codes of the first and the last word (the given and
    the family name; a father's name left out keeps them), sorted. None for a name with no letters."""
    codes = [c for c in (_consonants(w) for w in words_of(name)) if c]
    if not codes:
        return None
    return " ".join(sorted({codes[0], codes[-1]}))


def block_keys(name: str) -> list[str]:
    """The keys under which an earlier registration of the same person may be stored: its own
    key (first), and the keys it would have if one of the two names was written family name
    first ("Halabi Mohammed Ali" for "Mohammed Ali Halabi")."""
    codes = [c for c in (_consonants(w) for w in words_of(name)) if c]
    if not codes:
        return []
    keys = [" ".join(sorted({codes[0], codes[-1]}))]
    if len(codes) > 2:
        for pair in ((codes[0], codes[1]), (codes[-2], codes[-1])):
            key = " ".join(sorted(set(pair)))
            if key not in keys:
                keys.append(key)
    return keys
