"""Run every applicable meter detector on one series, sharing the daily reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sobriete.analytics.diagnostics import daily as D
from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.analytics.diagnostics.change import detect_changes
from sobriete.analytics.diagnostics.closed_days import detect_closed_days
from sobriete.analytics.diagnostics.contract import detect_peaks
from sobriete.analytics.diagnostics.heating_season import detect_heating_season
from sobriete.analytics.diagnostics.profile import base_load_high, no_setback, out_of_hours
from sobriete.analytics.diagnostics.settings import DiagnosticSettings
from sobriete.domain.findings import Finding, FindingKind

Detector = Callable[..., list[Finding]]
_DAY = timedelta(days=1)

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
    return sorted(explained_once(out), key=lambda f: (f.start_utc, f.kind.value))


_SEASON = {FindingKind.SUMMER_HEATING, FindingKind.HEATING_SEASON_EARLY,
           FindingKind.HEATING_SEASON_LATE}
_EPISODES = _SEASON | {FindingKind.WEEKEND_USE, FindingKind.HOLIDAY_USE}
_CHANGES = {FindingKind.STEP_CHANGE, FindingKind.DRIFT}


def _middle(f: Finding):
    return f.start_utc + (f.end_utc - f.start_utc) / 2


def explained_once(findings: list[Finding]) -> list[Finding]:
    """One excess, one finding: the most specific explanation wins.

    Heating on warm days also raises the weekends and the weekly totals, and weekend operation
    raises the weekly totals: without this, one fault would be listed three times under three
    names (and its kWh counted three times). A weekend or holiday finding inside a heating-season
    finding goes, and so does one a night base-load increase accounts for; a step or drift
    whose excess is at least half made of episode findings inside it goes. Standing findings
    (base load, out of hours, set-back, peaks) are kept as they are.
    """
    season = [f for f in findings if f.kind in _SEASON]

    def inside(f: Finding, g: Finding) -> bool:
        return g.start_utc <= f.start_utc and f.end_utc <= g.end_utc + _DAY

    base = [f for f in findings if f.kind is FindingKind.BASE_LOAD_INCREASE]

    def base_explains(f: Finding, g: Finding) -> bool:
        # A raised night base raises every closed hour of a weekend or holiday too.
        kw = g.evidence.values.get("night_power_increase_kw") or 0.0
        days = f.evidence.values.get("days") or 0
        return inside(f, g) and f.waste is not None and (
            f.waste.kwh_observed <= 1.5 * float(kw) * 24 * float(days))

    kept = [f for f in findings if not (
        f.kind in (FindingKind.WEEKEND_USE, FindingKind.HOLIDAY_USE)
        and (any(inside(f, g) for g in season) or any(base_explains(f, g) for g in base)))]
    out = []
    for f in kept:
        if f.kind in _CHANGES and f.waste is not None and f.waste.kwh_observed > 0:
            within = sum(g.waste.kwh_observed for g in kept
                         if g.kind in _EPISODES and g.waste is not None
                         and f.start_utc <= _middle(g) <= f.end_utc)
            if within >= 0.5 * f.waste.kwh_observed:
                continue
        out.append(f)
    return out
