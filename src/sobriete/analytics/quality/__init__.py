"""Data-quality checks on long reading frames: pure functions, no I/O.

``check_series`` checks one series, ``check_many`` every series of a long frame; both return a
``QualityReport`` of ``QualityIssue`` findings (gaps, duplicates, off-grid stamps, negative or
impossible values, flat lines, suspicious zeros, spikes, DST mistakes, clock shifts) with their
evidence, plus completeness per local day and month. Thresholds: ``QualitySettings``.
"""

from sobriete.domain.quality import IssueKind, QualityIssue, Severity

from ._core import check_many, check_series, completeness
from .report import QualityReport
from .settings import CHECK_VERSIONS, QualitySettings

__all__ = [
    "CHECK_VERSIONS",
    "IssueKind",
    "QualityIssue",
    "QualityReport",
    "QualitySettings",
    "Severity",
    "check_many",
    "check_series",
    "completeness",
]
