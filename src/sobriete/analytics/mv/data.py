"""Model inputs: readings + weather + occupancy calendar -> hourly, daily or billing frames
(the shapes documented in ``mv.base``). Pure: the services layer reads the store."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sobriete.analytics.calendar import occupancy
from sobriete.domain import columns as C
from sobriete.domain.portfolio import OccupancyCalendar

# A local day counts for a daily model when at least this share of its hours is present
# (OpenDSM/CalTRACK use 50 %).
MIN_DAY_COVERAGE = 0.5


def hourly_energy(readings: pd.DataFrame) -> pd.Series:
    """kWh per UTC hour from interval readings of one series (sub-hourly steps summed;
    an hour with any missing sub-interval is NaN rather than under-counted)."""
    s = readings.set_index(C.START_UTC)[C.VALUE].sort_index()
    if s.empty:
        return pd.Series(dtype=float, name="energy_kwh")
    step = int(readings[C.DURATION_S].median()) or 3600
    per_hour = max(1, 3600 // step)
    hours = s.index.floor("h")
    total = s.groupby(hours).sum(min_count=1)
    count = s.groupby(hours).count()
    total[count < per_hour] = np.nan
    full = pd.date_range(total.index.min(), total.index.max(), freq="h", tz="UTC")
    return total.reindex(full).rename("energy_kwh")


def hourly_temperature(weather: pd.DataFrame, index: pd.DatetimeIndex,
                       max_gap_h: int = 6) -> pd.Series:
    """Outdoor temperature [°C] on ``index`` (UTC hours), interpolated over gaps up to
    ``max_gap_h`` hours only."""
    t = weather[C.WEATHER_QUANTITIES[0]].dropna().sort_index()
    t = t[~t.index.duplicated()]
    union = t.index.union(index)
    filled = t.reindex(union).interpolate("time", limit=max_gap_h, limit_area="inside")
    # Interpolation across a long hole would invent weather: blank hours far from data.
    if len(t):
        obs = t.index.as_unit("s").asi8
        at = union.as_unit("s").asi8
        right = np.clip(np.searchsorted(obs, at), 0, len(obs) - 1)
        left = np.clip(right - 1, 0, len(obs) - 1)
        gap = np.minimum(np.abs(at - obs[left]), np.abs(at - obs[right]))
        filled[gap > max_gap_h * 3600] = np.nan
    return filled.reindex(index).rename(C.WEATHER_QUANTITIES[0])


def hourly_input(
    readings: pd.DataFrame,
    weather: pd.DataFrame,
    calendar: OccupancyCalendar,
    closures: list[tuple[date, date]] | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The hourly model frame and the calendar's warnings."""
    energy = hourly_energy(readings)
    frame = energy.to_frame()
    frame[C.WEATHER_QUANTITIES[0]] = hourly_temperature(weather, frame.index)
    local = frame.index.tz_convert(calendar.timezone)
    frame["local_hour"] = local.hour
    frame["local_dow"] = local.day_of_week
    frame["local_date"] = local.tz_localize(None).normalize()
    occ = occupancy(calendar, frame.index, closures)
    frame["occupied"] = occ.occupied
    frame["day_type"] = occ.day_type
    return frame, occ.warnings


def daily_input(hourly: pd.DataFrame) -> pd.DataFrame:
    """Local-day totals and temperatures from an hourly model frame."""
    g = hourly.groupby("local_date")
    temp = C.WEATHER_QUANTITIES[0]
    n_hours = g.size()
    daily = pd.DataFrame({
        "energy_kwh": g["energy_kwh"].sum(min_count=1),
        temp: g[temp].mean(),
        "temp_min_c": g[temp].min(),
        "temp_max_c": g[temp].max(),
        "energy_coverage": g["energy_kwh"].count() / n_hours.clip(lower=23),
        "day_type": g["day_type"].first(),
        "local_dow": g["local_dow"].first(),
    })
    # Scale up partly covered days so that totals stay comparable; drop poorly covered ones.
    cov = daily["energy_coverage"].clip(upper=1.0)
    daily["energy_kwh"] = daily["energy_kwh"] / cov.where(cov > 0)
    daily.loc[cov < MIN_DAY_COVERAGE, "energy_kwh"] = np.nan
    daily.index.name = "local_date"
    return daily
