"""Meter detectors on synthetic buildings with a known answer, and on real data."""

from __future__ import annotations

import json
from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from sobriete.analytics.diagnostics import DiagnosticSettings, MeterSeries, diagnose_meter
from sobriete.domain.findings import Finding, FindingKind
from sobriete.domain.portfolio import (
    ActivityCategory,
    Building,
    Meter,
    MeterKind,
    OccupancyCalendar,
    OpeningHours,
)

# The synthetic load ignores public holidays, so the calendar must too.
CAL = OccupancyCalendar(weekly={d: (OpeningHours(start=time(8), end=time(19)),)
                                for d in range(1, 6)}, closed_on_public_holidays=False)
IDX = pd.date_range("2021-01-01", "2022-12-31 23:00", freq="h", tz="UTC")
START = pd.Timestamp("2022-01-01", tz="UTC")


def _temp() -> pd.Series:
    doy = IDX.day_of_year.to_numpy()
    rng = np.random.default_rng(1)
    t = 11 - 8 * np.cos(2 * np.pi * (doy - 15) / 365) + rng.normal(0, 1.5, len(IDX))
    return pd.Series(t, index=IDX)


def _occupied() -> np.ndarray:
    local = IDX.tz_convert("Europe/Paris")
    return (local.day_of_week < 5) & (local.hour >= 8) & (local.hour < 19)


def _electricity(closed_kw=10.0, occupied_kw=50.0, seed=0) -> pd.Series:
    rng = np.random.default_rng(seed)
    base = np.where(_occupied(), occupied_kw, closed_kw)
    return pd.Series(base * rng.normal(1, 0.05, len(IDX)), index=IDX)


def _gas(summer_extra_kw=0.0, seed=0) -> pd.Series:
    """Hot water 2 kW when occupied + heating 1.5 kW/K of the day's mean below 16 °C (less at
    night), only in the conventional season (1 October - 20 May): a well-run boiler room."""
    rng = np.random.default_rng(seed)
    t = _temp()
    local = IDX.tz_convert("Europe/Paris")
    daily = t.groupby(local.date).transform("mean").to_numpy()
    md = local.month * 100 + local.day
    season = (md >= 1001) | (md <= 520)
    occ = _occupied()
    heat = np.maximum(0, 16 - daily) * np.where(occ, 1.5, 0.8) * season
    hw = np.where(occ, 2.0, 0.3)
    return pd.Series((heat + hw) * rng.normal(1, 0.05, len(IDX)), index=IDX)


def _series(energy, kind=MeterKind.ELECTRICITY, activity=ActivityCategory.OFFICE, kva=None,
            closures=()) -> MeterSeries:
    b = Building(code="B1", name="École test", activity=activity, calendar=CAL)
    m = Meter(code="M1", kind=kind, subscribed_power_kva=kva)
    return MeterSeries(b, m, energy, _temp(), START, tuple(closures))


def _kinds(findings: list[Finding]) -> set[FindingKind]:
    return {f.kind for f in findings}


def test_clean_building_has_no_finding():
    assert diagnose_meter(_series(_electricity())) == []
    assert diagnose_meter(_series(_gas(), kind=MeterKind.GAS)) == []


def test_base_load_high_against_the_typical_ratio():
    found = diagnose_meter(_series(_electricity(closed_kw=30.0)))
    f = next(x for x in found if x.kind is FindingKind.BASE_LOAD_HIGH)
    assert f.evidence.values["closed_ratio"] == pytest.approx(0.6, abs=0.02)
    assert f.evidence.reference["typical_closed_ratio"] == 0.3
    # excess (30 - 0.3*50) kW over every closed hour of the year
    closed_h = int((~_occupied()[IDX >= START]).sum())
    assert f.waste.kwh_observed == pytest.approx(15.0 * closed_h, rel=0.05)
    assert "60 %" in f.message_fr and "30 %" in f.message_fr


