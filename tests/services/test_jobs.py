"""The in-process job registry and its two job functions, on real stores and real files."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from sobriete.api.settings import ServiceSettings
from sobriete.domain.errors import InputError
from sobriete.services.demo import DATA
from sobriete.services.jobs import JobRegistry, analysis_job, import_job
from sobriete.services.store import open_store
from sobriete.services.store import schema as S

HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;building_code;building_name;activity;floor_area_m2;"
        "heating_system;meter_code;meter_kind;meter_step_min;weather_station")
ROW = ("M;Métropole;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
       "A-elec;electricity;60;bedford")
WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start", "rename": {"b0": "A-elec"}}


@pytest.fixture
def registry():
    reg = JobRegistry(workers=1)
    yield reg
    reg.shutdown()


def _files(folder: Path) -> dict[str, Path]:
    (folder / "registry.csv").write_text(HEAD + "\n" + ROW + "\n", encoding="utf-8")
    out = {"registry": folder / "registry.csv"}
    for name, cols in (("electricity_kwh_hourly", ["b0"]),
                       ("weather_bedford_hourly", ["air_temperature_c"])):
        df = pd.read_csv(DATA / "cambridge" / f"{name}.csv.gz")
        t = pd.to_datetime(df["timestamp_utc"])
        out[name] = folder / f"{name}.csv"
        df.loc[(t >= "2019-01-01") & (t < "2020-01-01"), ["timestamp_utc", *cols]].to_csv(
            out[name], index=False)
    return out


def test_a_job_reports_progress_result_and_owner(registry):
    release, started = threading.Event(), threading.Event()

    def work(progress):
        progress(1, 3, "première étape")
        started.set()
        release.wait(10)
        progress(3, 3, "fini")
        return {"answer_kwh": 42.0}

    first = registry.submit("demo", 7, work, "essai")
    second = registry.submit("demo", 8, lambda p: "second", "autre")
    assert started.wait(10)
    running = registry.get(first)
    assert (running.state, running.done, running.total, running.message) == (
        "running", 1, 3, "première étape")
    assert registry.get(second).state == "queued"  # one worker: it waits its turn
    release.set()
    done = registry.wait(first)
    assert done.state == "done" and done.result == {"answer_kwh": 42.0}
    assert done.started_at <= done.finished_at and done.owner == 7 and done.error is None
    assert registry.wait(second).result == "second"
    assert [j.id for j in registry.list(7)] == [first]
    assert [j.id for j in registry.list()] == [second, first]
    assert registry.get("no-such-job") is None


def test_a_failing_job_says_why_and_the_worker_lives_on(registry):
    def bad(_p):
        raise InputError("colonne 'value' absente", file="x.csv", line=3)

    failed = registry.wait(registry.submit("demo", 1, bad))
    assert failed.state == "failed" and "colonne 'value' absente" in failed.error
    assert failed.result is None and failed.finished_at is not None
    crash = registry.wait(registry.submit("demo", 1, lambda p: 1 / 0))
    assert crash.error.startswith("ZeroDivisionError")
    assert registry.wait(registry.submit("demo", 1, lambda p: "ok")).state == "done"


def test_import_job_imports_and_rejects_typed(any_store_url, tmp_path, registry):
    store = open_store(any_store_url)
    try:
        files = _files(tmp_path)
        seen = []

        def progress(done, total, message=""):
            seen.append((done, total, message))

        reg = import_job(store, files["registry"], "registry", None, progress)
        assert reg["files"][0]["status"] == "ok"
        job = registry.wait(registry.submit("import", 1, lambda p: import_job(
            store, files["electricity_kwh_hourly"], "meter-csv", WIDE, p), "compteur A"))
        assert job.state == "done", job.error
        assert job.result["files"][0]["rows_new"] == 8760 and (job.done, job.total) == (1, 1)
        assert seen == [(0, 1, "import de registry.csv"), (1, 1, "import terminé")]
        bad = tmp_path / "bad.csv"
        bad.write_text("horodatage;valeur\nhier;12\n", encoding="utf-8")
        failed = registry.wait(registry.submit("import", 1, lambda p: import_job(
            store, bad, "meter-csv", {}, p)))
        assert failed.state == "failed" and "bad.csv" in failed.error
        with store.engine.connect() as conn:
            statuses = conn.execute(select(S.import_batch.c.status).order_by(
                S.import_batch.c.id)).scalars().all()
        assert statuses == ["ok", "ok", "rejected"]
    finally:
        store.close()


def test_analysis_job_diagnoses_refreshes_status_and_alerts(sqlite_url, tmp_path, registry):
    store = open_store(sqlite_url)
    try:
        files = _files(tmp_path)
        import_job(store, files["registry"], "registry")
        import_job(store, files["electricity_kwh_hourly"], "meter-csv", WIDE)
        import_job(store, files["weather_bedford_hourly"], "weather-csv", {
            "time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
            "columns": {"air_temperature_c": "temp_air_c"}})
        job = registry.wait(registry.submit("analysis", None, lambda p: analysis_job(
            store, ServiceSettings(scheduler=False), p)), timeout_s=300)
        assert job.state == "done", job.error
        assert (job.done, job.total, job.message) == (100, 100, "analyse terminée")
        r = job.result
        assert r["diagnosis"]["series"] == 1 and r["diagnosis"]["findings"] > 0
        assert r["status"]["buildings"] == 1
        assert r["alerts"]["smtp"] is False  # no SMTP server configured: kept for the dashboard
        with store.engine.connect() as conn:
            assert conn.execute(select(S.building_status.c.status)).scalar_one() in (
                "ok", "watch", "alert", "no_data")
    finally:
        store.close()
