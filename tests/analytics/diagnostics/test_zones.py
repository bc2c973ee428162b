"""Zone temperature rules on synthetic series whose answer is known by construction."""

from __future__ import annotations

from datetime import date, time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.analytics.calendar import occupancy
from sobriete.analytics.diagnostics.settings import (
    DETECTOR_VERSIONS,
    DiagnosticSettings,
    ZoneSettings,
)
from sobriete.analytics.diagnostics.zones import ZoneSeries, diagnose_zone
from sobriete.domain.findings import FindingKind
from sobriete.domain.portfolio import (
    Building,
    HeatingSystem,
    OccupancyCalendar,
    OpeningHours,
    Zone,
)

K = FindingKind
ACTIONS = {"setpoint_19", "night_setback", "holiday_mode", "schedule_fix", "thermostatic_valves",
           "bacs_class_b"}


def span(a: str, b: str) -> tuple[OpeningHours, ...]:
    return (OpeningHours(start=time.fromisoformat(a), end=time.fromisoformat(b)),)


def office(extra: dict | None = None, **kw) -> Building:
    """Mon-Fri 08:00-18:00 local, no public-holiday closure, so every day is what it looks."""
    weekly = {d: span("08:00", "18:00") for d in range(1, 6)} | (extra or {})
    cal = OccupancyCalendar(weekly=weekly, closed_on_public_holidays=False)
    return Building(code="B1", name="Mairie", calendar=cal, **kw)


ZONE = Zone(code="Z12", name="Salle 12")


def grid(start: str, end: str, step: str = "60min") -> pd.DatetimeIndex:
    """UTC instants covering local dates [start, end)."""
    return pd.date_range(pd.Timestamp(start, tz="Europe/Paris"),
                         pd.Timestamp(end, tz="Europe/Paris"), freq=step,
                         inclusive="left").tz_convert("UTC")


def temps(b: Building, idx: pd.DatetimeIndex, occ_c: float, unocc_c: float,
          closures=()) -> pd.Series:
    occ = occupancy(b.occupancy(), idx, list(closures)).occupied
    return pd.Series(np.where(occ, occ_c, unocc_c), index=idx)


def weekend(idx: pd.DatetimeIndex) -> np.ndarray:
    local = idx.tz_convert("Europe/Paris")
    dow, h = local.day_of_week, local.hour
    after_friday = idx >= idx[np.argmax(np.asarray(dow == 4))]
    return np.asarray(((dow == 4) & (h >= 18)) | (dow >= 5) | ((dow == 0) & (h < 8))) \
        & after_friday


def run(b: Building, t: pd.Series, zone: Zone = ZONE, cfg: DiagnosticSettings | None = None,
        **kw):
    return diagnose_zone(ZoneSeries(building=b, zone=zone, temp_zone_c=t, **kw), cfg)


def only(findings, kind):
    return [f for f in findings if f.kind is kind]


def zones(**kw) -> DiagnosticSettings:
    return DiagnosticSettings(zones=ZoneSettings(**kw))


# --- occupied average (R.241-26) -----------------------------------------------------------

def test_occupied_breach_reports_mean_period_and_message():
    b = office()
    idx = grid("2024-01-08", "2024-01-22")  # two local weeks, Monday to Sunday
    out = run(b, temps(b, idx, 21.3, 15.0))
    [f] = only(out, K.ZONE_OCCUPIED_ABOVE_19)
    ev = f.evidence
    assert ev.values["mean_temp_c"] == pytest.approx(21.3)
    assert ev.values["excess_k"] == pytest.approx(2.3)
    assert ev.values["judged_h"] == pytest.approx(100.0)  # 10 days x 10 h
    assert ev.values["weeks"] == 2
    assert ev.reference == {"limit_c": 19.0, "rule": "R.241-26"}
    assert ev.series_key == "Z12" and ev.quantity == "temp_zone_c"
    assert ev.plot == "zone_temperature" and ev.parameters["tolerance_k"] == 0.5
    assert f.start_utc == pd.Timestamp("2024-01-08 07:00", tz="UTC")  # 08:00 local
    assert f.end_utc == pd.Timestamp("2024-01-19 17:00", tz="UTC")  # 18:00 local
    assert f.detector == "zones" and f.detector_version == DETECTOR_VERSIONS["zones"]
    assert f.message_fr == ("Salle 12 : 21,3 °C en moyenne pendant l'occupation du 8 au 19 "
                            "janvier 2024 (règle : 19 °C) ; chaque degré en trop coûte environ "
                            "7 % du chauffage.")
    assert "21.3 °C" in f.message_en and "8 to 19 January 2024" in f.message_en
    assert set(f.actions) <= ACTIONS and "setpoint_19" in f.actions
    assert f.waste is None and any("waste not estimated" in w for w in f.warnings)
    assert 0 < f.score <= 0.7  # no heating state: capped below high confidence


