"""API routes: long jobs and their progress (filled by issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
