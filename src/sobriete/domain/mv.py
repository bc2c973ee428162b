"""Measurement & verification vocabulary: warnings and disqualifications carried as data."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class WarningLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    DISQUALIFICATION = "disqualification"  # the result must not be used as is


class MVWarning(BaseModel):
    """A fact about the data or the fit that a person must know to trust a result.

    ``code`` is stable (for filtering and tests), messages are for people, ``data`` holds the
    numbers behind the message (coverage, thresholds, periods).
    """

    model_config = ConfigDict(frozen=True)

    code: str  # e.g. "baseline_too_short", "cvrmse_above_threshold"
    level: WarningLevel
    message_fr: str
    message_en: str
    data: dict[str, float | int | str | None] = Field(default_factory=dict)


def disqualified(warnings: list[MVWarning] | tuple[MVWarning, ...]) -> bool:
    return any(w.level is WarningLevel.DISQUALIFICATION for w in warnings)
