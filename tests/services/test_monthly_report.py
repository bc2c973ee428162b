"""The monthly report's figures on the real b0 slice (2018-2019, tests/services/conftest.py),
on each engine, checked against sums made here straight from the bundled CSV files."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sobriete.domain.factors import CO2_KG_PER_KWH, PRICE_EUR_PER_KWH
from sobriete.services.actions_run import mark_action
from sobriete.services.demo import DATA
from sobriete.services.monthly_report import MonthError, monthly_report, parse_month


def _local_month_kwh(file: str, start: str, end: str) -> float:
    """b0's kWh of the readings starting in local (Europe/Paris) [start, end)."""
    df = pd.read_csv(DATA / "cambridge" / f"{file}.csv.gz", usecols=["timestamp_utc", "b0"])
    t = pd.to_datetime(df["timestamp_utc"], utc=True).dt.tz_convert("Europe/Paris")
    lo, hi = pd.Timestamp(start, tz="Europe/Paris"), pd.Timestamp(end, tz="Europe/Paris")
    return float(df.loc[(t >= lo) & (t < hi), "b0"].sum())


def test_parse_month():
    assert parse_month("2019-12") == (date(2019, 12, 1), date(2020, 1, 1))
    for bad in ("2019-13", "2019-3", "March", ""):
        with pytest.raises(MonthError, match="YYYY-MM"):
            parse_month(bad)


def test_a_buildings_month_against_the_raw_files(b0_store):
    mark_action(b0_store, "b0", "schedule_fix", done_date=date(2019, 3, 12),
                note="horaires GTB corrigés")
    r = monthly_report(b0_store, "2019-03", building="b0")
    assert (r.scope, r.start, r.end) == ("building", date(2019, 3, 1), date(2019, 4, 1))
    b = r.buildings[0]
    m = {x.carrier: x for x in b.meters}
    elec = _local_month_kwh("electricity_kwh_hourly", "2019-03-01", "2019-04-01")
    gas = _local_month_kwh("gas_kwh_hourly", "2019-03-01", "2019-04-01")
    assert m["electricity"].kwh == pytest.approx(elec)
    assert m["gas"].kwh == pytest.approx(gas)
    assert m["gas"].prev_kwh == pytest.approx(
        _local_month_kwh("gas_kwh_hourly", "2018-03-01", "2018-04-01"))
    assert m["gas"].change_pct == pytest.approx(100 * (gas / m["gas"].prev_kwh - 1))
    # March has 743 local hours (the spring DST change), all present.
    assert m["electricity"].coverage_pct == pytest.approx(100)
    assert m["electricity"].provenance["readings_s"] == 743 * 3600
    assert sum(m["gas"].daily_kwh.values()) == pytest.approx(gas)
    assert len(m["gas"].daily_kwh) == 31
    # Factors from the dated table, and said so.
    assert m["gas"].co2_kg == pytest.approx(gas * CO2_KG_PER_KWH["gas"].value)
    assert m["electricity"].eur == pytest.approx(elec * PRICE_EUR_PER_KWH["electricity"].value)
    assert m["gas"].provenance["co2"]["factor"]["source"] == CO2_KG_PER_KWH["gas"].source
    assert b.total_kwh == pytest.approx(elec + gas)
    assert b.kwh_m2 == pytest.approx((elec + gas) / 3296.5)
    # No baseline stored: none shown, nothing invented.
    assert m["gas"].baseline_kwh is None and m["gas"].provenance["baseline"] is None
    # Bedford in March: a heating month, milder in 2019 than in 2018 (gas fell with it).
    assert 150 < b.dju < 500 and b.prev_dju > b.dju and "costic" in b.dju_method
    assert [a["action_code"] for a in b.actions_done] == ["schedule_fix"]
    assert b.actions_done[0]["done_date"] == "2019-03-12"
    assert r.provenance and all(p["message_fr"] and p["message_en"] for p in r.provenance)


def test_a_commune_month_and_an_empty_month(b0_store):
    r = monthly_report(b0_store, "2019-03", commune="CAM")
    assert r.scope == "commune" and [b.code for b in r.buildings] == ["b0"]
    assert r.total_kwh == pytest.approx(r.buildings[0].total_kwh)
    assert r.kwh_by_carrier.keys() == {"electricity", "gas"}
    # Before the data: no kWh (not zero), and the year before neither.
    e = monthly_report(b0_store, "2017-06", building="b0").buildings[0]
    assert e.total_kwh is None and e.meters[0].kwh is None and e.meters[0].coverage_pct == 0
    with pytest.raises(MonthError, match="unknown commune"):
        monthly_report(b0_store, "2019-03", commune="NOPE")
    with pytest.raises(MonthError, match="unknown building"):
        monthly_report(b0_store, "2019-03", building="zz")
    with pytest.raises(MonthError, match="not both"):
        monthly_report(b0_store, "2019-03", building="b0", commune="CAM")


def test_comfort_and_plans_of_the_simulated_school(sqlite_url, tmp_path):
    # The demo's simulated school (no measured zone temperature is bundled), stored through
    # the import path as a commune's files would be, and its next 48 h planned.
    from sobriete.services import control_demo as D
    from sobriete.services.demo import PILOT_START, PILOT_TEMPO
    from sobriete.services.plan_run import make_plan
    from sobriete.services.store import open_store

    store = open_store(sqlite_url)
    D.import_files(store, D.write_files(tmp_path, PILOT_START, 14, weather_days=16,
                                        tempo=PILOT_TEMPO))
    make_plan(store, D.BUILDING)
    b = monthly_report(store, "2024-01", building=D.BUILDING).buildings[0]
    (z,) = b.comfort
    assert z["zone"] == D.ZONE and z["hours"] == 14 * 24 and z["sensors"] == [D.SENSOR]
    assert 0 < z["occupied_hours"] < z["hours"]
    assert z["occupied_min_c"] <= z["occupied_mean_c"] <= z["occupied_max_c"]
    assert z["unoccupied_mean_c"] < z["occupied_mean_c"]  # the night and weekend setback
    (p,) = b.plans
    assert p["zone"] == D.ZONE and p["start_utc"].startswith("2024-01")
    assert p["explanation_fr"] and p["gain_vs_schedule_eur"] is not None
    # Half the month is simulated: said; no year before: no noise about its degree-days.
    assert "month_incomplete" in {w["code"] for w in b.warnings}
    assert not any("2023" in w["message_en"] for w in b.warnings)
    store.close()
