"""Settlement of a demand-response event: how much load was shed, against which reference.

A shed is never measured, only the load is: the shed is ``reference - actual`` where the
reference is what the building would have drawn without the event (a counterfactual). Two
references, both reproducible from the load curve and the parameters returned as evidence:

- ``method="x_of_y"`` — "X of Y" (the NEBEF-style historical reference): among the ``y``
  previous *comparable* days (same day type from the occupancy calendar, complete data over
  the window, not an event day listed in ``exclude``), the ``x`` with the highest consumption
  over the event window; their load profiles over the window (same local clock times) are
  averaged. Optional same-day adjustment from the ``adjustment_hours`` before the event:

  * ``"additive"``: reference += mean(actual) - mean(reference days) over the adjustment
    window, the offset capped at ±``adjustment_cap`` (20 %) of the unadjusted reference mean
    over the event window;
  * ``"multiplicative"``: reference *= mean(actual) / mean(reference days) over the
    adjustment window, the ratio clipped to [1 - cap, 1 + cap];
  * ``"none"``.

  The adjustment corrects a day that is globally higher or lower (weather, activity); the cap
  keeps a pre-event manipulation (load raised before the event) from inflating the shed.
- ``method="mv"`` — the hourly M&V baseline (``analytics.mv.hourly.HourlyModel``: time of
  week x temperature, learnt day types) fitted on the ``baseline_weeks`` before the event day
  (excluded days blanked), predicted over the window with the event day's weather.

Uncertainty (``interval="placebo"``, the default): the error of the reference is *measured*
on no-event days. The same method is run on up to ``PLACEBO_DAYS`` (20) comparable days
before the event (same day type, not excluded, complete data over the same clock window):
for X of Y each placebo day gets its own X-of-Y reference (its own y previous days, the same
adjustment), for the M&V baseline the comparable days of each of the last
``MV_HOLDOUT_WEEKS`` (3) weeks are predicted by a model fitted on the ``baseline_weeks``
before that week (fewer if the data do not reach back that far): out of sample, 1 to 7 days
ahead, three fits. Their
errors e (reference − actual, mean kW over the window) give the 90 % half-width
``t(0.95, k) · sqrt(mean(e²))`` for k placebo days (a prediction interval for one more day's
error; the root mean square keeps any bias in the width). Why: the formulas below came out
too narrow on real meters (82-85 % for a nominal 90 %): X of Y takes the spread of the x
*highest* days, which the selection truncates (with x = y the same formula covered 90 %);
Guideline 14 is built for sums over long reporting periods with one in-sample RMSE for
every hour of the week, not for 2-5 consecutive hours at the busiest time of day.
Under ``PLACEBO_MIN`` (5) usable placebo days the formula is used, with the warning
``interval_from_formula``.

``interval="formula"``: X of Y: the ``x`` days' window means have a standard deviation s; the
reference mean has the standard error s/sqrt(x), and the interval is the prediction interval
``t(0.95, x-1) · s · sqrt(1 + 1/x)`` (scaled by the ratio for a multiplicative adjustment).
M&V: ASHRAE Guideline 14 (``analytics.mv.uncertainty``) from the fit's CV(RMSE), lag-1
autocorrelation and size, for the m hours of the event.

Units: ``load`` is the mean power [kW] of each interval (for hourly data, kWh per hour equals
mean kW), indexed by the interval start, timezone-aware. Delivered power is in kW (positive =
load shed), energy in kWh. Pure: no store, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from sobriete.analytics.calendar import DayType, day_types
from sobriete.analytics.mv import uncertainty as unc
from sobriete.analytics.mv.base import ENERGY, PREDICTED, TEMP
from sobriete.analytics.mv.hourly import HourlyModel, HourlySettings
from sobriete.domain.mv import MVWarning, WarningLevel
from sobriete.domain.portfolio import OccupancyCalendar, OpeningHours

Method = Literal["x_of_y", "mv"]
Interval = Literal["placebo", "formula"]
Adjustment = Literal["additive", "multiplicative", "none"]
CONFIDENCE = 0.90
# How far back the X-of-Y search looks for y comparable days before giving up: 8 weeks is
# enough for 5 workdays even across a two-week school holiday.
LOOKBACK_DAYS = 56
# Placebo calibration of the interval (see the module docstring): how many no-event days,
# searched how far back, and the fewest that still make an interval.
PLACEBO_DAYS = 20
PLACEBO_SEARCH_DAYS = 56
PLACEBO_MIN = 5
MV_HOLDOUT_WEEKS = 3


def default_calendar() -> OccupancyCalendar:
    """Monday-Friday 08:00-18:00, French public holidays closed, Europe/Paris."""
    span = (OpeningHours(start=time(8), end=time(18)),)
    return OccupancyCalendar(weekly={d: span for d in range(1, 6)})


@dataclass
class Settlement:
    """The settled event. Power in kW (positive = shed), energy in kWh, times UTC."""

    method: str
    event_start_utc: pd.Timestamp
    event_end_utc: pd.Timestamp
    timezone: str
    intervals: pd.DataFrame  # actual_kw, reference_kw, delivered_kw per interval (UTC start)
    delivered_kw: float  # mean over the window's intervals with data
    delivered_kwh: float
    half_width_kw: float  # 90 % interval on delivered_kw (± this)
    half_width_kwh: float
    standard_error_kw: float  # of the reference over the window (placebo: RMS error)
    confidence: float
    reference_days: list[date] = field(default_factory=list)  # x_of_y: the days averaged
    warnings: list[MVWarning] = field(default_factory=list)
    sentence_fr: str = ""
    sentence_en: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def interval_kw(self) -> tuple[float, float]:
        return (self.delivered_kw - self.half_width_kw, self.delivered_kw + self.half_width_kw)

    @property
    def significant(self) -> bool:
        """True when the 90 % interval excludes zero shed."""
        return self.delivered_kw > self.half_width_kw

    def sentences(self) -> tuple[str, str]:
        """The FR and EN summary of the settlement (it counts the warnings: call it again
        after adding some)."""
        a = self.event_start_utc.tz_convert(self.timezone)
        b = self.event_end_utc.tz_convert(self.timezone)
        p = self.parameters
        if self.method == "x_of_y":
            ref_fr = f"référence {p['x']} jours sur {p['y']}"
            ref_en = f"reference {p['x']} of {p['y']} days"
        else:
            ref_fr = f"référence modèle horaire ({p['baseline_weeks']} semaines)"
            ref_en = f"reference hourly model ({p['baseline_weeks']} weeks)"
        pct = round(100 * self.confidence)
        kw, half, kwh = self.delivered_kw, self.half_width_kw, self.delivered_kwh
        fr = (f"Effacement du {a:%d/%m} de {a:%H:%M} à {b:%H:%M} : "
              f"{_fmt(kw, 'fr')} kW en moyenne (± {_fmt(half, 'fr')} à "
              f"{pct} %), {_fmt(kwh, 'fr', 0)} kWh, {ref_fr}")
        en = (f"Shed on {a:%d/%m} from {a:%H:%M} to {b:%H:%M}: "
              f"{_fmt(kw, 'en')} kW on average (± {_fmt(half, 'en')} at "
              f"{pct} %), {_fmt(kwh, 'en', 0)} kWh, {ref_en}")
        if self.warnings:
            fr += f" ({len(self.warnings)} avertissement(s))"
            en += f" ({len(self.warnings)} warning(s))"
        return fr + ".", en + "."

    def to_json(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        iv = self.intervals
        return {
            "method": self.method,
            "event_start_utc": self.event_start_utc.isoformat(),
            "event_end_utc": self.event_end_utc.isoformat(),
            "timezone": self.timezone,
            "intervals": [
                {"start_utc": t.isoformat(), **{c: num(float(iv.at[t, c])) for c in iv.columns}}
                for t in iv.index],
            "delivered_kw": num(self.delivered_kw), "delivered_kwh": num(self.delivered_kwh),
            "half_width_kw": num(self.half_width_kw),
            "half_width_kwh": num(self.half_width_kwh),
            "standard_error_kw": num(self.standard_error_kw), "confidence": self.confidence,
            "reference_days": [d.isoformat() for d in self.reference_days],
            "warnings": [w.model_dump(mode="json") for w in self.warnings],
            "sentence_fr": self.sentence_fr, "sentence_en": self.sentence_en,
            "parameters": self.parameters,
        }


def _warn(code: str, level: WarningLevel, fr: str, en: str, **data: Any) -> MVWarning:
    return MVWarning(code=code, level=level, message_fr=fr, message_en=en, data=data)


# ------------------------------------------------------------------------------ validation
def _check_load(load: pd.Series) -> tuple[pd.Series, pd.Timedelta]:
    if not isinstance(load, pd.Series) or not isinstance(load.index, pd.DatetimeIndex):
        raise ValueError("load must be a pandas Series indexed by a DatetimeIndex")
    if load.index.tz is None:
        raise ValueError("load index is timezone-naive: give interval starts in UTC "
                         "(tz-aware), local clock times are ambiguous at DST changes")
    s = pd.to_numeric(load, errors="coerce").astype(float)
    s.index = s.index.tz_convert("UTC")
    s = s[~s.index.duplicated(keep="last")].sort_index()
    if len(s) < 2:
        raise ValueError("load has fewer than two intervals")
    step = pd.Timedelta(pd.Series(s.index).diff().median())
    if step <= pd.Timedelta(0) or pd.Timedelta(hours=1) % step != pd.Timedelta(0):
        raise ValueError(f"load step {step} must divide one hour")
    # A regular grid: missing intervals become NaN instead of silently shortening a window.
    grid = pd.date_range(s.index[0], s.index[-1], freq=step).as_unit("ns")
    return s.reindex(grid), step


def _check_event(event: tuple[Any, Any], load: pd.Series,
                 step: pd.Timedelta) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = (pd.Timestamp(t) for t in event)
    except (TypeError, ValueError) as e:
        raise ValueError(f"event must be a (start_utc, end_utc) pair: {e}") from e
    if start.tz is None or end.tz is None:
        raise ValueError("event start and end must be timezone-aware (UTC)")
    start, end = start.tz_convert("UTC"), end.tz_convert("UTC")
    if end <= start:
        raise ValueError(f"event end {end} is not after its start {start}")
    if start < load.index[0] or end > load.index[-1] + step:
        raise ValueError(f"event window {start} - {end} is outside the load data "
                         f"({load.index[0]} - {load.index[-1] + step})")
    if (start - load.index[0]) % step or (end - load.index[0]) % step:
        raise ValueError(f"event bounds must fall on the load's {step} interval grid")
    return start, end


# ------------------------------------------------------------------------------- helpers
def _window_on(day: date, t0: time, dur: pd.Timedelta, tz: str) -> tuple[pd.Timestamp,
                                                                           pd.Timestamp]:
    """The same local clock window on another day, in UTC (DST-safe)."""
    s = pd.Timestamp(datetime.combine(day, t0)).tz_localize(
        tz, nonexistent="shift_forward", ambiguous=False).tz_convert("UTC")
    return s, s + dur


def _slice(load: pd.Series, a: pd.Timestamp, b: pd.Timestamp) -> pd.Series:
    """The intervals starting in [a, b) of a load with a sorted index."""
    # numpy on the integer instants: pandas' searchsorted validates each call (slow in loops)
    idx = load.index if load.index.unit == "ns" else load.index.as_unit("ns")
    i, j = np.searchsorted(idx.asi8, [pd.Timestamp(a).value, pd.Timestamp(b).value])
    return load.iloc[i:j]


@lru_cache(maxsize=256)
def _t_quantile(q: float, dof: int) -> float:
    return unc.student_t_ppf(q, dof)


def _fmt(v: float, lang: str, nd: int = 1) -> str:
    if not math.isfinite(v):
        return "n/a" if lang == "en" else "n.d."
    s = f"{v:.{nd}f}"
    return s.replace(".", ",") if lang == "fr" else s


# ---------------------------------------------------------------------------------- API
def settle(
    load: pd.Series,
    event: tuple[Any, Any],
    *,
    method: Method = "x_of_y",
    calendar: OccupancyCalendar | None = None,
    weather: pd.DataFrame | None = None,
    x: int = 4,
    y: int = 5,
    adjustment: Adjustment = "additive",
    adjustment_hours: float = 3.0,
    adjustment_cap: float = 0.20,
    exclude: Iterable[date] = (),
    closures: list[tuple[date, date]] | None = None,
    baseline_weeks: int = 10,
    confidence: float = CONFIDENCE,
    interval: Interval = "placebo",
    placebo_days: int = PLACEBO_DAYS,
) -> Settlement:
    """Settle one event; see the module docstring for the rules.

    ``load``: mean kW per interval, tz-aware index (interval starts). ``event``:
    (start, end) tz-aware, end exclusive, on the load's grid. ``calendar``: occupancy calendar
    giving day types and the local timezone (default: Monday-Friday, French public holidays,
    Europe/Paris). ``weather``: frame with ``temp_air_c`` [°C] (optionally ``ghi_w_m2``)
    indexed in UTC, used by ``method="mv"``. ``exclude``: local dates of other event days,
    never used as reference. ``baseline_weeks``: length of the M&V fit period.
    ``interval``: ``"placebo"`` (measured on no-event days) or ``"formula"``;
    ``placebo_days``: how many no-event days measure it.
    """
    if method not in ("x_of_y", "mv"):
        raise ValueError(f"method must be 'x_of_y' or 'mv', got {method!r}")
    if adjustment not in ("additive", "multiplicative", "none"):
        raise ValueError(f"adjustment must be additive, multiplicative or none: {adjustment!r}")
    if not (1 <= x <= y):
        raise ValueError(f"need 1 <= x <= y, got x={x}, y={y}")
    if not 0.0 <= adjustment_cap < 1.0:
        raise ValueError(f"adjustment_cap must be in [0, 1), got {adjustment_cap}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if interval not in ("placebo", "formula"):
        raise ValueError(f"interval must be 'placebo' or 'formula', got {interval!r}")
    if placebo_days < PLACEBO_MIN:
        raise ValueError(f"placebo_days must be at least {PLACEBO_MIN}, got {placebo_days}")
    cal = calendar or default_calendar()
    tz = cal.timezone
    s, step = _check_load(load)
    start, end = _check_event(event, s, step)
    step_h = step / pd.Timedelta(hours=1)
    excluded = {pd.Timestamp(d).date() for d in exclude}
    local_start = start.tz_convert(tz)
    event_day = local_start.date()
    actual = _slice(s, start, end)
    if actual.notna().sum() == 0:
        raise ValueError(f"no load data inside the event window {start} - {end}")

    warnings: list[MVWarning] = []
    back = max(LOOKBACK_DAYS + PLACEBO_SEARCH_DAYS, 7 * baseline_weeks)
    types = day_types(cal, event_day - timedelta(days=back), event_day, closures).day_type
    event_type = types.get(event_day)
    if event_type != DayType.WORKDAY.value:
        warnings.append(_warn(
            "event_on_non_workday", WarningLevel.WARNING,
            f"L'effacement a lieu un jour de type « {event_type} » : la référence compare à "
            "des jours du même type, moins nombreux et moins réguliers.",
            f"The event falls on a '{event_type}' day: the reference uses days of that type, "
            "fewer and less regular than workdays.", day_type=str(event_type)))
    n_missing = int(actual.isna().sum())
    if n_missing:
        warnings.append(_warn(
            "data_gaps", WarningLevel.WARNING,
            f"{n_missing} intervalle(s) sans mesure pendant l'effacement : l'énergie n'est "
            "comptée que sur les intervalles mesurés.",
            f"{n_missing} interval(s) without data during the event: energy counts measured "
            "intervals only.", missing_intervals=n_missing))

    params: dict[str, Any] = {
        "method": method, "timezone": tz, "step_s": int(step.total_seconds()),
        "confidence": confidence, "exclude": sorted(d.isoformat() for d in excluded),
        "interval": interval,
        "event_local": f"{local_start:%Y-%m-%d %H:%M} - {end.tz_convert(tz):%H:%M}",
    }
    errors: dict[str, float] = {}  # placebo day -> reference error [kW]
    if method == "x_of_y":
        ref, half_kw, se_kw, ref_days, extra, w = _x_of_y(
            s, start, end, tz, types, event_type, excluded, x, y, adjustment,
            adjustment_hours, adjustment_cap, confidence)
        params.update(x=x, y=y, adjustment=adjustment, adjustment_hours=adjustment_hours,
                      adjustment_cap=adjustment_cap, lookback_days=LOOKBACK_DAYS, **extra)
        if interval == "placebo":
            errors = _placebo_x_of_y(
                s, start, end, tz, types, event_type, excluded, x, y, adjustment,
                adjustment_hours, adjustment_cap, confidence, placebo_days)
    else:
        ref, half_kw, se_kw, extra, w = _mv(s, step, start, end, cal, weather, excluded,
                                            closures, baseline_weeks, confidence)
        ref_days = []
        params.update(baseline_weeks=baseline_weeks, **extra)
        if interval == "placebo":
            errors = _placebo_mv(s, step, start, end, cal, weather, excluded, closures,
                                 baseline_weeks, types, event_type, placebo_days)
    warnings.extend(w)
    if interval == "placebo":
        if len(errors) >= PLACEBO_MIN:
            e = np.array(list(errors.values()))
            t = _t_quantile(1 - (1 - confidence) / 2, len(e))
            rms = float(np.sqrt(np.mean(e**2)))
            half_kw, se_kw = t * rms, rms
            params.update(placebo_days=list(errors), placebo_errors_kw=[float(v) for v in e],
                          placebo_rms_kw=rms, placebo_bias_kw=float(e.mean()))
        else:
            params["interval"] = "formula"
            warnings.append(_warn(
                "interval_from_formula", WarningLevel.WARNING,
                f"Seulement {len(errors)} jour(s) sans effacement comparable(s) pour mesurer "
                "l'erreur de la référence : intervalle calculé par formule, souvent trop "
                "étroit.",
                f"Only {len(errors)} comparable no-event day(s) to measure the reference "
                "error: the interval comes from a formula, often too narrow.",
                placebo_days=len(errors)))

    delivered = ref - actual
    frame = pd.DataFrame({"actual_kw": actual, "reference_kw": ref, "delivered_kw": delivered})
    ok = delivered.notna()
    mean_kw = float(delivered[ok].mean()) if ok.any() else float("nan")
    kwh = float(delivered[ok].sum() * step_h)
    hours_ok = float(ok.sum() * step_h)
    res = Settlement(
        method=method, event_start_utc=start, event_end_utc=end, timezone=tz, intervals=frame,
        delivered_kw=mean_kw, delivered_kwh=kwh, half_width_kw=half_kw,
        half_width_kwh=half_kw * hours_ok, standard_error_kw=se_kw, confidence=confidence,
        reference_days=ref_days, warnings=warnings, parameters=params)
    res.sentence_fr, res.sentence_en = res.sentences()
    return res


# --------------------------------------------------------------------------------- X of Y
def _day_window(s: pd.Series, d: date, t0: time, dur: pd.Timedelta, adj: pd.Timedelta,
                tz: str, cache: dict[date, tuple[np.ndarray, float]] | None
                ) -> tuple[np.ndarray, float]:
    """Load profile over the clock window on day ``d`` and mean over the ``adj`` before it."""
    if cache is not None and d in cache:
        return cache[d]
    a, b = _window_on(d, t0, dur, tz)
    prof = _slice(s, a, b).to_numpy()
    pre = _slice(s, a - adj, a).to_numpy()
    out = (prof, float(np.nanmean(pre)) if np.isfinite(pre).any() else np.nan)
    if cache is not None:
        cache[d] = out
    return out


def _x_of_y(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp, tz: str, types: pd.Series,
            event_type: Any, excluded: set[date], x: int, y: int, adjustment: str,
            adj_hours: float, cap: float, confidence: float,
            cache: dict[date, tuple[np.ndarray, float]] | None = None):
    """The X-of-Y reference; ``cache`` keeps each day's window profile and pre-window mean
    across calls with the same clock window (the placebo days reuse them)."""
    dur = end - start
    local_start = start.tz_convert(tz)
    t0 = local_start.time()
    adj = pd.Timedelta(hours=adj_hours)
    n = len(_slice(s, start, end))
    event_day = local_start.date()
    warnings: list[MVWarning] = []
    chosen: list[tuple[date, np.ndarray, float]] = []  # day, window profile, adj-window mean
    skipped_gaps: list[str] = []
    for k in range(1, LOOKBACK_DAYS + 1):
        d = event_day - timedelta(days=k)
        if types.get(d) != event_type or d in excluded:
            continue
        prof, pre_mean = _day_window(s, d, t0, dur, adj, tz, cache)
        # A day with a gap in its window, or a window of another length (DST), would bias
        # the average: it is skipped rather than patched.
        if len(prof) != n or np.isnan(prof).any():
            skipped_gaps.append(d.isoformat())
            continue
        chosen.append((d, prof, pre_mean))
        if len(chosen) == y:
            break
    if skipped_gaps:
        warnings.append(_warn(
            "reference_days_with_gaps", WarningLevel.INFO,
            f"{len(skipped_gaps)} jour(s) comparable(s) écarté(s) pour données manquantes.",
            f"{len(skipped_gaps)} comparable day(s) skipped for missing data.",
            days=", ".join(skipped_gaps)))
    if not chosen:
        raise ValueError(f"no comparable '{event_type}' day with complete data in the "
                         f"{LOOKBACK_DAYS} days before {event_day}")
    if len(chosen) < y:
        warnings.append(_warn(
            "too_few_comparable_days", WarningLevel.WARNING,
            f"Seulement {len(chosen)} jour(s) comparable(s) sur les {y} demandés dans les "
            f"{LOOKBACK_DAYS} jours précédents : référence moins robuste.",
            f"Only {len(chosen)} comparable day(s) of the {y} required in the previous "
            f"{LOOKBACK_DAYS} days: a less robust reference.", found=len(chosen), y=y))
    # The x highest over the window: the NEBEF-style choice, it errs towards a higher
    # reference on purpose (a building that sheds usually does so on a demanding day).
    top = sorted(chosen, key=lambda c: -float(c[1].mean()))[:min(x, len(chosen))]
    profiles = np.vstack([c[1] for c in top])
    ref = profiles.mean(axis=0)
    day_means = profiles.mean(axis=1)
    ref_mean = float(ref.mean())

    factor, offset, capped = 1.0, 0.0, False
    act_pre = _slice(s, start - adj, start)
    ref_pre = np.array([c[2] for c in top])
    info: dict[str, Any] = {}
    if adjustment != "none":
        if act_pre.notna().sum() == 0 or not np.isfinite(ref_pre).any():
            warnings.append(_warn(
                "adjustment_skipped", WarningLevel.WARNING,
                "Pas de mesure avant l'effacement : référence non ajustée.",
                "No data before the event: the reference is not adjusted."))
        else:
            a_mean, r_mean = float(act_pre.mean()), float(np.nanmean(ref_pre))
            if adjustment == "additive":
                raw = a_mean - r_mean
                lim = cap * abs(ref_mean)
                offset = float(np.clip(raw, -lim, lim))
                capped = abs(raw) > lim
                info = {"adjustment_raw_kw": raw, "adjustment_applied_kw": offset}
            else:
                raw = a_mean / r_mean if r_mean > 0 else 1.0
                factor = float(np.clip(raw, 1 - cap, 1 + cap))
                capped = abs(raw - factor) > 1e-12
                info = {"adjustment_raw_ratio": raw, "adjustment_applied_ratio": factor}
            if capped:
                warnings.append(_warn(
                    "adjustment_capped", WarningLevel.WARNING,
                    f"Ajustement du jour plafonné à ±{round(100 * cap)} % : la consommation "
                    "avant l'effacement s'écarte fortement des jours de référence.",
                    f"Same-day adjustment capped at ±{round(100 * cap)} %: the load before "
                    "the event differs strongly from the reference days.", **info))
    ref = ref * factor + offset
    # Spread of the x days' window means -> SE of the reference; the interval is a prediction
    # interval for one day's counterfactual (see module docstring).
    k = len(top)
    if k >= 2:
        sd = float(np.std(day_means, ddof=1)) * factor
        se = sd / math.sqrt(k)
        t = _t_quantile(1 - (1 - confidence) / 2, k - 1)
        half = t * sd * math.sqrt(1 + 1 / k)
    else:
        se = half = float("nan")
    grid = _slice(s, start, end).index
    extra = {"reference_days": [c[0].isoformat() for c in top],
             "candidate_days": [c[0].isoformat() for c in chosen],
             "reference_day_means_kw": [float(v) for v in day_means],
             "reference_mean_unadjusted_kw": ref_mean, "adjustment_capped": capped, **info}
    return (pd.Series(ref, index=grid), half, se, [c[0] for c in top], extra, warnings)


# ------------------------------------------------------------------------------------ M&V
def _mv(s: pd.Series, step: pd.Timedelta, start: pd.Timestamp, end: pd.Timestamp,
        cal: OccupancyCalendar, weather: pd.DataFrame | None, excluded: set[date],
        closures: list[tuple[date, date]] | None, weeks: int, confidence: float, *,
        predict: list[tuple[pd.Timestamp, pd.Timestamp]] | None = None,
        fit_before: date | None = None):
    """The M&V reference over [start, end) (or over each window of ``predict``, concatenated),
    from a model fitted on the ``weeks`` before the event day (or before ``fit_before``)."""
    from sobriete.analytics.mv.data import hourly_input  # local: data imports the calendar

    warnings: list[MVWarning] = []
    tz = cal.timezone
    event_day = start.tz_convert(tz).date()
    anchor = fit_before or event_day
    fit_from = pd.Timestamp(anchor - timedelta(weeks=weeks)).tz_localize(tz).tz_convert("UTC")
    day_end = pd.Timestamp(event_day + timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
    lo = max(fit_from, s.index[0])
    seg = _slice(s, lo.floor("h"), max(day_end, end.ceil("h")))
    # Hourly mean kW = kWh per hour; an hour missing any sub-interval is NaN.
    per_hour = int(pd.Timedelta(hours=1) / step)
    g = seg.groupby(seg.index.floor("h"))
    hourly = g.mean().where(g.count() == per_hour)
    readings = pd.DataFrame({"start_utc": hourly.index, "duration_s": 3600,
                             "value": hourly.to_numpy(float)})
    if weather is None or TEMP not in weather:
        warnings.append(_warn(
            "no_weather", WarningLevel.WARNING,
            "Pas de température : le modèle ne corrige pas la météo.",
            "No temperature: the model does not correct for the weather."))
        w = pd.DataFrame({TEMP: np.nan}, index=hourly.index)
    else:
        w = weather
        if not isinstance(w.index, pd.DatetimeIndex) or w.index.tz is None:
            raise ValueError("weather must be indexed by a timezone-aware DatetimeIndex")
    frame, _ = hourly_input(readings, w, cal, closures)
    if weather is not None and "ghi_w_m2" in weather:
        frame["ghi_w_m2"] = weather["ghi_w_m2"].reindex(frame.index).to_numpy()
    local_day = frame["local_date"].dt.date
    in_fit = (frame.index < start) & (local_day != event_day) & ~local_day.isin(excluded)
    fit = frame[in_fit]
    days_fit = int(fit.loc[fit[ENERGY].notna(), "local_date"].nunique())
    if days_fit < 14:
        raise ValueError(f"only {days_fit} day(s) of data before {event_day} to fit the "
                         "M&V baseline (need at least 14)")
    model = HourlyModel(HourlySettings(min_baseline_days=min(329, int(0.8 * 7 * weeks))))
    fr = model.fit(fit)
    warnings.extend(fr.warnings)
    windows = predict or [(start, end)]
    in_windows = np.zeros(len(frame), bool)
    for a, b in windows:
        in_windows |= (frame.index >= a.floor("h")) & (frame.index < b)
    pred = model.predict(frame[in_windows])[PREDICTED]
    grid = pd.DatetimeIndex(np.concatenate([_slice(s, a, b).index for a, b in windows]))
    ref = pred.reindex(grid.floor("h")).set_axis(grid)
    hours = frame[(frame.index >= start.floor("h")) & (frame.index < end)]
    m = fr.metrics
    m_hours = len(hours)
    if m is None or not m.n:
        half = se = float("nan")
    else:
        u = unc.terms(m.n, m.p, m.cvrmse, m.mean_y, m.rho_lag1, confidence)
        if not math.isfinite(u.t):
            # A few weeks of hourly data with time-of-week cells: the effective points n'
            # can be fewer than the parameters p (most of them shrunk intercepts), leaving
            # the guideline's t(n' - p) undefined. The t on n' degrees of freedom is used
            # instead, and said.
            u = replace(u, t=unc.t_quantile(confidence, u.n_prime))
            warnings.append(_warn(
                "uncertainty_dof", WarningLevel.INFO,
                "Points effectifs n' inférieurs aux paramètres p : t de Student pris sur n' "
                "degrés de liberté.",
                "Effective points n' below the parameters p: Student t taken on n' degrees "
                "of freedom.", n_prime=u.n_prime, p=u.p))
        half_kwh = unc.absolute_uncertainty(u, m_hours)
        half = half_kwh / m_hours  # mean kW over the event's hours
        se = half / u.t if u.t and math.isfinite(u.t) else float("nan")
    extra = {"fit_period": [fr.period_start, fr.period_end], "fit_days": days_fit,
             "cvrmse": None if m is None else m.cvrmse, "nmbe": None if m is None else m.nmbe,
             "rho_lag1": None if m is None else m.rho_lag1, "n": None if m is None else m.n,
             "p": None if m is None else m.p, "model": model.name, "model_version": model.version}
    return ref, half, se, extra, warnings


# -------------------------------------------------------------------------------- placebo
def _placebo_candidates(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp, tz: str,
                        types: pd.Series, event_type: Any, excluded: set[date],
                        first_day: date) -> list[tuple[date, pd.Timestamp, pd.Timestamp]]:
    """Comparable no-event days before the event, most recent first, with complete data over
    the event's clock window (and no event of their own), back to ``first_day``."""
    local_start = start.tz_convert(tz)
    event_day, t0, dur = local_start.date(), local_start.time(), end - start
    n = len(_slice(s, start, end))
    out = []
    for k in range(1, (event_day - first_day).days + 1):
        d = event_day - timedelta(days=k)
        if types.get(d) != event_type or d in excluded:
            continue
        a, b = _window_on(d, t0, dur, tz)
        if a < s.index[0]:
            break
        prof = _slice(s, a, b)
        if len(prof) == n and prof.notna().all():
            out.append((d, a, b))
    return out


