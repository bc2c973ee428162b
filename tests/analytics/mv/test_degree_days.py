"""Degree-days: Météo-France and COSTIC methods, hourly input, Décret tertiaire adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sobriete.analytics.degree_days import (
    climate_adjusted,
    cooling_degree_days,
    degree_days,
    degree_days_from_hourly,
    heating_degree_days,
)

temps = st.floats(-30, 40, allow_nan=False)


def test_meteo_france_is_base_minus_mean() -> None:
    assert heating_degree_days([2.0, 15.0, 20.0], [8.0, 25.0, 30.0]).tolist() == [13.0, 0.0, 0.0]
    assert cooling_degree_days([2.0, 15.0, 20.0], [8.0, 25.0, 30.0]).tolist() == [0.0, 2.0, 7.0]


def test_costic_three_cases() -> None:
    # Tmax <= 18: like Météo-France; Tmin >= 18: zero; between: weighted (S - Tmin).
    h = heating_degree_days([2.0, 19.0, 10.0], [8.0, 30.0, 20.0], method="costic")
    assert h[0] == pytest.approx(13.0)
    assert h[1] == 0.0
    assert h[2] == pytest.approx(8 * (0.08 + 0.42 * 8 / 10))  # 3.328, Météo-France says 3
    c = cooling_degree_days([10.0], [20.0], method="costic")
    assert c[0] == pytest.approx(2 * (0.08 + 0.42 * 2 / 10))


def test_costic_is_continuous_at_the_case_boundaries() -> None:
    eps = 1e-9
    for lo, hi in ((10.0, 18.0), (18.0, 25.0)):
        a = heating_degree_days([lo - eps], [hi - eps], method="costic")[0]
        b = heating_degree_days([lo + eps], [hi + eps], method="costic")[0]
        assert a == pytest.approx(b, abs=1e-6)


@given(temps, temps, st.floats(10, 25))
def test_costic_never_below_meteo_france_nor_negative(a: float, b: float, base: float) -> None:
    mf = heating_degree_days([a], [b], base)[0]
    co = heating_degree_days([a], [b], base, "costic")[0]
    assert co >= mf - 1e-9 and co >= 0
    assert cooling_degree_days([a], [b], base, "costic")[0] >= 0


@given(temps, temps)
def test_meteo_france_heating_minus_cooling_is_base_minus_mean(a: float, b: float) -> None:
    h = heating_degree_days([a], [b])[0]
    c = cooling_degree_days([a], [b])[0]
    assert h - c == pytest.approx(18 - (a + b) / 2, abs=1e-9)


def test_nan_in_nan_out_and_output_names_the_method() -> None:
    daily = pd.DataFrame({"temp_min_c": [0.0, np.nan], "temp_max_c": [10.0, 5.0]})
    out = degree_days(daily, method="costic")
    assert list(out.columns) == ["hdd_18", "cdd_18", "method", "base_c"]
    assert out["method"].unique().tolist() == ["costic"]
    assert np.isnan(out["hdd_18"].iloc[1])


def test_from_hourly_uses_local_days_and_drops_thin_days() -> None:
    idx = pd.date_range("2024-01-01 00:00", periods=48, freq="h", tz="Europe/Paris")
    t = pd.Series(np.r_[np.full(24, 4.0), np.full(24, 10.0)], index=idx.tz_convert("UTC"))
    out = degree_days_from_hourly(t.iloc[:-10])  # second local day has 14 hours
    assert out["hdd_18"].iloc[0] == pytest.approx(14.0)
    assert np.isnan(out["hdd_18"].iloc[1])
    assert out.index[0] == pd.Timestamp("2024-01-01")


def test_climate_adjustment_is_pluggable() -> None:
    r = climate_adjusted(100_000, 20_000, dju_ref=2400, dju_year=2000)
    assert r.adjusted_kwh == pytest.approx(140_000) and r.method == "dju_ratio"
    r2 = climate_adjusted(100_000, 0, 2400, 2000, method=lambda h, ref, yr: h)
    assert r2.adjusted_kwh == 100_000
    with pytest.raises(ValueError):
        climate_adjusted(1, 0, 2400, 0)
