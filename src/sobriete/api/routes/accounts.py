"""API routes: accounts, grants and API tokens (filled by issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