def _placebo_x_of_y(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp, tz: str,
                    types: pd.Series, event_type: Any, excluded: set[date], x: int, y: int,
                    adjustment: str, adj_hours: float, cap: float, confidence: float,
                    k_max: int) -> dict[str, float]:
    """Error (reference − actual, mean kW) of X of Y on up to ``k_max`` no-event days; a day
    whose own reference finds fewer than ``y`` days is left out (not comparable)."""
    event_day = start.tz_convert(tz).date()
    lo = pd.Timestamp(event_day - timedelta(days=PLACEBO_SEARCH_DAYS + LOOKBACK_DAYS + 2))
    s = s[s.index >= lo.tz_localize("UTC")]  # only the past is read: slicing stays cheap
    errors: dict[str, float] = {}
    others = excluded | {event_day}
    cands = _placebo_candidates(s, start, end, tz, types, event_type, excluded,
                                event_day - timedelta(days=PLACEBO_SEARCH_DAYS))
    cache: dict[date, tuple[np.ndarray, float]] = {}
    for d, a, b in cands:
        try:
            ref, *_, w = _x_of_y(s, a, b, tz, types, event_type, others, x, y, adjustment,
                                 adj_hours, cap, confidence, cache)
        except ValueError:
            continue
        if any(v.code == "too_few_comparable_days" for v in w):
            continue
        errors[d.isoformat()] = float((ref - _slice(s, a, b)).mean())
        if len(errors) == k_max:
            break
    return errors


