"""Daily change-point model: parameter recovery, variant selection, invariants, real data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.analytics.mv.changepoint import ChangePointModel, ChangePointSettings, day_groups
from sobriete.analytics.mv.metrics import cvrmse, nmbe

ALL_DAYS = ChangePointSettings(splits=("none",))


def test_recovers_heating_balance_point_and_slope(synth) -> None:
    for seed in range(5):
        d = synth.daily_frame(synth.temperatures(seed=seed), hs=15.0, hbp=15.3, seed=seed)
        m = ChangePointModel(ALL_DAYS)
        m.fit(d)
        g = m.groups["all"]
        assert g["form"] == "heating"
        assert abs(g["heating_bp"] - 15.3) <= 0.5
        assert g["heating_slope"] == pytest.approx(15.0, rel=0.05)
        assert g["intercept"] == pytest.approx(200.0, rel=0.05)


@pytest.mark.parametrize("seed", range(4))
def test_recovers_heating_and_cooling(synth, seed: int) -> None:
    # Four parameters share the signal: with 4 % noise the slopes' own standard error is
    # about 2.5 %, so 5 % would fail one seed in twenty; 3 % noise keeps the test honest.
    t = synth.temperatures(seed=seed) + 3  # a warmer climate, so that cooling days are many
    d = synth.daily_frame(t, hs=12.0, hbp=14.0, cs=20.0, cbp=20.0, noise=0.03, seed=seed)
    m = ChangePointModel(ALL_DAYS)
    m.fit(d)
    g = m.groups["all"]
    assert g["form"] == "heating_cooling"
    assert abs(g["heating_bp"] - 14.0) <= 0.5 and abs(g["cooling_bp"] - 20.0) <= 0.5
    assert g["heating_slope"] == pytest.approx(12.0, rel=0.05)
    assert g["cooling_slope"] == pytest.approx(20.0, rel=0.05)


@pytest.mark.parametrize("kind,form", [("intercept", "intercept"), ("heating", "heating"),
                                       ("both", "heating_cooling")])
def test_selects_the_right_form(synth, kind: str, form: str) -> None:
    t = synth.temperatures(seed=7) + 3
    d = synth.daily_frame(t, hbp=None if kind == "intercept" else 14.0,
                    cs=20.0, cbp=20.0 if kind == "both" else None, seed=7)
    m = ChangePointModel()
    m.fit(d)
    assert m.split == "none"
    assert m.groups["all"]["form"] == form


def test_selects_a_weekday_weekend_split_when_there_is_one(synth) -> None:
    d = synth.daily_frame(synth.temperatures(seed=2), weekend_delta=-120.0, noise=0.03, seed=2)
    m = ChangePointModel()
    m.fit(d)
    assert m.split in ("weekday_weekend", "occupancy")
    p = m.predict(d)
    weekend = d["local_dow"] >= 5
    assert p.loc[weekend, "calendar_kwh"].mean() == pytest.approx(-120, rel=0.1)
    assert (p.loc[~weekend, "calendar_kwh"] == 0).all()
    parts = p[["base_kwh", "heating_kwh", "cooling_kwh", "calendar_kwh"]].sum(axis=1)
    assert np.allclose(parts, p["predicted_kwh"])


def test_holiday_shows_as_a_negative_calendar_component(synth) -> None:
    d = synth.daily_frame(synth.temperatures(seed=4), weekend_delta=-150.0, noise=0.03, seed=4)
    hol = d.index.isin(pd.to_datetime(["2019-01-01", "2019-05-01", "2019-05-08", "2019-07-14",
                                       "2019-08-15", "2019-11-01", "2019-11-11", "2019-12-25",
                                       "2019-04-22", "2019-05-30", "2019-06-10"]))
    d.loc[hol, "day_type"] = "public_holiday"
    d.loc[hol & (d["local_dow"] < 5), "energy_kwh"] -= 150
    m = ChangePointModel(ChangePointSettings(splits=("none", "occupancy")))
    m.fit(d)
    p = m.predict(d)
    assert m.split == "occupancy"
    assert (p.loc[hol, "calendar_kwh"] < -100).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.01, 1e4), st.integers(0, 10_000))
def test_scaling_consumption_scales_predictions(synth, k: float, seed: int) -> None:
    d = synth.daily_frame(synth.temperatures(seed=seed % 7), noise=0.1, seed=seed)
    a, b = ChangePointModel(), ChangePointModel()
    a.fit(d)
    b.fit(d.assign(energy_kwh=d["energy_kwh"] * k))
    assert (a.split, a.mode) == (b.split, b.mode)
    assert np.allclose(b.predict(d)["predicted_kwh"], k * a.predict(d)["predicted_kwh"],
                       rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 364), max_size=365), st.lists(st.integers(0, 364), max_size=60),
       st.booleans())
def test_missing_data_never_crashes(synth, drop: list[int], no_temp: list[int],
                                    types: bool) -> None:
    d = synth.daily_frame(synth.temperatures(seed=1))
    d.iloc[drop, d.columns.get_loc("energy_kwh")] = np.nan
    d.iloc[no_temp, d.columns.get_loc("temp_air_c")] = np.nan
    if types:
        d = d.drop(columns=["day_type", "local_dow"])
    m = ChangePointModel()
    r = m.fit(d)
    p = m.predict(d)
    assert len(p) == len(d)
    assert p["predicted_kwh"].isna().sum() >= len(set(no_temp))
    if d["energy_kwh"].notna().sum() < 20:
        assert r.disqualified


def test_json_round_trip_predicts_identically(synth) -> None:
    d = synth.daily_frame(synth.temperatures(seed=5), cs=10, cbp=19, weekend_delta=-60, seed=5)
    m = ChangePointModel()
    m.fit(d)
    doc = json.loads(json.dumps(m.to_json()))
    m2 = ChangePointModel.from_json(doc)
    pd.testing.assert_frame_equal(m.predict(d), m2.predict(d))
    assert m2.fit_result.metrics == m.fit_result.metrics
    assert m2.to_json() == doc


def test_day_groups_fall_back_on_the_weekday_without_day_type(synth) -> None:
    d = synth.daily_frame(synth.temperatures(n=14)).drop(columns=["day_type"])
    occ = day_groups(d, "occupancy")
    assert ((occ == "occupied") == (day_groups(d, "weekday_weekend") == "weekday")).all()
    m = ChangePointModel()
    m.fit(synth.daily_frame(synth.temperatures(), weekend_delta=-80).drop(columns=["day_type"]))
    assert m.split != "occupancy"  # the same partition as weekday/weekend is tried once


def test_fit_is_fast(synth) -> None:
    d = synth.daily_frame(synth.temperatures(seed=0), cs=10, cbp=20, weekend_delta=-50)
    ChangePointModel().fit(d)
    t0 = time.perf_counter()
    for _ in range(10):
        ChangePointModel().fit(d)
    assert (time.perf_counter() - t0) / 10 < 0.1  # about 12 ms here; generous for CI


# ---- real data -------------------------------------------------------------------------------

def _opendsm_daily(shared: Path, name: str) -> pd.DataFrame:
    tf = pd.read_csv(shared / "opendsm_samples/il-tempF.csv.gz")
    tc = pd.Series(((tf["tempF"] - 32) * 5 / 9).to_numpy(),
                   index=pd.to_datetime(tf["dt"], utc=True))
    day = tc.index.tz_convert("America/Chicago").tz_localize(None).normalize()
    temp = tc.groupby(day).mean()
    e = pd.read_csv(shared / f"opendsm_samples/{name}-daily.csv.gz")
    idx = pd.DatetimeIndex(pd.to_datetime(e["start"], utc=True).dt.tz_convert(
        "America/Chicago").dt.tz_localize(None).dt.normalize())
    return pd.DataFrame({"energy_kwh": e["value"].to_numpy(),
                         "temp_air_c": temp.reindex(idx).to_numpy(),
                         "local_dow": idx.day_of_week}, index=idx)


@pytest.mark.parametrize("name,form", [("il-gas-hdd-only", "heating"),
                                       ("il-gas-intercept-only", "intercept")])
def test_opendsm_samples_recover_the_true_balance_point(shared_data: Path, name: str,
                                                        form: str) -> None:
    meta = json.loads((shared_data / "opendsm_samples/metadata.json").read_text())[name + "-daily"]
    d = _opendsm_daily(shared_data, name).loc[:meta["blackout_start_date"]]
    m = ChangePointModel()
    m.fit(d)
    forms = {g["form"] for g in m.groups.values()}
    assert forms == {form}
    if form == "heating":
        true_c = (meta["baseline_heating_balance_point"] - 32) * 5 / 9  # 60 °F
        assert all(abs(g["heating_bp"] - true_c) <= 0.5 for g in m.groups.values())


def test_cambridge_gas_fit_2016_predicts_2017(cambridge_gas_daily) -> None:
    for b, d in cambridge_gas_daily.items():
        m = ChangePointModel()
        r = m.fit(d.loc["2016-01-01":"2016-12-31"])
        rep = d.loc["2017-01-01":"2017-12-31"]
        p = m.predict(rep)["predicted_kwh"]
        cv, bias = cvrmse(rep["energy_kwh"], p), nmbe(rep["energy_kwh"], p)
        print(f"{b}: {m.split}/{m.mode} in-sample CV(RMSE) {r.metrics.cvrmse:.3f}, "
              f"2017 CV(RMSE) {cv:.3f}, NMBE {bias:+.3f}")
        assert any(g["heating_bp"] is not None for g in m.groups.values())  # gas heats
        assert cv < 0.8 and abs(bias) < 0.3
