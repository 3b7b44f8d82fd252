"""Who must move, from where, to where, by when, under which hazards."""

from corridor.scenario.load import load_scenario
from corridor.scenario.model import (
    Checkpoint,
    Closure,
    Destination,
    Group,
    NetworkRef,
    Scenario,
    Source,
)

__all__ = [
    "Checkpoint",
    "Closure",
    "Destination",
    "Group",
    "NetworkRef",
    "Scenario",
    "Source",
    "load_scenario",
]