def test_compliant_building_is_silent():
    b = office()
    idx = grid("2024-01-08", "2024-01-22")
    t = temps(b, idx, 19.0, 15.5)
    t[weekend(idx)] = 8.0  # Friday 18:00 to Monday 08:00 is a 62 h closure: frost protection
    assert run(b, t) == []


@pytest.mark.parametrize(("occ_c", "fires"), [(19.4, False), (19.5, False), (19.6, True)])
def test_occupied_tolerance(occ_c, fires):
    b = office()
    t = temps(b, grid("2024-01-08", "2024-01-15"), occ_c, 15.0)
    found = only(run(b, t), K.ZONE_OCCUPIED_ABOVE_19)
    assert bool(found) is fires
    if fires:
        assert found[0].evidence.values["excess_k"] == pytest.approx(0.6)


def test_weekly_average_lets_a_cold_morning_balance_a_warm_afternoon():
    b = office()
    idx = grid("2024-01-08", "2024-01-15")
    t = temps(b, idx, 20.0, 15.0)
    local = idx.tz_convert("Europe/Paris")
    t[(local.day_of_week == 0) & (local.hour >= 8) & (local.hour < 18)] = 15.0  # Monday 15 °C
    # mean over the week's occupied hours: (10 h x 15 + 40 h x 20) / 50 = 19.0
    assert only(run(b, t), K.ZONE_OCCUPIED_ABOVE_19) == []


def test_separate_weeks_are_separate_findings():
    b = office()
    idx = grid("2024-01-08", "2024-01-29")
    t = temps(b, idx, 21.0, 15.0)
    local = idx.tz_convert("Europe/Paris")
    t[(local >= pd.Timestamp("2024-01-15", tz="Europe/Paris"))
      & (local < pd.Timestamp("2024-01-22", tz="Europe/Paris")) & (t > 16)] = 19.0
    found = only(run(b, t), K.ZONE_OCCUPIED_ABOVE_19)
    assert [f.evidence.values["weeks"] for f in found] == [1, 1]


def test_dst_weeks_follow_local_opening_hours():
    b = office()
    for start, end in (("2024-03-25", "2024-04-08"), ("2024-10-21", "2024-11-04")):
        idx = grid(start, end)
        local = idx.tz_convert("Europe/Paris")
        occ = (local.day_of_week < 5) & (local.hour >= 8) & (local.hour < 18)
        t = pd.Series(np.where(occ, 22.0, 15.0), index=idx)
        out = run(b, t)
        [f] = only(out, K.ZONE_OCCUPIED_ABOVE_19)
        # any hour read in UTC instead of local time would pull the mean towards 15 °C
        assert f.evidence.values["mean_temp_c"] == pytest.approx(22.0)
        assert f.evidence.values["judged_h"] == pytest.approx(100.0)
        assert pd.Timestamp(f.start_utc).tz_convert("Europe/Paris").hour == 8
        assert pd.Timestamp(f.end_utc).tz_convert("Europe/Paris").hour == 18
        assert only(out, K.ZONE_UNOCCUPIED_ABOVE_16) == []


def test_quarter_hour_series_gives_the_hourly_answer():
    b = office()
    hourly = run(b, temps(b, grid("2024-01-08", "2024-01-15"), 21.0, 18.0))
    quarter = run(b, temps(b, grid("2024-01-08", "2024-01-15", "15min"), 21.0, 18.0))
    assert [f.kind for f in hourly] == [f.kind for f in quarter]
    for h, q in zip(hourly, quarter, strict=True):
        assert q.evidence.values["mean_temp_c"] == pytest.approx(h.evidence.values["mean_temp_c"])
        assert q.evidence.values["judged_h"] == pytest.approx(h.evidence.values["judged_h"])
        assert q.start_utc == h.start_utc


# --- unoccupied, short runs (R.241-27, 16 °C) ------------------------------------------------

def test_nights_above_16_reported_with_their_mean():
    b = office()
    idx = grid("2024-01-08", "2024-01-15")
    t = temps(b, idx, 19.0, 18.0)
    t[weekend(idx)] = 8.0
    [f] = run(b, t)
    assert f.kind is K.ZONE_UNOCCUPIED_ABOVE_16
    assert f.evidence.values["mean_temp_c"] == pytest.approx(18.0)
    assert f.evidence.reference["limit_c"] == 16.0
    # Monday 00-08 (a run cut by the series start: 2 h left out at each end, as for any run,
    # so 4 h) + 4 nights of 14 h with 2 h left out at each end (10 h): 4 + 40
    assert f.evidence.values["judged_h"] == pytest.approx(44.0)
    assert "night_setback" in f.actions


