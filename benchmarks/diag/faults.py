"""Faults of known size and timing injected into a real meter-year, with their ground truth.

Every fault *adds* energy (kWh per hour, never negative) to the analysed year of a real meter;
the ground truth is the added series itself: ``kwh`` = Σ added, ``start_utc``/``end_utc`` = the
first injected hour and the end of the last one. Hours with a missing reading (NaN) get
nothing. The timing is drawn from a generator seeded by (meter-year, fault type, trial) only,
so the four magnitudes m ∈ {10, 20, 30, 50 %} of one trial hit the same window. "Local" is
Europe/London; a "warm day" has a mean outdoor temperature ≥ 15.5 °C (the UK degree-day base:
no heating need). What m means, per fault:

- ``holiday_heating`` (gas): heating left on during a declared closure of the heating season
  (Christmas 24-31 December, New Year's Day, Easter Good Friday - Easter Monday, a bank
  holiday; which one comes first is drawn, then trials take turns, one fault per candidate
  closure). Candidates: closures with a mean outdoor temperature < 12 °C, no day missing or
  all zero (the publisher wrote missing readings as 0), where the real building is set back
  (real use ≤ 70 % of the workday expectation below: otherwise the fault is already there).
  On each closure day d: added = m × max(0, W(HDD_d) − actual_d), where W = a + b·HDD is a
  least-squares line of the meter's own workday totals (reference + analysed year) on heating
  degree-days (base 15.5 °C), i.e. m of the gap between the closed day and a workday of the
  same temperature; spread over the day's hours by the mean hourly shape of the cold workdays
  (HDD ≥ 5).
- ``night_base`` (electricity): the night base load raised by m. B = median load of local
  hours 01:00-04:59 over the 28 days before the window; over N ∈ [4, 8] weeks, every closed
  hour (outside the calendar's opening hours, closures included) gets + m × B.
- ``weekend_operation`` (both): N ∈ [3, 6] consecutive weekends run like workdays. Each hour
  of a weekend day (declared closures excluded) gets + m × max(0, W_h − x_h), W_h = mean of
  that local hour over the workdays of the week before (the week after when it has fewer
  than three): m of the gap to a workday. Windows end before 20 December; on gas they lie in
  the heating months (October - March).
- ``summer_heating`` (gas): heating left on in summer. Over N ∈ [4, 8] weeks between 1 June
  and 15 September, every hour of each warm day gets + m × P_h, P_h = mean gas of that local
  hour over the reference year's December-February minus its June-August mean (≥ 0): m of
  the building's winter heating power. The window is redrawn (up to 50 times) until it holds
  at least 7 warm days.
- ``drift`` (both): a linear ramp from 0 to m of the load, x_h × m × (t − t0)/(t_end − t0),
  from t0 (120-240 days before the end of the analysed year) to the end of the year.
- ``step_change`` (both): + m × x_h from a date for D ∈ [4, 16] weeks, then back. Electricity:
  anywhere from 15 January; gas: inside January-April or October-December (a step of a
  summer gas load near zero is no fault).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from benchmarks.diag.data import Context, local_midnight
from sobriete.analytics.calendar import DayType

FAULT_TYPES = ("holiday_heating", "night_base", "weekend_operation", "summer_heating", "drift",
               "step_change")
CARRIERS = {
    "holiday_heating": ("gas",),
    "night_base": ("electricity",),
    "weekend_operation": ("electricity", "gas"),
    "summer_heating": ("gas",),
    "drift": ("electricity", "gas"),
    "step_change": ("electricity", "gas"),
}
MAGNITUDES = (0.10, 0.20, 0.30, 0.50)
NO_HEATING_C = 15.5
HEATING_MONTHS = (1, 2, 3, 10, 11, 12)
HOLIDAY_MAX_C = 12.0  # a closure needs heating when its mean outdoor temperature is below
SET_BACK_MAX = 0.7  # a closure is a candidate when its real use is ≤ 70 % of workday use


@dataclass(frozen=True)
class Injected:
    """Ground truth of one injected fault (UTC, hour-beginning; ``end_utc`` exclusive)."""

    fault_type: str
    magnitude: float
    trial: int
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    kwh: float
    hours: int  # hours that received energy
    params: dict = field(default_factory=dict)  # requested window and the fault's numbers

    def to_dict(self) -> dict:
        d = asdict(self)
        d["start_utc"] = self.start_utc.isoformat()
        d["end_utc"] = self.end_utc.isoformat()
        return d


class NotInjectable(Exception):
    """The meter-year offers no place for this fault (e.g. no cold closure)."""


# --------------------------------------------------------------------------- helpers


def _d(x: np.datetime64 | pd.Timestamp | date) -> date:
    return pd.Timestamp(x).date()


def _days_mask(ctx: Context, days: Sequence[date]) -> np.ndarray:
    wanted = np.array([np.datetime64(d, "D") for d in days], dtype="datetime64[D]")
    return np.isin(ctx.local_date, wanted)


def _window_mask(ctx: Context, lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    idx = ctx.energy.index
    return np.asarray((idx >= lo) & (idx < hi)) & ctx.analysed


def _analysed_days(ctx: Context) -> list[date]:
    return [_d(d) for d in np.unique(ctx.local_date[ctx.analysed])]


def _uniform_day(rng: np.random.Generator, lo: date, hi: date) -> date:
    """A day drawn uniformly in [lo, hi] (lo when the range is empty)."""
    span = (hi - lo).days
    return lo + timedelta(days=int(rng.integers(0, span + 1)) if span > 0 else 0)


def _daily_totals(ctx: Context) -> pd.Series:
    """kWh per local date, NaN when any hour of the day is missing."""
    x = ctx.energy.to_numpy(dtype=float)
    df = pd.DataFrame({"d": ctx.local_date, "x": x})
    g = df.groupby("d")["x"]
    tot = g.sum(min_count=1)
    return tot.where(g.count() == g.size())


def _hdd(ctx: Context) -> pd.Series:
    return (NO_HEATING_C - ctx.daily_temp).clip(lower=0)


# --------------------------------------------------------------------------- faults


def holiday_heating(ctx: Context, m: float, rng: np.random.Generator, trial: int,
                    offset: int = 0):
    closed = ctx.is_type(DayType.CLOSURE) & ctx.analysed
    days = sorted({_d(d) for d in ctx.local_date[closed]})
    runs: list[list[date]] = []
    for d in days:
        if runs and (d - runs[-1][-1]).days == 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    temps = ctx.daily_temp
    totals = _daily_totals(ctx)
    hdd = _hdd(ctx)
    work_days = pd.DatetimeIndex(sorted({pd.Timestamp(d) for d in
                                         ctx.local_date[ctx.is_type(DayType.WORKDAY)]}))
    y = totals.reindex(work_days)
    h = hdd.reindex(work_days)
    ok = y.notna() & h.notna()
    b, a = np.polyfit(h[ok].to_numpy(), y[ok].to_numpy(), 1)

    def set_back(r: list[date]) -> bool:
        di = pd.DatetimeIndex(r)
        expected = float((a + b * hdd.reindex(di).fillna(0.0)).clip(lower=0).sum())
        return float(totals.reindex(di).sum()) <= SET_BACK_MAX * expected

    def has_data(r: list[date]) -> bool:  # an all-zero day is a missing one (README)
        tot = totals.reindex(pd.DatetimeIndex(r))
        return bool(tot.notna().all() and (tot > 0).all())

    cands = [r for r in runs
             if float(temps.reindex(pd.DatetimeIndex(r)).mean()) < HOLIDAY_MAX_C
             and has_data(r) and set_back(r)]
    if trial >= len(cands):
        raise NotInjectable(f"{len(cands)} cold declared closure(s) with data where "
                            f"the real building is set back, trial {trial}")
    chosen = cands[(offset + trial) % len(cands)]
    x = ctx.energy.to_numpy(dtype=float)
    cold = h[ok & (h >= 5)].index
    in_cold = _days_mask(ctx, [_d(d) for d in cold])
    shares = pd.Series(x[in_cold], index=ctx.local_hour[in_cold]).groupby(level=0).sum()
    shape = (shares / shares.sum()).reindex(range(24), fill_value=0.0).to_numpy()
    delta = np.zeros(len(x))
    per_day = {}
    for d in chosen:
        mask = _days_mask(ctx, [d]) & ~np.isnan(x)
        if not mask.any():
            continue
        expected = float(a + b * hdd.get(pd.Timestamp(d), 0.0))
        actual = float(np.nansum(x[mask]))
        gap = max(0.0, expected - actual)
        w = shape[ctx.local_hour[mask]]
        w = w / w.sum() if w.sum() > 0 else np.full(mask.sum(), 1.0 / mask.sum())
        delta[mask] = m * gap * w
        per_day[d.isoformat()] = {"workday_expected_kwh": round(expected, 1),
                                  "actual_kwh": round(actual, 1)}
    return delta, {"window_start_utc": local_midnight(chosen[0]),
                   "window_end_utc": local_midnight(chosen[-1] + timedelta(days=1)),
                   "closure_days": [d.isoformat() for d in chosen],
                   "workday_fit_kwh": {"a": round(float(a), 2), "b_per_hdd": round(float(b), 2)},
                   "days": per_day}


def night_base(ctx: Context, m: float, rng: np.random.Generator, trial: int):
    weeks = int(rng.integers(4, 9))
    days = _analysed_days(ctx)
    first = _uniform_day(rng, days[0], days[-1] - timedelta(weeks=weeks) + timedelta(days=1))
    lo, hi = local_midnight(first), local_midnight(first + timedelta(weeks=weeks))
    x = ctx.energy.to_numpy(dtype=float)
    idx = ctx.energy.index
    before = np.asarray((idx >= lo - pd.Timedelta(days=28)) & (idx < lo))
    night = before & (ctx.local_hour >= 1) & (ctx.local_hour <= 4)
    base = float(np.nanmedian(x[night]))
    mask = _window_mask(ctx, lo, hi) & ~ctx.occupied & ~np.isnan(x)
    delta = np.where(mask, m * base, 0.0)
    return delta, {"window_start_utc": lo, "window_end_utc": hi, "weeks": weeks,
                   "night_base_kw": round(base, 3)}


def weekend_operation(ctx: Context, m: float, rng: np.random.Generator, trial: int,
                      fuel: str = "electricity"):
    n = int(rng.integers(3, 7))
    days = _analysed_days(ctx)
    year = days[0].year
    last = date(year, 12, 20)
    sats = [d for d in days if d.isoweekday() == 6
            and d + timedelta(weeks=n - 1, days=1) < last]
    if fuel != "electricity":
        sats = [d for d in sats if all((d + timedelta(weeks=k, days=j)).month in HEATING_MONTHS
                                       and (d + timedelta(weeks=k, days=j)).year == year
                                       for k in range(n) for j in (0, 1))]
    if not sats:
        raise NotInjectable("no run of weekends fits")
    first = sats[int(rng.integers(0, len(sats)))]
    x = ctx.energy.to_numpy(dtype=float)
    work = ctx.is_type(DayType.WORKDAY)
    weekend = ctx.is_type(DayType.WEEKEND)
    delta = np.zeros(len(x))
    profiles = {}
    for k in range(n):
        sat = first + timedelta(weeks=k)
        ref = None
        for lo_off, hi_off in ((-5, -1), (2, 6)):
            ref_days = [sat + timedelta(days=j) for j in range(lo_off, hi_off + 1)]
            mask = _days_mask(ctx, ref_days) & work
            if len({_d(d) for d in ctx.local_date[mask]}) >= 3:
                ref = pd.Series(x[mask], index=ctx.local_hour[mask]).groupby(level=0).mean()
                break
        if ref is None:
            continue
        prof = ref.reindex(range(24)).to_numpy()
        on = _days_mask(ctx, [sat, sat + timedelta(days=1)]) & weekend & ~np.isnan(x)
        gap = np.clip(prof[ctx.local_hour[on]] - x[on], 0.0, None)
        delta[on] = m * np.nan_to_num(gap)
        profiles[sat.isoformat()] = round(float(np.nansum(prof)), 1)
    return delta, {"window_start_utc": local_midnight(first),
                   "window_end_utc": local_midnight(first + timedelta(weeks=n - 1, days=2)),
                   "weekends": n, "workday_kwh_per_day": profiles}


def summer_heating(ctx: Context, m: float, rng: np.random.Generator, trial: int):
    weeks = int(rng.integers(4, 9))
    year = _analysed_days(ctx)[0].year
    x = ctx.energy.to_numpy(dtype=float)
    idx = ctx.energy.index
    ref = np.asarray(idx < ctx.start) & ~np.isnan(x)
    months = np.asarray(idx.tz_convert("Europe/London").month)
    winter = pd.Series(x[ref & np.isin(months, (12, 1, 2))],
                       index=ctx.local_hour[ref & np.isin(months, (12, 1, 2))])
    summer = pd.Series(x[ref & np.isin(months, (6, 7, 8))],
                       index=ctx.local_hour[ref & np.isin(months, (6, 7, 8))])
    prof = (winter.groupby(level=0).mean() - summer.groupby(level=0).mean()).clip(lower=0)
    prof = prof.reindex(range(24), fill_value=0.0).to_numpy()
    temps = ctx.daily_temp
    best = None
    for _ in range(50):
        first = _uniform_day(rng, date(year, 6, 1), date(year, 9, 15) - timedelta(weeks=weeks))
        span = [first + timedelta(days=j) for j in range(7 * weeks)]
        warm = [d for d in span if temps.get(pd.Timestamp(d), -99.0) >= NO_HEATING_C]
        if best is None or len(warm) > len(best[1]):
            best = (first, warm)
        if len(warm) >= 7:
            break
    first, warm = best
    mask = _days_mask(ctx, warm) & ~np.isnan(x) & ctx.analysed
    delta = np.where(mask, m * prof[ctx.local_hour], 0.0)
    return delta, {"window_start_utc": local_midnight(first),
                   "window_end_utc": local_midnight(first + timedelta(weeks=weeks)),
                   "weeks": weeks, "warm_days": len(warm),
                   "winter_heating_kw_mean": round(float(prof.mean()), 3)}


def drift(ctx: Context, m: float, rng: np.random.Generator, trial: int):
    days = int(rng.integers(120, 241))
    last = _analysed_days(ctx)[-1]
    t0 = local_midnight(last + timedelta(days=1) - timedelta(days=days))
    t1 = ctx.end
    x = ctx.energy.to_numpy(dtype=float)
    idx = ctx.energy.index
    ramp = np.clip(np.asarray((idx - t0) / (t1 - t0), dtype=float), 0.0, None)
    mask = _window_mask(ctx, t0, t1) & ~np.isnan(x)
    delta = np.where(mask, m * ramp * np.nan_to_num(x), 0.0)
    return delta, {"window_start_utc": t0, "window_end_utc": t1, "ramp_days": days}


def step_change(ctx: Context, m: float, rng: np.random.Generator, trial: int,
                fuel: str = "electricity"):
    weeks = int(rng.integers(4, 17))
    year = _analysed_days(ctx)[0].year
    if fuel == "electricity":
        lo_d, hi_d = date(year, 1, 15), date(year, 12, 31)
    else:
        lo_d, hi_d = ((date(year, 1, 8), date(year, 4, 30)) if rng.random() < 0.5
                      else (date(year, 10, 1), date(year, 12, 31)))
    weeks = min(weeks, ((hi_d - lo_d).days + 1) // 7)
    first = _uniform_day(rng, lo_d, hi_d - timedelta(weeks=weeks) + timedelta(days=1))
    lo, hi = local_midnight(first), local_midnight(first + timedelta(weeks=weeks))
    x = ctx.energy.to_numpy(dtype=float)
    mask = _window_mask(ctx, lo, hi) & ~np.isnan(x)
    delta = np.where(mask, m * np.nan_to_num(x), 0.0)
    return delta, {"window_start_utc": lo, "window_end_utc": hi, "weeks": weeks}


FAULTS = {
    "holiday_heating": holiday_heating,
    "night_base": night_base,
    "weekend_operation": weekend_operation,
    "summer_heating": summer_heating,
    "drift": drift,
    "step_change": step_change,
}


def inject(ctx: Context, fuel: str, fault_type: str, magnitude: float, seed: Sequence[int],
           trial: int = 0) -> tuple[pd.Series, Injected]:
    """The modified series and its ground truth; raises ``NotInjectable`` when the fault has
    no place (or no energy) in this meter-year."""
    rng = np.random.default_rng([*seed, FAULT_TYPES.index(fault_type), trial])
    fn = FAULTS[fault_type]
    kw: dict = {"fuel": fuel} if fault_type in ("weekend_operation", "step_change") else {}
    if fault_type == "holiday_heating":  # one draw for all trials: trials take turns
        kw["offset"] = int(np.random.default_rng([*seed, 0]).integers(0, 1 << 30))
    delta, params = fn(ctx, magnitude, rng, trial, **kw)
    delta = np.where(np.isnan(ctx.energy.to_numpy(dtype=float)), 0.0, delta)
    if (delta < 0).any():
        raise AssertionError(f"{fault_type}: negative injection")
    hot = np.flatnonzero(delta > 0)
    if len(hot) == 0:
        raise NotInjectable(f"{fault_type}: nothing to add in the drawn window")
    idx = ctx.energy.index
    params = {k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in params.items()}
    truth = Injected(fault_type=fault_type, magnitude=magnitude, trial=trial,
                     start_utc=idx[hot[0]], end_utc=idx[hot[-1]] + pd.Timedelta(hours=1),
                     kwh=float(delta.sum()), hours=int(len(hot)), params=params)
    return ctx.energy + delta, truth
