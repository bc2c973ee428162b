"""Data-quality findings: first-class objects carrying their evidence."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class IssueKind(StrEnum):
    GAP = "gap"
    DUPLICATE = "duplicate"
    FLAT_LINE = "flat_line"
    NEGATIVE = "negative"
    IMPOSSIBLE = "impossible"
    SUSPICIOUS_ZERO = "suspicious_zero"
    SPIKE = "spike"
    DST_ANOMALY = "dst_anomaly"
    CLOCK_SHIFT = "clock_shift"
    OFF_GRID = "off_grid"  # timestamps not on the series' regular step


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class QualityIssue(BaseModel):
    """One problem found in one series, over one period, with what shows it."""

    model_config = ConfigDict(frozen=True)

    series_key: str
    kind: IssueKind
    severity: Severity
    start_utc: datetime
    end_utc: datetime
    n_points: int = Field(ge=0, description="readings concerned")
    message_fr: str
    message_en: str
    evidence: dict[str, float | int | str] = Field(default_factory=dict)
    check_version: str = "1"
    # Optional so that findings built before this field existed still validate; a series_key
    # can carry several quantities (a weather station), so reports set it.
    quantity: str | None = None
