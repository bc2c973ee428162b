"""Comfort envelope: bands by occupation, closure length, restart window and user bands."""

from __future__ import annotations

from datetime import date, time

import pandas as pd
import pytest
from pydantic import ValidationError

from sobriete.control.comfort import ComfortSettings, UserBand, comfort_envelope
from sobriete.domain.portfolio import Building, OccupancyCalendar, OpeningHours

OFFICE = Building(code="MAIRIE", name="Mairie", calendar=OccupancyCalendar(
    weekly={d: (OpeningHours(start=time(8), end=time(18)),) for d in range(1, 6)}))


def steps(start_local: str, hours: int) -> pd.DatetimeIndex:
    start = pd.Timestamp(start_local, tz="Europe/Paris").tz_convert("UTC")
    return pd.date_range(start, periods=hours * 4, freq="15min")


def at(env: pd.DataFrame, local: str) -> pd.Series:
    return env.loc[pd.Timestamp(local, tz="Europe/Paris").tz_convert("UTC")]


def test_weekday_bands_and_restart_window():
    env = comfort_envelope(OFFICE, steps("2025-01-15 00:00", 24), settings=ComfortSettings())
    assert list(env.columns) == ["t_min_c", "t_max_c", "occupied", "rule"]
    assert tuple(at(env, "2025-01-15 10:00")) == (19.0, 21.0, True, "occupied")
    assert tuple(at(env, "2025-01-15 03:00")) == (12.0, 16.0, False, "unoccupied")
    assert tuple(at(env, "2025-01-15 06:00")) == (12.0, 21.0, False, "preheat")
    assert tuple(at(env, "2025-01-15 04:45")) == (12.0, 16.0, False, "unoccupied")
    assert tuple(at(env, "2025-01-15 20:00")) == (12.0, 16.0, False, "unoccupied")


def test_weekend_is_frost_protection_then_restart():
    # Friday 18:00 to Monday 08:00: 62 h unoccupied, R.241-27's 48 h+ band (8 °C).
    env = comfort_envelope(OFFICE, steps("2025-01-17 12:00", 72), settings=ComfortSettings())
    assert tuple(at(env, "2025-01-18 12:00")) == (6.0, 8.0, False, "frost")
    assert tuple(at(env, "2025-01-17 19:00")) == (6.0, 8.0, False, "frost")
    assert at(env, "2025-01-20 06:00")["rule"] == "preheat"
    assert at(env, "2025-01-20 06:00")["t_min_c"] == 6.0


def test_closure_and_user_band():
    start = pd.Timestamp("2025-01-15 14:00", tz="UTC")
    band = UserBand(start_utc=start, end_utc=start + pd.Timedelta(hours=2), t_min_c=20.0,
                    t_max_c=21.0, label="conseil municipal")
    env = comfort_envelope(OFFICE, steps("2025-01-13 00:00", 120),
                           settings=ComfortSettings(user_bands=(band,)),
                           closures=[(date(2025, 1, 16), date(2025, 1, 17))])
    assert at(env, "2025-01-16 10:00")["rule"] == "frost"  # Wed 18:00 -> Mon 08:00
    assert tuple(at(env, "2025-01-15 15:30")) == (20.0, 21.0, True, "conseil municipal")


def test_settings_are_checked():
    with pytest.raises(ValidationError):
        ComfortSettings(occupied_min_c=22.0)
    with pytest.raises(ValueError, match="timezone"):
        comfort_envelope(OFFICE, pd.date_range("2025-01-15", periods=4, freq="15min"))
    assert comfort_envelope(OFFICE, pd.DatetimeIndex([], tz="UTC")).empty
