"""The API's routers, one module per resource family, each exposing ``router`` (mounted under
``/api/v1``). Every route declares the action it needs with ``deps.access`` and checks scope
with ``deps.authorize`` or ``services.scoped.building_refs``; ``tests/api`` proves it."""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter

MODULES = ("session", "accounts", "estate", "readings", "findings", "measure", "control",
           "flex", "footprint", "reports", "alerts", "jobs")


def routers() -> list[APIRouter]:
    return [import_module(f"{__name__}.{m}").router for m in MODULES]
