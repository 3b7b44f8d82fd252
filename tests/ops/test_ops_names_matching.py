"""Duplicate detection: spellings and scripts of one name match, near names of different people
do not, and on the labelled pairs (tests/name_pairs.py) precision is at least 0.95 at a recall of
at least 0.9, candidates found by their blocking keys, on names the matcher knows and on names it
has never seen."""

from __future__ import annotations

import pytest

from corridor.ops.matching import (
    THRESHOLD,
    Record,
    block_key,
    block_keys,
    name_similarity,
    same_person,
    score,
    split_name,
    words_of,
)
from name_pairs import HELD_OUT, Pair, held_out_pairs, read_lists, seen_pairs


def similar(a: str, b: str) -> float:
    return name_similarity(words_of(a), words_of(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohammed", "Muhammad"),
        ("Mohamed", "محمد"),
        ("Muhammad", "مُحَمَّد"),
        ("Abd al-Rahman", "Abdulrahman"),
        ("Abdel Rahman", "عبد الرحمن"),
        ("عبدالرحمن", "Abd-al-Rahman"),
        ("Hussein al-Halabi", "Husayn el-Halabi"),
        ("Hussein Alhalabi", "حسين الحلبي"),
        ("Mohammed bin Ali", "Mohammed Ali"),
        ("Mohammed ibn Ali Haddad", "Mohammed Ali Haddad"),
        ("Haddad Mohammed Ali", "Mohammed Ali Haddad"),
        ("Mohammed Ali Haddad", "Mohammed Haddad"),
        ("Youssef", "Yusuf"),
        ("Fatimah", "فاطمة"),
        ("Leila", "ليلى"),
        ("Tartousi", "طرطوسي"),  # not a name the matcher knows: letters against letters
    ],
)
def test_spellings_and_scripts_of_one_name_match(a: str, b: str) -> None:
    assert similar(a, b) >= THRESHOLD, (a, b, similar(a, b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ali", "Alaa"),
        ("Ali", "Layla"),
        ("Alaa", "Layla"),
        ("Hussein", "Hassan"),
        ("حسين", "Hassan"),
        ("Omar", "Amr"),
        ("عمر", "Amr"),
        ("Mohammed", "Mahmoud"),
        ("محمد", "محمود"),
        ("Bashir", "بشار"),
        ("Hani", "هادي"),
        ("Omar Haddad", "Amr Haddad"),
    ],
)
def test_near_names_of_different_people_do_not_match(a: str, b: str) -> None:
    assert similar(a, b) < THRESHOLD, (a, b, similar(a, b))


def test_articles_particles_and_compounds_are_words_of_their_own() -> None:
    assert split_name("Abd al-Rahman ibn Ali ash-Shami") == ["abdrahman", "ali", "shami"]
    assert split_name("عبد الرحمن بن علي الشامي") == ["عبدرحمن", "علي", "شامي"]
    assert split_name("Nour el-Din") == ["nourdin"]
    assert split_name("  ") == []


def test_sex_age_band_and_household_decide_with_the_name() -> None:
    man = Record("Alaa Haddad", "male", "18-59", "h1")
    assert same_person(man, Record("علاء حداد", "male", "18-59", "h2"))
    assert not same_person(man, Record("Alaa Haddad", "female", "18-59", "h2"))  # another sex
    assert same_person(man, Record("Alaa Haddad", "unknown", "18-59", "h2"))
    assert not same_person(man, Record("Alaa Haddad", "male", "0-4", "h2"))  # a grandson
    # A father and his son: the son's name holds the father's; their ages tell them apart.
    assert not same_person(Record("Ali Hassan", "male", "60+"), Record("Mohammed Ali Hassan", "male", "5-11"))
    assert score(man, Record("Alaa Haddad", "male", "12-17", "h2")) < score(
        man, Record("Alaa Haddad", "male", "18-59", "h2")
    )
    # One household: near names are brothers and sisters, the same name typed twice is not.
    assert same_person(man, Record("Alaa Haddad", "male", "18-59", "h1"))
    twin = Record("Hamid Omar Haddad", "male", "18-59", "h1")
    assert not same_person(twin, Record("Hamad Omar Haddad", "male", "18-59", "h1"))


def test_blocking_keys_are_shared_by_spellings_and_orders() -> None:
    stored = block_key("Mohammed Ali al-Halabi")
    assert stored is not None
    for name in ["محمد علي الحلبي", "Muhammad el-Halabi", "Halabi Mohamed Ali", "Mohammed bin Ali Alhalabi"]:
        assert stored in block_keys(name), name
    assert block_key("...") is None and block_keys("") == []


def test_held_out_names_are_not_known_to_the_matcher() -> None:
    from corridor.ops.matching import _lexicon

    known = set(_lexicon())
    unseen = read_lists(HELD_OUT)
    assert not {w for n in unseen.given + unseen.family for w in split_name(n.arabic)} & known


def _measure(pairs: list[Pair]) -> tuple[float, float]:
    found = [p for p in pairs if block_key(p.a.name) in block_keys(p.b.name) and score(p.a, p.b) >= THRESHOLD]
    true = sum(1 for p in found if p.same)
    return true / len(found), true / sum(1 for p in pairs if p.same)


@pytest.mark.parametrize("make", [seen_pairs, held_out_pairs], ids=["seen names", "held-out names"])
def test_precision_and_recall_on_the_labelled_pairs(make: type) -> None:
    pairs = make()
    assert len(pairs) >= 1500 and sum(p.same for p in pairs) >= 500
    precision, recall = _measure(pairs)
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)
