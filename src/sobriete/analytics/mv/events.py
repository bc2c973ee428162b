"""Non-routine events and residual CUSUM: what the baseline cannot explain.

A non-routine event (NRE, IPMVP) is a change that is not in the model's variables: a closure,
a change of use, an extension. Left in the reporting period, a closure reads as savings that no
action produced. Events are either *declared* by the commune or *detected* here as sustained
departures of the residuals (actual - predicted), and ``savings.avoided_energy`` handles each
one explicitly.

Detection works on daily residuals: hourly residuals are autocorrelated (ρ ≈ 0.8-0.95), so a
run of hours far from the prediction says little; a run of days does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

# A day built from hourly residuals needs at least this share of its hours (as in mv.data).
MIN_DAY_COVERAGE = 0.5
MAD_TO_SIGMA = 1.4826


@dataclass
class NonRoutineEvent:
    """A period the baseline does not describe, over [start, end) (end exclusive).

    Naive times are local dates/times (compared with ``local_date`` on hourly frames), aware
    times are instants. ``adjustment_kwh`` None: the period is excluded from the savings sum;
    a number: the period is kept and this amount is added to the adjusted baseline (IPMVP
    non-routine adjustment, e.g. + the consumption of a new extension).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    kind: Literal["declared", "detected"]
    description_fr: str = ""
    description_en: str = ""
    adjustment_kwh: float | None = None
    # Filled by detection or by the savings calculation: the evidence behind the event.
    impact_kwh: float | None = None  # Σ(actual - predicted) over the event's rows
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.start, self.end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        if self.end <= self.start:
            raise ValueError(f"event end {self.end} must be after its start {self.start}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return _json_safe(d)


def event_mask(frame: pd.DataFrame | pd.Series, event: NonRoutineEvent) -> np.ndarray:
    """Rows of a model frame inside the event."""
    idx = frame.index
    aware_event = event.start.tzinfo is not None
    if not aware_event and isinstance(frame, pd.DataFrame) and "local_date" in frame:
        t = pd.DatetimeIndex(frame["local_date"])
    elif aware_event and getattr(idx, "tz", None) is None:
        raise ValueError("an event in absolute time cannot be placed on a local-date index")
    elif not aware_event and getattr(idx, "tz", None) is not None:
        t = idx.tz_localize(None)  # no local_date column: read the event in the index's zone
    else:
        t = pd.DatetimeIndex(idx)
    return np.asarray((t >= event.start) & (t < event.end))


def daily_residuals(actual: pd.Series, predicted: pd.Series,
                    timezone: str | None = None) -> pd.DataFrame:
    """``actual_kwh``, ``predicted_kwh``, ``residual_kwh`` per local day (rows where both are
    known; sub-daily days under ``MIN_DAY_COVERAGE`` dropped, others scaled up)."""
    f = pd.DataFrame({"actual_kwh": actual, "predicted_kwh": predicted}).sort_index()
    ok = f.notna().all(axis=1)
    idx = pd.DatetimeIndex(f.index)
    if len(idx) > 1 and (idx[1:] - idx[:-1]).min() < pd.Timedelta(days=1):
        if idx.tz is not None:
            idx = idx.tz_convert(timezone or idx.tz).tz_localize(None)
        days = idx.normalize()
        g = f[ok].groupby(days[ok.to_numpy()])
        per_day = pd.Series(1, index=idx).groupby(days).size()
        out = g.sum()
        cov = (g.size() / per_day.reindex(out.index).clip(lower=23)).clip(upper=1.0)
        out = out[cov >= MIN_DAY_COVERAGE].div(cov[cov >= MIN_DAY_COVERAGE], axis=0)
    else:
        out = f[ok]
    out = out.copy()
    out["residual_kwh"] = out["actual_kwh"] - out["predicted_kwh"]
    return out


def robust_sigma(residuals: pd.Series) -> float:
    r = residuals.dropna().to_numpy(dtype=float)
    if len(r) < 3:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(r - np.median(r))))


