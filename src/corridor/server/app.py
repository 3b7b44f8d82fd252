"""The app factory: ``create_app(settings)`` builds the operations service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from corridor.server import errors, limits, tls
from corridor.server.access.routes import router as access_router
from corridor.server.checkpoints.routes import router as checkpoints_router
from corridor.server.exports.routes import router as exports_router
from corridor.server.incidents.routes import router as incidents_router
from corridor.server.jobs.routes import api as jobs_router
from corridor.server.jobs.routes import pages as jobs_pages
from corridor.server.ledger.routes import router as ledger_router
from corridor.server.manifests.routes import router as manifests_router
from corridor.server.operations.routes import router as operations_router
from corridor.server.public.routes import router as public_router
from corridor.server.registration.routes import router as registration_router
from corridor.server.runtime import Runtime
from corridor.server.settings import Settings
from corridor.server.web import assets, headers
from corridor.server.web.ca import router as ca_router
from corridor.server.web.clocks import router as clocks_router
from corridor.server.web.errors import html_error
from corridor.server.web.notices import router as notices_router
from corridor.server.web.routes import router as web_router

DESCRIPTION = """Run an evacuation and account for every person in it: operations, registration,
manifests, the checkpoint ledger, reconciliation, incidents and evidence.

Every error has one JSON shape: `{"error": {"status", "code", "message", "where", "hint",
"details"}}`. Authenticate with `Authorization: Bearer <token>` (log in at `/api/auth/token`)."""


def create_app(settings: Settings | None = None, *, trust: tls.Trust | None = None) -> FastAPI:
    """The FastAPI app for ``settings`` (default: from ``CORRIDOR_*`` environment variables).

    ``trust`` is what the ``/ca`` page offers phones, as ``corridor serve`` knows it from how it
    serves (:func:`corridor.server.tls.trust_of`); None: the local CA in the data folder, if any.
    The database must already be migrated (``corridor.server.db.upgrade(url)``).
    """
    runtime = Runtime.start(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.stop()

    app = FastAPI(
        title="corridor operations",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from the app's own files, not a CDN
        redoc_url=None,
        responses=errors.RESPONSES,
    )
    app.state.runtime = runtime
    app.state.trust = trust
    errors.install(app, html=html_error)
    for router in (
        access_router,
        operations_router,
        registration_router,
        checkpoints_router,
        ledger_router,
        manifests_router,
        incidents_router,
        exports_router,
        jobs_router,
        jobs_pages,
        public_router,
        notices_router,
        web_router,
        ca_router,
        clocks_router,
    ):
        app.include_router(router)
    assets.mount(app, runtime.settings.web_assets)
    app.add_middleware(limits.BodyLimits, settings=runtime.settings, html=html_error)
    app.add_middleware(limits.NoStore)
    app.add_middleware(assets.CompressPages)
    app.add_middleware(headers.SecurityHeaders, tile_url=runtime.settings.tile_url)

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """The OpenAPI documentation, with Swagger UI from the npm registry (works offline)."""
        vendor = "/static/vendor/swagger-ui-dist"
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="corridor operations API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: answers without credentials."""
        return {"status": "ok"}

    return app