def test_transitions_after_closing_and_before_opening_are_not_judged():
    b = office()
    idx = grid("2024-01-08", "2024-01-15")
    t = temps(b, idx, 19.0, 15.0)
    t[weekend(idx)] = 8.0
    h = idx.tz_convert("Europe/Paris").hour
    t[(h == 18) | (h == 19) | (h == 6) | (h == 7)] = 30.0  # cooling down, then preheat
    assert only(run(b, t), K.ZONE_UNOCCUPIED_ABOVE_16) == []
    t[(h == 20) | (h == 21)] = 30.0  # judged hours: nights now average 18 °C
    assert only(run(b, t), K.ZONE_UNOCCUPIED_ABOVE_16)


def test_unoccupied_min_h_24_leaves_nights_out():
    b = office()
    t = temps(b, grid("2024-01-08", "2024-01-15"), 19.0, 18.0)
    assert only(run(b, t, cfg=zones(unoccupied_min_h=24)), K.ZONE_UNOCCUPIED_ABOVE_16) == []


# --- closed 48 h or more (R.241-27, 8 °C) --------------------------------------------------

def test_three_day_closure_triggers_frost_rule_but_ordinary_weekends_do_not():
    b = office()
    idx = grid("2024-01-08", "2024-01-22")
    closures = ((date(2024, 1, 15), date(2024, 1, 17)),)  # Monday to Wednesday
    t = temps(b, idx, 19.0, 12.0, closures)
    cfg = zones(closed_min_h=72)  # a 62 h weekend alone is not a closure here
    out = run(b, t, cfg=cfg, closures=closures)
    [f] = out
    assert f.kind is K.ZONE_CLOSED_ABOVE_8
    # Friday 12 18:00 to Thursday 18 08:00 local: 134 h, 130 h judged
    assert f.evidence.values["longest_closure_h"] == pytest.approx(134.0)
    assert f.evidence.values["closures"] == 1
    assert f.evidence.values["judged_h"] == pytest.approx(130.0)
    assert f.evidence.values["mean_temp_c"] == pytest.approx(12.0)
    assert f.evidence.reference == {"limit_c": 8.0, "rule": "R.241-27"}
    assert f.start_utc == pd.Timestamp("2024-01-12 19:00", tz="UTC")  # 20:00 local
    assert f.end_utc == pd.Timestamp("2024-01-18 05:00", tz="UTC")  # 06:00 local
    assert "holiday_mode" in f.actions and "134 h" in f.message_fr
    assert run(b, t, cfg=cfg) == []  # without the declared closure, nothing is 72 h long


@pytest.mark.parametrize("step", ["60min", "15min"])
@pytest.mark.parametrize(("sunday_open", "fires"), [("18:00", True), ("17:00", False)])
def test_closed_boundary_is_exactly_closed_min_h(step, sunday_open, fires):
    # Friday 18:00 to Sunday 18:00 is 48 h: frost rule; opening Sunday at 17:00 makes 47 h,
    # which is judged against 16 °C instead (and 12 °C is fine there).
    b = office({7: span(sunday_open, "20:00")})
    t = temps(b, grid("2024-01-08", "2024-01-15", step), 19.0, 12.0)
    out = run(b, t)
    closed = only(out, K.ZONE_CLOSED_ABOVE_8)
    assert bool(closed) is fires
    if fires:
        assert closed[0].evidence.values["longest_closure_h"] == pytest.approx(48.0)
    assert only(out, K.ZONE_UNOCCUPIED_ABOVE_16) == []


def test_weekends_in_a_row_make_one_finding_until_a_compliant_one():
    b = office()  # 62 h weekends: frost protection under the default closed_min_h = 48
    idx = grid("2024-01-08", "2024-02-05")
    t = temps(b, idx, 19.0, 12.0)
    [f] = only(run(b, t), K.ZONE_CLOSED_ABOVE_8)
    # four weekends: the last one, cut at 54 h by the end of the data, is already 48 h or more
    assert f.evidence.values["closures"] == 4
    assert f.evidence.values["longest_closure_h"] == pytest.approx(62.0)
    assert "4 fermetures de 48 h ou plus" in f.message_fr
    local = idx.tz_convert("Europe/Paris")
    second = np.asarray((local >= pd.Timestamp("2024-01-19 18:00", tz="Europe/Paris"))
                        & (local < pd.Timestamp("2024-01-22 08:00", tz="Europe/Paris")))
    t[second] = 8.0
    found = only(run(b, t), K.ZONE_CLOSED_ABOVE_8)
    assert [g.evidence.values["closures"] for g in found] == [1, 2]


