"""Who must move, from where, to where, by when, under which hazards."""

from corridor.scenario.load import load_scenario
from corridor.scenario.model import (
    Checkpoint,
    Closure,
    ConvoySettings,
    Destination,
    Group,
    NetworkRef,
    Scenario,
    Source,
    Vehicles,
)

__all__ = [
    "Checkpoint",
    "Closure",
    "ConvoySettings",
    "Destination",
    "Group",
    "NetworkRef",
    "Scenario",
    "Source",
    "Vehicles",
    "load_scenario",
]
