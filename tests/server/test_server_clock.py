"""Time you can trust: phones with wrong clocks (ten years ahead, two hours behind) on SQLite and
PostgreSQL. Their events are stored, never refused for their date; each phone's clock offset is
estimated at every sync that sends its clock, and its times corrected by it; what stays past belief
is flagged; and no wrong clock hides an alarm (a person reported missing, a vehicle overdue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from server.conftest import World

TEN_YEARS = timedelta(days=3652)
TWO_HOURS = timedelta(hours=2)
MARSHAL = "user:checkpoint_marshal-user"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class Phone:
    """A marshal's phone whose clock is ``skew`` off the server's."""

    def __init__(self, world: World, name: str, skew: timedelta) -> None:
        self.world, self.device, self.skew, self.seq = world, f"{MARSHAL}/{name}", skew, 0

    def event(self, kind: str, real: datetime, **payload: Any) -> dict[str, Any]:
        self.seq += 1
        return {
            "event_id": f"{self.device}-{self.seq}",
            "device_id": self.device,
            "seq": self.seq,
            "device_time": iso(real + self.skew),
            "type": kind,
            "payload": payload,
        }

    def sync(self, *events: dict[str, Any], clock: bool = True) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"events": list(events)}
        if clock:
            body["device_now"] = iso(datetime.now(UTC) + self.skew)
        answer = self.world.client.post(
            self.world.url("/events/batch"), json=body, headers=self.world.as_role("checkpoint_marshal")
        )
        assert answer.status_code == 200, answer.text
        results: list[dict[str, Any]] = answer.json()["results"]
        assert [r["outcome"] for r in results] == ["stored"] * len(events), results
        return results


def person(world: World, name: str) -> str:
    household = world.household({"name": name, "age_band": "18-59", "sex": "female"})
    person_id: str = household["people"][0]["id"]
    return person_id


def post(world: World, event: dict[str, Any]) -> None:
    answer = world.client.post(world.url("/events"), json=event, headers=world.as_role("checkpoint_marshal"))
    assert answer.status_code == 201, answer.text


def reconciliation(world: World) -> dict[str, Any]:
    answer = world.client.get(world.url("/reconciliation"), headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def clocks(world: World) -> dict[str, dict[str, Any]]:
    answer = world.client.get(world.url("/clocks"), headers=world.coordinator)
    assert answer.status_code == 200, answer.text
    return {d["device_id"]: d for d in answer.json()}


def status(world: World, person_id: str) -> dict[str, Any]:
    body: dict[str, Any] = world.client.get(
        world.url(f"/status/person/{person_id}"), headers=world.coordinator
    ).json()
    return body


def test_a_phone_ten_years_ahead_and_one_two_hours_behind_hide_no_alarm(world: World) -> None:
    now = datetime.now(UTC)
    ahead, behind = Phone(world, "ahead", TEN_YEARS), Phone(world, "behind", -TWO_HOURS)
    good = Phone(world, "good", timedelta(0))
    rana, huda, layla = person(world, "Rana"), person(world, "Huda"), person(world, "Layla")
    world.vehicle("bus-1")
    world.vehicle("bus-2")

    # The phone ahead, before it ever sent its clock: its "arrived" (dated ten years on) is
    # stored and flagged; Rana reported missing after it is an alarm.
    post(world, ahead.event("arrived", now - timedelta(minutes=20), person_id=rana, point="end"))
    good.sync(good.event("missing", now - timedelta(minutes=10), person_id=rana, point="cp1"))
    # Then it syncs with its clock: its offset is known, its times corrected (not flagged): bus-1
    # departed three hours ago is overdue at the checkpoint, though dated ten years on.
    ahead.sync(ahead.event("departed", now - timedelta(hours=3), vehicle_id="bus-1", point="start"))

    # The phone two hours behind: Huda arrived half an hour ago (a good phone), then is reported
    # missing five minutes ago by the phone behind, whose clock dates that before the arrival.
    good.sync(good.event("arrived", now - timedelta(minutes=30), person_id=huda, point="end"))
    behind.sync(
        behind.event("missing", now - timedelta(minutes=5), person_id=huda, point="cp1"),
        behind.event("departed", now - timedelta(hours=3), vehicle_id="bus-2", point="start"),
    )
    # Layla boarded an hour ago, seen by the phone ahead: a sighting corrected, never flagged.
    ahead.sync(ahead.event("boarded", now - timedelta(hours=1), person_id=layla, point="start"))

    seen = reconciliation(world)
    alarms = {(a["subject_id"], a["status"]) for a in seen["alarms"]}
    assert alarms == {(rana, "missing"), (huda, "missing")}
    overdue = {o["subject_id"] for o in seen["overdue_vehicles"]}
    assert overdue == {"bus-1", "bus-2"}
    late = {o["subject_id"]: o for o in seen["not_seen"]}
    assert layla in late  # boarded an hour ago, due at the checkpoint in 20 + 30 minutes
    boarded_at = datetime.fromisoformat(late[layla]["last_seen_at"])
    assert abs(boarded_at - (now - timedelta(hours=1))) < timedelta(minutes=1)

    devices = clocks(world)
    assert abs(devices[ahead.device]["offset_seconds"] - TEN_YEARS.total_seconds()) < 60
    assert abs(devices[behind.device]["offset_seconds"] + TWO_HOURS.total_seconds()) < 60
    assert abs(devices[good.device]["offset_seconds"]) < 60
    assert devices[ahead.device]["flagged"] == 1  # the arrival sent before its clock
    assert devices[behind.device]["flagged"] == 0 and devices[good.device]["flagged"] == 0
    assert next(iter(devices)) == ahead.device  # the worst clock first

    # Every event was stored as sent (the ledger keeps the device's own times).
    assert status(world, rana)["events"] == 3 and status(world, huda)["events"] == 3  # with "registered"
    # A flagged arrival never clears the alarm; a finding from a phone that can be believed does.
    good.sync(good.event("found", now, person_id=rana, point="end"))
    assert {a["subject_id"] for a in reconciliation(world)["alarms"]} == {huda}


def test_an_arrival_dated_2099_then_a_report_of_missing_raises_the_alarm(world: World) -> None:
    """The case of the issue: a phone dated 2099 (it sent no clock) scans an arrival; the person
    is then reported missing. The arrival is stored and flagged, the alarm raised."""
    rana = person(world, "Rana")
    device = f"{MARSHAL}/broken"
    arrived = {
        "event_id": "broken-1",
        "device_id": device,
        "seq": 1,
        "device_time": "2099-01-01T00:00:00Z",
        "type": "arrived",
        "payload": {"person_id": rana, "point": "end"},
    }
    post(world, arrived)
    good = Phone(world, "good", timedelta(0))
    good.sync(good.event("missing", datetime.now(UTC), person_id=rana, point="cp1"))
    seen = reconciliation(world)
    assert [(a["subject_id"], a["status"]) for a in seen["alarms"]] == [(rana, "missing")]
    assert status(world, rana)["status"] == "missing"
    assert clocks(world)[device]["flagged"] == 1
    # A repeat of the flagged event is a harmless repeat, not a second flag.
    post_again = world.client.post(
        world.url("/events"), json=arrived, headers=world.as_role("checkpoint_marshal")
    )
    assert post_again.status_code == 200
    assert clocks(world)[device]["flagged"] == 1


def test_a_batch_with_a_clock_that_is_not_a_time_is_refused(world: World) -> None:
    rana = person(world, "Rana")
    phone = Phone(world, "p", timedelta(0))
    body = {"events": [phone.event("boarded", datetime.now(UTC), person_id=rana)], "device_now": "soon"}
    answer = world.client.post(
        world.url("/events/batch"), json=body, headers=world.as_role("checkpoint_marshal")
    )
    assert answer.status_code == 422
    assert "device_now" in answer.text
    assert status(world, rana)["events"] == 1  # "registered" alone
    assert world.client.get(world.url("/clocks"), headers=world.as_role("observer")).status_code == 403


def test_the_staff_see_each_device_clock_and_the_flagged_events(world: World) -> None:
    rana = person(world, "Rana")
    ahead = Phone(world, "ahead", TEN_YEARS)
    post(world, ahead.event("arrived", datetime.now(UTC), person_id=rana, point="end"))  # no clock: flagged
    ahead.sync(ahead.event("boarded", datetime.now(UTC), person_id=rana, point="start"))
    world.client.cookies.set("corridor_session", world.tokens["coordinator"])
    english = world.client.get(f"/operations/{world.operation_id}/clocks")
    assert english.status_code == 200, english.text
    assert "Device clocks" in english.text and ahead.device in english.text
    assert "+3652 d 0 h" in english.text  # the offset, from the clock it sent
    assert "ahead of its receipt" in english.text and rana in english.text  # the flagged arrival
    assert "Rana" not in english.text  # ids, never names
    arabic = world.client.get(f"/operations/{world.operation_id}/clocks?lang=ar")
    assert "ساعات الأجهزة" in arabic.text and "بعد وقت استلامه" in arabic.text
    world.client.cookies.set("corridor_session", world.tokens["observer"])
    assert world.client.get(f"/operations/{world.operation_id}/clocks").status_code == 403


def alarms_of(world: World) -> set[tuple[str, str]]:
    return {(a["subject_id"], a["status"]) for a in reconciliation(world)["alarms"]}


def test_a_poisoned_stale_or_jumping_clock_offset_hides_no_alarm(world: World) -> None:
    """Hand-made sequences where a device's clock offset is wrong for its event: poisoned by a
    burst of clock readings five hours ahead, kept from before its clock was set right (events
    without a clock: the single POST), and one that jumps between batches. Each time a person who
    arrived an hour ago (a good phone) is reported missing now: the alarm stands."""
    now = datetime.now(UTC)
    good = Phone(world, "good", timedelta(0))
    rana, huda, layla, mona = (person(world, n) for n in ("Rana", "Huda", "Layla", "Mona"))
    for subject in (rana, huda, layla, mona):
        good.sync(good.event("arrived", now - timedelta(hours=1), person_id=subject, point="end"))

    # A burst of clock readings five hours ahead from a phone whose events are dated right.
    poisoned = Phone(world, "poisoned", timedelta(0))
    for _ in range(3):
        poisoned.skew = timedelta(hours=5)
        body: dict[str, Any] = {"events": [], "device_now": iso(datetime.now(UTC) + poisoned.skew)}
        poisoned.skew = timedelta(0)
        body["events"] = [poisoned.event("checkpoint", now - timedelta(hours=2), person_id=mona, point="cp1")]
        answer = world.client.post(
            world.url("/events/batch"), json=body, headers=world.as_role("checkpoint_marshal")
        )
        assert answer.status_code == 200, answer.text
    assert clocks(world)[poisoned.device]["offset_seconds"] > 4 * 3600
    poisoned.sync(poisoned.event("missing", now, person_id=rana, point="cp1"), clock=False)

    # A phone five hours ahead sends its clock, then is set right and posts without a clock.
    stale = Phone(world, "stale", timedelta(hours=5))
    stale.sync(stale.event("checkpoint", now - timedelta(hours=2), person_id=mona, point="cp1"))
    stale.skew = timedelta(0)
    post(world, stale.event("missing", now, person_id=huda, point="cp1"))

    # A phone five hours ahead, set right between two batches that both send the clock: its
    # offset follows the clock at once (no median of old and new readings).
    jumping = Phone(world, "jumping", timedelta(hours=5))
    jumping.sync(jumping.event("checkpoint", now - timedelta(hours=2), person_id=mona, point="cp1"))
    jumping.skew = timedelta(0)
    jumping.sync(jumping.event("missing", now, person_id=layla, point="cp1"))
    assert abs(clocks(world)[jumping.device]["offset_seconds"]) < 60

    assert alarms_of(world) == {(rana, "missing"), (huda, "missing"), (layla, "missing")}
    for subject in (rana, huda, layla):
        assert status(world, subject)["status"] == "missing"

    # The other way: a phone whose stale offset says nine minutes behind (now set right) sends a
    # finding made 25 minutes ago; the report of missing 20 minutes ago stands.
    behind = Phone(world, "behind", -timedelta(minutes=9))
    behind.sync(behind.event("checkpoint", now - timedelta(hours=2), person_id=mona, point="cp1"))
    behind.skew = timedelta(0)
    good.sync(good.event("missing", now - timedelta(minutes=20), person_id=mona, point="cp1"))
    post(world, behind.event("found", now - timedelta(minutes=25), person_id=mona, point="end"))
    assert (mona, "missing") in alarms_of(world)
    # A finding from a good phone after the report clears it.
    good.sync(good.event("found", datetime.now(UTC), person_id=mona, point="end"))
    assert (mona, "missing") not in alarms_of(world)


def test_events_dated_before_the_operation_are_flagged_and_an_alarm_so_dated_stands(world: World) -> None:
    """The reject side of 'behind': a phone ten years behind that never sent its clock. Its
    arrival is flagged and placed ten years ago (it clears nothing); its report of missing is
    flagged and placed at its receipt, after a good phone's arrival an hour ago: an alarm."""
    now = datetime.now(UTC)
    rana, huda = person(world, "Rana"), person(world, "Huda")
    good = Phone(world, "good", timedelta(0))
    old = Phone(world, "old", -TEN_YEARS)
    good.sync(good.event("missing", now - timedelta(hours=1), person_id=rana, point="cp1"))
    post(world, old.event("arrived", now, person_id=rana, point="end"))
    good.sync(good.event("arrived", now - timedelta(hours=1), person_id=huda, point="end"))
    post(world, old.event("missing", now, person_id=huda, point="cp1"))
    assert alarms_of(world) == {(rana, "missing"), (huda, "missing")}
    assert clocks(world)[old.device]["flagged"] == 2
    assert clocks(world)[good.device]["flagged"] == 0


