"""A normal weather year for normalised savings, by averaging several real years."""

from __future__ import annotations

import calendar
from collections.abc import Iterable

import numpy as np
import pandas as pd


def typical_year(temps: pd.Series, years: Iterable[int] | int, *,
                 target_year: int = 2023, min_share: float = 0.5) -> pd.Series:
    """Mean temperature per hour-of-year (hourly input) or day-of-year (daily input) over
    ``years``, laid on ``target_year``'s calendar.

    - ``temps``: °C, indexed by hour starts (UTC-aware or naive) or by naive local dates.
    - ``years``: the years to average, or an int N for the N most recent complete years.
    - Keys are (month, day[, hour]) in the index's own clock (UTC for aware indexes, so DST
      does not shift hours); 29 February is dropped, a normal year has 365 days.
    - A key seen in fewer than ``min_share`` of the years is NaN, then interpolated in time.
    - ``target_year`` must not be a leap year; its weekdays and holidays are the ones the caller's
      frame will carry (the normal year is a weather year, the calendar is the caller's choice).

    Averaging keeps each day's seasonal mean but damps the spread of single years: cold snaps
    and heat waves are softened, so models with balance points see slightly fewer degree-days
    than in a typical *real* year. A TMY built from selected real months (ISO 15927-4) keeps that
    spread; it is not implemented here.
    """
    if calendar.isleap(target_year):
        raise ValueError(f"target_year {target_year} is a leap year; pick a 365-day year")
    s = temps.dropna().sort_index()
    idx = pd.DatetimeIndex(s.index)
    hourly = len(idx) > 1 and pd.Series(idx).diff().median() < pd.Timedelta(days=1)
    if isinstance(years, int):
        years = _last_complete_years(idx, years, hourly)
    years = sorted(set(int(y) for y in years))
    keep = np.isin(idx.year, years) & ~((idx.month == 2) & (idx.day == 29))
    s, idx = s[keep], idx[keep]
    keys = [idx.month, idx.day] + ([idx.hour] if hourly else [])
    g = s.groupby(keys)
    mean = g.mean()[g.count() >= max(1, int(np.ceil(min_share * len(years))))]
    freq = "h" if hourly else "D"
    out_idx = pd.date_range(f"{target_year}-01-01", f"{target_year + 1}-01-01", freq=freq,
                            inclusive="left", tz=idx.tz)
    out_keys = pd.MultiIndex.from_arrays(
        [out_idx.month, out_idx.day] + ([out_idx.hour] if hourly else []))
    values = mean.reindex(out_keys).to_numpy()
    out = pd.Series(values, index=out_idx, name=temps.name or "temp_air_c")
    out = out.interpolate("time", limit_direction="both")
    out.attrs["years"] = years
    return out


def _last_complete_years(idx: pd.DatetimeIndex, n: int, hourly: bool) -> list[int]:
    per_year = pd.Series(1, index=idx).groupby(idx.year).size()
    full = [int(y) for y, c in per_year.items()
            if c >= (0.9 * (8760 if hourly else 365))]
    if len(full) < n:
        raise ValueError(f"asked for {n} complete years, the data has {len(full)}: {full}")
    return full[-n:]
