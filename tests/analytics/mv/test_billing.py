"""Billing model: period builder, parameter recovery, invariants, OpenDSM billing samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sobriete.analytics.mv.billing import BillingModel, billing_input


def _readings(starts: pd.DatetimeIndex, energy: np.ndarray) -> pd.DataFrame:
    s = starts.tz_localize("Europe/Paris").tz_convert("UTC")
    return pd.DataFrame({"start_utc": s[:-1],
                         "duration_s": (s[1:] - s[:-1]).total_seconds().astype(int),
                         "value": energy})


def _bills(synth, years: int = 2, every: str = "MS", hs: float = 15.0, hbp: float = 15.0,
           noise: float = 0.02, seed: int = 0):
    t = synth.temperatures(n=365 * years + 1, seed=seed)
    daily = 150 + hs * np.maximum(0, hbp - t)
    starts = pd.date_range(t.index[0], t.index[-1], freq=every)
    e = np.array([daily[a:b].sum() for a, b in zip(starts[:-1], starts[1:] - pd.Timedelta(
        days=1), strict=True)])
    e *= 1 + np.random.default_rng(seed).normal(0, noise, len(e))
    return billing_input(_readings(starts, e), t)


def test_builder_makes_local_periods_with_degree_days(synth) -> None:
    frame, warnings = _bills(synth)
    assert (frame["n_days"].between(28, 31)).all()
    first = frame.iloc[0]
    assert first.name == pd.Timestamp("2019-01-01") and first["period_end"] == pd.Timestamp(
        "2019-02-01")
    assert first["hdd_18"] == pytest.approx(np.maximum(0, 18 - first["temps_c"]).sum())
    assert warnings == []


def test_builder_flags_short_long_and_untempered_periods(synth) -> None:
    t = synth.temperatures(n=200)
    starts = pd.DatetimeIndex(["2019-01-01", "2019-01-20", "2019-03-05", "2019-04-05",
                               "2019-05-05"])
    frame, w = billing_input(_readings(starts, np.ones(4)), t.loc[:"2019-04-10"])
    codes = {x.code: x.data for x in w}
    assert codes["billing_period_short"]["n_periods"] == 1
    assert codes["billing_period_long"]["n_periods"] == 1  # 44 days, monthly regime
    assert codes["billing_period_missing_temperature"]["n_periods"] == 1
    assert np.isnan(frame["temp_air_c"].iloc[-1])


# Bimonthly bills average away most of the kink: 18 bills over 3 years pin the balance point
# to about 1 °C (slope and balance point trade off), monthly ones to 0.5 °C.
@pytest.mark.parametrize("every,bp_tol,slope_tol", [("MS", 0.5, 0.05), ("2MS", 1.0, 0.08)])
def test_recovers_balance_point_and_slope(synth, every: str, bp_tol: float,
                                          slope_tol: float) -> None:
    for seed in range(3):
        frame, _ = _bills(synth, years=3 if every == "2MS" else 2, every=every, seed=seed)
        m = BillingModel()
        r = m.fit(frame)
        assert m.params["form"] == "heating"
        assert abs(m.params["heating_bp"] - 15.0) <= bp_tol
        assert m.params["heating_slope"] == pytest.approx(15.0, rel=slope_tol)
        assert r.metrics.cvrmse < 0.05 and not r.disqualified


def test_intercept_only_is_chosen_for_flat_use(synth) -> None:
    frame, _ = _bills(synth, hs=0.0, noise=0.05)
    m = BillingModel()
    m.fit(frame)
    assert m.params["form"] == "intercept"


@settings(max_examples=20, deadline=None)
@given(st.floats(0.01, 1e4), st.lists(st.integers(0, 22), max_size=20))
def test_scaling_and_missing_periods(synth, k: float, drop: list[int]) -> None:
    frame, _ = _bills(synth)
    frame.iloc[drop, frame.columns.get_loc("energy_kwh")] = np.nan
    a, b = BillingModel(), BillingModel()
    a.fit(frame)
    b.fit(frame.assign(energy_kwh=frame["energy_kwh"] * k))
    pa, pb = a.predict(frame)["predicted_kwh"], b.predict(frame)["predicted_kwh"]
    assert np.allclose(pb, k * pa, rtol=1e-6)


def test_json_round_trip_predicts_identically(synth) -> None:
    frame, _ = _bills(synth)
    m = BillingModel()
    m.fit(frame)
    m2 = BillingModel.from_json(json.loads(json.dumps(m.to_json())))
    pd.testing.assert_frame_equal(m.predict(frame), m2.predict(frame))


def test_too_few_periods_gives_a_disqualified_constant(synth) -> None:
    frame, _ = _bills(synth)
    r = BillingModel().fit(frame.iloc[:3])
    assert r.disqualified and {"too_few_periods_to_fit"} <= {w.code for w in r.warnings}
    assert BillingModel().fit(frame.iloc[:0]).disqualified


def _opendsm_bills(shared: Path, name: str):
    tf = pd.read_csv(shared / "opendsm_samples/il-tempF.csv.gz")
    tc = pd.Series(((tf["tempF"] - 32) * 5 / 9).to_numpy(),
                   index=pd.to_datetime(tf["dt"], utc=True))
    day = tc.index.tz_convert("America/Chicago").tz_localize(None).normalize()
    temps = tc.groupby(day).mean()
    b = pd.read_csv(shared / f"opendsm_samples/{name}.csv.gz")
    st_ = pd.to_datetime(b["start"], utc=True)
    r = pd.DataFrame({"start_utc": st_[:-1], "value": b["value"][:-1],
                      "duration_s": (st_.shift(-1) - st_).dt.total_seconds()[:-1]})
    return billing_input(r, temps, timezone="America/Chicago")


def test_opendsm_monthly_gas_recovers_the_balance_point(shared_data: Path) -> None:
    meta = json.loads((shared_data / "opendsm_samples/metadata.json").read_text())
    name = "il-gas-hdd-only-billing_monthly"
    frame, _ = _opendsm_bills(shared_data, name)
    m = BillingModel()
    m.fit(frame.loc[:meta[name]["blackout_start_date"]])
    true_c = (meta[name]["baseline_heating_balance_point"] - 32) * 5 / 9
    assert m.params["form"] == "heating"
    assert abs(m.params["heating_bp"] - true_c) <= 0.5


@pytest.mark.parametrize("name", ["il-gas-intercept-only-billing_monthly",
                                  "il-electricity-cdd-hdd-billing_bimonthly"])
def test_opendsm_billing_samples_fit_without_crashing(shared_data: Path, name: str) -> None:
    frame, _ = _opendsm_bills(shared_data, name)
    r = BillingModel().fit(frame.loc[:"2016-12-26"])
    assert r.metrics is not None and np.isfinite(r.metrics.cvrmse)
