"""Run every applicable meter detector on one series, sharing the daily reference."""

from __future__ import annotations

from collections.abc import Callable

from sobriete.analytics.diagnostics import daily as D
from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.analytics.diagnostics.change import detect_changes
from sobriete.analytics.diagnostics.closed_days import detect_closed_days
from sobriete.analytics.diagnostics.contract import detect_peaks
from sobriete.analytics.diagnostics.heating_season import detect_heating_season
from sobriete.analytics.diagnostics.profile import base_load_high, no_setback, out_of_hours
from sobriete.analytics.diagnostics.settings import DiagnosticSettings
from sobriete.domain.findings import Finding

Detector = Callable[..., list[Finding]]

# name -> (function, needs the shared daily reference); the order findings are listed in.
METER_DETECTORS: dict[str, tuple[Detector, bool]] = {
    "base_load_high": (base_load_high, False),
    "out_of_hours": (out_of_hours, False),
    "no_setback": (no_setback, False),
    "closed_days": (detect_closed_days, True),
    "heating_season": (detect_heating_season, True),
    "change": (detect_changes, True),
    "contract": (detect_peaks, False),
}


def diagnose_meter(series: MeterSeries,
                   settings: DiagnosticSettings | None = None) -> list[Finding]:
    """All findings of all meter detectors on the analysed window of ``series``."""
    s = settings or DiagnosticSettings()
    usable = series.analysed().notna().sum()
    if usable < 24 * 14:
        return []  # two weeks of hours: below that no rule here means anything
    ref = D.daily_reference(series, s)
    out: list[Finding] = []
    for detect, shared in METER_DETECTORS.values():
        out.extend(detect(series, s, ref) if shared else detect(series, s))
    return sorted(out, key=lambda f: (f.start_utc, f.kind.value))
