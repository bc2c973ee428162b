"""Hourly baseline on a synthetic building with known structure."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sobriete.analytics.mv.base import COMPONENTS, PREDICTED
from sobriete.analytics.mv.data import hourly_input
from sobriete.analytics.mv.hourly import HourlyModel, HourlySettings
from sobriete.domain.mv import WarningLevel
from sobriete.domain.portfolio import ActivityCategory, default_calendar

BASE_KWH = 10.0
OCCUPIED_KWH = 20.0
HEAT_SLOPE = 2.0  # kWh/h per °C below the balance point, any hour
BALANCE_C = 15.0
# A vacation week the official calendar does not know, each year on the same weekdays.
VACATIONS = ((date(2023, 2, 13), date(2023, 2, 17)), (date(2024, 2, 12), date(2024, 2, 16)))


def weather(start: str, end: str, seed: int = 0) -> pd.DataFrame:
    idx = pd.date_range(start, end, freq="h", tz="UTC", inclusive="left")
    rng = np.random.default_rng(seed)
    doy = idx.day_of_year.to_numpy()
    hour = idx.hour.to_numpy()
    t = (11.0 - 9.0 * np.cos(2 * np.pi * (doy - 15) / 365.25)
         + 3.0 * np.sin(2 * np.pi * (hour - 9) / 24) + rng.normal(0, 1.5, len(idx)))
    return pd.DataFrame({"temp_air_c": t}, index=idx)


def building(start: str = "2023-01-01", end: str = "2025-01-01", seed: int = 0,
             noise_kwh: float = 1.0, vacation: bool = True) -> pd.DataFrame:
    """Hourly model frame: base load, +20 kWh in opening hours on workdays (office calendar,
    French public holidays), heating 2 kWh/°C below 15 °C, a vacation week in February."""
    w = weather(start, end, seed)
    cal = default_calendar(ActivityCategory.OFFICE)
    readings = pd.DataFrame({"start_utc": w.index, "duration_s": 3600, "value": 0.0})
    frame, _ = hourly_input(readings, w, cal)
    occ = frame["occupied"].to_numpy(bool).copy()
    if vacation:
        d = frame["local_date"].dt.date.to_numpy()
        for a, b in VACATIONS:
            occ &= ~((d >= a) & (d <= b))
    rng = np.random.default_rng(seed + 1)
    t = frame["temp_air_c"].to_numpy()
    y = (BASE_KWH + OCCUPIED_KWH * occ + HEAT_SLOPE * np.maximum(BALANCE_C - t, 0.0)
         + rng.normal(0, noise_kwh, len(frame)))
    frame["energy_kwh"] = y
    frame.attrs["true_occupied"] = occ
    return frame


def year(frame: pd.DataFrame, y: int) -> pd.DataFrame:
    return frame[frame["local_date"].dt.year == y]


@pytest.fixture(scope="module")
def synth() -> pd.DataFrame:
    return building()


@pytest.fixture(scope="module")
def fitted(synth) -> HourlyModel:
    m = HourlyModel(HourlySettings(temp_halflife_h=0))
    m.fit(year(synth, 2023))
    return m


def test_recovers_the_vacation_week_the_calendar_does_not_know(synth, fitted):
    test = year(synth, 2024)
    pred = fitted.predict(test)
    d = test["local_date"].dt.date
    week = (d >= date(2024, 2, 12)) & (d <= date(2024, 2, 16))
    true_week = (10.0 + HEAT_SLOPE * np.maximum(BALANCE_C - test["temp_air_c"], 0))[week].sum()
    assert pred[PREDICTED][week].sum() == pytest.approx(true_week, rel=0.05)
    # ...and a normal February week stays a working week.
    normal = (d >= date(2024, 2, 5)) & (d <= date(2024, 2, 9))
    assert pred[PREDICTED][normal].sum() > 1.25 * pred[PREDICTED][week].sum()


def test_public_holiday_predicted_as_closed(synth, fitted):
    test = year(synth, 2024)
    pred = fitted.predict(test)
    d = test["local_date"].dt.date
    may1 = (d == date(2024, 5, 1)).to_numpy()  # a Wednesday, French public holiday
    may2 = (d == date(2024, 5, 2)).to_numpy()
    assert pred[PREDICTED][may1].sum() < pred[PREDICTED][may2].sum() - 150
    assert (pred["calendar_kwh"][may1] < -10).sum() >= 8  # opening hours lost


def test_heating_slope_and_balance_point(synth, fitted):
    day = year(synth, 2024).iloc[:48].copy()
    out = {}
    for t in (0.0, 10.0, 20.0):
        day["temp_air_c"] = t
        out[t] = fitted.predict(day)["heating_kwh"].mean()
    slope = (out[0.0] - out[10.0]) / 10.0
    assert slope == pytest.approx(HEAT_SLOPE, rel=0.10)
    assert out[20.0] == pytest.approx(0.0, abs=0.5)
    assert fitted.to_json()["params"]["t_ref_c"] == pytest.approx(BALANCE_C, abs=2.0)


def test_components_sum_and_out_of_sample_accuracy(synth, fitted):
    test = year(synth, 2024)
    pred = fitted.predict(test)
    assert np.allclose(pred[list(COMPONENTS)].sum(axis=1), pred[PREDICTED])
    err = test["energy_kwh"] - pred[PREDICTED]
    assert np.sqrt((err**2).mean()) / test["energy_kwh"].mean() < 0.06  # noise is ~0.04
    r = fitted.fit_result
    assert r.metrics.cvrmse < 0.05 and abs(r.metrics.nmbe) < 0.01
    assert not r.disqualified and r.warnings == []


def test_in_sample_prediction_equals_fitted_values(synth):
    train = year(synth, 2023)
    m = HourlyModel()
    r = m.fit(train)
    pred = m.predict(train)[PREDICTED]
    err = train["energy_kwh"] - pred
    cv = np.sqrt((err**2).sum() / (len(err) - r.metrics.p)) / train["energy_kwh"].mean()
    assert cv == pytest.approx(r.metrics.cvrmse, rel=1e-9)


def test_json_round_trip_predicts_identically(synth, fitted):
    doc = json.loads(json.dumps(fitted.to_json(), allow_nan=False))
    again = HourlyModel.from_json(doc)
    test = year(synth, 2024)
    pd.testing.assert_frame_equal(again.predict(test), fitted.predict(test), check_exact=True)
    assert again.settings == fitted.settings


def test_predicts_on_forecast_weather_without_energy(synth, fitted):
    future = year(synth, 2024).iloc[:72].drop(columns=["energy_kwh"])
    future.loc[future.index[5:9], "temp_air_c"] = np.nan  # a hole in the forecast
    pred = fitted.predict(future)
    assert len(pred) == 72 and np.isfinite(pred.to_numpy()).all()


def test_prediction_follows_the_callers_row_order(synth, fitted):
    test = year(synth, 2024).iloc[:500]
    shuffled = test.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(fitted.predict(shuffled).loc[test.index],
                                  fitted.predict(test), check_freq=False)


def test_missing_temperature_is_imputed_with_a_warning_as_data(synth):
    train = year(synth, 2023).copy()
    train.loc[train.index[1000:1400], "temp_air_c"] = np.nan
    r = HourlyModel().fit(train)
    codes = {w.code for w in r.warnings}
    assert "temperature_missing_hours" in codes
    assert r.metrics.cvrmse < 0.08  # as without the hole (smoothed temperature: ~0.07)


@pytest.mark.parametrize("case", ["constant", "zeros", "all_nan", "no_temp", "short",
                                  "gappy", "negative", "one_row"])
def test_degenerate_meters_never_crash(synth, case):
    f = year(synth, 2023).copy()
    if case == "constant":
        f["energy_kwh"] = 5.0
    elif case == "zeros":
        f["energy_kwh"] = 0.0
    elif case == "all_nan":
        f["energy_kwh"] = np.nan
    elif case == "no_temp":
        f["temp_air_c"] = np.nan
    elif case == "short":
        f = f.iloc[:60]
    elif case == "gappy":
        rng = np.random.default_rng(3)
        f.loc[rng.random(len(f)) < 0.7, "energy_kwh"] = np.nan
        f = f.drop(f.index[2000:5000])
    elif case == "negative":
        f["energy_kwh"] = f["energy_kwh"] - 30
    elif case == "one_row":
        f = f.iloc[:1]
    m = HourlyModel()
    r = m.fit(f)
    pred = m.predict(year(synth, 2024).iloc[:200])
    assert len(pred) == 200
    codes = {w.code: w.level for w in r.warnings}
    if case == "constant":
        assert np.allclose(pred[PREDICTED], 5.0)
        assert r.metrics.cvrmse == pytest.approx(0.0, abs=1e-9)
    if case in ("all_nan",):
        assert codes["no_data"] is WarningLevel.DISQUALIFICATION and pred[PREDICTED].isna().all()
    if case == "no_temp":
        assert "no_temperature" in codes and np.isfinite(pred[PREDICTED]).all()
    if case in ("short", "gappy", "one_row"):
        assert "baseline_too_short" in codes
    if case == "negative":
        assert "negative_consumption" in codes
    if case == "zeros":
        assert r.disqualified  # CV(RMSE) undefined on a zero mean


def test_long_zero_runs_in_a_busy_meter_are_treated_as_missing(synth):
    f = year(synth, 2023).copy()
    f.loc[f.index[3000:3100], "energy_kwh"] = 0.0
    r = HourlyModel().fit(f)
    assert any(w.code == "zero_runs_ignored" for w in r.warnings)
    assert r.metrics.cvrmse < 0.08


def test_settings_are_frozen_and_bounded():
    s = HourlySettings()
    with pytest.raises(ValidationError):
        s.ridge = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        HourlySettings(n_regimes=9)
    for name, field in HourlySettings.model_fields.items():
        assert field.description and field.description.startswith("["), name
