"""Name skeletons: one spelling-free key for the variants of a name, in Arabic or Latin script.

Registrars write the same name many ways: "Mohammed", "Muhammad", "Mohamad", "محمد". The skeleton
keeps the consonants only, maps Arabic letters and Latin digraphs to one Latin consonant each, drops
the article ("al-", "el-", "ال") and sorts the words, so all four give ``"mhmd"``. The skeleton
is stored as a keyed hash (``name_index``) and serves only to find *candidates* quickly, as a
blocking key: whether a candidate may be the same person is decided by
:mod:`corridor.ops.matching` on the names themselves, with sex, age band and household. A
skeleton merges names that only share consonants (Hussein and Hassan are both ``hsn``), which is
what a blocking key should do and what a decision must not.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d",
    "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
    "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h",
    "پ": "b", "چ": "j", "ڤ": "f", "گ": "k",
}  # fmt: skip
# Letters that stand for vowels, hamza or ayn, which transliterations write in many ways or omit.
_ARABIC_SILENT = set("اأإآٱوؤيىئءةع")
_DIGRAPHS = [("kh", "k"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"),
             ("ph", "f"), ("q", "k"), ("c", "k"), ("x", "ks"), ("dj", "j"), ("g", "j")]  # fmt: skip
_LATIN_SILENT = set("aeiouyw'’`ʿʾ")
_ARTICLES = ("al", "el", "ul")
_ABD = re.compile(r"^abd(?:ul|el|al|ol)")


def name_skeleton(name: str) -> str:
    """The spelling-free key of a person's name (empty for a name with no letters)."""
    words = [_word_skeleton(word) for word in _words(name)]
    return " ".join(sorted(w for w in words if w))


def candidate_skeletons(name: str) -> list[str]:
    """The skeletons under which an earlier registration of the same person may be stored: the
    name's own, and each with one word left out (the other registration lacked a father's name,
    an "ibn" or a second family name). The name's own comes first; none for a name with no letters."""
    words = sorted(w for w in (_word_skeleton(word) for word in _words(name)) if w)
    found = [" ".join(words)] if words else []
    if len(words) > 1:
        for index in range(len(words)):
            shorter = " ".join(words[:index] + words[index + 1 :])
            if shorter not in found:
                found.append(shorter)
    return found


def _words(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch) and ch != "\u0640")
    parts: list[str] = []
    for word in re.split(r"[\s\-_.,/]+", text):
        if word.startswith("عبد") and len(word) > 4:
            parts.append("عبد")
            word = word[3:]
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        if word in _ARTICLES or word == "ال":
            continue
        word = _ABD.sub("abd ", word)
        parts.extend(word.split())
    return parts


def _word_skeleton(word: str) -> str:
    if any("\u0600" <= ch <= "\u06ff" for ch in word):
        letters = "".join(_ARABIC.get(ch, "") for ch in word if ch not in _ARABIC_SILENT)
    else:
        for digraph, single in _DIGRAPHS:
            word = word.replace(digraph, single)
        letters = "".join(ch for ch in word if ch.isalpha() and ch not in _LATIN_SILENT)
    letters = re.sub(r"(.)\1+", r"\1", letters)
    return letters[:-1] if len(letters) > 2 and letters.endswith("h") else letters
