"""Every table of the service, imported in one place so that the metadata is complete."""

from __future__ import annotations

from corridor.server.access.tables import AccessLogEntry, ApiToken, Device, Membership, User
from corridor.server.checkpoints.clock_tables import DeviceClock, EventClock
from corridor.server.convoys.tables import ConvoyVersion
from corridor.server.db import Base
from corridor.server.incidents.tables import EvidenceFile, Incident
from corridor.server.jobs.tables import Job
from corridor.server.ledger.chain_tables import LedgerCheckpoint, LedgerCutOver
from corridor.server.ledger.snapshot_tables import CountsSnapshot
from corridor.server.ledger.tables import LedgerHead, LedgerRow
from corridor.server.manifests.roster_tables import RosterChange
from corridor.server.manifests.tables import ManifestEntry, Trip, Vehicle
from corridor.server.operations.tables import Operation, PlanVersion
from corridor.server.public.tables import Notice, NoticeDelivery, TracingConsent, TracingQuery
from corridor.server.registration.tables import Household, Person

metadata = Base.metadata

__all__ = [
    "AccessLogEntry",
    "ApiToken",
    "ConvoyVersion",
    "CountsSnapshot",
    "Device",
    "DeviceClock",
    "EventClock",
    "EvidenceFile",
    "Household",
    "Incident",
    "Job",
    "LedgerCheckpoint",
    "LedgerCutOver",
    "LedgerHead",
    "LedgerRow",
    "ManifestEntry",
    "Membership",
    "Notice",
    "NoticeDelivery",
    "Operation",
    "Person",
    "PlanVersion",
    "RosterChange",
    "TracingConsent",
    "TracingQuery",
    "Trip",
    "User",
    "Vehicle",
    "metadata",
]