def test_holiday_heating_is_found_and_measured():
    e = _electricity()
    closure = (date(2022, 8, 1), date(2022, 8, 19))
    local = IDX.tz_convert("Europe/Paris")
    days = (local.date >= closure[0]) & (local.date <= closure[1])
    hours = days & (local.hour >= 8) & (local.hour < 19) & (local.day_of_week < 5)
    injected = 40.0 * hours.sum()
    e[hours] = 50.0  # the school is open as usual (50 kW) instead of closed (10 kW) ...
    found = diagnose_meter(_series(e, closures=[closure]))
    hol = [f for f in found if f.kind is FindingKind.HOLIDAY_USE]
    assert len(hol) == 1
    assert hol[0].waste.kwh_observed == pytest.approx(injected, rel=0.1)  # ... 40 kW too much
    assert hol[0].evidence.values["day_type"] == "closure"
    assert "holiday_mode" in hol[0].actions


def test_weekend_operation_is_found_per_weekend():
    e = _electricity()
    local = IDX.tz_convert("Europe/Paris")
    weekends = pd.DatetimeIndex(["2022-03-05", "2022-03-12", "2022-10-15"])
    for sat in weekends:
        d = (local.normalize().tz_localize(None) >= sat) & (
            local.normalize().tz_localize(None) <= sat + pd.Timedelta(days=1))
        e[d & (local.hour >= 8) & (local.hour < 19)] += 40.0
    found = [f for f in diagnose_meter(_series(e)) if f.kind is FindingKind.WEEKEND_USE]
    # two consecutive weekends are one run of weekend operation, the third stands alone
    assert [(f.evidence.values["days"]) for f in found] == [9 - 5, 2]
    assert found[0].start_utc.date() == date(2022, 3, 4)  # local midnight, in UTC


def test_step_change_against_the_reference():
    e = _electricity()
    e[e.index >= "2022-06-01"] *= 1.3
    found = diagnose_meter(_series(e))
    step = [f for f in found if f.kind in (FindingKind.STEP_CHANGE, FindingKind.DRIFT)]
    assert step, _kinds(found)
    assert step[0].start_utc <= pd.Timestamp("2022-06-15", tz="UTC")
    injected = float((e[e.index >= "2022-06-01"] * 0.3 / 1.3).sum())
    assert sum(f.waste.kwh_observed for f in step) == pytest.approx(injected, rel=0.25)


def test_night_base_load_increase():
    e = _electricity()
    closed = ~_occupied() & (IDX >= pd.Timestamp("2022-04-01", tz="UTC"))
    e[closed] += 4.0  # +40 % of the 10 kW night base
    found = diagnose_meter(_series(e))
    base = [f for f in found if f.kind is FindingKind.BASE_LOAD_INCREASE]
    assert base and base[0].evidence.values["increase_ratio"] == pytest.approx(0.4, abs=0.08)
    assert FindingKind.STEP_CHANGE not in _kinds(found)  # the base load explains the step


def test_summer_heating_on_a_gas_meter():
    g = _gas()
    t = _temp()
    daily_t = t.groupby(t.index.tz_convert("Europe/Paris").date).transform("mean")
    summer = (g.index >= "2022-06-15") & (g.index < "2022-08-15") & (daily_t >= 16).to_numpy()
    g[summer] += 3.0
    found = diagnose_meter(_series(g, kind=MeterKind.GAS))
    hot = [f for f in found if f.kind is FindingKind.SUMMER_HEATING]
    assert hot, _kinds(found)
    # one fault, one finding: the warm weekends and the weekly totals are not listed again
    assert not _kinds(found) & {FindingKind.WEEKEND_USE, FindingKind.STEP_CHANGE,
                                FindingKind.DRIFT}, _kinds(found)
    assert sum(f.waste.kwh_observed for f in hot) == pytest.approx(3.0 * summer.sum(), rel=0.3)


def test_no_setback_on_a_heating_meter():
    g = _gas()
    flat = g.groupby(g.index.tz_convert("Europe/Paris").date).transform("mean")  # no set-back
    found = diagnose_meter(_series(flat, kind=MeterKind.GAS))
    assert FindingKind.NO_SETBACK in _kinds(found)
    assert FindingKind.NO_SETBACK not in _kinds(diagnose_meter(_series(g, kind=MeterKind.GAS)))


def test_peaks_over_the_subscribed_power():
    found = diagnose_meter(_series(_electricity(), kva=45.0))
    peak = next(f for f in found if f.kind is FindingKind.PEAK_OVER_SUBSCRIBED)
    assert peak.waste is None and peak.evidence.values["peak_kw"] > 45 * 0.93
    assert diagnose_meter(_series(_electricity(), kva=100.0)) == []


