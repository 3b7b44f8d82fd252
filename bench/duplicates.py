"""Duplicate detection: precision and recall on the labelled pairs, and what an import flags.

    .venv/bin/python -m bench.duplicates                 # the table and both imports
    .venv/bin/python -m bench.duplicates --skip-import   # the table only (seconds)

1. Precision and recall, threshold by threshold, on the labelled pairs of ``tests/name_pairs.py``
   (names the matcher knows, and names it has never seen), end to end: a pair counts as found
   only when its blocking key is among the other's look-up keys *and* the matcher's score is at
   or above the threshold. The old matcher (same spelling-free skeleton, age band and sex) is
   measured on the same pairs as a peer.
2. The East Aleppo example's 9,000 people as a field form's CSV export: households at the
   example's gathering points (``examples/east-aleppo-2016/sources.csv``, scaled to 9,000), names
   drawn from the name lists (a father's name shared by his children, a family name by the
   household), and 1.5% of the households registered a second time at another gathering point,
   spelled otherwise (``name_pairs.write``). Imported into an empty operation on SQLite through
   the import the server uses; the people flagged are counted, and how many of them are the
   people registered twice. The old matcher's count on the same file is given beside it.
3. A 20,000-row import of people whose names are all alike (four given names, three families):
   the case that took 230 s when every look-up read every person of a skeleton.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corridor.ops.matching import THRESHOLD, block_key, block_keys, score  # noqa: E402
from corridor.ops.names import name_skeleton  # noqa: E402
from corridor.server.runtime import Runtime  # noqa: E402
from name_pairs import (  # type: ignore[import-not-found, unused-ignore]  # noqa: E402
    SEEN,
    Lists,
    Name,
    Pair,
    Person,
    held_out_pairs,
    read_lists,
    seen_pairs,
    write,
)

THRESHOLDS = (0.75, 0.8, 0.83, 0.86, 0.9, 0.95)


def _old_matcher(pair: Pair) -> bool:
    """The matcher this replaces: the same skeleton, age band and sex."""
    return (
        bool(name_skeleton(pair.a.name))
        and name_skeleton(pair.a.name) == name_skeleton(pair.b.name)
        and pair.a.age_band == pair.b.age_band
        and pair.a.sex == pair.b.sex
    )


def _rates(pairs: Sequence[Pair], found: Callable[[Pair], bool]) -> tuple[float, float, int]:
    flagged = [p for p in pairs if found(p)]
    true = sum(1 for p in flagged if p.same)
    positives = sum(1 for p in pairs if p.same)
    return (true / len(flagged) if flagged else 1.0), true / positives, len(flagged) - true


def table() -> None:
    print("## Precision and recall on the labelled pairs (end to end: blocking keys, then the score)\n")
    print("| pairs | matcher | threshold | precision | recall | false matches |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, pairs in (("seen names", seen_pairs()), ("held-out names", held_out_pairs())):
        found = {id(p): (block_key(p.a.name) in block_keys(p.b.name), score(p.a, p.b)) for p in pairs}
        size = f"{label} ({len(pairs)}, {sum(p.same for p in pairs)} same)"
        for threshold in THRESHOLDS:

            def above(pair: Pair, at: float = threshold, seen: dict[int, tuple[bool, float]] = found) -> bool:
                blocked, value = seen[id(pair)]
                return blocked and value >= at

            precision, recall, wrong = _rates(pairs, above)
            mark = " (default)" if threshold == THRESHOLD else ""
            print(f"| {size} | this | {threshold}{mark} | {precision:.3f} | {recall:.3f} | {wrong} |")
        precision, recall, wrong = _rates(pairs, _old_matcher)
        print(f"| {size} | old skeleton | - | {precision:.3f} | {recall:.3f} | {wrong} |")
        kinds = Counter(
            p.kind for p in pairs if not p.same and found[id(p)][0] and found[id(p)][1] >= THRESHOLD
        )
        print(f"\nFalse matches at {THRESHOLD} on {label}, by kind: {dict(kinds)}\n")


# --- the example's people ---------------------------------------------------------------------


def example_rows(
    seed: int = 2016, people: int = 9000, twice: float = 0.015
) -> tuple[list[list[str]], set[str], int]:
    """The example's people as a form export's rows (header first), the households that are a
    second registration, and how many people are in them."""
    rng = random.Random(seed)
    lists = read_lists(SEEN)
    with (ROOT / "examples" / "east-aleppo-2016" / "sources.csv").open(encoding="utf-8") as handle:
        sources = [(r["id"], int(r["people"])) for r in csv.DictReader(handle)]
    total = sum(n for _, n in sources)
    rows = [["household_id", "name", "sex", "age", "gathering_point"]]
    repeated = 0
    again: set[str] = set()
    number = 0
    for point, count in sources:
        left = round(count * people / total)
        while left > 0:
            members = _household(rng, lists, min(left, rng.randint(1, 7)))
            number += 1
            script = rng.choice(["arabic", "latin"])
            for person in members:
                rows.append(
                    [f"hh-{number}", write(rng, person, script), person.sex, _age(rng, person.band), point]
                )
            left -= len(members)
            if rng.random() < twice:
                number += 1
                again.add(f"hh-{number}")
                other = rng.choice([p for p, _ in sources if p != point])
                script = "latin" if script == "arabic" else "arabic"
                for person in members:
                    rows.append(
                        [
                            f"hh-{number}",
                            write(rng, person, script),
                            person.sex,
                            _age(rng, person.band),
                            other,
                        ]
                    )
                    repeated += 1
    return rows, again, repeated


def _household(rng: random.Random, lists: Lists, size: int) -> list[Person]:
    family = rng.choice(lists.family)
    father = Person(
        rng.choice(lists.first_names("male")),
        rng.choice(lists.first_names("male")),
        family,
        "male",
        rng.choice(["18-59", "60+"]),
    )
    members = [father]
    if size > 1:
        members.append(
            Person(
                rng.choice(lists.first_names("female")),
                rng.choice(lists.first_names("male")),
                rng.choice(lists.family),
                "female",
                "18-59",
            )
        )
    while len(members) < size:
        sex = rng.choice(["male", "female"])
        given: Name = rng.choice(lists.first_names(sex))
        members.append(Person(given, father.given, family, sex, rng.choice(["0-4", "5-11", "12-17"])))
    return members


def _age(rng: random.Random, band: str) -> str:
    low, high = {"0-4": (0, 4), "5-11": (5, 11), "12-17": (12, 17), "18-59": (18, 59), "60+": (60, 85)}[band]
    return str(rng.randint(low, high))


def demo_rows(people: int = 9000) -> list[list[str]]:
    """The demo operation's people as ``corridor serve --demo`` seeds them (``server/seed.py``:
    ten first names, six families, sex and age band drawn at random), as a form export."""
    from corridor.server.seed import _household

    rng = random.Random(2016)
    rows = [["household_id", "name", "sex", "age_band"]]
    number = 0
    while len(rows) <= people:
        body = _household(rng, number, ["gp-a"])
        rows += [[f"demo-{number}", p.name, p.sex, p.age_band] for p in body.people]
        number += 1
    return rows


def alike_rows(people: int = 20000, seed: int = 5) -> list[list[str]]:
    """People whose names are all alike: four given names and three families, five a household."""
    rng = random.Random(seed)
    given = ["Mohammed", "محمد", "Ahmad", "أحمد"]
    family = ["Halabi", "الحلبي", "Haddad"]
    rows = [["household_id", "name", "sex", "age"]]
    for n in range(people):
        rows.append(
            [f"hh-{n // 5}", f"{rng.choice(given)} {rng.choice(given)} {rng.choice(family)}", "male", "30"]
        )
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _operation(folder: str, label: str) -> tuple[Runtime, str]:
    from corridor.server.db import upgrade
    from corridor.server.operations import service as operations
    from corridor.server.operations.schemas import OperationIn, PointIn
    from corridor.server.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{folder}/bench.db", data_dir=Path(folder), key_file=Path(folder) / "key"
    )
    upgrade(settings.database_url)
    runtime = Runtime.start(settings)
    route = [
        PointIn(id="start", name="al-Amiriyah", kind="departure", expected_minutes=0),
        PointIn(id="end", name="al-Rashideen", kind="arrival", expected_minutes=55),
    ]
    with runtime.db.writing() as session:
        operation_id = operations.create(
            session, OperationIn(name=label, scenario_name="bench", route=route)
        ).id
    return runtime, operation_id


def imported(rows: list[list[str]], label: str) -> tuple[int, float]:
    """Import ``rows`` into an empty operation on SQLite as the server does (:func:`imports.store`):
    (people flagged, seconds)."""
    from corridor.server.registration import imports

    with tempfile.TemporaryDirectory() as folder:
        runtime, operation_id = _operation(folder, label)
        prepared = imports.prepare("people.csv", _csv(rows), accept_valid_rows=False, max_rows=len(rows))
        began = time.perf_counter()
        report = imports.store(
            runtime.db, sealer=runtime.sealer, operation_id=operation_id, prepared=prepared
        )
        seconds = time.perf_counter() - began
        runtime.stop()
    return report.possible_duplicates, seconds


def attributed(rows: list[list[str]], repeated: set[str]) -> tuple[int, int, int]:
    """Import ``rows`` household by household (500 people a transaction, as the import does) and
    sort the people flagged: (people, flagged, flagged who are in a household registered twice)."""
    from corridor.server.registration import duplicates, imports, service

    with tempfile.TemporaryDirectory() as folder:
        runtime, operation_id = _operation(folder, "attributed")
        prepared = imports.prepare("people.csv", _csv(rows), accept_valid_rows=False, max_rows=len(rows))
        names = duplicates.Names(runtime.sealer)
        flagged = true = people = 0
        pending = list(prepared.households)
        while pending:
            chunk, size = [], 0
            while pending and size < imports.CHUNK_PEOPLE:
                chunk.append(pending.pop(0))
                size += len(chunk[-1][2].people)
            with runtime.db.writing() as session:
                for key, _rows, body in chunk:
                    done = service.register_household(
                        session,
                        sealer=runtime.sealer,
                        operation_id=operation_id,
                        body=body,
                        names=names,
                    )
                    people += len(body.people)
                    flagged += len(done.duplicates)
                    true += len(done.duplicates) if key in repeated else 0
        runtime.stop()
    return people, flagged, true


def _old_flags(rows: list[list[str]]) -> int:
    """People the old matcher would flag: someone earlier in the file with the same skeleton,
    age band and sex."""
    seen: set[tuple[str, str, str]] = set()
    flagged = 0
    banded = rows[0][3] == "age_band"
    for _household, name, sex, age, *_ in rows[1:]:
        key = (name_skeleton(name), age if banded else imports_band(age), sex)
        if key[0] and key in seen:
            flagged += 1
        seen.add(key)
    return flagged


def imports_band(age: str) -> str:
    for upper, band in ((5, "0-4"), (12, "5-11"), (18, "12-17"), (60, "18-59")):
        if float(age) < upper:
            return band
    return "60+"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--only-imports", action="store_true", help="no precision/recall table")
    args = parser.parse_args()
    if not args.only_imports:
        table()
    if args.skip_import:
        return
    rows, again, repeated = example_rows()
    people, flagged, true = attributed(rows, again)
    print("## Importing the example's people\n")
    print(
        f"{people} people in {len(rows) - 1} rows; {repeated} of them "
        f"(in {len(again)} households) registered twice."
    )
    print(
        f"Flagged as possible duplicates: {flagged}, of whom {true} are in a household registered twice "
        f"(the old matcher: {_old_flags(rows)} on the same file).\n"
    )
    flagged, seconds = imported(rows, "east-aleppo-bench")
    print(f"The import as the server runs it: {seconds:.1f} s, {flagged} flagged.\n")
    rows = demo_rows()
    people, flagged, _ = attributed(rows, set())
    print(f"## The demo's {people} people (ten first names, six families, no one registered twice)\n")
    print(f"Flagged: {flagged} (the old matcher: {_old_flags(rows)}).\n")
    rows = alike_rows()
    flagged, seconds = imported(rows, "alike-bench")
    print(f"## {len(rows) - 1} people with alike names\n")
    print(f"Imported in {seconds:.1f} s; {flagged} flagged (the old matcher: {_old_flags(rows)}).")


if __name__ == "__main__":
    main()
