"""Meter-only flexibility (`control.flex_meter`): the heating slope is recovered from simulated
loads whose slope is known (a load of the model's own form, and a 1R1C building under a
thermostat, on real Bedford temperatures), the shed it allows keeps the simulated building
within the comfort tolerance, and real Cambridge meters (gas-heated per the registry) give
0 kW or a flagged, low-confidence estimate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sobriete.analytics.calendar import occupancy
from sobriete.analytics.mv.data import hourly_input
from sobriete.control.flex import MODEL_CONFIDENCE, dispatch
from sobriete.control.flex_meter import (
    MeterFlexError,
    MeterFlexSettings,
    conditions_for,
    fit_heating,
    meter_capacity,
)
from sobriete.domain import columns as C
from sobriete.domain.portfolio import (
    ActivityCategory,
    HeatingSystem,
    default_calendar,
)

TZ = "Europe/Paris"
CAL = default_calendar(ActivityCategory.SCHOOL)
FIT = ("2018-07-01", "2019-07-01")
# A Tuesday in term time, 2.3 °C mean outdoors 09:00-12:00 at Bedford.
EVENT = (pd.Timestamp("2019-01-22 09:00", tz=TZ), pd.Timestamp("2019-01-22 12:00", tz=TZ))


@pytest.fixture(scope="module")
def bedford(shared_data: Path) -> pd.DataFrame:
    w = pd.read_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz",
                    parse_dates=["timestamp_utc"])
    idx = pd.DatetimeIndex(w["timestamp_utc"])
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return pd.DataFrame({"temp_air_c": w["air_temperature_c"].to_numpy()}, index=idx)


def readings(kw: pd.Series, step_s: int = 3600) -> pd.DataFrame:
    """Interval readings [kWh] of a mean-power series [kW] indexed by UTC step start."""
    return pd.DataFrame({C.SERIES_KEY: "m", C.QUANTITY: "energy_kwh", C.START_UTC: kw.index,
                         C.DURATION_S: step_s, C.VALUE: kw.to_numpy() * step_s / 3600})


def hours(lo: str, hi: str) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(lo, tz="UTC"), pd.Timestamp(hi, tz="UTC"), freq="h",
                         inclusive="left")


# ---- a load of the model's own form: the fit must give the slopes back ---------------------

SLOPE_OCC, BP_OCC = 2.0, 14.0  # kW/K, °C
SLOPE_UNOCC, BP_UNOCC = 1.0, 10.0


def synthetic(bedford: pd.DataFrame, seed: int = 1) -> pd.Series:
    idx = hours(*FIT)
    t = bedford["temp_air_c"].reindex(idx).interpolate(limit_area="inside").to_numpy()
    occ = occupancy(CAL, idx).occupied
    h = idx.tz_convert(TZ).hour.to_numpy()
    base = np.where(occ, 12.0 + 3.0 * np.sin(np.pi * (h - 8) / 10), 4.0 + 0.5 * (h % 3))
    heat = np.where(occ, SLOPE_OCC * np.maximum(0, BP_OCC - t),
                    SLOPE_UNOCC * np.maximum(0, BP_UNOCC - t))
    noise = np.random.default_rng(seed).normal(0, 1.5, len(idx))
    return pd.Series(np.maximum(base + heat + noise, 0.1), index=idx)


@pytest.fixture(scope="module")
def synthetic_fit(bedford):
    frame, _ = hourly_input(readings(synthetic(bedford)), bedford, CAL)
    return fit_heating(frame, building_code="SYN")


def test_known_slope_is_recovered(synthetic_fit):
    occ, unocc = synthetic_fit.occupied, synthetic_fit.unoccupied
    assert occ.slope_kw_per_k == pytest.approx(SLOPE_OCC, rel=0.05)
    assert unocc.slope_kw_per_k == pytest.approx(SLOPE_UNOCC, rel=0.05)
    assert occ.balance_c == pytest.approx(BP_OCC, abs=0.5)
    assert unocc.balance_c == pytest.approx(BP_UNOCC, abs=0.5)
    # the standard error is honest: the truth is within 3 of them
    assert abs(occ.slope_kw_per_k - SLOPE_OCC) < 3 * occ.slope_se
    assert not synthetic_fit.warnings


def test_ten_minute_meter_gives_the_hourly_fit(bedford, synthetic_fit):
    kw = synthetic(bedford)
    fine = kw.reindex(pd.date_range(kw.index[0], kw.index[-1] + pd.Timedelta("50min"),
                                    freq="10min"), method="ffill")
    frame, _ = hourly_input(readings(fine, 600), bedford, CAL)
    fit = fit_heating(frame, building_code="SYN")
    assert fit.occupied.slope_kw_per_k == pytest.approx(synthetic_fit.occupied.slope_kw_per_k,
                                                        rel=1e-9)


def test_capacity_keeps_the_tolerance_and_adds_up(bedford, synthetic_fit):
    cond = conditions_for(bedford, CAL, EVENT)
    cap = meter_capacity(synthetic_fit, cond, EVENT, activity=ActivityCategory.SCHOOL,
                         heating_system=HeatingSystem.ELECTRIC_RESISTANCE, commune_code="X")
    p = cap.provenance
    t = cond["temp_air_c"].to_numpy()
    expected_heat = float(np.mean(SLOPE_OCC * np.maximum(0, BP_OCC - t)))
    assert p["heating_kw"] == pytest.approx(expected_heat, rel=0.08)
    assert cap.method == "meter-only" and 0 < cap.confidence <= 0.6 < MODEL_CONFIDENCE
    assert 0 < cap.shed_kw <= p["heating_kw"] + 1e-9
    assert p["max_drop_k"] <= 1.0 + 1e-9  # occupied all along: 1 K tolerance
    assert p["time_constant_h"] == 24.0 and p["inertia"] == "medium"
    assert cap.shed_kwh == pytest.approx(cap.shed_kw * 3)
    # the heat still missing at the end is supplied after: τ x UA x ΔT
    assert cap.rebound_kwh == pytest.approx(24.0 * synthetic_fit.ua_kw_per_k() * p["drop_end_k"])
    assert 0 < cap.rebound_kwh < cap.shed_kwh
    assert "compteur seul" in cap.explanation_fr and "," in cap.explanation_fr.split("kW")[0]
    # a lighter building loses its heat faster: less to shed within the same tolerance
    light = meter_capacity(synthetic_fit, cond, EVENT, activity=ActivityCategory.GYM,
                           heating_system=HeatingSystem.ELECTRIC_RESISTANCE)
    assert light.shed_kw < cap.shed_kw
    assert light.provenance["time_constant_h"] == 8.0
    # and it dispatches like a model-based capacity
    d = dispatch(cap.shed_kw + light.shed_kw + 5, EVENT,
                 {"ECOLE": cap.shed_kw, "GYMNASE": light.shed_kw})
    assert d.unmet_kw == pytest.approx(5.0)


def test_gas_heated_building_sheds_no_heating(bedford, synthetic_fit):
    cap = meter_capacity(synthetic_fit, conditions_for(bedford, CAL, EVENT), EVENT,
                         heating_system=HeatingSystem.GAS_BOILER)
    assert cap.shed_kw == 0 and cap.rebound_kwh == 0 and cap.confidence == 0
    assert [w.code for w in cap.warnings] == ["not_electric_heating"]
    assert "gas_boiler" in cap.explanation_fr


def test_flat_load_shows_no_heating_signal(bedford):
    idx = hours(*FIT)
    kw = pd.Series(10 + np.random.default_rng(2).normal(0, 1.0, len(idx)), index=idx)
    fit = fit_heating(hourly_input(readings(kw), bedford, CAL)[0], building_code="FLAT")
    assert not fit.signal
    assert "no_heating_signal" in [w.code for w in fit.warnings]
    cap = meter_capacity(fit, conditions_for(bedford, CAL, EVENT), EVENT)
    assert cap.shed_kw == 0 and cap.confidence == 0


def test_short_data_warns_and_too_short_raises(bedford):
    kw = synthetic(bedford)
    winter = kw[(kw.index >= "2018-12-01") & (kw.index < "2019-02-15")]
    fit = fit_heating(hourly_input(readings(winter), bedford, CAL)[0], building_code="SHORT")
    assert "short_data" in [w.code for w in fit.warnings]
    assert fit.occupied.slope_kw_per_k == pytest.approx(SLOPE_OCC, rel=0.15)
    two_weeks = kw[(kw.index >= "2019-01-07") & (kw.index < "2019-01-21")]
    with pytest.raises(MeterFlexError, match="building 'SHORT2': 14 days"):
        fit_heating(hourly_input(readings(two_weeks), bedford, CAL)[0], building_code="SHORT2")


# ---- a 1R1C building under a thermostat: slope, then the shed simulated --------------------

UA_KW = 2.0  # kW/K
TAU_H = 24.0
DT_H = 0.25


def rc_run(t_out: np.ndarray, setpoint: np.ndarray, gains_kw: np.ndarray,
           cap_kw: np.ndarray | None = None, ti0: float | None = None,
           p_max: float = 150.0) -> tuple[np.ndarray, np.ndarray]:
    """Indoor temperature and heating power of an ideal thermostat (reaches the setpoint
    each step when the power allows); ``cap_kw`` caps the power on chosen steps (nan: no
    cap), as a shed order does."""
    c = UA_KW * TAU_H  # kWh/K
    ti = setpoint[0] if ti0 is None else ti0
    temps, power = np.empty(len(t_out)), np.empty(len(t_out))
    for k in range(len(t_out)):
        need = c * (setpoint[k] - ti) / DT_H + UA_KW * (ti - t_out[k]) - gains_kw[k]
        p = min(max(need, 0.0), p_max)
        if cap_kw is not None and not np.isnan(cap_kw[k]):
            p = min(p, cap_kw[k])
        ti = ti + DT_H / c * (p + gains_kw[k] - UA_KW * (ti - t_out[k]))
        temps[k], power[k] = ti, p
    return temps, power


@pytest.fixture(scope="module")
def rc_building(bedford):
    idx = pd.date_range(pd.Timestamp(FIT[0], tz="UTC"), pd.Timestamp(FIT[1], tz="UTC"),
                        freq="15min", inclusive="left")
    t_out = bedford["temp_air_c"].reindex(bedford.index.union(idx)).interpolate(
        "time", limit_area="inside").reindex(idx).to_numpy()
    occ = occupancy(CAL, idx).occupied
    heat_up = occupancy(CAL, idx + pd.Timedelta(hours=2)).occupied  # 2 h pre-heat
    setpoint = np.where(occ | heat_up, 19.0, 16.0)
    base_kw = np.where(occ, 12.0, 4.0)  # lights and plugs, also internal gains
    _, power = rc_run(t_out, setpoint, base_kw)
    kw = pd.Series(power + base_kw, index=idx)
    hourly = kw.groupby(kw.index.floor("h")).mean()
    hourly += np.random.default_rng(3).normal(0, 1.0, len(hourly))
    fit = fit_heating(hourly_input(readings(hourly), bedford, CAL)[0], building_code="RC")
    return dict(idx=idx, t_out=t_out, setpoint=setpoint, base=base_kw, power=power, fit=fit)


def test_rc_building_slope_is_its_conductance(rc_building):
    occ = rc_building["fit"].occupied
    # In occupation the thermostat holds 19 °C: P = UA (19 - T) - gains, so slope = UA and
    # balance point = 19 - 12 / 2 = 13 °C.
    assert occ.slope_kw_per_k == pytest.approx(UA_KW, rel=0.10)
    assert occ.balance_c == pytest.approx(13.0, abs=1.0)


def _window(day: str, h0: str, h1: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(f"{day} {h0}", tz=TZ), pd.Timestamp(f"{day} {h1}", tz=TZ)


def _simulate_shed(r: dict, window, shed_kw: float):
    """The RC building's day with and without its heating capped at (its own power - shed)
    in the window: indoor drop, kW delivered in the window, extra kWh after it."""
    idx = r["idx"]
    sub = np.flatnonzero((idx >= window[0] - pd.Timedelta(hours=12))
                         & (idx < window[1] + pd.Timedelta(hours=12)))
    win = (idx[sub] >= window[0]) & (idx[sub] < window[1])
    args = (r["t_out"][sub], r["setpoint"][sub], r["base"][sub])
    ti0 = r["setpoint"][sub[0]]
    base_t, base_p = rc_run(*args, ti0=ti0)
    cap_kw = np.where(win, np.maximum(base_p - shed_kw, 0.0), np.nan)
    shed_t, shed_p = rc_run(*args, cap_kw, ti0=ti0)
    after = np.arange(len(sub)) > np.flatnonzero(win)[-1]
    return (float((base_t - shed_t).max()), float((base_p - shed_p)[win].mean()),
            float((shed_p - base_p)[after].sum() * DT_H), float(base_p[win].mean()))


@pytest.mark.parametrize("window", [
    EVENT,  # occupied morning, 2.3 °C: the 1 K tolerance binds
    _window("2019-02-05", "08:00", "13:00"),  # five occupied hours: binds earlier
    _window("2018-12-04", "10:00", "12:00"),  # mild (8 °C): all the heating is shed
])
def test_rc_building_shed_stays_within_the_tolerance(bedford, rc_building, window):
    r = rc_building
    cap = meter_capacity(r["fit"], conditions_for(bedford, CAL, window), window,
                         heating_system=HeatingSystem.ELECTRIC_RESISTANCE,
                         time_constant_h=TAU_H)
    assert cap.provenance["time_constant_source"] == "given for the building"
    drop, delivered, rebound, heat = _simulate_shed(r, window, cap.shed_kw)
    assert cap.provenance["heating_kw"] == pytest.approx(heat, rel=0.06)
    assert delivered == pytest.approx(cap.shed_kw, rel=0.03)  # the heater had it to give
    assert drop <= 1.05  # the 1 K tolerance
    if cap.provenance["shed_fraction"] < 1:
        assert drop > 0.9  # and not absurdly conservative when it binds
    assert drop == pytest.approx(cap.provenance["max_drop_k"], abs=0.05)
    assert rebound == pytest.approx(cap.rebound_kwh, rel=0.05)
    assert math.isclose(cap.net_saving_kwh, cap.shed_kwh - cap.rebound_kwh)


def test_rc_building_evening_cool_down_draws_little(bedford, rc_building):
    """After 18:00 the school cools towards its 16 °C set-back without heating: the slope of
    each hour of the day, per kind of day (a Wednesday afternoon at set-back is another
    kind), sees it, where one slope for all unoccupied hours would not."""
    fit = rc_building["fit"]
    evening = _window("2019-01-22", "18:30", "20:30")
    cond = conditions_for(bedford, CAL, evening)
    assert set(cond["day_kind"]) == {"open08-18"}
    cap = meter_capacity(fit, cond, evening,
                         heating_system=HeatingSystem.ELECTRIC_RESISTANCE,
                         time_constant_h=TAU_H)
    pooled = float(np.mean(fit.unoccupied.heating_kw(cond["temp_air_c"].to_numpy())))
    assert pooled > 20  # one slope for the unoccupied hours: about 28 kW
    assert _simulate_shed(rc_building, evening, cap.shed_kw)[3] == 0  # the truth
    assert cap.shed_kw < 0.5
    wednesday = conditions_for(bedford, CAL, _window("2019-01-23", "13:00", "14:00"))
    assert set(wednesday["day_kind"]) == {"open08-13"}


# ---- real meters: Cambridge b0, b8 (gas-heated university buildings) -----------------------

@pytest.fixture(scope="module")
def cambridge_fits(shared_data: Path, bedford):
    df = pd.read_csv(shared_data / "cambridge/electricity_kwh_hourly.csv.gz",
                     parse_dates=["timestamp_utc"])
    idx = pd.DatetimeIndex(df["timestamp_utc"])
    idx = idx.tz_localize("UTC") if idx.tz is None else idx
    cal = default_calendar(ActivityCategory.UNIVERSITY)
    out = {}
    for b in ("b0", "b8"):
        kw = pd.Series(df[b].to_numpy(), index=idx)
        kw = kw[(kw.index >= FIT[0]) & (kw.index < FIT[1])]
        out[b] = fit_heating(hourly_input(readings(kw), bedford, cal)[0], building_code=b)
    return out, cal


def test_real_gas_heated_meters(bedford, cambridge_fits):
    fits, cal = cambridge_fits
    for code, fit in fits.items():
        assert fit.n_days >= 360
        # The electricity rises as it gets colder, up to the top of the search: flagged.
        assert "balance_point_at_limit" in [w.code for w in fit.warnings], code
        gas = meter_capacity(fit, conditions_for(bedford, cal, EVENT), EVENT,
                             heating_system=HeatingSystem.GAS_BOILER)
        assert gas.shed_kw == 0
        unknown = meter_capacity(fit, conditions_for(bedford, cal, EVENT), EVENT,
                                 activity=ActivityCategory.UNIVERSITY)
        codes = [w.code for w in unknown.warnings]
        assert "heating_system_unknown" in codes
        assert 0 < unknown.confidence < 0.3  # halved: seasonal uses may pass for heating
        assert unknown.provenance["max_drop_k"] <= 1.0 + 1e-9
        assert unknown.shed_kw <= unknown.provenance["heating_kw"]
        # a hot afternoon in July: nothing to shed
        july = (pd.Timestamp("2019-07-24 14:00", tz=TZ), pd.Timestamp("2019-07-24 16:00", tz=TZ))
        assert meter_capacity(fit, conditions_for(bedford, cal, july), july).shed_kw == 0


def test_french_national_load_thermosensitivity(shared_data: Path):
    """The whole French consumption (RTE eco2mix, 30-min, Licence Ouverte) against Paris-Orly
    temperatures (Météo-France SYNOP, 3-hourly), July 2017 - June 2018: RTE estimates its
    winter sensitivity at about 2 400 MW per degree (Bilan électrique 2020), with a smoothed
    national reference temperature; one station's hourly temperature dilutes the slope, so
    the fit must land between 1 500 and 2 600 MW/K, highest in the evening peak."""
    fr = shared_data / "france"
    e = pd.read_csv(fr / "rte_eco2mix_national_consumption_30min_2015_2019.csv.gz",
                    parse_dates=["timestamp_local_paris"])
    idx = pd.DatetimeIndex(e["timestamp_local_paris"]).tz_localize(
        "Europe/Paris", ambiguous="NaT", nonexistent="NaT")  # the DST hours are ambiguous
    mw = pd.Series(e["consumption_MW"].to_numpy(), index=idx)[~idx.isna()]
    mw.index = mw.index.tz_convert("UTC")
    mw = mw[(mw.index >= "2017-07-01") & (mw.index < "2018-07-01")]
    mw = mw[~mw.index.duplicated()]
    w = pd.read_csv(fr / "meteofrance_synop_paris_orly_3h_2015_2019.csv.gz",
                    parse_dates=["timestamp_utc"])
    weather = pd.DataFrame({"temp_air_c": w["t_C"].to_numpy()},
                           index=pd.DatetimeIndex(w["timestamp_utc"]).tz_localize("UTC"))
    office = default_calendar(ActivityCategory.OFFICE)
    fit = fit_heating(hourly_input(readings(mw, 1800), weather, office)[0], building_code="FR")
    assert not fit.warnings
    for term in (fit.occupied, fit.unoccupied):
        assert 1500 < term.slope_kw_per_k < 2600, term  # MW/K here
        assert 14 <= term.balance_c <= 18
        assert term.partial_r2 > 0.7
    evening = fit.occupied.class_slopes["h18"]
    assert evening > fit.occupied.slope_kw_per_k and evening < 2600


def test_window_without_weather_is_a_typed_error(bedford, synthetic_fit):
    late = (pd.Timestamp("2031-01-07 09:00", tz=TZ), pd.Timestamp("2031-01-07 11:00", tz=TZ))
    with pytest.raises(MeterFlexError, match="building 'SYN': no outdoor temperature"):
        meter_capacity(synthetic_fit, conditions_for(bedford, CAL, late), late)
    with pytest.raises(MeterFlexError, match="tz-aware"):
        meter_capacity(synthetic_fit, conditions_for(bedford, CAL, EVENT),
                       (pd.Timestamp("2019-01-22 09:00"), EVENT[1]))


def test_settings_are_documented():
    doc = (Path(__file__).parents[2] / "docs" / "flex.md").read_text(encoding="utf-8")
    for name, f in MeterFlexSettings.model_fields.items():
        assert f.description, name
        assert f"`{name}`" in doc, f"{name} is not in docs/flex.md"