def test_run_length_is_measured_on_the_calendar_not_on_the_data():
    b = office({7: span("17:00", "20:00")})  # 47 h weekend
    idx = grid("2024-01-08", "2024-01-15")
    t = temps(b, idx, 19.0, 12.0)
    t = t[~np.asarray(idx.tz_convert("Europe/Paris").day_of_week == 5)]  # Saturday missing
    assert only(run(b, t), K.ZONE_CLOSED_ABOVE_8) == []


# --- heating state and season ---------------------------------------------------------------

def test_heating_state_gates_the_heating_rules():
    b = office()
    idx = grid("2024-01-08", "2024-01-15")
    t = temps(b, idx, 21.0, 15.0)
    t[weekend(idx)] = 8.0
    off = pd.Series(0.0, index=idx)
    assert run(b, t, heating_on=off) == []  # warm without heating: sun, not a setpoint
    [with_state] = run(b, t, heating_on=off + 0.5)
    [without] = run(b, t)
    assert with_state.score > without.score
    assert with_state.evidence.values["heating_share"] == pytest.approx(0.5)
    assert not any("heating state unknown" in w for w in with_state.warnings)


def test_summer_without_heating_state_is_not_judged_against_19():
    b = office()
    t = temps(b, grid("2024-07-08", "2024-07-15"), 25.0, 22.0)
    assert run(b, t) == []


# --- waste ----------------------------------------------------------------------------------

def test_waste_follows_the_rule_of_thumb():
    b = office(floor_area_m2=500.0, heating_system=HeatingSystem.GAS_BOILER)
    zone = Zone(code="Z12", name="Salle 12", floor_area_m2=50.0)
    idx = grid("2024-01-08", "2024-01-15")
    t = temps(b, idx, 21.0, 15.0)
    t[weekend(idx)] = 8.0
    [f] = run(b, t, zone=zone, annual_heating_kwh=100_000.0)
    w = f.waste
    assert w is not None and w.carrier == "gas"
    # 7 %/K x 2 K x zone share 0.1 x 50 occupied h out of the week's 168 h, every season week
    assert w.kwh_per_year.value == pytest.approx(100_000 * 0.07 * 2 * 0.1 * 50 / 168)
    assert w.kwh_observed == pytest.approx(100_000 * 0.07 * 2 * 0.1 * 50 / (232 * 24))
    assert w.kwh_per_year.low < w.kwh_per_year.value < w.kwh_per_year.high
    assert w.eur_per_year is not None
    assert "kWh/an" in f.message_fr and not any("floor area" in x for x in f.warnings)
    [g] = run(b, t, annual_heating_kwh=100_000.0, heating_carrier="heat")
    assert g.waste.carrier == "heat"
    assert g.waste.kwh_per_year.value == pytest.approx(10 * w.kwh_per_year.value)
    assert any("floor area unknown" in x for x in g.warnings)


# --- cooling (R.241-30) and simultaneous heating and cooling ---------------------------------

def cooling_case(occ_c: float):
    b = office()
    idx = grid("2024-07-08", "2024-07-15")
    t = temps(b, idx, occ_c, 27.0)
    cool = temps(b, idx, 1.0, 0.0)
    return run(b, t, cooling_on=cool)


def test_cooling_below_26_reported():
    [f] = cooling_case(23.0)
    assert f.kind is K.COOLING_BELOW_26
    assert f.evidence.values["mean_temp_while_cooling_c"] == pytest.approx(23.0)
    assert f.evidence.values["deficit_k"] == pytest.approx(3.0)
    assert f.evidence.values["cooling_h"] == pytest.approx(50.0)
    assert f.evidence.reference["rule"] == "R.241-30"
    assert f.waste is None and "23,0 °C" in f.message_fr


@pytest.mark.parametrize("occ_c", [26.5, 25.6])  # above the rule, within the tolerance
def test_cooling_compliant_is_silent(occ_c):
    assert cooling_case(occ_c) == []


