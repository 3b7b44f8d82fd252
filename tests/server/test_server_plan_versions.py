"""Plan versions: every plan published for an operation is kept whole and numbered; a repeated
publish adds nothing; the plan page shows the current version as published (no solving) and what
changed between two versions; the map draws the published routes; the demo seed publishes the
example's plan file when there is one."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from corridor.problem.build import compile_problem
from corridor.server.operations.plans import PlanIn
from corridor.server.operations.tables import Operation, PlanVersion
from corridor.server.runtime import Runtime
from corridor.server.seed import DEMO_NAME, DEMO_NODES, seed_example
from corridor.server.settings import Settings
from corridor.solve import solve
from corridor.solve.pipeline import check_file
from factories import problem
from server.conftest import World

EXAMPLE = Path(__file__).parents[2] / "examples" / "east-aleppo-2016" / "scenario.toml"
EARLIER = datetime.fromisoformat("2016-12-16T02:00:00+02:00")
# The world's route points (start, cp1, end) on the example's network.
NODES = {"start": "amiriyah-crossing", "cp1": "ramouseh-checkpoint", "end": "rashideen"}


@pytest.fixture(scope="module")
def plan_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example planned to its own deadline and to an earlier one, as ``corridor plan --out``
    writes them (solved once for the module: seconds each)."""
    checked = check_file(EXAMPLE)
    shorter, _ = compile_problem(checked.scenario.model_copy(update={"deadline": EARLIER}), checked.network)
    assert checked.problem is not None and shorter is not None
    folder = tmp_path_factory.mktemp("plans")
    written = []
    for name, compiled in (("full", checked.problem), ("earlier", shorter)):
        path = folder / name / "plan.json"
        path.parent.mkdir()
        path.write_text(json.dumps(solve(compiled, quickest=False).to_dict(), indent=1), encoding="utf-8")
        written.append(path)
    return written[0], written[1]


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def content_hash(plan: dict[str, Any]) -> str:
    return PlanIn.model_validate(plan).to_plan().content_hash()


def publish(world: World, plan: Path, nodes: dict[str, str] = NODES) -> Any:
    return world.client.post(
        world.url("/plan"), json={"plan": read(plan), "nodes": nodes}, headers=world.as_role("planner")
    )


