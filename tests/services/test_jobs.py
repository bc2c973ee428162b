"""The job registry (jobs are rows of the store, read by any process) and its two job
functions, on real stores and real files."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import event, insert, select

from sobriete.api.settings import ServiceSettings
from sobriete.domain.errors import InputError
from sobriete.services.demo import DATA
from sobriete.services.jobs import (
    FLUSH_S,
    INTERRUPTED,
    JobRegistry,
    analysis_job,
    import_job,
)
from sobriete.services.store import open_store
from sobriete.services.store import schema as S

HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;building_code;building_name;activity;floor_area_m2;"
        "heating_system;meter_code;meter_kind;meter_step_min;weather_station")
ROW = ("M;Métropole;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
       "A-elec;electricity;60;bedford")
WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start", "rename": {"b0": "A-elec"}}


def _accounts(store, *ids: int) -> None:
    """Job owners are accounts (a foreign key): a bare row for each id."""
    with store.engine.begin() as conn:
        conn.execute(insert(S.account), [
            {"id": i, "login": f"user{i}", "display_name": f"User {i}", "active": True,
             "created_at": datetime.now(UTC)} for i in ids])


@pytest.fixture
def registry(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    _accounts(store, 1, 7, 8)
    reg = JobRegistry(store, workers=1)
    yield reg
    reg.shutdown(wait=True)
    store.close()


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


# -- jobs in the store: seen from another process ----------------------------------------

def _until(check, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_another_registry_on_the_store_reads_progress_result_and_error(any_store_url):
    """Two registries, each on its own engine, as two processes of the service would be."""
    here, there = open_store(any_store_url), open_store(any_store_url)
    _accounts(here, 5)
    runner, reader = JobRegistry(here, workers=1), JobRegistry(there)
    release = threading.Event()

    def work(progress):
        progress(2, 5, "deux fichiers sur cinq")
        release.wait(10)
        progress(5, 5, "fini")
        return {"kwh": [1.5, 2], "ok": True, "par_bâtiment": {"A": None}, "n": 3}

    def bad(_p):
        raise InputError("colonne 'value' absente", file="x.csv", line=3)

    try:
        first = runner.submit("import", 5, work, "import de cinq fichiers")
        second = runner.submit("demo", 5, bad)
        seen = _until(lambda: (j := reader.get(first)) and j.state == "running" and j.done
                      and j)
        assert (seen.done, seen.total, seen.message) == (2, 5, "deux fichiers sur cinq")
        assert (seen.kind, seen.label, seen.owner, seen.error) == (
            "import", "import de cinq fichiers", 5, None)
        assert seen.started_at is not None and seen.finished_at is None
        assert reader.get(second).state == "queued"
        release.set()
        done = reader.wait(first, timeout_s=30)
        assert done.state == "done" and (done.done, done.total, done.message) == (
            5, 5, "fini")
        assert done.result == {"kwh": [1.5, 2], "ok": True, "par_bâtiment": {"A": None},
                               "n": 3}
        assert done.created_at <= done.started_at <= done.finished_at
        assert done.finished_at.tzinfo is not None
        failed = reader.wait(second, timeout_s=30)
        assert failed.state == "failed" and "colonne 'value' absente" in failed.error
        assert failed.result is None
        assert [j.id for j in reader.list(5)] == [second, first]
        assert reader.list(6) == [] and reader.get("no-such-job") is None
    finally:
        release.set()
        runner.shutdown(wait=True)
        reader.shutdown()
        here.close()
        there.close()


def _row(store, runner: str, state: str, heartbeat: datetime, **more) -> str:
    import uuid
    job_id = uuid.uuid4().hex
    with store.engine.begin() as conn:
        conn.execute(insert(S.job).values(
            id=job_id, kind="analysis", label="analyse", owner_account_id=None, state=state,
            done=3, total=10, message="diagnostic", created_at=heartbeat - timedelta(hours=1),
            started_at=heartbeat - timedelta(hours=1) if state == "running" else None,
            heartbeat_at=heartbeat, runner=runner, **more))
    return job_id


def test_a_job_left_by_a_stopped_process_reads_as_interrupted(sqlite_url):
    store = open_store(sqlite_url)
    reg = JobRegistry(store)
    now = datetime.now(UTC)
    try:
        gone = _row(store, "web-1:4242:0badcafe", "running", now - timedelta(minutes=11))
        gone_queued = _row(store, "web-1:4242:0badcafe", "queued", now - timedelta(minutes=30))
        alive = _row(store, "web-2:77:12345678", "running", now - timedelta(minutes=2))
        mine = _row(store, reg.runner, "running", now - timedelta(minutes=30))
        ended = _row(store, "web-1:4242:0badcafe", "done", now - timedelta(hours=2),
                     result_json='{"ok": true}')
        for job_id in (gone, gone_queued):
            job = reg.get(job_id)
            assert job.state == "failed" and job.error == INTERRUPTED
            assert (job.done, job.total, job.message) == (3, 10, "diagnostic")  # as it was
        assert reg.get(alive).state == "running" and reg.get(alive).error is None
        assert reg.get(mine).state == "running"  # this process runs it: not interrupted
        assert reg.get(ended).state == "done" and reg.get(ended).result == {"ok": True}
        assert {j.id: j.state for j in reg.list()} == {
            gone: "failed", gone_queued: "failed", alive: "running", mine: "running",
            ended: "done"}
        with store.engine.connect() as conn:  # only shown so: the rows are left as they are
            assert conn.execute(select(S.job.c.state).where(S.job.c.id == gone)
                                ).scalar_one() == "running"
    finally:
        reg.shutdown()
        store.close()


def test_progress_writes_are_throttled_and_the_latest_is_written(sqlite_url):
    store = open_store(sqlite_url)
    updates = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_a):
        if statement.lstrip().upper().startswith("UPDATE JOB"):
            updates.append(statement)

    reg, reader = JobRegistry(store, workers=1), JobRegistry(store)
    release = threading.Event()

    def work(progress):
        for i in range(1, 1001):
            progress(i, 1000, f"ligne {i}")
        release.wait(10)
        return "fini"

    try:
        job_id = reg.submit("import", None, work)
        # the last value reaches the store while the job still runs (not only at its end)
        last = _until(lambda: (j := reader.get(job_id)) and j.done == 1000 and j)
        assert last.state == "running" and last.message == "ligne 1000"
        time.sleep(3 * FLUSH_S)  # nothing new to write: no more writes
        while_running = len(updates)
        release.set()
        done = reg.wait(job_id)
        assert done.state == "done" and done.result == "fini"
        assert (done.done, done.total, done.message) == (1000, 1000, "ligne 1000")
        # running, the first progress, a few throttled ones, the end: not 1,000 writes
        assert 3 <= while_running <= 10, updates
        assert len(updates) == while_running + 1
    finally:
        release.set()
        reg.shutdown(wait=True)
        store.close()


def test_only_the_newest_finished_jobs_are_kept(sqlite_url):
    store = open_store(sqlite_url)
    reg = JobRegistry(store, workers=2, keep=3)
    hold = threading.Event()
    try:
        running = reg.submit("demo", None, lambda p: hold.wait(10) and "tenu")
        finished = [reg.wait(reg.submit("demo", None, lambda p, i=i: i)).id for i in range(5)]
        old_gone = _row(store, "web-1:4242:0badcafe", "running",
                        datetime.now(UTC) - timedelta(hours=1))
        with store.engine.connect() as conn:  # pruned at each submit: 4 finished, not 5
            assert set(conn.execute(select(S.job.c.id)).scalars()) == {
                running, *finished[1:], old_gone}
        last = reg.submit("demo", None, lambda p: "dernier")  # prunes before it is stored
        kept = {j.id for j in reg.list()}
        # the 3 newest finished jobs, the running one (however old) and the new one; the
        # job of a stopped process counts as finished (and is the oldest)
        assert kept == {*finished[-3:], running, last}
        assert old_gone not in kept
        hold.set()
        assert reg.wait(running).result == "tenu" and reg.wait(last).result == "dernier"
    finally:
        hold.set()
        reg.shutdown(wait=True)
        store.close()