@pytest.mark.parametrize(("cool_share", "fires"), [(0.5, True), (0.3, False)])
def test_simultaneous_heating_and_cooling(cool_share, fires):
    b = office()
    idx = grid("2024-05-06", "2024-05-13")
    t = pd.Series(21.0, index=idx)
    heat = pd.Series(0.0, index=idx)
    cool = pd.Series(0.0, index=idx)
    local = idx.tz_convert("Europe/Paris")
    morning = np.asarray((local.day_of_week == 1) & (local.hour >= 9) & (local.hour < 12))
    heat[morning] = 1.0
    cool[morning] = cool_share
    out = only(run(b, t, heating_on=heat, cooling_on=cool), K.SIMULTANEOUS_HEAT_COOL)
    assert bool(out) is fires
    if fires:
        f = out[0]
        assert f.evidence.values["overlap_h"] == pytest.approx(1.5)
        assert f.evidence.values["heating_h"] == pytest.approx(3.0)
        assert f.start_utc == pd.Timestamp("2024-05-07 07:00", tz="UTC")
        assert "1,5 h" in f.message_fr and "bacs_class_b" in f.actions


# --- scores and validation -------------------------------------------------------------------

def test_score_grows_with_excess_and_hours():
    b = office()
    idx = grid("2024-01-08", "2024-01-29")
    one_week = grid("2024-01-08", "2024-01-15")

    def score(occ_c, i):
        return only(run(b, temps(b, i, occ_c, 15.0)), K.ZONE_OCCUPIED_ABOVE_19)[0].score

    assert score(19.7, one_week) < score(20.5, one_week) < score(22.0, one_week)
    assert score(19.7, one_week) < score(19.7, idx)


def test_invalid_inputs_are_refused_clearly():
    b = office()
    idx = grid("2024-01-08", "2024-01-09")
    t = pd.Series(19.0, index=idx)
    with pytest.raises(ValueError, match="timezone-aware"):
        ZoneSeries(b, ZONE, t.tz_localize(None))
    with pytest.raises(ValueError, match="increasing"):
        ZoneSeries(b, ZONE, t[::-1])
    with pytest.raises(ValueError, match="power > 0"):
        ZoneSeries(b, ZONE, t, heating_on=pd.Series(1500.0, index=idx))
    with pytest.raises(ValueError, match="one hour or less"):
        diagnose_zone(ZoneSeries(b, ZONE, t.iloc[::2]))
    assert diagnose_zone(ZoneSeries(b, ZONE, t.iloc[:1])) == []


# --- property: cooler never breaks a new heating rule ---------------------------------------

HEATING_KINDS = {K.ZONE_OCCUPIED_ABOVE_19, K.ZONE_UNOCCUPIED_ABOVE_16, K.ZONE_CLOSED_ABOVE_8}
PROP_B = office({7: span("18:00", "20:00")})
PROP_IDX = grid("2024-01-08", "2024-01-29")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), level=st.floats(5, 25), spread=st.floats(0, 8),
       drop=st.floats(0, 5), missing=st.floats(0, 0.3), heated=st.booleans())
def test_lowering_temperatures_never_creates_a_zone_finding(seed, level, spread, drop,
                                                           missing, heated):
    rng = np.random.default_rng(seed)
    n = len(PROP_IDX)
    t = pd.Series(level + spread * rng.standard_normal(n), index=PROP_IDX)
    t[rng.random(n) < missing] = np.nan
    heat = pd.Series(rng.random(n), index=PROP_IDX) if heated else None
    lower = t - drop * rng.random(n)
    before = [f for f in run(PROP_B, t, heating_on=heat) if f.kind in HEATING_KINDS]
    after = [f for f in run(PROP_B, lower, heating_on=heat) if f.kind in HEATING_KINDS]
    for f in after:  # every finding after lies inside a finding of the same kind before
        assert any(g.kind is f.kind and g.start_utc <= f.start_utc and f.end_utc <= g.end_utc
                   for g in before), f


def test_closure_waste_is_not_extrapolated_beyond_what_was_seen():
    b = office(heating_system=HeatingSystem.DISTRICT_HEAT)
    idx = grid("2024-01-08", "2024-01-22")
    closures = ((date(2024, 1, 15), date(2024, 1, 17)),)
    t = temps(b, idx, 19.0, 12.0, closures)
    [f] = run(b, t, cfg=zones(closed_min_h=72), closures=closures, annual_heating_kwh=50_000.0)
    w = f.waste
    assert w.carrier == "heat"
    # 7 %/K x 4 K x 130 judged hours of a 232-day season, once: that closure is all it saw
    assert w.kwh_observed == pytest.approx(50_000 * 0.07 * 4 * 130 / (232 * 24))
    assert w.kwh_per_year.value == pytest.approx(w.kwh_observed)
