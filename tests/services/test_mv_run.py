"""The M&V portfolio runner on real meters: fits, failures, resume, savings and the 2020
closure found as a non-routine event."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sobriete.domain.errors import SobrieteError
from sobriete.services.executors import InlineExecutor, ProcessExecutor
from sobriete.services.imports import import_file
from sobriete.services.mv_run import FitSettings, fit_portfolio, load_model
from sobriete.services.mv_savings_run import SavingsSettings, compute_savings
from sobriete.services.store import open_store

WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC"}
BEDFORD = {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
           "columns": {"air_temperature_c": "temp_air_c"}}
Y2019 = FitSettings(date(2019, 1, 1), date(2020, 1, 1))


@pytest.fixture(scope="module")
def cambridge_store(tmp_path_factory, shared_data):
    url = f"sqlite:///{tmp_path_factory.mktemp('mv') / 'mv.sqlite'}"
    store = open_store(url)
    cam = shared_data / "cambridge"
    import_file(store, cam / "electricity_kwh_hourly.csv.gz", "meter-csv",
                rename={"b0": "b0-elec", "b4": "b4-elec", "b8": "b8-elec"}, **WIDE)
    import_file(store, cam / "gas_kwh_hourly.csv.gz", "meter-csv",
                rename={"b0": "b0-gas", "b4": "b4-gas", "b8": "b8-gas"}, **WIDE)
    import_file(store, cam / "weather_bedford_hourly.csv.gz", "weather-csv", **BEDFORD)
    with store.engine.begin() as c:  # gas meters, as a registry would declare them
        c.exec_driver_sql("UPDATE series SET subkind = 'gas' WHERE key LIKE '%-gas'")
    return store


def _fits(store, run_id):
    with store.engine.connect() as c:
        return c.exec_driver_sql(
            "SELECT s.key, f.status, f.model, f.frequency, f.model_json, f.result_json"
            " FROM baseline_fit f JOIN series s ON s.id = f.series_id WHERE f.run_id = ?"
            " ORDER BY s.key", (run_id,)).all()


def test_every_meter_gets_a_baseline_with_its_evidence(cambridge_store):
    run = fit_portfolio(cambridge_store, Y2019, executor=InlineExecutor())
    rows = _fits(cambridge_store, run.run_id)
    assert (run.n_tasks, run.n_done, run.n_failed) == (6, 6, 0)
    models = {key: (model, freq) for key, _, model, freq, _, _ in rows}
    assert models["b4-elec"][1] == "hourly" and models["b4-gas"][1] == "daily"
    for key, status, _, _, model_json, result_json in rows:
        assert status == "ok", key
        doc = json.loads(result_json)
        # Local midnight of 1 January (Paris calendar by default): UTC for hourly fits.
        assert doc["period_start"][:13] in ("2019-01-01T00", "2019-01-01 00", "2018-12-31 23")
        assert doc["metrics"]["n"] > 300 and doc["params"]
        assert load_model(model_json, result_json).fit_result.metrics.cvrmse > 0


def test_pool_and_inline_give_the_same_models(cambridge_store):
    keys = ["b4-elec", "b8-gas"]
    a = fit_portfolio(cambridge_store, Y2019, keys=keys, executor=InlineExecutor())
    b = fit_portfolio(cambridge_store, Y2019, keys=keys, executor=ProcessExecutor(2))
    def params(run_id):  # everything but timings
        return [json.loads(r[5])["params"] for r in _fits(cambridge_store, run_id)]

    assert params(a.run_id) == params(b.run_id)


class _Interrupted(Exception):
    pass


class _DiesAfter:
    """An executor that stops after n results, like a run killed half-way."""

    def __init__(self, n: int) -> None:
        self.n = n

    def map_unordered(self, fn, items):
        for i, item in enumerate(items):
            if i == self.n:
                raise _Interrupted
            yield fn(item)


def test_an_interrupted_run_resumes_with_only_what_is_missing(cambridge_store):
    with pytest.raises(_Interrupted):
        fit_portfolio(cambridge_store, Y2019, executor=_DiesAfter(2))
    with cambridge_store.engine.connect() as c:
        run_id, status, done = c.exec_driver_sql(
            "SELECT id, status, n_done FROM mv_run ORDER BY id DESC LIMIT 1").one()
    assert (status, done) == ("running", 2)
    calls = []

    class Counting(InlineExecutor):
        def map_unordered(self, fn, items):
            items = list(items)
            calls.append(len(items))
            return super().map_unordered(fn, items)

    resumed = fit_portfolio(cambridge_store, Y2019, executor=Counting(), resume=run_id)
    assert calls == [4] and resumed.n_done == 6
    assert len(_fits(cambridge_store, run_id)) == 6
    with pytest.raises(SobrieteError, match="other settings"):
        fit_portfolio(cambridge_store, FitSettings(date(2018, 1, 1), date(2019, 1, 1)),
                      executor=InlineExecutor(), resume=run_id)


def test_a_meter_without_data_fails_alone_with_a_reason(cambridge_store):
    run = fit_portfolio(cambridge_store, FitSettings(date(2030, 1, 1), date(2031, 1, 1)),
                        keys=["b0-elec"], executor=InlineExecutor())
    (row,) = _fits(cambridge_store, run.run_id)
    assert run.n_failed == 1 and row[1] == "failed"
    with cambridge_store.engine.connect() as c:
        error = c.exec_driver_sql(
            f"SELECT error FROM baseline_fit WHERE run_id = {run.run_id}").scalar_one()
    assert "no reading" in error


def test_savings_in_2020_flag_the_closure(cambridge_store):
    run = fit_portfolio(cambridge_store, Y2019, keys=["b4-elec"], executor=InlineExecutor())
    sav_run = compute_savings(cambridge_store, run.run_id,
                              SavingsSettings(date(2020, 1, 1), date(2021, 1, 1)),
                              executor=InlineExecutor())
    with cambridge_store.engine.connect() as c:
        doc = json.loads(c.exec_driver_sql(
            f"SELECT result_json FROM savings_result WHERE run_id = {sav_run}").scalar_one())
    starts = [e["start"][:10] for e in doc["events"]]
    assert any("2020-03-10" <= s <= "2020-04-05" for s in starts), starts
    assert doc["confidence"] == 0.9 and doc["uncertainty_kwh"] > 0
    assert doc["model"] == "hourly_towt_daytypes"


def test_cli_fit_then_savings_with_plots(cambridge_store, tmp_path):
    from click.testing import CliRunner

    from sobriete.cli import main

    db = cambridge_store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    fit = runner.invoke(main, ["baseline", "fit", "--start", "2019-01-01", "--end",
                               "2020-01-01", "--meter", "b8-gas", "--workers", "1",
                               "--db", db])
    assert fit.exit_code == 0, fit.output
    run_id = int(fit.output.split("n°")[-1].split()[0].rstrip(":"))
    sav = runner.invoke(main, ["--lang", "en", "savings", "--fit-run", str(run_id), "--start",
                               "2020-01-01", "--end", "2021-01-01", "--workers", "1",
                               "--plots", str(tmp_path / "plots"), "--db", db])
    assert sav.exit_code == 0, sav.output
    assert "Measured savings" in sav.output
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert pngs == ["b8-gas-baseline-vs-actual.png", "b8-gas-cusum.png",
                    "b8-gas-signature.png"]
    bad = runner.invoke(main, ["baseline", "fit", "--start", "2019-13-01", "--end",
                               "2020-01-01", "--db", db])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
