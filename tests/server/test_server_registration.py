"""Registration: names in any script, encrypted at rest, duplicates shown and never merged."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from server.conftest import World

MOTHER = {"name": "فاطمة الحسن", "age_band": "18-59", "sex": "female", "vulnerabilities": ["pregnant"]}
CHILD = {"name": "محمد", "age_band": "5-11", "sex": "male", "wristband": "QR-0001"}


def test_arabic_names_round_trip_and_are_encrypted_at_rest(world: World) -> None:
    household = world.household(MOTHER, CHILD)
    names = sorted(p["name"] for p in household["people"])
    assert names == sorted(["فاطمة الحسن", "محمد"])
    engine = create_engine(world.settings.database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT name_sealed, name_index FROM people")).all()
    engine.dispose()
    for sealed, index in stored:
        assert "محمد" not in sealed and "فاطمة" not in sealed and len(index) == 64
    person_id = household["people"][0]["id"]
    read = world.client.get(world.url(f"/people/{person_id}"), headers=world.as_role("registrar"))
    assert read.json()["name"] in names


def test_transliteration_variants_are_shown_as_possible_duplicates(world: World) -> None:
    first = world.household(CHILD)
    second = world.household({"name": "Mohammed", "age_band": "5-11", "sex": "male"})
    [duplicate] = second["possible_duplicates"]
    assert duplicate["matches"] == [first["people"][0]["id"]]
    groups = world.client.get(world.url("/people/duplicates"), headers=world.coordinator).json()
    assert [sorted(p["name"] for p in g) for g in groups] == [sorted(["Mohammed", "محمد"])]
    # not merged: both people are still there
    page = world.client.get(world.url("/people"), headers=world.coordinator).json()
    assert len(page["people"]) == 2


def test_a_taken_wristband_is_a_conflict_and_nothing_is_stored(world: World) -> None:
    world.household(CHILD)
    answer = world.client.post(
        world.url("/households"),
        json={"people": [MOTHER, {**CHILD, "name": "Ahmad"}]},
        headers=world.coordinator,
    )
    assert answer.status_code == 409 and "QR-0001" in answer.json()["error"]["message"]
    page = world.client.get(world.url("/people"), headers=world.coordinator).json()
    assert len(page["people"]) == 1


def test_people_are_paged(world: World) -> None:
    for i in range(5):
        world.household({"name": f"Person {i}", "age_band": "18-59", "sex": "male"})
    first = world.client.get(world.url("/people?limit=3"), headers=world.coordinator).json()
    rest = world.client.get(
        world.url(f"/people?limit=3&after={first['next_after']}"), headers=world.coordinator
    ).json()
    assert len(first["people"]) == 3 and len(rest["people"]) == 2 and rest["next_after"] is None