def cusum(actual: pd.Series, predicted: pd.Series, *, k: float = 0.5, h: float = 8.0,
          sigma: float | None = None) -> pd.DataFrame:
    """Cumulative residuals and a two-sided tabular CUSUM (Page 1954; Montgomery, *Statistical
    Quality Control*, ch. 9) in units of the residual standard deviation.

    Columns: ``residual_kwh`` (actual - predicted), ``cusum_kwh`` (running sum, the classic M&V
    CUSUM plot: a sustained slope is a sustained change), ``upper`` / ``lower`` (tabular
    statistics, σ units), ``change_kwh`` (NaN except on the first row of a detected change,
    where it holds the new mean residual per row relative to the previous level).

    ``k`` = half the smallest shift worth detecting, ``h`` = decision limit. Defaults k=0.5, h=8
    (Siegmund's approximation, independent data): a 3σ shift is flagged in ~4 rows, a 1σ shift
    in ~18, and a false alarm comes every ~9,500 rows (26 years of days). The textbook h=5 gives
    one every ~470 rows, more than one a year of daily data. Residual autocorrelation shortens
    these intervals; pass a σ inflated by sqrt((1+ρ)/(1-ρ)) to compensate. After an alarm
    the reference level moves to the mean residual since the change started, so a sustained step
    gives one change and its end another. ``sigma``: defaults to the robust (MAD) standard
    deviation of the residuals; pass the baseline's when the reporting period is mostly changed.
    Use it on daily residuals: on hourly ones autocorrelation makes alarms meaningless.
    """
    f = pd.DataFrame({"a": actual, "p": predicted}).sort_index().dropna()
    r = (f["a"] - f["p"]).to_numpy(dtype=float)
    s = robust_sigma(pd.Series(r)) if sigma is None else float(sigma)
    upper, lower = np.zeros(len(r)), np.zeros(len(r))
    change = np.full(len(r), np.nan)
    level, hi, lo, hi_start, lo_start = 0.0, 0.0, 0.0, 0, 0
    for i, x in enumerate(r):
        z = (x - level) / s if s > 0 else 0.0
        if hi == 0.0:
            hi_start = i
        if lo == 0.0:
            lo_start = i
        hi, lo = max(0.0, hi + z - k), max(0.0, lo - z - k)
        upper[i], lower[i] = hi, lo
        if hi > h or lo > h:
            start = hi_start if hi > h else lo_start
            new_level = float(np.mean(r[start:i + 1]))
            change[start] = new_level - level
            level, hi, lo = new_level, 0.0, 0.0
    return pd.DataFrame({"residual_kwh": r, "cusum_kwh": np.cumsum(r), "upper": upper,
                         "lower": lower, "change_kwh": change}, index=f.index)


def cusum_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """The detected changes of a ``cusum`` frame: ``start``, ``change_kwh`` per row,
    ``direction`` (+1 consumption above the previous level, -1 below)."""
    c = frame["change_kwh"].dropna()
    return pd.DataFrame({"start": c.index, "change_kwh": c.to_numpy(),
                         "direction": np.sign(c.to_numpy()).astype(int)})


def detect_non_routine_events(
    actual: pd.Series, predicted: pd.Series, *, sigma: float | None = None,
    threshold: float = 2.0, min_days: int = 7, max_gap_days: int = 3,
    timezone: str | None = None,
) -> list[NonRoutineEvent]:
    """Sustained departures: runs of days where the daily residual exceeds ``threshold`` σ with
    the same sign, at least ``min_days`` such days, allowing up to ``max_gap_days`` unflagged
    days inside a run (a closed building's weekend looks like a normal weekend).

    ``sigma`` is the daily residual standard deviation; pass the baseline's (e.g. its daily
    RMSE). The default, a robust estimate from these residuals, is only sound when events are a
    minority of the days. Residuals are not re-centred: the baseline's residuals have mean ~0 and
    centring on the reporting period would absorb a long event.
    """
    d = daily_residuals(actual, predicted, timezone)
    s = robust_sigma(d["residual_kwh"]) if sigma is None else float(sigma)
    if d.empty or not s > 0:
        return []
    z = d["residual_kwh"].to_numpy() / s
    flag = np.where(z > threshold, 1, np.where(z < -threshold, -1, 0))
    days = pd.DatetimeIndex(d.index)
    events, i = [], 0
    while i < len(flag):
        if flag[i] == 0:
            i += 1
            continue
        sign, first, last, count, j = flag[i], i, i, 1, i + 1
        while j < len(flag) and (days[j] - days[last]).days <= max_gap_days + 1:
            if flag[j] == -sign:
                break
            if flag[j] == sign:
                last, count = j, count + 1
            j += 1
        if count >= min_days:
            events.append(_detected(d.iloc[first:last + 1], sign, count, s, threshold))
        i = last + 1
    return events


def _detected(span: pd.DataFrame, sign: int, count: int, sigma: float,
              threshold: float) -> NonRoutineEvent:
    start, end = span.index[0], span.index[-1] + pd.Timedelta(days=1)
    impact = float(span["residual_kwh"].sum())
    rel = impact / float(span["predicted_kwh"].sum())
    word_en, word_fr = ("above", "au-dessus de") if sign > 0 else ("below", "en dessous de")
    return NonRoutineEvent(
        start=start, end=end, kind="detected",
        description_en=(f"Consumption {abs(rel):.0%} {word_en} the baseline over "
                        f"{len(span)} days ({count} beyond {threshold:g} σ)"),
        description_fr=(f"Consommation {abs(rel):.0%} {word_fr} la référence sur "
                        f"{len(span)} jours ({count} au-delà de {threshold:g} σ)"),
        impact_kwh=impact,
        data={"days": len(span), "flagged_days": count, "sigma_kwh_per_day": sigma,
              "relative_departure": rel, "direction": int(sign)},
    )


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.bool_):
        return bool(x)
    return x
