"""Hourly baseline invariants (hypothesis): scaling, missing data, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.analytics.mv.base import COMPONENTS, PREDICTED
from sobriete.analytics.mv.hourly import HourlyModel


def frame(days: int, seed: int, start: str = "2024-01-01") -> pd.DataFrame:
    """A small building frame built directly (UTC = local clock), weekends closed."""
    idx = pd.date_range(start, periods=24 * days, freq="h", tz="UTC")
    rng = np.random.default_rng(seed)
    hour = idx.hour.to_numpy()
    dow = idx.day_of_week.to_numpy()
    t = 8 + 6 * np.sin(np.arange(len(idx)) / 24 / 9) + rng.normal(0, 2, len(idx))
    occ = (dow < 5) & (hour >= 8) & (hour < 18)
    y = 3 + 5 * occ + 0.4 * np.maximum(14 - t, 0) + rng.gamma(2.0, 0.5, len(idx))
    return pd.DataFrame({
        "energy_kwh": y, "temp_air_c": t, "local_hour": hour, "local_dow": dow,
        "local_date": idx.tz_localize(None).normalize(),
        "day_type": np.where(dow >= 5, "weekend", "workday"), "occupied": occ,
    }, index=idx)


FAST = settings(max_examples=15, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(k=st.floats(0.01, 1000.0), seed=st.integers(0, 1000), days=st.integers(10, 60))
def test_scaling_consumption_scales_predictions(k, seed, days):
    f = frame(days, seed)
    g = f.copy()
    g["energy_kwh"] = f["energy_kwh"] * k
    target = frame(14, seed + 1, start="2024-03-15")
    m1, m2 = HourlyModel(), HourlyModel()
    m1.fit(f)
    m2.fit(g)
    p1, p2 = m1.predict(target), m2.predict(target)
    for c in (PREDICTED, *COMPONENTS):
        np.testing.assert_allclose(p2[c], k * p1[c], rtol=1e-6, atol=1e-9 * k)
    r1, r2 = m1.fit_result.metrics, m2.fit_result.metrics
    assert abs(r1.cvrmse - r2.cvrmse) < 1e-6


@FAST
@given(seed=st.integers(0, 1000), p_nan_y=st.sampled_from([0.0, 0.1, 0.5, 0.95, 1.0]),
       p_nan_t=st.sampled_from([0.0, 0.2, 0.7, 1.0]), days=st.integers(1, 40),
       zeros=st.booleans())
def test_missing_data_never_crashes(seed, p_nan_y, p_nan_t, days, zeros):
    f = frame(days, seed)
    rng = np.random.default_rng(seed)
    f.loc[rng.random(len(f)) < p_nan_y, "energy_kwh"] = np.nan
    f.loc[rng.random(len(f)) < p_nan_t, "temp_air_c"] = np.nan
    if zeros:
        f.loc[f.index[: len(f) // 3], "energy_kwh"] = 0.0
    if seed % 3 == 0:  # rows missing altogether
        f = f.drop(f.index[rng.random(len(f)) < 0.3])
    m = HourlyModel()
    r = m.fit(f)
    target = frame(3, seed + 1, start="2024-06-01")
    target.loc[target.index[::5], "temp_air_c"] = np.nan
    p = m.predict(target)
    assert len(p) == len(target)
    if r.metrics is not None:  # something was fitted: predictions are numbers
        assert np.isfinite(p[PREDICTED]).all()
    json.dumps(m.to_json(), allow_nan=False)


@FAST
@given(seed=st.integers(0, 1000), days=st.integers(5, 50))
def test_json_round_trip_predicts_identically(seed, days):
    m = HourlyModel()
    m.fit(frame(days, seed))
    again = HourlyModel.from_json(json.loads(json.dumps(m.to_json(), allow_nan=False)))
    target = frame(10, seed + 7, start="2024-05-01")
    pd.testing.assert_frame_equal(again.predict(target), m.predict(target), check_exact=True)
