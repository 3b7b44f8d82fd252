"""Every page of the web app, in one router the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from corridor.server.web import (
    admin,
    admin_devices,
    admin_members,
    admin_operations,
    admin_users,
    admin_vehicles,
    convoy,
    dashboard_incidents,
    favicon,
    incidents,
    manifests,
    pages,
    plan,
    register,
    reports,
    risk,
    scan,
)
from corridor.server.web import map as map_page

router = APIRouter(include_in_schema=False)
for module in (
    pages,
    register,
    manifests,
    scan,
    dashboard_incidents,
    incidents,
    map_page,
    plan,
    convoy,
    risk,
    reports,
    favicon,
    admin,
    admin_operations,
    admin_users,
    admin_members,
    admin_devices,
    admin_vehicles,
):
    router.include_router(module.router)