def test_a_single_event_may_carry_the_device_clock(world: World) -> None:
    """POST .../events takes device_now as a batch does: the offset of a phone two hours behind
    is known from its first event; a clock that is not a time is refused, nothing stored."""
    huda = person(world, "Huda")
    behind = Phone(world, "behind", -TWO_HOURS)
    event = behind.event("boarded", datetime.now(UTC), person_id=huda, point="start")
    post(world, {**event, "device_now": iso(datetime.now(UTC) - TWO_HOURS)})
    assert abs(clocks(world)[behind.device]["offset_seconds"] + TWO_HOURS.total_seconds()) < 60
    boarded_at = datetime.fromisoformat(status(world, huda)["last_seen_at"])
    assert abs(boarded_at - datetime.now(UTC)) < timedelta(minutes=1)  # not two hours ago
    bad = {**behind.event("boarded", datetime.now(UTC), person_id=huda), "device_now": "soon"}
    for headers in (world.as_role("checkpoint_marshal"), world.device):
        answer = world.client.post(world.url("/events"), json=bad, headers=headers)
        assert answer.status_code == 422 and "device_now" in answer.text, answer.text
    assert status(world, huda)["events"] == 2  # "registered" and the first boarding


def test_a_batch_answer_says_which_events_were_flagged(world: World) -> None:
    """Each result of a batch says flagged "clock" for an event stored but dated past belief,
    and nothing for the others (stored right, repeated, or rejected)."""
    rana = person(world, "Rana")
    phone = Phone(world, "p", timedelta(0))
    future = {
        **phone.event("arrived", datetime.now(UTC), person_id=rana),
        "device_time": "2099-01-01T00:00:00Z",
    }
    right = phone.event("boarded", datetime.now(UTC), person_id=rana, point="start")
    broken = {**phone.event("boarded", datetime.now(UTC), person_id=rana), "device_time": "soon"}
    for events, expected in (
        ([future, right], ["clock", None]),
        ([future, right, broken], [None, None, None]),
    ):
        answer = world.client.post(
            world.url("/events/batch"), json={"events": events}, headers=world.as_role("checkpoint_marshal")
        )
        assert answer.status_code == 200, answer.text
        assert [r["flagged"] for r in answer.json()["results"]] == expected, answer.json()
    assert clocks(world)[phone.device]["flagged"] == 1
