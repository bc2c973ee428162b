"""The dashboard (server-rendered, French by default): ``install(app)`` mounts its pages and
static files (filled by issue 6)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the dashboard's routes and static files on ``app``."""
