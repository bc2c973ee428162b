"""Any finite (or missing) series gives a report, never an exception."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.analytics.quality import QualityReport, check_many, check_series, completeness
from sobriete.domain.columns import QUANTITIES

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.sampled_from([0.0, 0.0, 1.0, -1.0, np.nan]),
)


@st.composite
def series(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 300))
    step = draw(st.sampled_from([1, 60, 900, 1800, 3600, 86400]))
    regular = draw(st.booleans())
    base = pd.Timestamp(draw(st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                                          max_value=pd.Timestamp("2090-01-01").to_pydatetime())),
                        tz="UTC")
    if regular:
        offs = np.arange(n, dtype=np.int64) * step
    else:
        offs = np.array(draw(st.lists(st.integers(0, 10**8), min_size=n, max_size=n)),
                        dtype=np.int64)
    vals = draw(st.lists(values, min_size=n, max_size=n))
    q = draw(st.sampled_from([*QUANTITIES, "unknown_q"]))
    return pd.DataFrame({
        "series_key": "s", "quantity": q,
        "start_utc": base + pd.to_timedelta(offs, unit="s"),
        "duration_s": draw(st.sampled_from([0, step])), "value": vals,
    })


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series(), st.sampled_from([None, 3600, 1800]))
def test_any_series_gives_a_report(f: pd.DataFrame, step: int | None) -> None:
    r = check_series(f, expected_step_s=step)
    assert isinstance(r, QualityReport)
    assert r.to_frame().shape[1] == 11
    assert r.summary["total"] == len(r.issues)
    for i in r.issues:
        assert i.start_utc <= i.end_utc and i.message_fr and i.message_en
    c = completeness(f, "MS")
    assert ((c["completeness"] >= 0) & (c["completeness"] <= 1)).all()


def test_empty_single_and_all_nan() -> None:
    cols = ["series_key", "quantity", "start_utc", "duration_s", "value"]
    empty = pd.DataFrame({c: [] for c in cols}).astype({"start_utc": "datetime64[ns, UTC]"})
    assert check_series(empty).issues == [] and check_many(empty).issues == []
    one = pd.DataFrame({"series_key": ["s"], "quantity": ["energy_kwh"],
                        "start_utc": [pd.Timestamp("2024-01-01", tz="UTC")],
                        "duration_s": [3600], "value": [1.0]})
    assert check_series(one).issues == []
    t = pd.date_range("2024-01-01", periods=200, freq="h", tz="UTC")
    nan = pd.DataFrame({"series_key": "s", "quantity": "energy_kwh", "start_utc": t,
                        "duration_s": 3600, "value": np.nan})
    r = check_series(nan)
    assert [i.kind.value for i in r.issues] == ["gap"] and r.issues[0].n_points == 200
    assert r.completeness_daily["completeness"].eq(0).all()


def test_stray_far_timestamp_with_tiny_step_does_not_exhaust_memory() -> None:
    t = pd.to_datetime(
        ["2024-01-01 00:00:00", "2024-01-01 00:00:01", "2054-01-01 00:00:00"], utc=True)
    f = pd.DataFrame({"series_key": "s", "quantity": "energy_kwh", "start_utc": t,
                      "duration_s": 0, "value": [1.0, 2.0, 3.0]})
    r = check_series(f)
    assert "max_grid_points" in r.series["notes"].iloc[0]
