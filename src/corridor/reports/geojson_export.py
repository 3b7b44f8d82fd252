"""The operation as GeoJSON (RFC 7946): route points with their counts by status and P-codes,
incidents where they happened, vehicles at the route point they were last seen at.

Counts only, no names: an incident carries its kind, time and place, never its description or the
people it names. Coordinates are WGS 84 longitude, latitude. A feature whose place has no known
coordinates keeps ``"geometry": null`` (an unlocated feature, which RFC 7946 allows), so its counts
are never lost for want of a position.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Feature = dict[str, Any]


@dataclass(frozen=True)
class PointCounts:
    """A route point, where it is (when known), and who is there by status."""

    id: str
    name: str
    kind: str
    pcode: str | None = None
    admin_level: int | None = None
    lon: float | None = None
    lat: float | None = None
    people: Mapping[str, int] = field(default_factory=dict)
    vehicles: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentPlace:
    id: str
    kind: str
    occurred_at: datetime
    place_name: str | None = None
    pcode: str | None = None
    admin_level: int | None = None
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class VehiclePlace:
    """A vehicle, its status and the route point it was last seen at (None: not seen yet)."""

    code: str
    status: str
    point: str | None
    last_seen_at: datetime | None


def point_geometry(lon: float | None, lat: float | None) -> dict[str, Any] | None:
    """A GeoJSON Point, or None when either coordinate is missing or out of range."""
    if lon is None or lat is None:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _feature(layer: str, geometry: dict[str, Any] | None, properties: dict[str, Any]) -> Feature:
    return {"type": "Feature", "geometry": geometry, "properties": {"layer": layer, **properties}}


def feature_collection(
    points: Iterable[PointCounts],
    incidents: Iterable[IncidentPlace],
    vehicles: Iterable[VehiclePlace],
    *,
    at: datetime,
    operation: str,
) -> dict[str, Any]:
    """One FeatureCollection with three layers (property ``layer``: point, incident, vehicle)."""
    points = list(points)
    where = {p.id: point_geometry(p.lon, p.lat) for p in points}
    features = [
        _feature(
            "point",
            where[p.id],
            {
                "id": p.id,
                "name": p.name,
                "kind": p.kind,
                "pcode": p.pcode,
                "admin_level": p.admin_level,
                "people": dict(p.people),
                "people_total": sum(p.people.values()),
                "vehicles": dict(p.vehicles),
            },
        )
        for p in points
    ]
    features += [
        _feature(
            "incident",
            point_geometry(i.lon, i.lat),
            {
                "id": i.id,
                "kind": i.kind,
                "occurred_at": i.occurred_at.isoformat(),
                "place_name": i.place_name,
                "pcode": i.pcode,
                "admin_level": i.admin_level,
            },
        )
        for i in incidents
    ]
    features += [
        _feature(
            "vehicle",
            where.get(v.point) if v.point else None,
            {
                "code": v.code,
                "status": v.status,
                "point": v.point,
                "last_seen_at": v.last_seen_at.isoformat() if v.last_seen_at else None,
            },
        )
        for v in vehicles
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {"operation": operation, "at": at.isoformat()},
    }
