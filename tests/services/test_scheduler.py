"""The scheduler's jobs and their times in Europe/Paris (across the change to summer time),
and one pass of the folder ingest on a real folder with a good and a bad file."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import select

from sobriete.api.settings import ServiceSettings
from sobriete.services import scheduler as SCH
from sobriete.services.jobs import JobRegistry
from sobriete.services.store import open_store
from sobriete.services.store import schema as S

PARIS = ZoneInfo("Europe/Paris")
HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;building_code;building_name;activity;floor_area_m2;"
        "heating_system;meter_code;meter_kind;meter_step_min;weather_station")
ROW = ("M;Métropole;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
       "A-elec;electricity;60;bedford")


@pytest.fixture
def started(sqlite_url, tmp_path):
    store = open_store(sqlite_url)
    jobs = JobRegistry(store)
    settings = ServiceSettings(scheduler=True, daily_analysis_at="05:30", digest_at="07:45",
                               ingest_dir=str(tmp_path / "depot"))
    sched = SCH.start(store, settings, jobs, paused=True)  # registered, nothing fires
    yield sched
    SCH.stop(sched)
    jobs.shutdown()
    store.close()


def _next(sched, job_id: str, after: datetime) -> datetime:
    return sched.get_job(job_id).trigger.get_next_fire_time(None, after)


def test_jobs_are_registered_at_their_local_times(started):
    assert {j.id for j in started.get_jobs()} == {
        "daily_analysis", "alert_digest", "immediate_alerts", "folder_ingest"}
    assert "control" not in " ".join(j.id for j in started.get_jobs())  # opt-in only
    winter = datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)  # the eve of summer time
    first = _next(started, "daily_analysis", winter)
    assert first == datetime(2026, 3, 29, 5, 30, tzinfo=PARIS)
    assert first.utcoffset() == timedelta(hours=2)  # 03:30 UTC: summer time already
    assert _next(started, "daily_analysis", datetime(2026, 1, 10, 6, 0, tzinfo=PARIS)) == \
        datetime(2026, 1, 11, 5, 30, tzinfo=PARIS)
    digest = _next(started, "alert_digest", datetime(2026, 1, 10, 6, 0, tzinfo=PARIS))
    assert (digest.hour, digest.minute, digest.day) == (7, 45, 10)
    assert digest.utcoffset() == timedelta(hours=1)
    assert started.get_job("immediate_alerts").trigger.interval == timedelta(minutes=15)
    assert started.get_job("folder_ingest").trigger.interval == timedelta(minutes=5)


def test_no_folder_no_ingest_job(sqlite_url):
    store = open_store(sqlite_url)
    jobs = JobRegistry(store)
    sched = SCH.start(store, ServiceSettings(scheduler=True), jobs, paused=True)
    try:
        assert {j.id for j in sched.get_jobs()} == {
            "daily_analysis", "alert_digest", "immediate_alerts"}
    finally:
        SCH.stop(sched)
        jobs.shutdown()
        store.close()


def test_folder_ingest_moves_good_and_bad_files(any_store_url, tmp_path):
    store = open_store(any_store_url)
    try:
        depot = tmp_path / "depot"
        (depot / "registry").mkdir(parents=True)
        (depot / "meter-csv").mkdir()
        (depot / "registry" / "parc.csv").write_text(HEAD + "\n" + ROW + "\n", "utf-8")
        (depot / "meter-csv" / "releves.csv").write_text("horodatage;valeur\nhier;12\n",
                                                          "utf-8")
        (depot / "meter-csv" / "en-cours.csv.part").write_text("x", "utf-8")
        (depot / "perdu.csv").write_text("x", "utf-8")
        young = depot / "registry" / "copie.csv"
        young.write_text(HEAD + "\n", "utf-8")
        os.utime(young, None)
        report = SCH.ingest_folder(store, depot, min_age_s=3600 * 24 * 365 * 50)
        assert report["imported"] == report["failed"] == []  # nothing is old enough yet
        for f in (depot / "registry" / "parc.csv", depot / "meter-csv" / "releves.csv"):
            os.utime(f, (0, 0))
        report = SCH.ingest_folder(store, depot, min_age_s=3600 * 24 * 365 * 50)
        assert [x["file"] for x in report["imported"]] == ["parc.csv"]
        assert (depot / "done" / "registry" / "parc.csv").exists()
        (bad,) = report["failed"]
        moved = depot / "failed" / "meter-csv" / "releves.csv"
        assert bad["file"] == "releves.csv" and moved.exists()
        error = (depot / "failed" / "meter-csv" / "releves.csv.error.txt").read_text("utf-8")
        assert error.startswith("FormatError") and "line 2" in error and "hier" in error
        assert (depot / "meter-csv" / "en-cours.csv.part").exists()  # still being copied
        assert young.exists() and (depot / "perdu.csv").exists()  # nothing lost
        assert any("perdu.csv" in x for x in report["ignored"])
        with store.engine.connect() as conn:
            assert conn.execute(select(S.building.c.code)).scalars().all() == ["A"]
        again = SCH.ingest_folder(store, depot, min_age_s=3600 * 24 * 365 * 50)
        assert again["imported"] == again["failed"] == []
    finally:
        store.close()


def test_control_advise_records_one_step_per_building_and_sends_nothing(sqlite_url, tmp_path):
    from sobriete.services import control_demo as D
    from sobriete.services.store.control import decisions

    store = open_store(sqlite_url)
    D.import_files(store, D.write_files(tmp_path / "ecole", pd.Timestamp("2024-01-08", tz="UTC"),
                                        14, weather_days=16))
    sched = SCH.start(store, ServiceSettings(scheduler=True, control_buildings=[D.BUILDING]),
                      JobRegistry(store), paused=True)
    assert sched.get_job("control_advise").trigger.interval == timedelta(minutes=15)
    SCH.stop(sched)
    out = SCH.control_advise(store, [D.BUILDING, "NOPE"], at=datetime(2024, 1, 21, 23,
                                                                        tzinfo=UTC))
    assert out[D.BUILDING].startswith("decision ") and "NOPE" in out["NOPE"]
    with store.engine.connect() as conn:
        rows = decisions(conn)
    assert len(rows) == 1 and rows[0]["mode"] == "advise" and rows[0]["dispatch"] == "not_sent"
    store.close()


@pytest.mark.parametrize(("last", "now", "late"), [
    (None, datetime(2026, 1, 10, 7, 0, tzinfo=PARIS), False),  # never ran: nothing to catch up
    (datetime(2026, 1, 9, 5, 30, 2, tzinfo=PARIS), datetime(2026, 1, 10, 7, 0, tzinfo=PARIS),
     True),  # down at 05:30 today
    (datetime(2026, 1, 10, 5, 30, 2, tzinfo=PARIS), datetime(2026, 1, 10, 7, 0, tzinfo=PARIS),
     False),
    (datetime(2026, 1, 9, 5, 30, 2, tzinfo=PARIS), datetime(2026, 1, 10, 5, 0, tzinfo=PARIS),
     False),  # today's time is still to come
    (datetime(2026, 3, 27, 5, 30, 2, tzinfo=PARIS), datetime(2026, 3, 29, 5, 0, tzinfo=PARIS),
     True),  # down over the change to summer time: 28 March 05:30 was missed
    (datetime(2026, 3, 28, 4, 30, 2, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=PARIS),
     True),  # 29 March 05:30 summer time is 03:30 UTC
])
def test_a_missed_daily_time_is_known(last, now, late):
    assert SCH.missed(last, "05:30", PARIS, now) is late


def test_a_daily_analysis_missed_while_down_runs_at_start(sqlite_url):
    store = open_store(sqlite_url)
    jobs = JobRegistry(store)
    settings = ServiceSettings(scheduler=True, daily_analysis_at="05:30")

    def next_run():
        sched = SCH.start(store, settings, jobs, paused=True)
        try:
            return sched.get_job("daily_analysis").next_run_time
        finally:
            SCH.stop(sched)

    try:
        fresh = next_run()  # nothing ran yet: at the next 05:30 only
        assert (fresh.hour, fresh.minute) == (5, 30) and fresh > datetime.now(UTC)
        job = jobs.submit("analysis", None, lambda progress: None, "analyse quotidienne")
        jobs.wait(job)
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        with store.engine.begin() as conn:
            conn.execute(S.job.update().where(S.job.c.id == job).values(
                created_at=two_days_ago))
        assert jobs.newest("analysis") == two_days_ago
        assert abs(next_run() - datetime.now(UTC)) < timedelta(minutes=1)
        # an analysis an account started is not the scheduler's
        assert jobs.newest("analysis", owner_account_id=1) is None
    finally:
        jobs.shutdown()
        store.close()
