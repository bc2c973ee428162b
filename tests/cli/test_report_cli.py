"""`sobriete report monthly | operat | tertiaire` on the real b0 data (2018-2019) stored
through the real import path."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services.demo import DATA
from sobriete.services.imports import import_file
from sobriete.services.store import open_store

WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start"}


def _slice(name: str, col: str, folder: Path) -> Path:
    df = pd.read_csv(DATA / "cambridge" / f"{name}.csv.gz", usecols=["timestamp_utc", col])
    t = pd.to_datetime(df["timestamp_utc"])
    path = folder / f"{name}.csv"
    df[(t >= "2018-01-01") & (t < "2020-01-01")].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("report_cli")
    lines = (DATA / "registry_demo.csv").read_text(encoding="utf-8").splitlines()
    (folder / "registry.csv").write_text(
        "\n".join([lines[0]] + [x for x in lines[1:] if ";b0;" in x]) + "\n", encoding="utf-8")
    url = f"sqlite:///{folder / 's.sqlite'}"
    store = open_store(url)
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, _slice("electricity_kwh_hourly", "b0", folder), "meter-csv",
                rename={"b0": "b0-elec"}, **WIDE)
    import_file(store, _slice("gas_kwh_hourly", "b0", folder), "meter-csv",
                rename={"b0": "b0-gas"}, **WIDE)
    import_file(store, _slice("weather_bedford_hourly", "air_temperature_c", folder),
                "weather-csv", time_column="timestamp_utc", timezone="UTC", station="bedford",
                columns={"air_temperature_c": "temp_air_c"})
    store.close()
    return url


def test_monthly_building_with_pdf_and_commune(db, tmp_path):
    r = CliRunner().invoke(main, ["report", "monthly", "--building", "b0", "--month",
                                  "2019-03", "--pdf", "--out", str(tmp_path), "--db", db])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "rapport_b0_2019-03.html").read_text(encoding="utf-8")
    assert "Bâtiment universitaire b0" in html
    assert (tmp_path / "rapport_b0_2019-03.pdf").read_bytes().startswith(b"%PDF-")
    r = CliRunner().invoke(main, ["--lang", "en", "report", "monthly", "--commune", "CAM",
                                  "--month", "2019-02", "--out", str(tmp_path), "--db", db])
    assert r.exit_code == 0, r.output
    assert "February 2019" in (tmp_path / "rapport_CAM_2019-02.html").read_text("utf-8")
    assert not (tmp_path / "rapport_CAM_2019-02.pdf").exists()


def test_monthly_refuses_bad_arguments(db, tmp_path):
    r = CliRunner().invoke(main, ["report", "monthly", "--month", "2019-03", "--db", db])
    assert r.exit_code == 2 and "--building ou --commune" in r.output
    r = CliRunner().invoke(main, ["report", "monthly", "--building", "b0", "--month",
                                  "2019-3", "--out", str(tmp_path), "--db", db])
    assert r.exit_code == 2 and "YYYY-MM" in r.output


def test_operat_and_tertiaire(db, tmp_path):
    out = tmp_path / "operat.csv"
    r = CliRunner().invoke(main, ["report", "operat", "--year", "2019", "--out", str(out),
                                  "--db", db])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig")), delimiter=";"))
    assert [x["identifiant_efa"] for x in rows] == ["b0"]
    r = CliRunner().invoke(main, ["report", "tertiaire", "--building", "b0", "--json",
                                  "--db", db])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)["trajectories"]["b0"]
    assert doc["reference_year"] == 2018 and doc["status"] == "on_track"
    r = CliRunner().invoke(main, ["report", "tertiaire", "--until", "2018", "--json",
                                  "--db", db])
    assert json.loads(r.output)["trajectories"]["b0"]["status"] == "no_data"
    r = CliRunner().invoke(main, ["report", "tertiaire", "--cabs", "university=50",
                                  "--db", db])
    assert r.exit_code == 0 and "dans la trajectoire" in r.output
    assert "non atteinte" in r.output  # about 78 kWh/m² in 2019 against 50
    r = CliRunner().invoke(main, ["report", "tertiaire", "--cabs", "university", "--db", db])
    assert r.exit_code == 2 and "ACTIVITE=KWH_M2" in r.output
    r = CliRunner().invoke(main, ["report", "tertiaire", "--reference-year", "2009",
                                  "--db", db])
    assert r.exit_code == 2 and "2010" in r.output