def listed(world: World, role: str = "observer") -> list[dict[str, Any]]:
    answer = world.client.get(world.url("/plans"), headers=world.as_role(role))
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_each_new_plan_is_a_version_and_a_repeat_adds_none(
    world: World, plan_files: tuple[Path, Path]
) -> None:
    full, earlier = plan_files
    assert listed(world) == []
    first, second = publish(world, full), publish(world, earlier)
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)

    versions = listed(world)
    assert [(v["version"], v["plan_hash"], v["current"]) for v in versions] == [
        (1, content_hash(read(full)), False),
        (2, content_hash(read(earlier)), True),
    ]
    assert [v["evacuated"] for v in versions] == [read(full)["evacuated"], read(earlier)["evacuated"]]
    assert versions[0]["evacuated"] > versions[1]["evacuated"]  # fewer get out by an earlier deadline
    assert {v["published_by"] for v in versions} == {"user:planner-user"}
    assert all(v["nodes"] == NODES and v["method"] == "exact" and "plan" not in v for v in versions)
    assert (
        world.client.get(world.url(), headers=world.coordinator).json()["plan_hash"]
        == versions[1]["plan_hash"]
    )

    for version in versions:
        answer = world.client.get(
            world.url(f"/plans/{version['version']}"), headers=world.as_role("observer")
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert content_hash(body["plan"]) == body["plan_hash"] == version["plan_hash"]
    assert world.client.get(world.url("/plans/1"), headers=world.coordinator).json()["plan"] == read(full)

    # The current plan again: nothing changes.
    again = publish(world, earlier)
    assert again.status_code == 200 and again.json()["version"] == 2
    assert listed(world) == versions
    # An older plan again: no new version; the operation follows it once more.
    older = publish(world, full)
    assert older.status_code == 200 and older.json()["version"] == 1
    assert [(v["version"], v["current"]) for v in listed(world)] == [(1, True), (2, False)]
    plan = world.client.get(world.url("/plan"), headers=world.as_role("observer")).json()
    assert plan["version"] == 1 and plan["plan_hash"] == versions[0]["plan_hash"]


def test_a_version_keeps_its_node_mapping_and_unknown_versions_are_404(
    world: World, plan_files: tuple[Path, Path]
) -> None:
    full, _ = plan_files
    assert publish(world, full).status_code == 200
    moved = publish(world, full, {**NODES, "start": "amiriyah"})
    assert moved.status_code == 409, moved.text
    assert moved.json()["error"]["where"] == "nodes"
    missing = world.client.get(world.url("/plans/7"), headers=world.as_role("observer"))
    assert missing.status_code == 404 and missing.json()["error"]["where"] == "version"
    assert [v["version"] for v in listed(world)] == [1]


def cells(html: str, row: str) -> list[str]:
    """The cells of one row of the changes table (``row``: the gathering point or "Total")."""
    found = re.search(rf"<th scope=\"row\">{re.escape(row)}</th>(.*?)</tr>", html, re.S)
    assert found, row
    return re.findall(r"<td>(.*?)</td>", found.group(1))


def test_the_plan_page_shows_the_current_version_and_what_changed(
    world: World, plan_files: tuple[Path, Path]
) -> None:
    full, earlier = plan_files
    one = publish(world, full)
    assert one.status_code == 200
    page = world.client.get(f"/operations/{world.operation_id}/plan", headers=world.as_role("observer"))
    assert page.status_code == 200
    assert "version 1" in page.text and content_hash(read(full))[:12] in page.text
    assert 'id="versions-form"' not in page.text and 'id="compare-h"' in page.text  # one version: re-plan

    assert publish(world, earlier).status_code == 200
    page = world.client.get(f"/operations/{world.operation_id}/plan", headers=world.as_role("observer"))
    assert page.status_code == 200, page.text
    html = page.text
    assert "version 2" in html and content_hash(read(earlier))[:12] in html
    assert f'<span class="value" id="plan-evacuated">{read(earlier)["evacuated"]}</span>' in html
    assert 'id="versions-form"' in html and 'id="compare-h"' not in html
    assert '<option value="1" selected>' in html and '<option value="2" selected>' in html
    a, b = read(full)["evacuated"], read(earlier)["evacuated"]
    assert cells(html, "Total")[:3] == [str(a), str(b), f"{b - a:+d}"]
    gathering = {s.node for s in check_file(EXAMPLE).scenario.sources if s.node}
    rows = {node: cells(html, node) for node in gathering}
    assert sum(int(r[0]) for r in rows.values()) == a and sum(int(r[1]) for r in rows.values()) == b
    for out_a, out_b, difference, *_, changed in rows.values():
        assert int(difference) == int(out_b) - int(out_a) and changed in ("yes", "no")
    assert cells(html, "Total")[-1] == str(sum(r[-1] == "yes" for r in rows.values()))

    swapped = world.client.get(
        f"/operations/{world.operation_id}/plan?a=2&b=1", headers=world.as_role("observer")
    )
    assert cells(swapped.text, "Total")[:3] == [str(b), str(a), f"{a - b:+d}"]
    unknown = world.client.get(
        f"/operations/{world.operation_id}/plan?a=9", headers=world.as_role("observer")
    )
    assert unknown.status_code == 404 and "there is no plan version 9" in unknown.text


def test_the_map_draws_the_published_routes(world: World, plan_files: tuple[Path, Path]) -> None:
    _, earlier = plan_files
    assert publish(world, earlier).status_code == 200
    answer = world.client.get(
        f"/operations/{world.operation_id}/map.geojson", headers=world.as_role("observer")
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["plan"]["published"] is True and data["plan"]["version"] == 1
    assert data["plan"]["hash"] == content_hash(read(earlier))
    routes = data["layers"]["routes"]["features"]
    assert sum(f["properties"]["people"] for f in routes) == read(earlier)["evacuated"]


def test_a_published_plan_that_does_not_fit_the_scenario_file_is_not_shown(world: World) -> None:
    """A plan published for the scenario's name but made on another network (as if the file had
    changed since): the pages say so instead of drawing it."""
    tiny = problem(
        4, [(0, 1, 10, 5), (1, 2, 10, 7), (2, 3, 10, 3)], sources=[(0, 5)], destinations=[3], horizon=30
    )
    plan = solve(replace(tiny, name="east-aleppo-2016"), quickest=False).to_dict()
    answer = world.client.post(
        world.url("/plan"),
        json={"plan": plan, "nodes": {"start": "0", "cp1": "1", "end": "3"}},
        headers=world.coordinator,
    )
    assert answer.status_code == 200, answer.text
    page = world.client.get(f"/operations/{world.operation_id}/plan", headers=world.as_role("observer"))
    assert page.status_code == 200 and "does not fit the scenario file as it is now" in page.text
    assert 'id="plan-label"' not in page.text
    data = world.client.get(f"/operations/{world.operation_id}/map.geojson", headers=world.coordinator).json()
    assert "does not fit the scenario file" in data["notice"] and "routes" not in data["layers"]


def test_the_demo_seed_publishes_the_example_plan_when_it_is_there(
    settings: Settings, plan_files: tuple[Path, Path], tmp_path: Path
) -> None:
    full, _ = plan_files
    runtime = Runtime.start(settings)
    try:
        seed_example(runtime, households=2, plan_file=full)
        seed_example(runtime, households=2, plan_file=full)  # the operation exists: nothing added
        with runtime.db.reading() as session:
            operation = session.scalars(select(Operation).where(Operation.name == DEMO_NAME)).one()
            kept = list(session.scalars(select(PlanVersion)))
            assert [(v.version, v.plan_hash, v.nodes) for v in kept] == [
                (1, content_hash(read(full)), DEMO_NODES)
            ]
            assert operation.plan_hash == kept[0].plan_hash
            segments = operation.published_plan["segments"] if operation.published_plan else []
            assert [s["minutes"] is not None for s in segments] == [True, True]
    finally:
        runtime.db.dispose()


def test_without_the_plan_file_the_demo_seed_publishes_nothing(settings: Settings, tmp_path: Path) -> None:
    runtime = Runtime.start(settings)
    try:
        seed_example(runtime, households=2, plan_file=tmp_path / "absent" / "plan.json")
        with runtime.db.reading() as session:
            operation = session.scalars(select(Operation).where(Operation.name == DEMO_NAME)).one()
            assert operation.plan_hash is None
            assert list(session.scalars(select(PlanVersion))) == []
    finally:
        runtime.db.dispose()
