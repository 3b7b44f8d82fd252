"""Compiled scenarios kept by the service: the plan, map and dashboard pages compile the operation's
scenario once, not at every request; an edited file is compiled again; only a few are kept."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from corridor.server.problems import Problems
from corridor.server.runtime import Runtime
from server.conftest import World
from server.test_server_web_map import plan_made

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-aleppo-2016"


def test_the_pages_compile_the_scenario_once(world: World) -> None:
    plan_made(world)
    runtime: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    world.client.get(f"/operations/{world.operation_id}/plan", headers=world.coordinator)
    first = runtime.problems.compilations
    assert first == 1
    for tail in ("/plan", "/plan", "/map.geojson", "/map.geojson", "", "/live", "/plan"):
        answer = world.client.get(f"/operations/{world.operation_id}{tail}", headers=world.coordinator)
        assert answer.status_code == 200, (tail, answer.text)
    assert (
        'id="plan-label"'
        in world.client.get(f"/operations/{world.operation_id}/plan", headers=world.coordinator).text
    )
    assert runtime.problems.compilations == first


def test_an_edited_scenario_is_compiled_again_and_few_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "east-aleppo-2016"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "scenario.toml"
    problems = Problems(size=2)
    one = problems.get(path)
    assert problems.get(path) is one and problems.compilations == 1
    # A file beside the scenario changes (its CSV): compiled again.
    later = (folder / "sources.csv").stat().st_mtime + 10
    os.utime(folder / "sources.csv", (later, later))
    two = problems.get(path)
    assert two is not one and problems.compilations == 2
    # Two other deadlines: the least recently used is dropped, the one used last is kept.
    deadline = two.scenario.deadline
    shorter = [deadline - timedelta(hours=h) for h in (1, 2)]
    problems.get(path, shorter[0])
    problems.get(path, shorter[1])
    assert len(problems.compiled) == 2 and problems.compilations == 4
    assert problems.get(path, shorter[1]).scenario.deadline == shorter[1]
    assert problems.compilations == 4
    problems.get(path)
    assert problems.compilations == 5
    assert isinstance(deadline, datetime)
