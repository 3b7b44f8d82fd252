"""Possible duplicates at registration, on SQLite and PostgreSQL: a household registered twice
(in the other script) is shown member by member; near names of different people are not; a lone
near namesake in a family that matches no one else is not."""

from __future__ import annotations

from typing import Any

from server.conftest import World


def person(name: str, sex: str, band: str) -> dict[str, Any]:
    return {"name": name, "sex": sex, "age_band": band}


def test_a_household_registered_twice_is_shown_member_by_member(world: World) -> None:
    first = world.household(
        person("Mohammed Ali al-Halabi", "male", "18-59"),
        person("Fatima Hassan Haddad", "female", "18-59"),
        person("Youssef Mohammed al-Halabi", "male", "5-11"),
    )
    again = world.household(
        person("محمد علي الحلبي", "male", "18-59"),
        person("فاطمة حسن حداد", "female", "18-59"),
        person("يوسف محمد الحلبي", "male", "5-11"),
        gathering_point="gp-b",
    )
    earlier = [p["id"] for p in first["people"]]
    shown = {d["person_id"]: d["matches"] for d in again["possible_duplicates"]}
    assert [shown.get(p["id"]) for p in again["people"]] == [[e] for e in earlier]
    groups = world.client.get(world.url("/people/duplicates"), headers=world.coordinator).json()
    assert sorted(sorted(p["household_id"] for p in g) for g in groups) == sorted(
        [sorted([first["id"], again["id"]])] * 3
    )


def test_near_names_of_different_people_are_not_shown(world: World) -> None:
    world.household(
        person("Hussein Ali Haddad", "male", "18-59"),
        person("Omar Ali Haddad", "male", "12-17"),
        person("Layla Ali Haddad", "female", "5-11"),
    )
    other = world.household(
        person("Hassan Ali Haddad", "male", "18-59"),
        person("Amr Ali Haddad", "male", "12-17"),
        person("Alaa Ali Haddad", "female", "5-11"),
        person("Mahmoud Ali Haddad", "male", "0-4"),
    )
    assert other["possible_duplicates"] == []


def test_a_lone_near_namesake_is_not_shown_but_a_lone_exact_one_is(world: World) -> None:
    earlier = world.household(person("Ahmad Omar Khatib", "male", "18-59"))
    family = world.household(
        person("Ahmad Khatib", "male", "18-59"),  # a father's name left out: a namesake, most often
        person("Rana Khatib", "female", "18-59"),
    )
    assert family["possible_duplicates"] == []
    again = world.household(
        person("Ahmed Omar al-Khatib", "male", "18-59"),
        person("Huda Najjar", "female", "18-59"),
    )
    [shown] = again["possible_duplicates"]
    assert shown["matches"] == [earlier["people"][0]["id"]]
    # A household of one: the name word for word in the same age band (another spelling too).
    alone = world.household(person("Ahmed el-Khatib", "male", "18-59"))
    [shown] = alone["possible_duplicates"]
    assert shown["matches"] == [family["people"][0]["id"]]
