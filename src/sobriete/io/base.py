"""What every reader returns: validated frames plus where they came from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of a parsed file: carried into the store's import batch."""

    path: str
    sha256: str
    format: str  # e.g. "enedis-portal", "enedis-r63", "meter-csv-wide", "synop", "epw"
    parser_version: str = "1"


@dataclass(frozen=True)
class ParsedReadings:
    """A long frame with ``columns.READING_COLUMNS``, sorted by series_key then start_utc."""

    source: SourceInfo
    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedWeather:
    """A wide frame indexed by ``start_utc`` (UTC) with weather quantity columns."""

    source: SourceInfo
    station: str
    frame: pd.DataFrame
    warnings: tuple[str, ...] = ()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str | Path) -> bytes:
    """Whole file as bytes (files here are at most a few hundred MB)."""
    return Path(path).read_bytes()
