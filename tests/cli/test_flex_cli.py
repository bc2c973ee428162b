"""`sobriete flex capacity` and `sobriete flex dispatch` on a stored estate (two electrically
heated schools in two communes with a known heating slope on real Bedford weather, and a
building without meter): French tables with French decimals, subtotals, JSON, unmet kW said
plainly, re-dispatch, dry run, and typed errors (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.analytics.calendar import occupancy
from sobriete.cli import main
from sobriete.domain.portfolio import ActivityCategory, default_calendar
from sobriete.services.imports import import_file
from sobriete.services.store import open_store

START, END = "2019-01-22T09:00+01:00", "2019-01-22T12:00+01:00"
HEADER = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
          "commune_name;site_code;site_name;building_code;building_name;activity;floor_area_m2;"
          "heating_system;climate_zone;school_zone;meter_code;meter_kind;meter_step_min;"
          "subscribed_power_kva;zone_code;sensor_code;sensor_kind;weather_station")
SLOPES = {"ECOLE-1": 2.0, "ECOLE-2": 1.0}  # kW/K below 14 °C in occupation


@pytest.fixture(scope="module")
def db(shared_data: Path, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("flex_cli")
    rows = [HEADER]
    for i, code in enumerate(SLOPES, 1):
        rows.append(f"P;Portefeuille;T;Territoire;7500{i};Ville {i};S{i};Site;{code};École {i};"
                    f"school;800;electric_resistance;H1;Zone C;{code}-elec;electricity;60;;;;;"
                    "bedford")
    rows.append("P;Portefeuille;T;Territoire;75002;Ville 2;S3;Site;HALLE;Halle;other;300;"
                "unknown;H1;Zone C;;;;;;;;bedford")
    (folder / "registry.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    w = pd.read_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz",
                    parse_dates=["timestamp_utc"])
    w = w[(w["timestamp_utc"] >= "2018-08-31") & (w["timestamp_utc"] < "2019-02-02")]
    w.to_csv(folder / "weather.csv", index=False)
    idx = pd.date_range("2018-09-01", "2019-02-01", freq="h", tz="UTC", inclusive="left")
    t = pd.Series(w["air_temperature_c"].to_numpy(),
                  index=pd.DatetimeIndex(w["timestamp_utc"]).tz_localize("UTC")).reindex(
                      idx).interpolate().to_numpy()
    occ = occupancy(default_calendar(ActivityCategory.SCHOOL), idx).occupied
    rng = np.random.default_rng(11)
    out = {"timestamp_utc": idx.strftime("%Y-%m-%d %H:%M:%S")}
    for code, slope in SLOPES.items():
        kw = np.where(occ, 8.0 + slope * np.maximum(0, 14 - t), 2.0)
        out[f"{code}-elec"] = np.round(np.maximum(kw + rng.normal(0, 0.8, len(idx)), 0.1), 4)
    pd.DataFrame(out).to_csv(folder / "elec.csv", index=False)
    url = f"sqlite:///{folder / 'store.sqlite'}"
    store = open_store(url)
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, folder / "elec.csv", "meter-csv", layout="wide",
                timestamp_column="timestamp_utc", timezone="UTC", timestamps="start")
    import_file(store, folder / "weather.csv", "weather-csv", time_column="timestamp_utc",
                timezone="UTC", station="bedford", columns={"air_temperature_c": "temp_air_c"})
    store.close()
    return url


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_capacity_table_french(db):
    res = run("flex", "capacity", "--db", db, "--start", START, "--end", END)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "Capacité d'effacement du 22/01/2019 de 09:00 à 12:00" in out
    for words in ("Sous-total │ 75001", "Sous-total │ 75002", "Total │ 3 bât.", "compteur",
                  "no_electricity_meter", "constante de temps supposée", "1,0 K en occupation"):
        assert words in out, words
    # French decimals: a comma, never a point, in the kW column
    assert not any(ch.isdigit() and nxt == "." and after.isdigit()
                   for ch, nxt, after in zip(out, out[1:], out[2:], strict=False))


def test_capacity_json_and_english(db):
    res = run("flex", "capacity", "--db", db, "--start", START, "--end", END, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    caps = {b["building"]: b for b in doc["buildings"]}
    assert caps["HALLE"]["shed_kw"] == 0 and caps["ECOLE-1"]["shed_kw"] > caps["ECOLE-2"][
        "shed_kw"] > 0
    slope = caps["ECOLE-1"]["provenance"]["fit"]["occupied"]["slope_kw_per_k"]
    assert slope == pytest.approx(2.0, rel=0.08)
    assert doc["total"]["shed_kw"] == pytest.approx(sum(b["shed_kw"] for b in doc["buildings"]))
    assert doc["communes"]["75002"]["n_buildings"] == 2
    en = run("flex", "capacity", "--db", db, "--start", START, "--end", END, "--lang", "en",
             "--commune", "75001")
    assert en.exit_code == 0 and "Shed capacity on 2019-01-22" in en.output
    assert "ECOLE-2" not in en.output and "Subtotal │ 75001" in en.output


def test_dispatch_tables_unmet_and_rerun(db):
    dry = run("flex", "dispatch", "--db", db, "--event-id", "EW-1", "--start", START, "--end",
              END, "--kw", "500", "--dry-run")
    assert dry.exit_code == 0, dry.output
    out = " ".join(dry.output.split())
    assert "kW non couverts" in out and "la capacité des bâtiments ne suffit pas" in out
    assert "rien n'est enregistré" in out and "indice de Jain" in out
    first = run("flex", "dispatch", "--db", db, "--event-id", "EW-1", "--start", START,
                "--end", END, "--kw", "5", "--json")
    doc = json.loads(first.output)
    assert doc["unmet_kw"] == 0 and doc["served_kw"] == pytest.approx(5.0)
    assert not doc["replaced"] and not doc["dry_run"]
    again = run("flex", "dispatch", "--db", db, "--event-id", "EW-1", "--start", START,
                "--end", END, "--kw", "5")
    assert again.exit_code == 0, again.output
    out = " ".join(again.output.split())
    assert "Événement EW-1 enregistré (remplace la répartition précédente)" in out
    assert "Demande 5,0 kW : 5,0 kW répartis sur 2 bâtiment(s)" in out


@pytest.mark.parametrize("args, words", [
    (("capacity", "--start", "2019-01-22T09:00", "--end", END), "no time zone"),
    (("capacity", "--start", START, "--end", END, "--commune", "99999"),
     "unknown commune '99999'"),
    (("dispatch", "--event-id", "E", "--start", START, "--end", END, "--kw", "0"), "> 0 kW"),
    (("capacity", "--start", END, "--end", START), "is not after its start"),
])
def test_typed_errors_exit_2(db, args, words):
    res = CliRunner().invoke(main, ["flex", *args, "--db", db])
    assert res.exit_code == 2, res.output
    assert words in " ".join(res.output.split())


def test_not_a_time_is_a_usage_error(db):
    res = CliRunner().invoke(main, ["flex", "capacity", "--db", db, "--start", "demain",
                                    "--end", END])
    assert res.exit_code == 2 and "ISO-8601" in res.output
