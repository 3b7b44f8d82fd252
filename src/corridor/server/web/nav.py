"""The operation's menu: each page with the permission it needs; a person sees only what they may
open. A new page adds its line here."""

from __future__ import annotations

from dataclasses import dataclass

from corridor.server.auth import Actor, allowed


@dataclass(frozen=True)
class Entry:
    label: str  # message key
    path: str  # under /operations/{id}/
    action: str  # permission needed


ENTRIES: list[Entry] = [
    Entry("nav.register", "register", "households.write"),
    Entry("nav.manifests", "manifests", "vehicles.read"),
    Entry("nav.scan", "scan", "events.write"),
    Entry("nav.incidents", "incidents", "incidents.read"),
    Entry("nav.report_incident", "incidents/new", "incidents.write"),
    Entry("nav.map", "map", "counts.read"),
    Entry("nav.plan", "plan", "operation.read"),
    Entry("nav.convoy", "convoy", "operation.read"),
    Entry("nav.risk", "risk", "operation.read"),
    Entry("nav.sitrep", "sitrep", "counts.read"),
    Entry("nav.notices", "notices", "operation.read"),
    Entry("nav.admin", "admin", "operation.update"),
]


def menu(actor: Actor | None, operation_id: str) -> list[tuple[str, str]]:
    """(message key, href) of the pages ``actor`` may open in the operation."""
    if actor is None:
        return []
    return [
        (e.label, f"/operations/{operation_id}/{e.path}")
        for e in ENTRIES
        if allowed(actor, e.action, operation_id)
    ]
