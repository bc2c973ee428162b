"""The result of the checks: findings, completeness and what produced them, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sobriete.domain.quality import IssueKind, QualityIssue, Severity

from .settings import CHECK_VERSIONS, QualitySettings

COMPLETENESS_COLUMNS = (
    "series_key", "quantity", "period_start", "n_expected", "n_present", "n_valid",
    "completeness",
)
SERIES_COLUMNS = (
    "series_key", "quantity", "step_s", "n_rows", "n_expected", "n_valid", "completeness",
    "n_issues", "notes",
)
ISSUE_COLUMNS = (
    "series_key", "quantity", "kind", "severity", "start_utc", "end_utc", "n_points",
    "message_fr", "message_en", "evidence", "check_version",
)


def empty_completeness() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COMPLETENESS_COLUMNS})


@dataclass(frozen=True)
class QualityReport:
    """Findings over one or many series.

    ``completeness_daily`` / ``completeness_monthly``: one row per series and local calendar
    day / month (``period_start`` in the report's timezone): ``n_expected`` intervals on the
    series' grid within its observed span, ``n_present`` with at least one row, ``n_valid``
    with a usable value (finite, physically possible, not a suspicious zero), and
    ``completeness = n_valid / n_expected``.
    ``series``: one row per series: the step used, counts and notes (why a check was skipped).
    """

    issues: list[QualityIssue]
    completeness_daily: pd.DataFrame = field(default_factory=empty_completeness)
    completeness_monthly: pd.DataFrame = field(default_factory=empty_completeness)
    series: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(SERIES_COLUMNS)))
    settings: QualitySettings = field(default_factory=QualitySettings)
    timezone: str = "Europe/Paris"
    check_versions: dict[str, str] = field(default_factory=lambda: dict(CHECK_VERSIONS))

    @property
    def summary(self) -> dict[str, int]:
        """Number of findings by kind, by severity, and in all (every key always present)."""
        out = {f"kind.{k.value}": 0 for k in IssueKind}
        out |= {f"severity.{s.value}": 0 for s in Severity}
        for i in self.issues:
            out[f"kind.{i.kind.value}"] += 1
            out[f"severity.{i.severity.value}"] += 1
        out["total"] = len(self.issues)
        out["series"] = len(self.series)
        return out

    def of_kind(self, kind: IssueKind | str) -> list[QualityIssue]:
        return [i for i in self.issues if i.kind == IssueKind(kind)]

    def to_frame(self) -> pd.DataFrame:
        """One row per finding, for display (times in UTC; messages in both languages)."""
        rows = [i.model_dump() for i in self.issues]
        df = pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))
        if len(df):
            df["kind"] = df["kind"].map(lambda k: IssueKind(k).value)
            df["severity"] = df["severity"].map(lambda s: Severity(s).value)
            df["start_utc"] = pd.to_datetime(df["start_utc"], utc=True)
            df["end_utc"] = pd.to_datetime(df["end_utc"], utc=True)
        return df

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: findings, summary, settings and versions (completeness left out)."""
        return {
            "issues": [i.model_dump(mode="json") for i in self.issues],
            "summary": self.summary,
            "settings": self.settings.model_dump(),
            "timezone": self.timezone,
            "check_versions": dict(self.check_versions),
        }
