"""The load shape of an ordinary week against the occupancy calendar.

Three rules over the analysed window, each one finding at most:
- base load too high (electricity): the mean power of the quietest night hours, as a share of
  the mean occupied power, against the typical share for the building's activity;
- out-of-hours consumption: on workdays, the load outside opening hours (ramps and pre-heating
  left out) stays well above the night base;
- no night set-back (heating meters): on cold days the night power is close to the day power.
These are standing conditions of the building, so the waste is annualised over the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sobriete.analytics.diagnostics.base import (
    MeterSeries,
    evidence,
    finding,
    fmt_dec,
    fmt_num,
    fmt_pct,
    waste,
)
from sobriete.analytics.diagnostics.daily import margin_score
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.domain.findings import Finding, FindingKind
from sobriete.domain.portfolio import HeatingSystem, MeterKind

_MIN_HOURS = 24 * 7  # hours of each kind needed before a ratio means anything
_ELECTRIC_HEAT = (HeatingSystem.HEAT_PUMP, HeatingSystem.ELECTRIC_RESISTANCE)


def _window(series: MeterSeries) -> pd.DataFrame:
    f = series.frame()
    return f[f["analysed"] & f["energy_kwh"].notna()]


def _night(f: pd.DataFrame, settings: DiagnosticSettings) -> np.ndarray:
    a, b = settings.schedule.night_hours_local
    return (~f["occupied"] & (f["local_hour"] >= a) & (f["local_hour"] <= b)).to_numpy()


def _window_hours(series: MeterSeries) -> float:
    idx = series.energy_kwh.index
    return float((idx[-1] - max(series.start, idx[0])) / pd.Timedelta(hours=1)) + 1.0


def _result(series, settings, kind, f, rows, excess_kwh, half, values, reference, params,
            fr, en, actions, score) -> Finding:
    ev = evidence(series, f, plot="weekly_profile", values=values, reference=reference,
                  parameters=params)
    wst = waste(series, excess_kwh, _window_hours(series),
                rel_halfwidth=float(np.clip(half, 0.05, 1.0)),
                method="excess mean power x hours concerned over the window, annualised")
    return finding(series, kind, f.index[0], f.index[-1] + pd.Timedelta(hours=1),
                   score=score, detector="profile", version=DETECTOR_VERSIONS["schedule"],
                   ev=ev, wst=wst, fr=fr, en=en, actions=actions)


def _night_and_occupied_kw(f: pd.DataFrame, night: np.ndarray,
                           occ: np.ndarray) -> tuple[float, float] | None:
    """Mean power [kW] of the night and occupied hours, None when either is too thin."""
    if night.sum() < _MIN_HOURS or occ.sum() < _MIN_HOURS:
        return None
    e = f["energy_kwh"].to_numpy()
    p_night, p_occ = float(e[night].mean()), float(e[occ].mean())
    return (p_night, p_occ) if p_occ > 0 else None


def base_load_high(series: MeterSeries, settings: DiagnosticSettings) -> list[Finding]:
    if series.meter.kind is not MeterKind.ELECTRICITY:
        return []
    s = settings.schedule
    f = _window(series)
    night, occ = _night(f, settings), f["occupied"].to_numpy()
    powers = _night_and_occupied_kw(f, night, occ)
    if powers is None:
        return []
    p_night, p_occ = powers
    ratio = p_night / p_occ
    activity = series.building.activity.value
    typical = s.typical_closed_ratio.get(activity, s.typical_closed_ratio["other"])
    if ratio <= typical + s.closed_ratio_margin:
        return []
    closed_h = int((~f["occupied"]).sum())
    excess_kw = p_night - typical * p_occ
    name = series.building.name
    fr = (f"La nuit, {name} consomme {fmt_pct(ratio)} de sa puissance d'occupation "
          f"({fmt_dec(p_night)} kW contre {fmt_dec(p_occ)} kW) ; un bâtiment comparable "
          f"({activity}) en consomme environ {fmt_pct(typical)}. Chercher les appareils qui "
          f"restent allumés : "
          f"environ {fmt_num(excess_kw * closed_h)} kWh sur la période.")
    en = (f"At night, {name} draws {fmt_pct(ratio)} of its occupied power ({p_night:.1f} kW "
          f"against {p_occ:.1f} kW); a comparable building ({activity}) draws about "
          f"{fmt_pct(typical)}. Hunt the loads left on: about {excess_kw * closed_h:,.0f} kWh "
          "over the period.")
    return [_result(
        series, settings, FindingKind.BASE_LOAD_HIGH, f, night, excess_kw * closed_h,
        s.closed_ratio_margin * p_occ / excess_kw,
        {"night_power_kw": round(p_night, 2), "occupied_power_kw": round(p_occ, 2),
         "closed_ratio": round(ratio, 3), "closed_hours": closed_h},
        {"typical_closed_ratio": typical, "activity": activity},
        {"closed_ratio_margin": s.closed_ratio_margin, "night_hours_local":
         "{}-{}".format(*s.night_hours_local)},
        fr, en, ("base_load_hunt", "schedule_fix", "bacs_class_b"),
        margin_score((ratio - typical) / s.closed_ratio_margin if s.closed_ratio_margin else 2.0))]


def _hours_to_opening(f: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Hours since the last occupied hour and until the next one (per row, same day or not)."""
    occ = f["occupied"].to_numpy()
    pos = np.arange(len(f), dtype=float)
    last = pd.Series(np.where(occ, pos, np.nan)).ffill().to_numpy()
    nxt = pd.Series(np.where(occ, pos, np.nan)).bfill().to_numpy()
    return pos - last, nxt - pos  # NaN where none before/after