def _placebo_mv(s: pd.Series, step: pd.Timedelta, start: pd.Timestamp, end: pd.Timestamp,
                cal: OccupancyCalendar, weather: pd.DataFrame | None, excluded: set[date],
                closures: list[tuple[date, date]] | None, weeks: int, types: pd.Series,
                event_type: Any, k_max: int) -> dict[str, float]:
    """Out-of-sample error of the M&V reference on the comparable no-event days of the last
    ``MV_HOLDOUT_WEEKS`` weeks: each week's days predicted by a model fitted on the weeks
    before that week (so 1 to 7 days ahead, as close to the event's next-day prediction as one
    fit per week allows)."""
    tz = cal.timezone
    event_day = start.tz_convert(tz).date()
    hold_from = event_day - timedelta(weeks=MV_HOLDOUT_WEEKS)
    cands = _placebo_candidates(s, start, end, tz, types, event_type, excluded,
                                hold_from)[:k_max]
    if len(cands) < PLACEBO_MIN:
        return {}
    first_day = s.index[0].tz_convert(tz).date()
    errors: dict[str, float] = {}
    for f in range(MV_HOLDOUT_WEEKS):
        fold_end = event_day - timedelta(weeks=f)
        fold_from = fold_end - timedelta(weeks=1)
        fold = [c for c in cands if fold_from <= c[0] < fold_end]
        # The same fit length as the event's model when the data reach back that far, else
        # what the data hold (e.g. 7-9 weeks when 10 weeks are given): errs on the wide side.
        fit_weeks = min(weeks, (fold_from - first_day).days // 7)
        if not fold or fit_weeks < 3:
            continue
        # The fit ends where the fold begins: the fold's days and later ones are blanked.
        blank = excluded | {fold_from + timedelta(days=i)
                            for i in range((event_day - fold_from).days + 1)}
        try:
            ref, *_ = _mv(s, step, fold[0][1], fold[0][2], cal, weather, blank, closures,
                          fit_weeks, 0.9, predict=[(a, b) for _, a, b in fold],
                          fit_before=fold_from)
        except ValueError:
            continue
        for d, a, b in fold:
            actual = _slice(s, a, b)
            err = float((ref.reindex(actual.index) - actual).mean())
            if math.isfinite(err):
                errors[d.isoformat()] = err
    return errors
