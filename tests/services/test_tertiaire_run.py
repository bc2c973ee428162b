"""Décret tertiaire from the store: the climate adjustment on a constructed case, the gap on
the real b0 slice (2018 reference, 2019 current) on each engine, bad inputs, and the CLI."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.analytics.degree_days import climate_adjusted
from sobriete.cli import main
from sobriete.cli.diagnose import num
from sobriete.services.diagnose_run import UnknownBuildingError, buildings_by_code
from sobriete.services.tertiaire_run import (
    TertiaireError,
    period_dju,
    tertiaire_building,
    tertiaire_buildings,
)


def test_climate_adjustment_known_answer():
    # Twice the heating in a year twice as cold is the same building: same adjusted kWh.
    mild = climate_adjusted(50_000.0, 30_000.0, dju_ref=2_000.0, dju_year=2_000.0)
    cold = climate_adjusted(100_000.0, 30_000.0, dju_ref=2_000.0, dju_year=4_000.0)
    assert mild.adjusted_kwh == cold.adjusted_kwh == 80_000.0
    # 10 °C DJU a day over 2015; a few missing days are filled with the mean day, not zero.
    days = pd.Series(10.0, index=pd.date_range("2015-01-01", "2015-12-31", freq="D"))
    assert period_dju(days, date(2015, 1, 1), date(2016, 1, 1), "s") == pytest.approx(3_650)
    assert period_dju(days.drop(days.index[:20]), date(2015, 1, 1), date(2016, 1, 1),
                      "s") == pytest.approx(3_650)
    with pytest.raises(TertiaireError, match="temperatures on 200 of 365 days"):
        period_dju(days.iloc[:200], date(2015, 1, 1), date(2016, 1, 1), "s")


def test_gap_on_real_b0(b0_store):
    out = tertiaire_buildings(b0_store, 2018, building="b0", current_year=2019)
    run = out.runs["b0"]
    r, ref, cur = run.result, run.reference, run.current
    assert (ref.start, ref.end, cur.start, cur.end) == (
        date(2018, 1, 1), date(2019, 1, 1), date(2019, 1, 1), date(2020, 1, 1))
    # No baseline stored: gas is all heating, electricity all other, and the result says so.
    codes = {w["code"] for w in run.warnings}
    assert {"assumed_heating", "assumed_other"} <= codes
    assert cur.heating_kwh == {"gas": cur.kwh["gas"]}
    # Reference climate = the reference year's own DJU: its kWh are the metered ones...
    assert run.dju_ref_basis == "reference_year" and run.dju_ref == ref.dju
    assert r.reference_kwh == pytest.approx(sum(ref.kwh.values()))
    # ... and the current year's heating is brought to it.
    expected = cur.kwh["gas"] * ref.dju / cur.dju + cur.kwh["electricity"]
    assert r.current_kwh == pytest.approx(expected)
    assert 1_500 < ref.dju < 3_500 and 1_500 < cur.dju < 3_500  # °C·day, Bedford, base 18
    assert r.gap_kwh == pytest.approx(r.current_kwh - r.reference_kwh * 0.6) and r.gap_kwh > 0
    assert r.subject and run.recommendations == "computed"
    assert "costic" in run.dju_method and "bedford" in run.dju_method
    # Stored the first time, reused the second; under 1,000 m² flagged, still computed.
    b = buildings_by_code(b0_store.engine.connect())["b0"].model_copy(
        update={"floor_area_m2": 500.0})
    small = tertiaire_building(b0_store, b, 2018, current_year=2019, year=2050,
                               climate_ref="mean")
    assert not small.result.subject and small.recommendations == "stored"
    assert small.result.gap_kwh == pytest.approx(
        max(small.result.current_kwh - small.result.reference_kwh * 0.4, 0))
    assert small.dju_ref_basis.startswith("mean of 2018-2019")


def test_bad_inputs_are_typed_errors(b0_sqlite):
    for y in (2009, 2020):
        with pytest.raises(TertiaireError, match=f"reference year {y} is not allowed"):
            tertiaire_buildings(b0_sqlite, y)
    with pytest.raises(TertiaireError, match="target year 2035"):
        tertiaire_buildings(b0_sqlite, 2018, year=2035)
    with pytest.raises(TertiaireError, match="current year 2018 must come after"):
        tertiaire_buildings(b0_sqlite, 2018, building="b0", current_year=2018)
    with pytest.raises(UnknownBuildingError, match="nope"):
        tertiaire_buildings(b0_sqlite, 2018, building="nope")
    with pytest.raises(TertiaireError, match="temperatures on 0 of 365 days from 2015-01-01"):
        tertiaire_buildings(b0_sqlite, 2015, building="b0", current_year=2019)


def test_cli_french_table_english_json_and_errors(b0_sqlite):
    db = ["--db", b0_sqlite.engine.url.render_as_string(hide_password=False)]
    run = CliRunner().invoke
    res = run(main, ["actions", "tertiaire", "--reference-year", "2018", "--current-year",
                     "2019", *db], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for words in ("Décret tertiaire : objectif 2030", "Écart restant", "Objectif 2030",
                  num(3296.5, "fr"), "corrigée du climat", "DJU costic", "hypothèse"):
        assert words in res.output
    res = run(main, ["--lang", "en", "actions", "tertiaire", "--reference-year", "2018",
                     "--current-year", "2019", "--json", *db])
    doc = json.loads(res.output)
    r = doc["runs"]["b0"]["result"]
    assert r["gap_kwh"] == pytest.approx(r["current_kwh"] - 0.6 * r["reference_kwh"])
    res = run(main, ["--lang", "en", "actions", "tertiaire", "--reference-year", "2018",
                     "--current-year", "2019", "--year", "2040", *db], env={"COLUMNS": "200"})
    assert "2040 target" in res.output and "Remaining gap" in res.output
    for bad in (["--reference-year", "2021"], ["--reference-year", "2018", "--building", "x"],
                ["--reference-year", "2018", "--commune", "x"], ["--reference-year", "2018",
                                                                 "--year", "2035"]):
        res = run(main, ["actions", "tertiaire", *bad, *db])
        assert res.exit_code == 2, (bad, res.output)
