"""M&V test fixtures: synthetic daily frames with known change-point parameters, and the
Cambridge gas meters as daily model frames."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sobriete.analytics.mv import data as mvdata
from sobriete.domain.portfolio import OccupancyCalendar, OpeningHours


def temperatures(n: int = 365, seed: int = 0, start: str = "2019-01-01") -> pd.Series:
    """A temperate year [°C]: seasonal cycle plus autocorrelated weather noise."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq="D")
    doy = np.arange(n)
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.7 * noise[i - 1] + rng.normal(0, 2.2)
    return pd.Series(12 - 9 * np.cos(2 * np.pi * (doy - 20) / 365.25) + noise, index=idx)


def daily_frame(t: pd.Series, base: float = 200.0, hs: float = 15.0, hbp: float | None = 15.0,
                cs: float = 0.0, cbp: float | None = None, weekend_delta: float = 0.0,
                noise: float = 0.05, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = t.to_numpy()
    y = np.full(len(t), base)
    if hbp is not None:
        y = y + hs * np.maximum(0, hbp - T)
    if cbp is not None:
        y = y + cs * np.maximum(0, T - cbp)
    weekend = np.asarray(t.index.day_of_week) >= 5
    y = y + weekend_delta * weekend
    y = y * (1 + rng.normal(0, noise, len(y)))
    return pd.DataFrame({
        "energy_kwh": y, "temp_air_c": T, "temp_min_c": T - 4, "temp_max_c": T + 4,
        "energy_coverage": 1.0, "day_type": np.where(weekend, "weekend", "workday"),
        "local_dow": t.index.day_of_week,
    }, index=pd.Index(t.index, name="local_date"))


@pytest.fixture(scope="session")
def synth() -> SimpleNamespace:
    return SimpleNamespace(temperatures=temperatures, daily_frame=daily_frame)


@pytest.fixture(scope="session")
def cambridge_gas_daily(shared_data: Path) -> dict[str, pd.DataFrame]:
    """Daily frames of gas meters b0, b4, b8 (2015-2020), built with ``mv.data``. The UK has
    no French public holidays: the calendar is a plain Monday-Friday week."""
    gas = pd.read_csv(shared_data / "cambridge/gas_kwh_hourly.csv.gz")
    start = pd.to_datetime(gas["timestamp_utc"], utc=True)
    w = pd.read_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz")
    w.index = pd.to_datetime(w["timestamp_utc"], utc=True)
    w = w.rename(columns={"air_temperature_c": "temp_air_c"})
    cal = OccupancyCalendar(
        weekly={d: (OpeningHours(start=time(8), end=time(18)),) for d in range(1, 6)},
        closed_on_public_holidays=False, timezone="Europe/London")
    out = {}
    for b in ("b0", "b4", "b8"):
        r = pd.DataFrame({"series_key": b, "quantity": "energy_kwh", "start_utc": start,
                          "duration_s": 3600, "value": gas[b]})
        hourly, _ = mvdata.hourly_input(r, w, cal)
        out[b] = mvdata.daily_input(hourly)
    return out
