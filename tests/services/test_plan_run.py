"""`make_plan` on a stored building fed with simulator data through the normal import path:
comfort kept, explanation and provenance, typed errors on missing data, the audit trail
(migration 0005) upgraded and downgraded on both engines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import inspect

from sobriete.services import control_demo as D
from sobriete.services.imports import import_file
from sobriete.services.plan_inputs import (
    NoWeatherError,
    NoZoneTemperatureError,
    PlanOptions,
    TooFewDaysError,
)
from sobriete.services.plan_run import make_plan
from sobriete.services.store import open_store
from sobriete.services.store.control import decisions, plans
from sobriete.services.store.engine import _alembic_config

START = pd.Timestamp("2024-01-08", tz="UTC")  # a Monday; 14 days -> plan from Monday 22/01
TEMPO = {date(2024, 1, 21): "BLEU", date(2024, 1, 22): "ROUGE", date(2024, 1, 23): "BLANC"}


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> dict[str, Path]:
    """14 days of the simulated school, weather stored 3 days beyond (the forecast)."""
    return D.write_files(tmp_path_factory.mktemp("school"), START, 14, weather_days=17,
                         tempo=TEMPO)


@pytest.fixture(scope="module")
def school_no_forecast(tmp_path_factory) -> dict[str, Path]:
    return D.write_files(tmp_path_factory.mktemp("school_nf"), START, 14, tempo=TEMPO)


def test_plan_keeps_comfort_explains_and_is_audited(any_store_url, school):
    store = open_store(any_store_url)
    D.import_files(store, school)
    r = make_plan(store, D.BUILDING)
    # The red Monday: heat is stored before 06:00, comfort is kept while occupied.
    assert r.zone_code == D.ZONE and r.hours == 48 and len(r.steps) == 192
    assert r.plan.comfort_kept and r.plan_discomfort_kh < 0.05
    assert r.plan.cost_eur < r.schedule_cost_eur and r.gain_eur > 5
    fr, en = r.headline("fr"), r.headline("en")
    assert "Préchauffage de 22/01 " in fr and "jour rouge Tempo de 22/01 06:00 à 22/01 22:00" in fr
    assert "19 °C tenus en occupation" in fr and "par rapport au programme du bâtiment" in fr
    assert "Pre-heating" in en and "kept while occupied" in en
    # Provenance: which series, which data, which model, which prices.
    p = r.provenance
    assert p["sources"]["heating_key"] == D.METER and p["sources"]["temp_key"] == D.SENSOR
    assert p["sources"]["weather_key"] == D.STATION and p["forecast"] == "stored"
    assert "electricity meter" in p["sources"]["heating_choice"]
    assert p["tempo_days"]["2024-01-22"] == "ROUGE" and p["tempo_prices_eur_per_kwh"]
    assert r.identification.rmse_24h_c < 0.5
    codes = {n.code for n in r.notes}
    assert {"heating_from_building_meter", "max_power_observed", "data_not_current"} <= codes
    assert "persistence_forecast" not in codes
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["key_steps"] and doc["plan_id"] == r.plan_id
    # The audit trail: one plan row, its first decision (advise: nothing sent).
    with store.engine.connect() as conn:
        rows = decisions(conn, plan_id=r.plan_id)
        assert len(plans(conn, building_code=D.BUILDING)) == 1
    assert len(rows) == 1 and rows[0]["mode"] == "advise" and rows[0]["dispatch"] == "not_sent"
    assert rows[0]["proposed_power_w"] is not None and rows[0]["fallback"] is True
    assert "Préchauffage" in rows[0]["reason_fr"]
    # Re-running appends (history), changes nothing else.
    r2 = make_plan(store, D.BUILDING, save=True)
    assert r2.plan_id != r.plan_id and r2.plan.cost_eur == pytest.approx(r.plan.cost_eur)
    with store.engine.connect() as conn:
        assert len(decisions(conn, building_code=D.BUILDING)) == 2
    store.close()


def test_persistence_forecast_and_ecowatt_caps(sqlite_url, school_no_forecast, tmp_path):
    store = open_store(sqlite_url)
    D.import_files(store, school_no_forecast)
    eco = tmp_path / "ecowatt.json"
    values = [{"pas": h, "hvalue": 3 if h in (18, 19) else 1} for h in range(24)]
    eco.write_text(json.dumps({"signals": [{
        "GenerationFichier": "2024-01-21T12:00:00+01:00", "jour": "2024-01-22T00:00:00+01:00",
        "dvalue": 3, "message": "Coupures possibles", "values": values}]}), encoding="utf-8")
    import_file(store, eco, "ecowatt")
    r = make_plan(store, D.BUILDING, options=PlanOptions(hours=24))
    assert r.forecast_source.startswith("persistence")
    assert "persistence_forecast" in {n.code for n in r.notes}
    local = r.steps.index.tz_convert("Europe/Paris")
    red = (local.day == 22) & (local.hour >= 18) & (local.hour < 20)
    assert r.steps.loc[red, "cap_w"].eq(0).all() and r.steps.loc[red, "power_plan_w"].eq(0).all()
    assert r.steps["cap_w"].notna().sum() == 8
    assert "Effacement de 18:00 à 20:00" in r.headline("fr")
    store.close()


def test_typed_errors_name_building_zone_and_series(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    short = D.write_files(tmp_path / "short", START, 5)
    D.import_files(store, short)
    with pytest.raises(TooFewDaysError) as e:
        make_plan(store, D.BUILDING)
    msg = str(e.value)
    assert D.BUILDING in msg and D.ZONE in msg and D.SENSOR in msg and "at least 7 days" in msg
    store.close()

    store = open_store(f"sqlite:///{tmp_path / 'no_temp.sqlite'}")
    files = D.write_files(tmp_path / "nt", START, 14)
    for what in ("registry", "heat", "weather"):
        fmt = {"registry": "registry", "heat": "meter-csv", "weather": "weather-csv"}[what]
        opts = {"weather": {"station": D.STATION}, "heat": {"layout": "wide"}}.get(what, {})
        import_file(store, files[what], fmt, **opts)
    with pytest.raises(NoZoneTemperatureError) as e:
        make_plan(store, D.BUILDING)
    assert D.SENSOR in str(e.value) and D.BUILDING in str(e.value)
    store.close()

    store = open_store(f"sqlite:///{tmp_path / 'no_weather.sqlite'}")
    for what in ("registry", "heat", "temp"):
        fmt = {"registry": "registry"}.get(what, "meter-csv")
        opts = {"temp": {"layout": "wide", "quantity": "temp_zone_c"},
                "heat": {"layout": "wide"}}.get(what, {})
        import_file(store, files[what], fmt, **opts)
    with pytest.raises(NoWeatherError) as e:
        make_plan(store, D.BUILDING)
    assert D.STATION in str(e.value)
    store.close()


def test_migration_0005_upgrades_and_downgrades(any_store_url):
    store = open_store(any_store_url)
    cfg = _alembic_config(store.engine.url.render_as_string(hide_password=False))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert "control_plan" not in tables and "control_decision" not in tables
    assert "finding" in tables
    store.close()
    store = open_store(any_store_url)  # back to head
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert {"control_plan", "control_decision"} <= tables
    store.close()
