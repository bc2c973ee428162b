"""Generic detectors of the comparison: what common tools ship, run on the same meter-years.

Both look at the hourly load alone (no calendar, no weather model, no reference year logic
beyond their own windows), flag hours, and merge flagged hours into *alarm episodes*: flagged
hours closer than 24 h belong to the same episode, which runs from the first flagged hour to
the end of the last. Only episodes inside the analysed year are kept. An episode has no kind;
its waste estimate is Σ (load − trailing 168-h rolling median of the load) over its hours.

- ``zscore``: z = (x − trailing mean) / trailing std over the previous 168 h (7 days, at least
  48 readings), |z| > 3 flags the hour (rises and drops alike, as such tools do).
- ``isolation_forest``: scikit-learn ``IsolationForest`` (100 trees, contamination 1 %,
  random_state 0) fitted on the reference year's hours, features hour-of-week (local),
  outdoor temperature and load; analysed hours predicted -1 are flagged. scikit-learn is
  imported lazily (bench extra only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.diag.data import TZ
from benchmarks.diag.scoring import Episode

WINDOW_H = 168
MIN_PERIODS = 48
Z_MAX = 3.0
MERGE_H = 24
CONTAMINATION = 0.01


def rolling_median(x: pd.Series) -> pd.Series:
    return x.rolling(WINDOW_H, min_periods=MIN_PERIODS).median().shift(1)


def episodes(x: pd.Series, flagged: np.ndarray, start: pd.Timestamp, end: pd.Timestamp,
             detector: str, median: pd.Series | None = None) -> list[Episode]:
    """Merge flagged hours of [start, end) into episodes, each with its Σ(x − median)."""
    idx = x.index
    inside = np.asarray((idx >= start) & (idx < end))
    hot = np.flatnonzero(flagged & inside)
    if len(hot) == 0:
        return []
    med = rolling_median(x) if median is None else median
    excess = (x - med).to_numpy(dtype=float)
    times = idx[hot]
    gaps = np.asarray((times[1:] - times[:-1]) / pd.Timedelta(hours=1), dtype=float)
    cuts = np.flatnonzero(gaps >= MERGE_H) + 1
    out = []
    for part in np.split(np.arange(len(hot)), cuts):
        lo, hi = hot[part[0]], hot[part[-1]]
        out.append(Episode(start=idx[lo], end=idx[hi] + pd.Timedelta(hours=1), kind=None,
                           kwh=float(np.nansum(excess[lo:hi + 1])), score=1.0,
                           detector=detector))
    return out


def zscore(x: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> list[Episode]:
    roll = x.rolling(WINDOW_H, min_periods=MIN_PERIODS)
    mean = roll.mean().shift(1)
    std = roll.std().shift(1)
    z = ((x - mean) / std.where(std > 0)).to_numpy(dtype=float)
    flagged = np.nan_to_num(np.abs(z), nan=0.0) > Z_MAX
    return episodes(x, flagged, start, end, "zscore")


def _features(x: pd.Series, temp: pd.Series) -> np.ndarray:
    local = x.index.tz_convert(TZ)
    how = (local.day_of_week * 24 + local.hour).to_numpy(dtype=float)
    return np.column_stack([how, temp.reindex(x.index).to_numpy(dtype=float),
                            x.to_numpy(dtype=float)])


def fit_isolation_forest(x: pd.Series, temp: pd.Series, start: pd.Timestamp):
    """Fitted on the reference rows (before ``start``); reused for every fault of a meter-year
    since faults only touch the analysed year."""
    from sklearn.ensemble import IsolationForest

    feats = _features(x, temp)
    ref = np.asarray(x.index < start) & ~np.isnan(feats).any(axis=1)
    model = IsolationForest(n_estimators=100, contamination=CONTAMINATION, random_state=0,
                            n_jobs=1)
    model.fit(feats[ref])
    return model


def isolation_forest(model, x: pd.Series, temp: pd.Series, start: pd.Timestamp,
                     end: pd.Timestamp) -> list[Episode]:
    feats = _features(x, temp)
    inside = np.asarray((x.index >= start) & (x.index < end)) & ~np.isnan(feats).any(axis=1)
    flagged = np.zeros(len(x), bool)
    if inside.any():
        flagged[inside] = model.predict(feats[inside]) == -1
    return episodes(x, flagged, start, end, "isolation_forest")
