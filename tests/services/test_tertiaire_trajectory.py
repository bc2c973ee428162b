"""Décret tertiaire trajectory and the OPERAT export on the real b0 slice (2018-2019), on
each engine; the status rule on constructed years."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from sobriete.reporting.operat import OPERAT_COLUMNS, operat_csv
from sobriete.services.demo import DATA
from sobriete.services.diagnose_run import buildings_by_code
from sobriete.services.tertiaire_run import TertiaireError
from sobriete.services.tertiaire_trajectory import (
    YearPoint,
    _status,
    operat_rows,
    trajectories,
    trajectory,
)


def _year_kwh(file: str, year: int) -> float:
    df = pd.read_csv(DATA / "cambridge" / f"{file}.csv.gz", usecols=["timestamp_utc", "b0"])
    t = pd.to_datetime(df["timestamp_utc"], utc=True).dt.tz_convert("Europe/Paris")
    return float(df.loc[t.dt.year == year, "b0"].sum())


def test_trajectory_on_real_b0(b0_store):
    t = trajectories(b0_store, building="b0").trajectories["b0"]
    # 2018 and 2019 are both complete (2018 misses its first local hour, 2019 is whole):
    # 2018 consumed more at the same climate, so it is the reference chosen.
    assert (t.reference_year, t.reference_choice) == (2018, "best_complete_year")
    assert [p.year for p in t.years] == [2018, 2019] and all(p.complete for p in t.years)
    y18, y19 = t.years
    # Each year's metered kWh are the bundled data's, local calendar year.
    assert y19.kwh["gas"] == pytest.approx(_year_kwh("gas_kwh_hourly", 2019))
    assert y19.kwh["electricity"] == pytest.approx(_year_kwh("electricity_kwh_hourly", 2019))
    # The reference climate is the reference year's: its consumption is the metered one,
    # 2019's gas (all heating, no baseline: said) is brought to 2018's degree-days.
    assert t.reference_kwh == pytest.approx(y18.total_kwh) and t.dju_ref == y18.dju
    assert y19.adjusted_kwh == pytest.approx(
        y19.kwh["electricity"] + y19.kwh["gas"] * y18.dju / y19.dju)
    assert {"assumed_heating", "assumed_other"} <= {w["code"] for w in t.warnings}
    assert t.targets_kwh == pytest.approx(
        {2030: 0.6 * t.reference_kwh, 2040: 0.5 * t.reference_kwh, 2050: 0.4 * t.reference_kwh})
    # 2019: one twelfth of the way to 2030, already 15 % down: on the trajectory.
    assert t.latest_year == 2019 and t.status == "on_track"
    assert t.expected_kwh == pytest.approx(t.reference_kwh * (1 - 0.4 / 12))
    assert t.reduction_pct == pytest.approx(100 * (1 - y19.adjusted_kwh / t.reference_kwh))
    assert t.subject and t.absolute_status == "unknown" and t.approximations
    assert "costic" in t.dju_method and "bedford" in t.dju_method
    # The local year 2020 holds one hour of data: left out, and said so.
    assert "year_partial" in {w["code"] for w in t.warnings}


def test_given_reference_absolute_values_and_errors(b0_store):
    with b0_store.engine.connect() as conn:
        b0 = buildings_by_code(conn)["b0"]
    t = trajectory(b0_store, b0, reference_year=2019, cabs_kwh_m2={"university": 50.0})
    assert t.reference_choice == "given" and t.status == "no_data" and t.latest_year is None
    assert t.absolute_cabs_kwh_m2 == 50.0 and t.absolute_status == "unknown"
    t = trajectory(b0_store, b0, reference_year=2018, cabs_kwh_m2={"university": 50.0})
    assert t.absolute_status == "not_met"  # about 78 kWh/m² in 2019
    # Later data left aside: 2018 alone, reference and nothing after it.
    t = trajectory(b0_store, b0, until_year=2018)
    assert [p.year for p in t.years] == [2018] and t.status == "no_data"
    with pytest.raises(TertiaireError, match="between 2010 and 2019"):
        trajectory(b0_store, b0, reference_year=2020)
    with pytest.raises(TertiaireError, match="no usable data in reference year 2015"):
        trajectory(b0_store, b0, reference_year=2015)


def test_status_rule():
    def point(year, kwh):
        return YearPoint(year=year, kwh={"gas": kwh}, total_kwh=kwh, heating_kwh=kwh, dju=1.0,
                         adjusted_kwh=kwh, adjusted_kwh_m2=None, coverage_pct=100,
                         complete=True)
    targets = {2030: 60.0, 2040: 50.0, 2050: 40.0}
    assert _status(100.0, 2018, targets, None) == ("no_data", None)
    status, expected = _status(100.0, 2018, targets, point(2024, 85.0))
    assert expected == pytest.approx(80.0) and status == "late"
    assert _status(100.0, 2018, targets, point(2024, 80.0))[0] == "on_track"
    assert _status(100.0, 2018, targets, point(2021, 60.0))[0] == "target_met"


def test_operat_export(b0_store):
    rows, errors = operat_rows(b0_store, 2019)
    assert errors == {} and len(rows) == 1
    doc = operat_csv(rows)
    assert doc.startswith("\ufeff".encode())
    got = list(csv.DictReader(io.StringIO(doc.decode("utf-8-sig")), delimiter=";"))
    assert list(got[0]) == list(OPERAT_COLUMNS)
    r = got[0]
    assert (r["identifiant_efa"], r["code_commune_insee"], r["annee_reference"]) == (
        "b0", "CAM", "2018")
    assert r["conso_gaz_naturel_kwh"] == str(round(_year_kwh("gas_kwh_hourly", 2019)))
    assert r["conso_reseau_chaleur_kwh"] == ""  # unknown, not zero
    assert r["statut_trajectoire"] == "on_track" and r["assujetti"] == "oui"
    # Declaring 2018 judges 2018, not the later 2019.
    rows, _ = operat_rows(b0_store, 2018)
    assert rows[0]["statut_trajectoire"] == "no_data" and rows[0]["annee_reference"] == 2018
    # A year outside the data: the entity is left out, with why.
    rows, errors = operat_rows(b0_store, 2016)
    assert rows == [] and "2016" in errors["b0"]
    with pytest.raises(ValueError, match="unknown columns"):
        operat_csv([{"nope": 1}])
