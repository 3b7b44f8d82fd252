"""Possible duplicates: candidates found by their blocking key, decided by the matcher.

Names are stored encrypted; ``people.name_index`` holds a keyed hash of the name's blocking key
(:func:`corridor.ops.matching.block_key`: the consonants of the given and the family name). A
look-up asks for every key the person may have been stored under (and, for people stored before
this scheme, the older spelling-free skeleton), opens the names of those candidates only, and
keeps those that :func:`corridor.ops.matching.score` puts at or above its threshold, given sex,
age band and household. So a look-up reads a handful of rows, however many people are registered.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.ops.matching import THRESHOLD, Record, block_key, block_keys, names_alike, score, words_of

__all__ = [
    "MAX_MATCHES",
    "Candidate",
    "ImportMatcher",
    "Names",
    "Record",
    "candidates",
    "groups",
    "household_matches",
    "matches",
]
from corridor.ops.names import name_skeleton
from corridor.server.encryption import Sealer
from corridor.server.registration.tables import Person

# At most this many earlier registrations are named as possible duplicates of one person, and
# at most this many candidates are read under one key (a block as large is a very common name,
# whose people are mostly namesakes of each other: the first by id stand for them).
MAX_MATCHES = 20
MAX_PER_KEY = 500
# A match that no other member of the household bears out is shown at this score or more.
STRONG = 0.95


def name_index(sealer: Sealer, name: str) -> str | None:
    """The keyed hash stored in ``people.name_index`` for ``name`` (None for no letters)."""
    key = block_key(name)
    return sealer.blind_index(key) if key else None


def lookup_indexes(sealer: Sealer, name: str) -> list[str]:
    """Every ``name_index`` an earlier registration of the same person may have."""
    keys = block_keys(name)
    legacy = name_skeleton(name)
    if legacy:
        keys.append(legacy)
    return list(dict.fromkeys(sealer.blind_index(k) for k in keys))


_COLUMNS = (
    Person.id,
    Person.name_index,
    Person.name_sealed,
    Person.sex,
    Person.age_band,
    Person.household_id,
)


@dataclass(frozen=True)
class Candidate:
    id: str
    record: Record


class Names:
    """Names opened during one look-up or one import, so that each is decrypted once."""

    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer
        self._opened: dict[str, str] = {}
        self._alike: dict[tuple[str, str], float] = {}

    def alike(self, a: str, b: str) -> float:
        """How alike two names are, each pair worked out once (common names meet again and again)."""
        found = self._alike.get((a, b))
        if found is None:
            found = self._alike[(a, b)] = names_alike(a, b)
        return found

    def open(self, person_id: str, sealed: str) -> str:
        name = self._opened.get(person_id)
        if name is None:
            name = self._opened[person_id] = self.sealer.open(sealed)
        return name


def candidates(
    session: Session, names: Names, operation_id: str, indexes: Iterable[str]
) -> dict[str, list[Candidate]]:
    """The registered people stored under each of ``indexes`` (one statement), names opened."""
    wanted = sorted(set(indexes))
    if not wanted:
        return {}
    rank = func.row_number().over(partition_by=Person.name_index, order_by=Person.id).label("rank")
    ranked = (
        select(
            Person.id,
            Person.name_index,
            Person.name_sealed,
            Person.sex,
            Person.age_band,
            Person.household_id,
            rank,
        )
        .where(
            Person.operation_id == operation_id,
            Person.name_index.in_(wanted),
            Person.name_sealed.is_not(None),
        )
        .subquery()
    )
    with session.no_autoflush:  # the household being registered is no candidate of itself
        rows = session.execute(
            select(
                ranked.c.id,
                ranked.c.name_index,
                ranked.c.name_sealed,
                ranked.c.sex,
                ranked.c.age_band,
                ranked.c.household_id,
            )
            .where(ranked.c.rank <= MAX_PER_KEY)
            .order_by(ranked.c.id)
        ).all()
    found: dict[str, list[Candidate]] = {}
    for person_id, index, sealed, sex, age_band, household in rows:
        if index is None or sealed is None:
            continue
        record = Record(names.open(person_id, sealed), sex, age_band, household)
        found.setdefault(index, []).append(Candidate(person_id, record))
    return found


def matches(
    record: Record,
    indexes: Sequence[str],
    found: dict[str, list[Candidate]],
    alike: Callable[[str, str], float] = names_alike,
) -> list[str]:
    """Ids of the candidates that may be ``record``'s person, the likeliest first (then by id),
    at most ``MAX_MATCHES``: the rule for one person on their own (a registrar typing a name)."""
    scored = _scored(record, indexes, found, alike)
    kept = sorted((-s, c.id) for s, c in scored.values())
    return [pid for _, pid in kept[:MAX_MATCHES]]


def _scored(
    record: Record,
    indexes: Sequence[str],
    found: dict[str, list[Candidate]],
    alike: Callable[[str, str], float],
) -> dict[str, tuple[float, Candidate]]:
    scored: dict[str, tuple[float, Candidate]] = {}
    for index in indexes:
        for candidate in found.get(index, []):
            if candidate.id not in scored:
                scored[candidate.id] = (score(record, candidate.record, alike), candidate)
    return {pid: sc for pid, sc in scored.items() if sc[0] >= THRESHOLD}


def household_matches(
    records: Sequence[Record],
    lookups: Sequence[Sequence[str]],
    found: dict[str, list[Candidate]],
    alike: Callable[[str, str], float] = names_alike,
) -> list[list[str]]:
    """For each member of a household being registered, the earlier registrations shown as
    possible duplicates (the likeliest first, at most ``MAX_MATCHES``).

    A match is shown when the household bears it out: another member matches someone of the
    same earlier household (a household registered twice), or the names have as many words and
    the same age band and score ``STRONG`` or more (for a household of one, the matcher's
    threshold: no other member can bear it out). A lone near match (a father's name left out,
    the next age band) in a family that otherwise matches no one is a namesake far more often
    than a duplicate."""
    scored = [_scored(r, keys, found, alike) for r, keys in zip(records, lookups, strict=True)]
    households: dict[str | None, int] = {}
    for matched in scored:
        for earlier in {c.record.household for _, c in matched.values()}:
            households[earlier] = households.get(earlier, 0) + 1
    shown = []
    for record, matched in zip(records, scored, strict=True):
        needed = THRESHOLD if len(records) == 1 else STRONG
        kept = sorted(
            (-value, c.id)
            for value, c in matched.values()
            if households[c.record.household] >= 2 or (_same_shape(record, c.record) and value >= needed)
        )
        shown.append([pid for _, pid in kept[:MAX_MATCHES]])
    return shown


def _same_shape(a: Record, b: Record) -> bool:
    return a.age_band == b.age_band and len(words_of(a.name)) == len(words_of(b.name))


def groups(session: Session, sealer: Sealer, operation_id: str) -> list[list[str]]:
    """Groups of people who may be one person: people stored under one key, joined when the
    matcher says so (a group holds everyone linked to it by a chain of matches)."""
    rows = session.execute(
        select(
            Person.id, Person.name_index, Person.name_sealed, Person.sex, Person.age_band, Person.household_id
        )
        .where(
            Person.operation_id == operation_id,
            Person.name_index.is_not(None),
            Person.name_sealed.is_not(None),
        )
        .order_by(Person.name_index, Person.id)
    )
    blocks: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for person_id, index, sealed, sex, age_band, household in rows:
        if index is None or sealed is None:
            continue
        blocks.setdefault(index, []).append((person_id, sealed, sex, age_band, household))
    names = Names(sealer)
    parent: dict[str, str] = {}

    def root(pid: str) -> str:
        while parent.get(pid, pid) != pid:
            pid = parent[pid]
        return pid

    for members in blocks.values():
        if len(members) < 2:
            continue
        records = [
            (pid, Record(names.open(pid, sealed), sex, band, household))
            for pid, sealed, sex, band, household in members
        ]
        for i, (a, first) in enumerate(records):
            for b, second in records[i + 1 :]:
                if score(first, second, names.alike) >= THRESHOLD:
                    parent[root(b)] = root(a)
    joined: dict[str, list[str]] = {}
    for pid in parent:
        joined.setdefault(root(pid), []).append(pid)
    for top in list(joined):
        if top not in joined[top]:
            joined[top].append(top)
    return sorted(sorted(g) for g in joined.values())


# --- an import's look-ups: the blocks read once, kept in memory, scored by distinct name --------

# What decides a score against a candidate of another household: its name, sex and age band.
Signature = tuple[str, str, str]


@dataclass
class _Group:
    """The people of a block who share one signature: their ids in order, and their households."""

    ids: list[str]
    households: dict[str | None, int]


@dataclass
class _Block:
    """The people stored under one key that a look-up reads: the first ``MAX_PER_KEY`` by id, as
    :func:`candidates` reads them, kept as the import adds people; grouped by signature."""

    ids: list[str]
    groups: dict[Signature, _Group]


class ImportMatcher:
    """The duplicate look-ups of one import, with no write transaction open.

    Each key's block is read from the database once an import (:meth:`load`, in a read
    transaction); the households of the import are added to the blocks as they are matched
    (:meth:`household`), so that a later household of the file meets them as it would have met
    them stored. A block keeps the first ``MAX_PER_KEY`` people by id, as :func:`candidates`
    reads them. Candidates of one signature (name, sex, age band) score alike against a person of
    another household, so each signature is scored once, not each candidate: a block of thousands
    of namesakes costs a handful of scores. The answer is :func:`household_matches`' for the same
    candidates. People registered by other requests while the import runs are not seen (as two
    registrations at once do not see each other)."""

    def __init__(self, sealer: Sealer, operation_id: str, *, per_key: int = MAX_PER_KEY) -> None:
        self.sealer = sealer
        self.operation_id = operation_id
        self.per_key = per_key
        self.names = Names(sealer)
        self._blocks: dict[str, _Block] = {}
        self._household_of: dict[str, str | None] = {}
        self._signature_of: dict[str, Signature] = {}
        self._scores: dict[tuple[Signature, Signature], float] = {}
        self._lookups: dict[str, list[str]] = {}
        self._indexes: dict[str, str | None] = {}

    def lookups(self, name: str) -> list[str]:
        found = self._lookups.get(name)
        if found is None:
            found = self._lookups[name] = lookup_indexes(self.sealer, name)
        return found

    def index(self, name: str) -> str | None:
        if name not in self._indexes:
            self._indexes[name] = name_index(self.sealer, name)
        return self._indexes[name]

    def wanted(self, names: Iterable[str]) -> list[str]:
        """The keys that people of these names look up or are stored under, not read yet."""
        keys: dict[str, None] = {}
        for name in names:
            own = self.index(name)
            for key in (*self.lookups(name), *((own,) if own else ())):
                if key not in self._blocks:
                    keys[key] = None
        return list(keys)

    def load(self, session: Session, names: Iterable[str]) -> None:
        """Read the blocks these names need and are not read yet (one statement)."""
        wanted = self.wanted(names)
        if not wanted:
            return
        found = candidates(session, self.names, self.operation_id, wanted)
        for key in wanted:
            block = self._blocks[key] = _Block([], {})
            for candidate in found.get(key, [])[: self.per_key]:
                record = candidate.record
                self._add(block, candidate.id, (record.name, record.sex, record.age_band), record.household)

    def _add(self, block: _Block, person_id: str, signature: Signature, household: str | None) -> None:
        ids = block.ids
        if len(ids) >= self.per_key and person_id > ids[-1]:
            return  # not among the first by id: never read under this key
        bisect.insort(ids, person_id)
        self._household_of[person_id] = household
        self._signature_of[person_id] = signature
        group = block.groups.get(signature)
        if group is None:
            group = block.groups[signature] = _Group([], {})
        bisect.insort(group.ids, person_id)
        group.households[household] = group.households.get(household, 0) + 1
        if len(ids) > self.per_key:
            self._drop(block, ids.pop())

    def _drop(self, block: _Block, person_id: str) -> None:
        signature = self._signature_of[person_id]
        household = self._household_of[person_id]
        group = block.groups[signature]
        del group.ids[bisect.bisect_left(group.ids, person_id)]
        left = group.households[household] - 1
        if left:
            group.households[household] = left
        else:
            del group.households[household]
        if not group.ids:
            del block.groups[signature]

    def _score(self, record: Record, signature: Signature) -> float:
        mine: Signature = (record.name, record.sex, record.age_band)
        value = self._scores.get((mine, signature))
        if value is None:
            other = Record(signature[0], signature[1], signature[2], None)
            value = self._scores[(mine, signature)] = score(
                Record(record.name, record.sex, record.age_band, None), other, self.names.alike
            )
        return value

    def household(self, records: Sequence[Record], ids: Sequence[str]) -> list[list[str]]:
        """For each member of a household of another household id than any read (one being
        imported), the earlier registrations shown as possible duplicates, as
        :func:`household_matches` shows them; then the household joins the blocks. Every key the
        members need must be loaded (:meth:`load`)."""
        matched: list[list[tuple[float, Signature, _Group]]] = []
        for record in records:
            found = []
            for key in self.lookups(record.name):
                for signature, group in self._blocks[key].groups.items():
                    value = self._score(record, signature)
                    if value >= THRESHOLD:
                        found.append((value, signature, group))
            matched.append(found)
        households: Counter[str | None] = Counter()
        for found in matched:
            households.update(set().union(*(group.households.keys() for _, _, group in found)))
        needed = THRESHOLD if len(records) == 1 else STRONG
        shown = [
            self._shown(record, found, households, needed)
            for record, found in zip(records, matched, strict=True)
        ]
        for record, person_id in zip(records, ids, strict=True):
            own = self.index(record.name)
            if own is not None:
                signature = (record.name, record.sex, record.age_band)
                self._add(self._blocks[own], person_id, signature, record.household)
        return shown

    def _shown(
        self,
        record: Record,
        found: list[tuple[float, Signature, _Group]],
        households: Counter[str | None],
        needed: float,
    ) -> list[str]:
        """The first ``MAX_MATCHES`` by (score, highest first; id) that the household bears out."""
        kept: list[str] = []
        found.sort(key=lambda f: -f[0])
        words = len(words_of(record.name))
        start = 0
        while start < len(found) and len(kept) < MAX_MATCHES:
            value = found[start][0]
            end = start
            while end < len(found) and found[end][0] == value:
                end += 1
            streams = []
            for _, signature, group in found[start:end]:
                name, _, band = signature
                alone = value >= needed and band == record.age_band and len(words_of(name)) == words
                streams.append(zip(group.ids, repeat(alone)))
            for pid, alone in heapq.merge(*streams):
                if alone or households[self._household_of[pid]] >= 2:
                    kept.append(pid)
                    if len(kept) == MAX_MATCHES:
                        break
            start = end
        return kept
