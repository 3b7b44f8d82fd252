"""The ledger's records, hashes, repeat rules and hash chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from corridor.core.errors import ConflictError, InputError
from corridor.ops.ledger import (
    GENESIS,
    CutOver,
    EventType,
    Filing,
    ScanEvent,
    canonical_json,
    chain,
    check_repeat,
    check_sequence_owner,
    entry_hash,
    entry_hash_v1,
    verify_chain,
    verify_chain_v1,
)

T0 = datetime(2016, 12, 15, 10, 0, tzinfo=UTC)


def event(n: int, **changes: object) -> ScanEvent:
    base = ScanEvent(
        event_id=f"e{n}",
        device_id="dev-1",
        seq=n,
        device_time=T0 + timedelta(minutes=n),
        type=EventType.BOARDED,
        payload={"person_id": "p1", "vehicle_id": "bus-1", "point": "start"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_canonical_json_is_key_order_free_and_keeps_arabic() -> None:
    assert canonical_json({"b": 1, "a": "محمد"}) == canonical_json({"a": "محمد", "b": 1})
    assert "محمد".encode() in canonical_json({"a": "محمد"})


def test_device_time_in_another_zone_is_the_same_instant() -> None:
    beirut = timezone(timedelta(hours=2))
    same = event(1, device_time=(T0 + timedelta(minutes=1)).astimezone(beirut))
    assert same.same_as(event(1))


def test_naive_time_and_bad_seq_are_refused_with_a_hint() -> None:
    with pytest.raises(InputError, match="timezone"):
        event(1, device_time=datetime(2016, 12, 15, 10, 0))
    with pytest.raises(InputError, match="seq must be 1 or more"):
        event(1, seq=0)


def test_same_id_same_content_is_a_harmless_repeat() -> None:
    check_repeat(event(1), event(1))


def test_same_id_other_payload_is_a_conflict_naming_the_difference() -> None:
    other = event(1, payload={"person_id": "p2", "vehicle_id": "bus-1", "point": "start"})
    with pytest.raises(ConflictError, match="payload") as info:
        check_repeat(event(1), other)
    assert info.value.where == "event_id e1"


def test_reused_sequence_number_is_a_conflict() -> None:
    with pytest.raises(ConflictError, match="already sent seq 1"):
        check_sequence_owner(event(1), event(1, event_id="other"))
    check_sequence_owner(event(1), event(1))


def test_chain_links_every_entry_to_the_one_before() -> None:
    entries = chain([event(1), event(2), event(3)])
    assert entries[0].previous_hash == GENESIS
    assert [e.previous_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    check = verify_chain(entries, expected_count=3, expected_head=entries[-1].entry_hash)
    assert check.ok and check.entries == 3 and check.head_hash == entries[-1].entry_hash


def test_an_edited_entry_is_named() -> None:
    entries = chain([event(1), event(2), event(3)])
    edited = replace(entries[1], event=event(2, type=EventType.ARRIVED))
    check = verify_chain([entries[0], edited, entries[2]])
    assert not check.ok and check.first_bad_position == 2
    assert "edited" in check.problem


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = chain([event(1), event(2), event(3)])
    forged_event = event(2, type=EventType.ARRIVED)
    forged = replace(
        entries[1],
        event=forged_event,
        entry_hash=entry_hash(GENESIS, forged_event, Filing.of(forged_event, "op", T0)),
    )
    check = verify_chain([entries[0], forged, entries[2]])
    assert check.first_bad_position == 2


def test_removed_and_truncated_entries_are_found() -> None:
    entries = chain([event(1), event(2), event(3)])
    assert verify_chain([entries[0], entries[2]]).first_bad_position == 2
    cut = verify_chain(entries[:2], expected_count=3)
    assert cut.first_bad_position == 3 and "3 entries" in cut.problem


def test_an_edited_payload_hash_column_is_found() -> None:
    entries = chain([event(1)])
    bad = replace(entries[0], stored_payload_sha256="0" * 64)
    assert verify_chain([bad]).first_bad_position == 1


@pytest.mark.parametrize(
    "change",
    [
        {"subject_kind": None},
        {"subject_id": "p2"},
        {"point": "end"},
        {"operation_id": "other"},
        {"received_at": T0 + timedelta(hours=1)},
    ],
)
def test_every_filed_column_is_covered_by_the_hash(change: dict[str, object]) -> None:
    entries = chain([event(1), event(2), event(3)])
    assert entries[1].filing is not None
    edited = replace(entries[1], filing=replace(entries[1].filing, **change))  # type: ignore[arg-type]
    check = verify_chain([entries[0], edited, entries[2]])
    assert check.first_bad_position == 2 and "edited" in check.problem


def test_a_filing_recomputed_into_the_hash_must_still_match_the_payload() -> None:
    """Nulling the subject and recomputing the chain from there still shows: the columns readers
    use no longer say what the payload says."""
    [first] = chain([event(1, type=EventType.DETAINED)])
    assert first.filing is not None
    nulled = replace(first.filing, subject_kind=None, subject_id=None)
    forged = replace(first, filing=nulled, entry_hash=entry_hash(GENESIS, first.event, nulled))
    check = verify_chain([forged])
    assert check.first_bad_position == 1 and "subject or point" in check.problem


def test_the_cut_over_starts_the_new_chain_and_the_old_chain_still_checks() -> None:
    events = [event(1), event(2), event(3)]
    old_head = GENESIS
    for e in events:
        old_head = entry_hash_v1(old_head, e)
    record = CutOver(entries=3, old_head=old_head, at=T0)
    entries = chain(events, start_hash=record.hash())
    assert entries[0].previous_hash == record.hash() != GENESIS
    assert verify_chain(entries, start_hash=record.hash()).ok
    assert verify_chain(entries).first_bad_position == 1  # not from the genesis hash
    assert verify_chain_v1(entries, count=3, old_head=old_head).ok
    changed = [entries[0], replace(entries[1], event=event(2, type=EventType.ARRIVED)), entries[2]]
    assert not verify_chain_v1(changed, count=3, old_head=old_head).ok
    assert verify_chain_v1(entries[:2], count=3, old_head=old_head).first_bad_position == 3
    assert record.hash() != replace(record, old_head="ab" * 32).hash()
