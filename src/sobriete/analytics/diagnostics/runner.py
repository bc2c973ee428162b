"""Run every applicable meter detector on one series."""

from __future__ import annotations

from collections.abc import Callable

from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.analytics.diagnostics.settings import DiagnosticSettings
from sobriete.domain.findings import Finding

Detector = Callable[[MeterSeries, DiagnosticSettings], list[Finding]]

# Filled as detectors land; order is the order findings are listed in.
METER_DETECTORS: dict[str, Detector] = {}


def diagnose_meter(series: MeterSeries,
                   settings: DiagnosticSettings | None = None) -> list[Finding]:
    """All findings of all meter detectors on ``series`` (analysed window only)."""
    s = settings or DiagnosticSettings()
    out: list[Finding] = []
    for detect in METER_DETECTORS.values():
        out.extend(detect(series, s))
    return sorted(out, key=lambda f: (f.start_utc, f.kind.value))