def out_of_hours(series: MeterSeries, settings: DiagnosticSettings) -> list[Finding]:
    s = settings.schedule
    f = _window(series)
    night, occ = _night(f, settings), f["occupied"].to_numpy()
    since, until = _hours_to_opening(f)
    heating = series.meter.kind is not MeterKind.ELECTRICITY
    before = s.ramp_hours + (s.preheat_hours if heating else 0)
    workday = (f["day_type"] == "workday").to_numpy()
    ooh = (workday & ~occ & ~night & ~(since <= s.ramp_hours) & ~(until <= before))
    if ooh.sum() < _MIN_HOURS or night.sum() < _MIN_HOURS or occ.sum() < _MIN_HOURS:
        return []
    e = f["energy_kwh"].to_numpy()
    p_ooh, p_night, p_occ = (float(e[m].mean()) for m in (ooh, night, occ))
    span = p_occ - p_night
    if span <= 0:
        return []
    share = (p_ooh - p_night) / span
    if share <= s.out_of_hours_allowed_share:
        return []
    excess_kw = p_ooh - p_night - s.out_of_hours_allowed_share * span
    hours = int(ooh.sum())
    name = series.building.name
    fr = (f"Les jours ouvrés, hors des heures d'ouverture, {name} reste à "
          f"{fmt_dec(p_ooh)} kW, soit {fmt_pct(share)} de l'écart entre la nuit "
          f"({fmt_dec(p_night)} kW) et l'occupation "
          f"({fmt_dec(p_occ)} kW) ; attendu au plus {fmt_pct(s.out_of_hours_allowed_share)}. "
          f"Recaler les horaires : environ {fmt_num(excess_kw * hours)} kWh sur la période.")
    en = (f"On workdays outside opening hours, {name} stays at {p_ooh:.1f} kW, "
          f"{fmt_pct(share)} of the gap between night ({p_night:.1f} kW) and occupied "
          f"({p_occ:.1f} kW) load; expected at most {fmt_pct(s.out_of_hours_allowed_share)}. "
          f"Align the schedules: about {excess_kw * hours:,.0f} kWh over the period.")
    return [_result(
        series, settings, FindingKind.OUT_OF_HOURS, f, ooh, excess_kw * hours,
        0.1 * span / excess_kw,
        {"out_of_hours_power_kw": round(p_ooh, 2), "night_power_kw": round(p_night, 2),
         "occupied_power_kw": round(p_occ, 2), "out_of_hours_share": round(share, 3),
         "hours": hours},
        {"allowed_share": s.out_of_hours_allowed_share},
        {"ramp_hours": s.ramp_hours, "preheat_hours": s.preheat_hours if heating else 0},
        fr, en, ("schedule_fix", "optimal_start", "bacs_class_b"),
        margin_score(share / s.out_of_hours_allowed_share
                     if s.out_of_hours_allowed_share else 2.0))]


def no_setback(series: MeterSeries, settings: DiagnosticSettings) -> list[Finding]:
    kind = series.meter.kind
    heats = kind in (MeterKind.GAS, MeterKind.HEAT) or (
        kind is MeterKind.ELECTRICITY and series.building.heating_system in _ELECTRIC_HEAT)
    if not heats:
        return []
    s = settings.schedule
    f = _window(series)
    daily_t = f.groupby("local_date")["temp_air_c"].transform("mean").to_numpy()
    cold = daily_t < s.setback_cold_temp_c
    night, occ = _night(f, settings) & cold, f["occupied"].to_numpy() & cold
    powers = _night_and_occupied_kw(f, night, occ)
    if powers is None:
        return []
    p_night, p_occ = powers
    ratio = p_night / p_occ
    if ratio < s.setback_max_ratio:
        return []
    cold_closed = int((cold & ~f["occupied"].to_numpy()).sum())
    excess_kw = p_night - s.setback_target_ratio * p_occ
    name = series.building.name
    fr = (f"Par temps froid, {name} chauffe autant la nuit ({fmt_dec(p_night)} kW) qu'en "
          f"occupation ({fmt_dec(p_occ)} kW, rapport {fmt_pct(ratio)}) : aucun ralenti de nuit "
          f"visible. Avec un abaissement (rapport {fmt_pct(s.setback_target_ratio)}), environ "
          f"{fmt_num(excess_kw * cold_closed)} kWh économisés sur la période.")
    en = (f"In cold weather, {name} heats as much at night ({p_night:.1f} kW) as when occupied "
          f"({p_occ:.1f} kW, ratio {fmt_pct(ratio)}): no night set-back is visible. With one "
          f"(ratio {fmt_pct(s.setback_target_ratio)}), about {excess_kw * cold_closed:,.0f} kWh "
          "saved over the period.")
    return [_result(
        series, settings, FindingKind.NO_SETBACK, f, night, excess_kw * cold_closed,
        0.5,  # the target ratio is a rule of thumb: a wide interval says so
        {"night_power_kw": round(p_night, 2), "occupied_power_kw": round(p_occ, 2),
         "night_ratio": round(ratio, 3), "cold_closed_hours": cold_closed},
        {"setback_target_ratio": s.setback_target_ratio},
        {"setback_max_ratio": s.setback_max_ratio, "setback_cold_temp_c": s.setback_cold_temp_c},
        fr, en, ("night_setback", "optimal_start", "bacs_class_b"),
        margin_score(ratio / s.setback_max_ratio))]