def test_too_little_data_gives_nothing():
    e = _electricity()[-24 * 7:]
    s = MeterSeries(Building(code="B", name="B"), Meter(code="M", kind=MeterKind.ELECTRICITY),
                    e, None, None)
    assert diagnose_meter(s) == []


def test_findings_round_trip_and_stable_keys():
    e = _electricity(closed_kw=30.0)
    a, b = diagnose_meter(_series(e)), diagnose_meter(_series(e))
    assert [f.key for f in a] == [f.key for f in b]
    for f in a:
        assert Finding.from_json(f.to_json()) == f
        assert f.detector_version and f.evidence.n_points > 0


def test_settings_change_the_answer():
    e = _electricity(closed_kw=30.0)
    strict = DiagnosticSettings(schedule={"closed_ratio_margin": 0.5})
    assert FindingKind.BASE_LOAD_HIGH not in _kinds(diagnose_meter(_series(e), strict))


def test_real_meters_give_consistent_evidence(shared_data):
    read = {k: pd.read_csv(shared_data / "cambridge" / f, index_col=0, parse_dates=True)
            for k, f in (("gas", "gas_kwh_hourly.csv.gz"), ("w", "weather_bedford_hourly.csv.gz"))}
    gas = read["gas"]["b4"]["2018-01-01":"2019-12-31"].tz_localize("UTC")
    w = read["w"]["air_temperature_c"].tz_localize("UTC").reindex(gas.index)
    s = MeterSeries(Building(code="b4", name="b4", activity="university", calendar=CAL),
                    Meter(code="b4-gas", kind=MeterKind.GAS), gas, w,
                    pd.Timestamp("2019-01-01", tz="UTC"))
    for f in diagnose_meter(s):
        assert f.start_utc >= pd.Timestamp("2018-12-31", tz="UTC")
        if f.waste is not None:
            assert f.waste.kwh_per_year.low <= f.waste.kwh_per_year.value
            assert f.waste.factors["price_source"]
        assert f.message_fr and f.message_en


def test_heating_in_summer_on_a_boiler_that_is_off_all_summer():
    """Warm-day use of 0 (MAD 0, nothing expected): found, and its evidence is plain JSON."""
    g = _gas()
    t = _temp()
    daily_t = t.groupby(t.index.tz_convert("Europe/Paris").date).transform("mean").to_numpy()
    g[daily_t >= 16] = 0.0
    summer = (g.index >= "2022-07-01") & (g.index < "2022-08-01") & (daily_t >= 16)
    g[summer] = 2.0
    found = diagnose_meter(_series(g, kind=MeterKind.GAS))
    hot = [f for f in found if f.kind is FindingKind.SUMMER_HEATING]
    assert hot and hot[0].evidence.values["excess_ratio"] is None
    for f in found:
        json.dumps(f.to_json(), allow_nan=False)


def test_out_of_hours_on_workday_evenings():
    e = _electricity()
    local = IDX.tz_convert("Europe/Paris")
    evening = (local.day_of_week < 5) & (local.hour >= 20) & (local.hour < 23)
    e[evening] = 40.0  # lights and ventilation left on until 23:00 on workdays
    found = [f for f in diagnose_meter(_series(e)) if f.kind is FindingKind.OUT_OF_HOURS]
    assert len(found) == 1
    assert found[0].evidence.values["out_of_hours_power_kw"] > 15
    assert FindingKind.OUT_OF_HOURS not in _kinds(diagnose_meter(_series(_electricity())))


def test_heating_started_before_the_season():
    g = _gas()
    t = _temp()
    local = IDX.tz_convert("Europe/Paris")
    daily_t = t.groupby(local.date).transform("mean").to_numpy()
    early = ((g.index >= "2022-08-20") & (g.index < "2022-09-15") & (daily_t < 16)
             & _occupied())
    g[early] += np.maximum(0, 16 - daily_t[early]) * 1.5 + 3.0
    found = diagnose_meter(_series(g, kind=MeterKind.GAS))
    assert FindingKind.HEATING_SEASON_EARLY in _kinds(found), _kinds(found)
