"""Accuracy metrics and aggregation shared by both sides of the benchmark (no peer import).

Definitions (ASHRAE Guideline 14 style, evaluated on held-out data):
- CV(RMSE) = sqrt(sum((y - ŷ)²) / (n - p)) / mean(y), with p = 0 (out-of-sample: no parameter
  count correction);
- NMBE = sum(y - ŷ) / (n · mean(y))  (positive: the model under-predicts).
Both are computed over the points where the observation and the prediction both exist; for
electricity, zero readings can optionally be dropped too (OpenDSM treats them as missing and the
Cambridge publisher wrote missing readings as 0).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _aligned(y: pd.Series, yhat: pd.Series, exclude_zero_observed: bool = False):
    df = pd.concat({"y": y, "yhat": yhat}, axis=1, join="inner").dropna()
    if exclude_zero_observed:
        df = df[df["y"] != 0]
    return df["y"].to_numpy(float), df["yhat"].to_numpy(float)


def cvrmse(y: pd.Series, yhat: pd.Series, p: int = 0, exclude_zero_observed: bool = False):
    a, b = _aligned(y, yhat, exclude_zero_observed)
    n = len(a)
    if n - p <= 0 or a.mean() == 0:
        return None
    return float(math.sqrt(((a - b) ** 2).sum() / (n - p)) / a.mean())


def nmbe(y: pd.Series, yhat: pd.Series, exclude_zero_observed: bool = False):
    a, b = _aligned(y, yhat, exclude_zero_observed)
    n = len(a)
    if n == 0 or a.mean() == 0:
        return None
    return float((a - b).sum() / (n * a.mean()))


def evaluate(y: pd.Series, yhat: pd.Series, exclude_zero_observed: bool = False) -> dict:
    a, b = _aligned(y, yhat, exclude_zero_observed)
    return {
        "n": int(len(a)),
        "cvrmse": cvrmse(y, yhat, 0, exclude_zero_observed),
        "nmbe": nmbe(y, yhat, exclude_zero_observed),
        "observed_sum": float(a.sum()) if len(a) else None,
        "predicted_sum": float(b.sum()) if len(b) else None,
    }


def daily_from_hourly(hourly: pd.Series, tz: str, complete_only: bool = True) -> pd.Series:
    """Hourly kWh (UTC) -> local-day sums, indexed by the UTC instant of local midnight.

    With `complete_only`, a day with any missing hour is NaN (DST days have 23 or 25 hours).
    """
    local = hourly.tz_convert(tz)
    grouped = local.resample("D")
    sums = grouped.sum(min_count=1)
    if complete_only:
        counts = grouped.count()
        day_start = sums.index
        expected = (
            (day_start + pd.DateOffset(days=1)).tz_convert("UTC") - day_start.tz_convert("UTC")
        ) / pd.Timedelta(hours=1)
        sums[counts.to_numpy() < np.asarray(expected)] = np.nan
    return sums.tz_convert("UTC")
