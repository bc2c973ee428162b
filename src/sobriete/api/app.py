"""The FastAPI application of `sobriete serve`: ``/health``, the API under ``/api/v1`` (one
router per resource family, ``api.routes``), the dashboard (``api.web``) and the audit of
every write: each unsafe request, allowed or refused, leaves one ``audit_log`` row with who
asked, what, and the answer's status."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from sobriete.api import problems, web
from sobriete.api.audit_mw import AuditWrites
from sobriete.api.routes import routers
from sobriete.api.settings import ServiceSettings
from sobriete.services.store import Store, open_store
from sobriete.services.store.engine import schema_state

log = logging.getLogger("sobriete.api")


class Health(BaseModel):
    status: str  # "ok" | "degraded"
    version: str
    database: str  # dialect
    database_ok: bool
    schema_revision: str | None
    schema_head: str
    check_duration_ms: float


def create_app(settings: ServiceSettings, store: Store | None = None) -> FastAPI:
    """The application on ``settings.db_url`` (opened and migrated at start-up), or on
    ``store`` when the caller has one (tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from sobriete.services import scheduler as clock
        from sobriete.services.jobs import JobRegistry

        app.state.store = store or open_store(settings.db_url)
        app.state.settings = settings
        app.state.jobs = JobRegistry(app.state.store)
        log.info("store opened", extra={"dialect": app.state.store.dialect})
        # The control loop is not scheduled: it acts on heating, `sobriete control run` only.
        app.state.scheduler = (clock.start(app.state.store, settings, app.state.jobs)
                               if settings.scheduler else None)
        yield
        if app.state.scheduler is not None:
            clock.stop(app.state.scheduler)
        app.state.jobs.shutdown()
        if store is None:
            app.state.store.close()

    app = FastAPI(title="sobriete", version=version("sobriete"), lifespan=lifespan,
                  description="Énergie des bâtiments publics des communes — API.")
    app.state.settings = settings
    problems.install(app)
    for r in routers():
        app.include_router(r, prefix="/api/v1")
    web.install(app)

    app.add_middleware(AuditWrites)

    @app.get("/health", response_model=Health, tags=["service"],
             summary="État du service et de sa base / service and database state")
    def health() -> Health:
        started = time.perf_counter()
        st: Store = app.state.store
        try:
            with st.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            revision, head = schema_state(st)
            ok = True
        except SQLAlchemyError as exc:
            log.warning("health check failed", extra={"error": str(exc)})
            revision, head, ok = None, "", False
        return Health(status="ok" if ok and revision == head else "degraded",
                      version=version("sobriete"), database=st.dialect, database_ok=ok,
                      schema_revision=revision, schema_head=head,
                      check_duration_ms=round((time.perf_counter() - started) * 1000, 2))

    return app
