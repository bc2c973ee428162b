"""Heating when there is nothing to heat: warm days, and days outside the heating season.

The hot-water (and kitchen) base of a gas or heat meter is the ``hot_water_quantile`` of its
daily use on warm days, separately for workdays and closed days, over the reference and the
window. Warm days whose use stays above that base, week after week, are heating in summer;
cool days outside the conventional season (± tolerance) with heating are an early start or a
late stop. Days are tested by ISO week so that one busy day (a canteen event) is not a finding,
and consecutive flagged weeks make one finding. The waste is the measured excess over the base,
not extrapolated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sobriete.analytics.calendar import DayType
from sobriete.analytics.diagnostics import daily as D
from sobriete.analytics.diagnostics.base import MeterSeries, evidence, finding, fmt_num, waste
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.analytics.mv.events import robust_sigma
from sobriete.domain.findings import Finding, FindingKind
from sobriete.domain.portfolio import MeterKind


def _in_season(index: pd.DatetimeIndex, start_mmdd: str, end_mmdd: str, tol: int) -> np.ndarray:
    """True for dates inside [start - tol, end + tol] of a season spanning the new year."""
    year = index.year
    start = pd.to_datetime([f"{y}-{start_mmdd}" for y in year]) - pd.Timedelta(days=tol)
    end = pd.to_datetime([f"{y}-{end_mmdd}" for y in year]) + pd.Timedelta(days=tol)
    return np.asarray((index >= start) | (index <= end))


def detect_heating_season(series: MeterSeries, settings: DiagnosticSettings,
                          ref: D.DailyReference | None = None) -> list[Finding]:
    if series.meter.kind not in (MeterKind.GAS, MeterKind.HEAT):
        return []
    h = settings.heating_season
    ref = ref or D.daily_reference(series, settings)
    if not ref.weather:
        return []
    days = ref.days[ref.days["energy_kwh"].notna() & ref.days["temp_air_c"].notna()].copy()
    warm = days["temp_air_c"] >= h.no_heating_temp_c
    workday = days["day_type"] == DayType.WORKDAY.value
    base = pd.Series(np.nan, index=days.index)
    for group in (workday, ~workday):
        pool = days.loc[warm & group, "energy_kwh"]
        if len(pool) >= 10:
            base[group] = float(pool.quantile(h.hot_water_quantile))
    days["base_kwh"] = base
    dev = (days["energy_kwh"] - days["base_kwh"])[warm]
    sigma = robust_sigma(dev - dev.groupby(workday[warm]).transform("median"))
    # A boiler off all summer reads 0 every warm day (MAD 0): use the daily noise floor.
    sigma = max(sigma if np.isfinite(sigma) else 0.0, ref.sigma_floor_kwh)
    if not sigma > 0:
        return []
    analysed = days[days["analysed"]]
    in_season = _in_season(analysed.index, h.season_start_mmdd, h.season_end_mmdd,
                           h.season_tolerance_days)
    aw = analysed["temp_air_c"] >= h.no_heating_temp_c
    out: list[Finding] = []
    rules = ((FindingKind.SUMMER_HEATING, aw),
             (None, ~aw & ~in_season))  # early or late, told apart by the month
    for kind, mask in rules:
        sel = analysed[mask.to_numpy()]
        for first, last, ex, z in _flagged_runs(sel, sigma, ref.rho, settings):
            k = kind or (FindingKind.HEATING_SEASON_EARLY if first.month >= 7
                         else FindingKind.HEATING_SEASON_LATE)
            out.append(_finding(series, settings, ref, k, first, last, ex, z, sigma))
    return out


def _flagged_runs(sel: pd.DataFrame, sigma: float, rho: float, settings: DiagnosticSettings):
    """(first, last, Excess, z) of runs of consecutive ISO weeks whose excess passes."""
    h, s = settings.heating_season, settings.schedule
    if sel.empty:
        return []
    weeks = sel.index.to_period("W")
    flagged = []
    noise = D.DailyReference(sel, sigma, rho, "", {}, ())
    for wk, d in sel.groupby(weeks):
        ex = D.Excess(float(d["energy_kwh"].sum()), float(d["base_kwh"].sum()), len(d))
        z = D.significance(noise, ex)
        if ex.ratio >= h.summer_excess_ratio and z >= s.min_excess_sigma:
            flagged.append(wk)
    runs, out = [], []
    for wk in flagged:
        if runs and wk.ordinal - runs[-1][-1].ordinal == 1:
            runs[-1].append(wk)
        else:
            runs.append([wk])
    for run in runs:
        d = sel[(weeks >= run[0]) & (weeks <= run[-1])]
        if len(d) < h.min_summer_days:
            continue
        ex = D.Excess(float(d["energy_kwh"].sum()), float(d["base_kwh"].sum()), len(d))
        out.append((d.index[0], d.index[-1], ex, D.significance(noise, ex)))
    return out


def _finding(series, settings, ref, kind, first, last, ex: D.Excess, z: float,
             sigma: float) -> Finding:
    h = settings.heating_season
    start, end = D.local_day_bounds(series, first, last)
    half = D.Z90 * sigma * np.sqrt(ex.n_days * (1 + ref.rho) / (1 - ref.rho)) / ex.excess_kwh
    ev = evidence(
        series, series.between(start, end),
        plot="daily_vs_temperature" if kind is FindingKind.SUMMER_HEATING else "heating_season",
        values={"actual_kwh": round(ex.actual_kwh, 1), "excess_kwh": round(ex.excess_kwh, 1),
                "excess_ratio": ex.ratio_shown, "significance_sigma": round(z, 1),
                "days": ex.n_days},
        reference={"hot_water_base_kwh": round(ex.expected_kwh, 1),
                   "warm_day_sigma_kwh": round(sigma, 2)},
        parameters={"no_heating_temp_c": h.no_heating_temp_c,
                    "hot_water_quantile": h.hot_water_quantile,
                    "summer_excess_ratio": h.summer_excess_ratio,
                    "season": f"{h.season_start_mmdd}/{h.season_end_mmdd}",
                    "season_tolerance_days": h.season_tolerance_days})
    wst = waste(series, ex.excess_kwh, 0.0, rel_halfwidth=float(np.clip(half, 0.05, 1.0)),
                method="measured excess over the hot-water base on these days "
                "(not extrapolated)", annualise=False)
    name, p_fr = series.building.name, f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}"
    p_en = f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if kind is FindingKind.SUMMER_HEATING:
        what_fr = (f"par temps doux (moyenne ≥ {h.no_heating_temp_c:.0f} °C), le chauffage "
                   "semble tourner")
        what_en = f"in mild weather (mean ≥ {h.no_heating_temp_c:.0f} °C), heating seems on"
        actions = ("heating_season_dates", "schedule_fix", "bacs_class_b")
    else:
        early = kind is FindingKind.HEATING_SEASON_EARLY
        what_fr = ("le chauffage démarre avant la saison" if early
                   else "le chauffage continue après la saison")
        what_en = "heating starts before the season" if early else "heating runs past the season"
        actions = ("heating_season_dates", "bacs_class_b")
    fr = (f"{name} : {p_fr}, {what_fr} : {fmt_num(ex.actual_kwh)} kWh contre "
          f"{fmt_num(ex.expected_kwh)} kWh de besoins d'eau chaude attendus{ex.pct_text}.")
    en = (f"{name}: {p_en}, {what_en}: {ex.actual_kwh:,.0f} kWh against {ex.expected_kwh:,.0f} "
          f"kWh of expected hot-water use{ex.pct_text}.")
    return finding(series, kind, start, end,
                   score=D.score(z, ex.ratio, settings.schedule.min_excess_sigma,
                                 h.summer_excess_ratio),
                   detector="heating_season", version=DETECTOR_VERSIONS["heating_season"],
                   ev=ev, wst=wst, fr=fr, en=en, actions=actions, warnings=ref.warnings)
