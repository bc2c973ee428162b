"""The FastAPI application of `sobriete serve`. Today: the health endpoint and the published
OpenAPI document; the portfolio, readings, findings, plans and flexibility endpoints come with
access control (issue 6), never before it."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from sobriete.api import problems
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
        app.state.store = store or open_store(settings.db_url)
        log.info("store opened", extra={"dialect": app.state.store.dialect})
        yield
        if store is None:
            app.state.store.close()

    app = FastAPI(title="sobriete", version=version("sobriete"), lifespan=lifespan,
                  description="Énergie des bâtiments publics des communes — API.")
    problems.install(app)

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
