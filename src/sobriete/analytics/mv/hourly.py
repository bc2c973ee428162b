"""Hourly baseline: time of week x temperature with occupancy regimes, and learnt day types.

The model, for hour h of local day d (weekday w) at temperature T:

    E = sum_k P(d is type k) * (alpha[k, w, h] + f_r(k, h)(T, T_smooth, GHI))

- **Day types are learnt from the data.** A first fit (one intercept per calendar day type x
  hour, one temperature response) removes the weather; the days' remaining 24-hour profiles
  are clustered by k-means, adding types while each one cuts the within-type variance by
  ``min_type_gain``. Types come out as "full day", "reduced/vacation day", "closed day"...
  whatever the building does, whether or not the official calendar knows it: a university's
  vacation weeks, a school's Wednesday afternoons, UK bank holidays on a French calendar.
- **Prediction knows days by their calendar only**, so a day's type is a probability
  (``_hourly_core.type_probabilities``): how often each type occurred on baseline days with
  the same calendar type and weekday (what the calendar predicts: weekends, public and
  school holidays, closures), mixed with the type of the same weekday near the same date in
  the baseline year and its neighbouring weeks (what recurs yearly but no calendar knows);
  a baseline *period* of 3-15 same-type days (a vacation week, a shutdown) is copied to the
  same dates as it is; optionally (``type_temp_bandwidth_c``) the day's mean temperature
  weighs in (types that come with the weather, e.g. hot days of a cooling-dominated
  building, follow the weather, not last year's dates). Baseline days themselves keep their
  learnt type. Learnt types are
  also what keeps a vacation week from dragging down the
  workday profile in the fit.
- **Intercepts** ``alpha[k, w, h]`` per type x weekday x hour (time of week per type), shrunk
  towards the type's hour profile when a cell has few days.
- **Temperature**: a continuous piecewise-linear response (knots in °C) in the temperature
  smoothed over the last hours (buildings answer the recent weather, not this hour's),
  plus the hourly deviation from it (optionally, ``temp_deviation="segments"``, with a slope
  changing at the same knots: a hot hour counts in summer, a cold night hour does not make
  a cooling load negative) and, when present, global irradiance; one response per
  occupancy *regime*, the regimes being levels of the learnt type x hour profiles (high =
  occupied). Solved in one pass by the fixed-effects (within-cell) least squares: the
  intercepts drop out and only a small ridge system remains, hence milliseconds per fit.

Components of a prediction (they sum to ``predicted_kwh``):
``base_kwh`` = the reference type's (the usual workday's) hour profile at the reference
temperature ``t_ref_c`` (where the average temperature response is lowest, the balance
point); ``heating_kwh`` / ``cooling_kwh`` = the temperature response of the hour's regime
relative to ``t_ref_c``, below / above it; ``calendar_kwh`` = the rest, i.e. the difference
at the reference temperature between this day's (expected) type and weekday and a normal
occupied day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sobriete.analytics.mv import _hourly_core as core
from sobriete.analytics.mv.base import (
    COMPONENTS,
    ENERGY,
    PREDICTED,
    TEMP,
    BaselineModel,
    FitResult,
)
from sobriete.analytics.mv.metrics import fit_metrics
from sobriete.domain.mv import MVWarning, WarningLevel

GHI = "ghi_w_m2"


class HourlySettings(BaseModel):
    """Settings of the hourly model; defaults chosen on next-year accuracy of the 6 Cambridge
    meters over the year pairs 2015->2016 to 2018->2019 (not on the synthetic tests)."""

    model_config = ConfigDict(frozen=True)

    max_day_types: int = Field(4, ge=1, le=8, description="[-] most day types learnt")
    min_type_gain: float = Field(
        0.08, ge=0.0, le=1.0,
        description="[-] share of within-type variance a further day type must remove")
    min_type_days: int = Field(3, ge=1, le=60, description="[days] smallest learnt day type")
    min_profile_hours: int = Field(
        18, ge=1, le=24, description="[h] hours a day needs to take part in type learning")
    n_regimes: int = Field(2, ge=1, le=3, description="[-] occupancy regimes with their own "
                           "temperature response (1 = one response for all hours)")
    knots_c: tuple[float, ...] = Field(
        (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
        description="[°C] candidate knots of the piecewise-linear temperature response")
    min_knot_share: float = Field(
        0.03, ge=0.0, le=0.5,
        description="[-] share of baseline hours needed on each side of a knot to keep it")
    temp_halflife_h: float = Field(
        12.0, ge=0.0, le=168.0,
        description="[h] half-life of the smoothed temperature driving heating and cooling "
                    "(0 = the hour's temperature)")
    temp_deviation: Literal["none", "linear", "segments"] = Field(
        "segments",
        description="[-] how the hour's deviation from the smoothed temperature enters: "
                    "'segments' = its slope changes at the knots like the response itself "
                    "(better on cooling-dominated loads), 'linear' = one slope at all "
                    "temperatures, 'none' = ignored (also when temp_halflife_h = 0)")
    ridge: float = Field(1e-3, ge=0.0, le=10.0,
                         description="[-] ridge on slope changes, relative to the data scale")
    cell_shrinkage_days: float = Field(
        3.0, ge=0.0, le=100.0,
        description="[days] pseudo-days pulling a weekday x hour cell to its type profile")
    analog_weight: float = Field(
        3.0, ge=0.0, le=100.0,
        description="[-] weight of the same-date baseline day vs the calendar frequency "
                    "when predicting a day's type (0 = calendar only)")
    analog_window_days: int = Field(
        3, ge=0, le=14, description="[days] search window for the same-date baseline day")
    analog_weeks: int = Field(
        2, ge=0, le=8,
        description="[weeks] same-weekday neighbours of the same-date day also consulted")
    analog_week_decay: float = Field(
        0.5, ge=0.0, le=1.0, description="[-] weight per week of distance of those neighbours")
    period_days: int = Field(
        3, ge=1, le=366,
        description="[days] run of same-type days from which a baseline period (a vacation "
                    "week) is copied to the same dates as it is")
    period_max_days: int = Field(
        15, ge=1, le=366,
        description="[days] longest such run; longer ones are seasons (heating on/off) "
                    "left to the weather")
    type_temp_bandwidth_c: float = Field(
        2.0, ge=0.0, le=20.0,
        description="[°C] kernel width of the weather evidence on a day's type: day types "
                    "that come with the weather (hot days, a heating season) are predicted "
                    "from the day's mean temperature (0 = calendar and date only)")
    type_temp_prior_days: float = Field(
        5.0, ge=0.0, le=1000.0,
        description="[days] pseudo-days shrinking that evidence towards no effect")
    use_solar: bool = Field(True, description="[-] use ghi_w_m2 when the fit data has it")
    temp_max_gap_h: int = Field(
        6, ge=0, le=72, description="[h] longest temperature gap filled by interpolation")
    zero_run_hours: int = Field(
        24, ge=0, le=10_000,
        description="[h] runs of exact zeros at least this long are treated as missing "
                    "(0 = keep zeros); publishers often write 0 for a missing reading")
    zero_share_max: float = Field(
        0.05, ge=0.0, le=1.0,
        description="[-] zero runs are treated as missing only when zeros are rarer than this "
                    "share of hours")
    cvrmse_max: float = Field(0.30, gt=0.0, description="[-] ASHRAE Guideline 14 hourly CV(RMSE)")
    nmbe_max: float = Field(0.10, gt=0.0, description="[-] ASHRAE Guideline 14 hourly |NMBE|")
    min_baseline_days: int = Field(
        329, ge=1, description="[days] baseline length below which a warning is raised")


def _warn(code: str, level: WarningLevel, fr: str, en: str, **data) -> MVWarning:
    return MVWarning(code=code, level=level, message_fr=fr, message_en=en, data=data)


@dataclass
class _Arrays:
    y: np.ndarray
    t: np.ndarray  # hourly °C, gaps filled where possible
    t_smooth: np.ndarray
    ghi: np.ndarray | None
    hour: np.ndarray
    dow: np.ndarray
    day_index: np.ndarray  # row -> position in the unique local days
    day_num: np.ndarray  # unique local days, days since 1970-01-01
    day_dow: np.ndarray
    day_doy: np.ndarray
    day_cal: np.ndarray
    day_t: np.ndarray  # daily mean °C (NaN when no hour has a temperature)
    t_imputed: int  # hours whose temperature came from climatology


def _col(data: pd.DataFrame, name: str) -> np.ndarray:
    return np.array(pd.to_numeric(data[name], errors="coerce"), dtype=float)  # a copy


def _arrays(data: pd.DataFrame, s: HourlySettings, month_t: np.ndarray | None,
            hour_ghi: np.ndarray | None) -> _Arrays:
    idx = pd.DatetimeIndex(data.index)
    n = len(data)
    y = _col(data, ENERGY) if ENERGY in data else np.full(n, np.nan)
    if "local_date" in data and "local_hour" in data and "local_dow" in data:
        day_num = np.asarray(pd.to_datetime(data["local_date"]).to_numpy(),
                             "datetime64[D]").astype(np.int64)
        hour = data["local_hour"].to_numpy(np.int64) % 24
        dow = data["local_dow"].to_numpy(np.int64) % 7
    else:  # not the documented frame: take the index's own clock
        naive = idx.tz_localize(None) if idx.tz is not None else idx
        day_num = np.asarray(naive.normalize().to_numpy(), "datetime64[D]").astype(np.int64)
        hour, dow = naive.hour.to_numpy(np.int64), naive.day_of_week.to_numpy(np.int64)
    uniq, day_index = np.unique(day_num, return_inverse=True)
    first = np.zeros(len(uniq), np.int64)
    first[day_index[::-1]] = np.arange(n)[::-1]
    day_dow = dow[first] if n else np.zeros(0, np.int64)
    dates = uniq.astype("datetime64[D]")
    day_doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    # Only one label per day is needed: converting 366 strings, not 8,784, keeps this cheap.
    raw_type = (data["day_type"].iloc[first].to_numpy(object) if "day_type" in data
                else np.full(len(first), None, object))
    day_cal = core.calendar_codes(raw_type, day_dow) if n else np.zeros(0, np.int64)

    # Hours from the first row, for interpolation and smoothing across gaps.
    pos = ((idx.asi8 - idx.asi8[0]) // 3_600_000_000_000).astype(np.int64) if n else idx.asi8
    if idx.unit != "ns" and n:
        pos = ((idx.as_unit("ns").asi8 - idx.as_unit("ns").asi8[0])
               // 3_600_000_000_000).astype(np.int64)
    t = _col(data, TEMP) if TEMP in data else np.full(n, np.nan)
    t = _interpolate(t, pos, s.temp_max_gap_h)
    imputed = 0
    if month_t is not None and n:
        miss = ~np.isfinite(t)
        imputed = int(miss.sum())
        if imputed:
            month = (dates[day_index].astype("datetime64[M]").astype(np.int64)) % 12
            t[miss] = month_t[month[miss]]
    t_smooth = core.smooth_temperature(t, pos, s.temp_halflife_h) if n else t
    ghi = None
    if hour_ghi is not None:
        ghi = _col(data, GHI) if GHI in data else np.full(n, np.nan)
        miss = ~np.isfinite(ghi)
        ghi[miss] = hour_ghi[hour[miss]]
    fin = np.isfinite(t)
    nd = len(uniq)
    t_cnt = np.bincount(day_index[fin], None, nd)
    day_t = np.where(t_cnt > 0, np.bincount(day_index[fin], t[fin], nd)
                     / np.maximum(t_cnt, 1), np.nan)
    return _Arrays(y, t, t_smooth, ghi, hour, dow, day_index, uniq, day_dow, day_doy,
                   day_cal, day_t, imputed)


def _interpolate(t: np.ndarray, pos: np.ndarray, max_gap_h: int) -> np.ndarray:
    ok = np.isfinite(t)
    if ok.all() or ok.sum() < 2 or max_gap_h == 0:
        return t.copy()
    p_ok = pos[ok]
    filled = np.interp(pos, p_ok, t[ok])
    after = np.searchsorted(p_ok, pos)
    prev = p_ok[np.clip(after - 1, 0, len(p_ok) - 1)]
    nxt = p_ok[np.clip(after, 0, len(p_ok) - 1)]
    inside = (after > 0) & (after < len(p_ok)) & (nxt - prev <= max_gap_h + 1)
    return np.where(ok, t, np.where(inside, filled, np.nan))


def _deviation(s: HourlySettings) -> str:
    return s.temp_deviation if s.temp_halflife_h > 0 else "none"


def _zero_runs(y: np.ndarray, min_len: int) -> np.ndarray:
    """True on rows inside runs of at least ``min_len`` exact zeros."""
    z = (y == 0).astype(np.int8)
    if min_len <= 0 or not z.any():
        return np.zeros(len(y), bool)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], z, [0]))))
    out = np.zeros(len(y), bool)
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a >= min_len:
            out[a:b] = True
    return out


class HourlyModel(BaselineModel):
    """Time-of-week and temperature with occupancy regimes and learnt day types."""

    name: ClassVar[str] = "hourly_towt_daytypes"
    # 2: temp_deviation "segments" and weather evidence on day types (type_temp_bandwidth_c);
    #    version-1 documents load with their own settings ("linear", 0).
    version: ClassVar[str] = "2"
    frequency: ClassVar[str] = "hourly"

    def __init__(self, settings: HourlySettings | None = None) -> None:
        self.settings = settings or HourlySettings()
        self.fit_result = None
        self._p: dict[str, Any] | None = None

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame) -> FitResult:
        t0 = time.perf_counter()
        s = self.settings
        warnings: list[MVWarning] = []
        data = data.sort_index()
        a = _arrays(data, s, None, None)
        y = a.y.copy()
        if np.isfinite(y).any() and np.nanmin(y) < 0:
            warnings.append(_warn(
                "negative_consumption", WarningLevel.WARNING,
                "Consommations négatives dans la période de référence.",
                "Negative consumption in the baseline.", n_hours=int((y < 0).sum())))
        zeros = _zero_runs(np.nan_to_num(y, nan=-1.0), s.zero_run_hours)
        # Where zeros are common (gas off all summer) they are a state, not a hole.
        if zeros.any() and np.mean(y[np.isfinite(y)] == 0) < s.zero_share_max:
            y[zeros] = np.nan
            warnings.append(_warn(
                "zero_runs_ignored", WarningLevel.INFO,
                f"{int(zeros.sum())} h dans des séries de zéros d'au moins {s.zero_run_hours} h "
                "traitées comme manquantes.",
                f"{int(zeros.sum())} h in runs of zeros of {s.zero_run_hours} h or more "
                "treated as missing.", n_hours=int(zeros.sum())))
        has_y = np.isfinite(y)
        has_t = np.isfinite(a.t)
        use_temp = has_y.sum() > 0 and (has_t & has_y).sum() >= 0.5 * has_y.sum() and \
            np.ptp(a.t[has_t & has_y]) >= 1.0
        if not use_temp:
            warnings.append(_warn(
                "no_temperature", WarningLevel.WARNING,
                "Température absente ou constante : modèle sans effet météo.",
                "Temperature missing or constant: model without weather effect."))
        elif (has_y & ~has_t).any():
            warnings.append(_warn(
                "temperature_missing_hours", WarningLevel.INFO,
                "Heures sans température exclues de l'ajustement.",
                "Hours without temperature left out of the fit.",
                n_hours=int((has_y & ~has_t).sum())))
        ok = has_y & (has_t if use_temp else True)
        n_ok = int(ok.sum())
        n_days_ok = len(np.unique(a.day_index[ok]))
        if n_days_ok < s.min_baseline_days:
            warnings.append(_warn(
                "baseline_too_short", WarningLevel.WARNING if n_ok >= 48 else
                WarningLevel.DISQUALIFICATION,
                f"Période de référence de {n_days_ok} jours (minimum {s.min_baseline_days}).",
                f"Baseline of {n_days_ok} days (minimum {s.min_baseline_days}).",
                days=n_days_ok, minimum=s.min_baseline_days))
        ghi_ok = (s.use_solar and use_temp and GHI in data
                  and np.isfinite(_col(data, GHI)[ok]).mean() >= 0.9 if n_ok else False)
        self._p = self._solve(a, y, ok, use_temp, bool(ghi_ok), data)
        p = self._p
        fitted = p.pop("_fitted")
        metrics = None
        if n_ok:
            # Baseline days keep their learnt type in predict, so the fitted values are
            # exactly what predict would return on these rows.
            metrics = fit_metrics(y[ok], fitted, p["n_params"])
            if not np.isfinite(metrics.cvrmse) or metrics.cvrmse > s.cvrmse_max:
                warnings.append(_warn(
                    "cvrmse_above_threshold", WarningLevel.DISQUALIFICATION,
                    f"CV(RMSE) {metrics.cvrmse:.1%} au-dessus de {s.cvrmse_max:.0%} "
                    "(ASHRAE Guideline 14, horaire).",
                    f"CV(RMSE) {metrics.cvrmse:.1%} above {s.cvrmse_max:.0%} "
                    "(ASHRAE Guideline 14, hourly).",
                    cvrmse=float(metrics.cvrmse), threshold=s.cvrmse_max))
            if not np.isfinite(metrics.nmbe) or abs(metrics.nmbe) > s.nmbe_max:
                warnings.append(_warn(
                    "nmbe_above_threshold", WarningLevel.DISQUALIFICATION,
                    f"NMBE {metrics.nmbe:.1%} hors de ±{s.nmbe_max:.0%}.",
                    f"NMBE {metrics.nmbe:.1%} outside ±{s.nmbe_max:.0%}.",
                    nmbe=float(metrics.nmbe), threshold=s.nmbe_max))
        else:
            warnings.append(_warn(
                "no_data", WarningLevel.DISQUALIFICATION,
                "Aucune heure exploitable : pas de modèle.",
                "No usable hour: no model.", n_rows=len(data)))
        rows = data.index[ok] if n_ok else data.index
        self.fit_result = FitResult(
            model=self.name, version=self.version, frequency=self.frequency,
            period_start=str(rows.min()) if len(rows) else "",
            period_end=str(rows.max()) if len(rows) else "",
            params={k: p[k] for k in ("n_types", "type_days", "reference_type", "t_ref_c",
                                      "knots_c", "n_regimes", "solar", "n_params")},
            metrics=metrics, warnings=warnings, fit_seconds=time.perf_counter() - t0)
        return self.fit_result

    def _solve(self, a: _Arrays, y: np.ndarray, ok: np.ndarray, use_temp: bool,
               use_ghi: bool, data: pd.DataFrame) -> dict[str, Any]:
        s = self.settings
        yo, to, tso = y[ok], a.t[ok], a.t_smooth[ok]
        hour, dow, dix = a.hour[ok], a.dow[ok], a.day_index[ok]
        n_days = len(a.day_num)
        knots = np.zeros(0)
        if use_temp and len(to):
            share = np.array([min((tso < k).mean(), (tso > k).mean()) for k in s.knots_c])
            knots = np.array(s.knots_c, float)[share >= max(s.min_knot_share, 1e-9)]
        ghi_o = (_col(data, GHI)[ok] if use_ghi else None)
        if ghi_o is not None:
            ghi_o = np.where(np.isfinite(ghi_o), ghi_o, 0.0)
        dev = _deviation(s)

        def basis(ts: np.ndarray, t: np.ndarray, g: np.ndarray | None) -> np.ndarray:
            cols = ([core.temperature_basis(ts, t, knots, dev)] if use_temp
                    else [np.zeros((len(ts), 0))])
            if g is not None:
                cols.append(g[:, None])
            return np.hstack(cols)

        q = basis(tso[:1], to[:1], None if ghi_o is None else ghi_o[:1]).shape[1]
        pen1 = np.zeros(q)
        if use_temp:
            pen1[1:1 + len(knots)] = s.ridge  # slope changes
            if dev == "segments":
                pen1[2 + len(knots):2 + 2 * len(knots)] = s.ridge

        # 1. Weather-adjusted daily profiles under a calendar-only first fit.
        cal_row = a.day_cal[dix]
        x1 = basis(tso, to, ghi_o)
        cell1 = cal_row * 24 + hour
        b1 = core.within_solve(cell1, core.N_CAL * 24, x1, yo, pen1)
        z = yo - x1 @ b1
        prof_sum = np.bincount(dix * 24 + hour, z, n_days * 24).reshape(n_days, 24)
        prof_cnt = np.bincount(dix * 24 + hour, None, n_days * 24).reshape(n_days, 24)
        cnt1 = np.bincount(cell1, None, core.N_CAL * 24)
        mean1 = (np.bincount(cell1, z, core.N_CAL * 24) / np.maximum(cnt1, 1)).reshape(-1, 24)
        full = (prof_cnt > 0).sum(axis=1) >= s.min_profile_hours
        prof = np.where(prof_cnt > 0, prof_sum / np.maximum(prof_cnt, 1),
                        mean1[a.day_cal][:, :])
        # 2. Learnt day types.
        day_type = np.full(n_days, -1)
        if full.sum() >= 2 * s.min_type_days:
            labels, cent = core.learn_day_types(prof[full], s.max_day_types, s.min_type_gain,
                                                s.min_type_days)
            day_type[full] = labels
        else:
            cent = prof[full].mean(axis=0, keepdims=True) if full.any() else np.zeros((1, 24))
            day_type[full] = 0
        n_types = len(cent)
        ref = (day_type >= 0)
        probs = core.type_probabilities(
            a.day_doy, a.day_dow, a.day_cal, a.day_doy[ref], a.day_dow[ref], a.day_cal[ref],
            day_type[ref], n_types, s.analog_weight, s.analog_window_days,
            s.analog_weeks, s.analog_week_decay, None, None,
            core.run_lengths(a.day_num[ref], a.day_cal[ref], day_type[ref]), s.period_days,
            s.period_max_days, a.day_t if use_temp else None, a.day_t[ref],
            s.type_temp_bandwidth_c, s.type_temp_prior_days)
        day_type[~ref] = probs[~ref].argmax(axis=1)
        # 3. Regimes: levels of the learnt type x hour profiles.
        lo, hi = float(cent.min()), float(cent.max())
        span = hi - lo
        if s.n_regimes == 1 or not use_temp or span <= 0.1 * max(abs(float(cent.mean())),
                                                               1e-12):
            regime = np.zeros((n_types, 24), np.int64)
        else:
            regime = np.minimum(((cent - lo) / span * s.n_regimes).astype(np.int64),
                                s.n_regimes - 1)
        used = np.unique(regime)
        regime = np.searchsorted(used, regime)
        n_reg = len(used)
        # 4. Final fixed-effects fit: a cell per type x weekday x hour.
        typ = day_type[dix]
        reg = regime[typ, hour]
        x = np.zeros((len(yo), q * n_reg))
        for r in range(n_reg):
            m = reg == r
            x[m, r * q:(r + 1) * q] = x1[m]
        n_cells = n_types * 168
        cell = typ * 168 + dow * 24 + hour
        beta = core.within_solve(cell, n_cells, x, yo, np.tile(pen1, n_reg))
        resid = yo - x @ beta
        cnt = np.bincount(cell, None, n_cells)
        csum = np.bincount(cell, resid, n_cells)
        th = typ * 24 + hour
        th_cnt = np.bincount(th, None, n_types * 24)
        th_mean = np.bincount(th, resid, n_types * 24) / np.maximum(th_cnt, 1)
        t_cnt = np.bincount(typ, None, n_types)
        t_mean = np.bincount(typ, resid, n_types) / np.maximum(t_cnt, 1)
        h_mean = (np.bincount(hour, resid, 24) / np.maximum(np.bincount(hour, None, 24), 1))
        # Empty type x hour cells borrow the type's mean shifted by the hour's mean shape.
        th_mean = np.where(th_cnt > 0, th_mean,
                           (t_mean[:, None] + h_mean[None, :] - resid.mean()).ravel()
                           if len(resid) else 0.0)
        prior = np.repeat(th_mean.reshape(n_types, 1, 24), 7, axis=1).ravel()
        m_days = s.cell_shrinkage_days
        alpha = np.where(cnt + m_days > 0, (csum + m_days * prior) / np.maximum(cnt + m_days,
                                                                               1e-12), prior)
        alpha = alpha.reshape(n_types, 7, 24)
        # 5. Reference type and temperature.
        open_days = ref & (a.day_cal == core.WORKDAY)
        pool = day_type[open_days] if open_days.any() else day_type[ref]
        ref_type = int(np.bincount(pool, minlength=n_types).argmax()) if len(pool) else 0
        betas = beta.reshape(n_reg, q) if n_reg else beta.reshape(0, q)
        t_ref = float("nan")
        if use_temp:
            grid = np.arange(np.floor(tso.min()), np.ceil(tso.max()) + 0.25, 0.25)
            share_r = np.bincount(reg, None, n_reg) / max(len(reg), 1)
            gb = basis(grid, grid, None if ghi_o is None else np.zeros(len(grid)))
            resp = (gb @ betas.T) @ share_r
            # The lowest temperature of the response's flat bottom: the heating balance point.
            flat = resp <= resp.min() + 0.01 * (resp.max() - resp.min())
            t_ref = float(grid[np.argmax(flat)])
        day_dates = a.day_num[ref]
        month_t = np.full(12, float(np.nanmean(to)) if len(to) and use_temp else 0.0)
        if use_temp:
            mo = (a.day_num[dix].astype("datetime64[D]").astype("datetime64[M]")
                  .astype(np.int64)) % 12
            cnt_m = np.bincount(mo, None, 12)
            month_t = np.where(cnt_m > 0, np.bincount(mo, to, 12) / np.maximum(cnt_m, 1),
                               month_t)
        hour_ghi = None
        if ghi_o is not None:
            hour_ghi = (np.bincount(hour, ghi_o, 24) / np.maximum(np.bincount(hour, None, 24),
                                                                  1)).tolist()
        return {
            "_fitted": x @ beta + alpha.ravel()[cell],
            "n_types": n_types,
            "type_days": np.bincount(day_type[ref], minlength=n_types).tolist(),
            "reference_type": ref_type,
            "t_ref_c": t_ref if np.isfinite(t_ref) else None,  # JSON has no NaN
            "knots_c": knots.tolist(),
            "n_regimes": n_reg,
            "solar": ghi_o is not None,
            "use_temp": bool(use_temp),
            "n_params": int((cnt > 0).sum() + len(beta)),
            "alpha": alpha.tolist(),
            "beta": betas.tolist(),
            "regime": regime.tolist(),
            "ref_days": {
                "day": day_dates.tolist(),
                "cal": a.day_cal[ref].tolist(),
                "type": day_type[ref].tolist(),
                # daily mean °C, None when unknown (JSON has no NaN)
                "t": [None if not np.isfinite(v) else float(v) for v in a.day_t[ref]],
            },
            "month_t_c": month_t.tolist(),
            "hour_ghi": hour_ghi,
            "empty": not len(yo),
            "y_mean": float(yo.mean()) if len(yo) else None,
        }

    # -------------------------------------------------------------- predict
    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        if self._p is None:
            raise RuntimeError("fit the model (or load it with from_json) before predicting")
        if not data.index.is_monotonic_increasing:
            # Smoothing and gap filling run in time order; answer in the caller's order.
            order = np.argsort(pd.DatetimeIndex(data.index).asi8, kind="stable")
            out = self.predict(data.iloc[order])
            back = np.empty_like(order)
            back[order] = np.arange(len(order))
            return out.iloc[back].set_axis(data.index)
        p, s = self._p, self.settings
        hour_ghi = np.asarray(p["hour_ghi"]) if p["solar"] else None
        a = _arrays(data, s, np.asarray(p["month_t_c"], float), hour_ghi)
        n = len(data)
        cols = {c: np.zeros(n) for c in (PREDICTED, *COMPONENTS)}
        if p["empty"] or n == 0:
            nan = np.full(n, np.nan)
            out = pd.DataFrame({c: nan for c in cols}, index=data.index)
            return out
        alpha = np.asarray(p["alpha"], float)
        betas = np.asarray(p["beta"], float).reshape(p["n_regimes"], -1)
        regime = np.asarray(p["regime"], np.int64)
        knots = np.asarray(p["knots_c"], float)
        n_types = p["n_types"]
        rd = p["ref_days"]
        rday = np.asarray(rd["day"], np.int64)
        rdates = rday.astype("datetime64[D]")
        rdoy = (rdates - rdates.astype("datetime64[Y]")).astype(np.int64)
        rdow = (rday + 3) % 7  # 1970-01-01 was a Thursday
        rcal, rtype = np.asarray(rd["cal"], np.int64), np.asarray(rd["type"], np.int64)
        # Models saved before the weather evidence have no day temperatures: none is used.
        rtemp = (np.array([np.nan if v is None else v for v in rd["t"]], float)
                 if "t" in rd and p["use_temp"] else None)
        probs = core.type_probabilities(
            a.day_doy, a.day_dow, a.day_cal, rdoy, rdow, rcal, rtype, n_types,
            s.analog_weight, s.analog_window_days, s.analog_weeks, s.analog_week_decay,
            a.day_num, rday, core.run_lengths(rday, rcal, rtype), s.period_days,
            s.period_max_days, a.day_t, rtemp, s.type_temp_bandwidth_c,
            s.type_temp_prior_days)
        pr = probs[a.day_index]  # rows x types

        def basis(ts: np.ndarray, t: np.ndarray, g: np.ndarray | None) -> np.ndarray:
            if not p["use_temp"]:
                return np.zeros((len(ts), 0))
            parts = [core.temperature_basis(ts, t, knots, _deviation(s))]
            if g is not None:
                parts.append(g[:, None])
            return np.hstack(parts)

        ts = np.where(np.isfinite(a.t_smooth), a.t_smooth, a.t)
        f = basis(ts, a.t, a.ghi) @ betas.T if betas.size else np.zeros((n, p["n_regimes"]))
        reg_rows = regime[:, a.hour].T  # rows x types
        f_rows = np.take_along_axis(f, reg_rows, axis=1)
        a_rows = alpha[:, a.dow, a.hour].T
        pred = (pr * (a_rows + f_rows)).sum(axis=1)
        ref = p["reference_type"]
        base = alpha[ref].mean(axis=0)[a.hour]
        heat = np.zeros(n)
        cool = np.zeros(n)
        if p["use_temp"] and betas.size:
            tr = p["t_ref_c"]
            g0 = None if a.ghi is None else np.zeros(n)
            fref = basis(np.full(n, tr), np.full(n, tr), g0) @ betas.T
            base = base + fref[np.arange(n), regime[ref, a.hour]]
            weather = (pr * (f_rows - np.take_along_axis(fref, reg_rows, axis=1))).sum(axis=1)
            cold = ts < tr
            heat = np.where(cold, weather, 0.0)
            cool = np.where(cold, 0.0, weather)
        out = pd.DataFrame({
            PREDICTED: pred, "base_kwh": base, "heating_kwh": heat, "cooling_kwh": cool,
            "calendar_kwh": pred - base - heat - cool,
        }, index=data.index)
        out.attrs["temperature_imputed_hours"] = a.t_imputed
        return out

    # ----------------------------------------------------------------- json
    def to_json(self) -> dict[str, Any]:
        if self._p is None:
            raise RuntimeError("nothing to serialise: the model is not fitted")
        return {"model": self.name, "version": self.version,
                "settings": self.settings.model_dump(mode="json"), "params": self._p}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Self:
        if doc.get("model") != cls.name:
            raise ValueError(f"not a {cls.name} document: {doc.get('model')!r}")
        settings = dict(doc["settings"])
        # Version 1 documents: the settings they were fitted with, not today's defaults
        # (the parameters' shapes depend on them).
        settings.setdefault("temp_deviation", "linear")
        settings.setdefault("type_temp_bandwidth_c", 0.0)
        m = cls(HourlySettings(**settings))
        m._p = doc["params"]
        return m
