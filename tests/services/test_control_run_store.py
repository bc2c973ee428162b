"""`run_on_store`: the control loop on a stored building (simulator data imported through the
normal path). Dry run and advise by default: N steps give N audit rows in the store and N
JSONL lines and nothing sent; stale data falls back to the schedule in the step; a real driver
needs automatic mode and --apply; with them, the real Mosquitto receives the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sobriete.control.audit import AuditLog
from sobriete.control.drivers import DryRunDriver, MqttDriver
from sobriete.control.interface import Mode
from sobriete.services import control_demo as D
from sobriete.services.control_run import ControlRunError, RunOptions, run_on_store
from sobriete.services.store import open_store
from sobriete.services.store.control import decisions, plans

START = pd.Timestamp("2024-01-08", tz="UTC")
# The data end with the reading of 2024-01-21 23:45 UTC: from 23:00, steps 1-5 are fresh (the
# 00:00 step still has the 23:45 reading, one step old), steps 6-8 are stale.
REPLAY = pd.Timestamp("2024-01-21T23:00Z")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return D.write_files(tmp_path_factory.mktemp("run"), START, 14, weather_days=16)


def test_dry_run_advise_records_every_step_and_sends_nothing(any_store_url, files, tmp_path):
    store = open_store(any_store_url)
    D.import_files(store, files)
    driver, jsonl, seen = DryRunDriver(), tmp_path / "audit.jsonl", []
    res = run_on_store(store, D.BUILDING, None, driver,
                       RunOptions(steps=8, at=REPLAY, jsonl=jsonl), progress=seen.append)
    assert driver.sent == [] and res.sent == 0  # advise: nothing handed to any driver
    assert [s.index for s in seen] == list(range(1, 9)) and res.plans_solved == 8
    with store.engine.connect() as conn:
        rows = decisions(conn, plan_id=res.plan_id)
        run = plans(conn, building_code=D.BUILDING)
    assert len(rows) == 8 and len(run) == 1 and run[0]["kind"] == "run"
    assert {r["dispatch"] for r in rows} == {"not_sent"} and {r["mode"] for r in rows} == {
        "advise"}
    assert all(r["driver"] == "dry-run" and r["fallback"] for r in rows)  # schedule kept
    assert all(r["proposed_power_w"] is not None for r in rows)
    assert "Proposé :" in rows[0]["reason_fr"] and "Proposed:" in rows[0]["reason_en"]
    times = [pd.Timestamp(r["time_utc"]) for r in rows]
    assert times == list(pd.date_range(REPLAY, periods=8, freq="15min"))
    prov = json.loads(run[0]["provenance_json"])
    assert prov["driver"] == "dry-run" and prov["replay"] and prov["forecast"] == "stored"
    # The JSONL file has the same eight records; a second run appends, never rewrites.
    first = jsonl.read_text(encoding="utf-8")
    assert len(AuditLog.from_jsonl(jsonl)) == 8
    run_on_store(store, D.BUILDING, D.ZONE, DryRunDriver(),
                 RunOptions(steps=2, at=REPLAY, jsonl=jsonl))
    assert jsonl.read_text(encoding="utf-8").startswith(first)
    assert len(AuditLog.from_jsonl(jsonl)) == 10
    store.close()


def test_stale_data_falls_back_to_the_schedule_in_the_same_step(sqlite_url, files):
    store = open_store(sqlite_url)
    D.import_files(store, files)
    driver = DryRunDriver()
    res = run_on_store(store, D.BUILDING, None, driver,
                       RunOptions(mode=Mode.AUTOMATIC, steps=8, at=REPLAY))
    applied = [s.record.applied for s in res.steps]
    assert [a.fallback for a in applied] == [False] * 5 + [True] * 3
    assert all(a.zones[0].heating_power_w is not None for a in applied[:5])
    # The schedule in the step (Monday 01:15 local after a weekend: closed, 8 °C).
    assert all(a.zones[0].setpoint_c == 8.0 for a in applied[5:])
    assert "observation vieille de 1800 s" in res.steps[5].record.explanation_fr
    assert res.fallbacks == 3 and len(driver.sent) == 8 and res.sent == 8  # dry run: kept here
    assert {str(s.record.dispatch) for s in res.steps} == {"sent"}
    store.close()


def test_approve_mode_records_pending(sqlite_url, files):
    store = open_store(sqlite_url)
    D.import_files(store, files)
    driver = DryRunDriver()
    res = run_on_store(store, D.BUILDING, None, driver,
                       RunOptions(mode=Mode.APPROVE, steps=2, at=REPLAY))
    assert driver.sent == [] and {str(s.record.dispatch) for s in res.steps} == {"pending"}
    store.close()


def test_a_real_driver_needs_automatic_and_apply(sqlite_url, files):
    store = open_store(sqlite_url)
    D.import_files(store, files)
    drv = MqttDriver("127.0.0.1", 1)  # never reached
    for opts in (RunOptions(steps=1, at=REPLAY),
                 RunOptions(mode=Mode.AUTOMATIC, steps=1, at=REPLAY),
                 RunOptions(mode=Mode.APPROVE, apply=True, steps=1, at=REPLAY)):
        with pytest.raises(ControlRunError, match="--mode automatic and --apply"):
            run_on_store(store, D.BUILDING, None, drv, opts)
    with store.engine.connect() as conn:
        assert plans(conn) == [] and decisions(conn) == []  # refused before anything
    with pytest.raises(ControlRunError, match="multiple of 900"):
        run_on_store(store, D.BUILDING, None, DryRunDriver(),
                     RunOptions(steps=1, at=REPLAY, interval_s=600))
    store.close()


@pytest.mark.mqtt
def test_automatic_apply_sends_through_mosquitto(sqlite_url, files, mqtt_broker,
                                                 mqtt_subscriber):
    host, port = mqtt_broker
    store = open_store(sqlite_url)
    D.import_files(store, files)
    prefix = mqtt_subscriber.prefix
    res = run_on_store(store, D.BUILDING, None, MqttDriver(host, port, prefix),
                       RunOptions(mode=Mode.AUTOMATIC, apply=True, steps=7, at=REPLAY))
    got = mqtt_subscriber.wait_for(7)
    assert res.sent == 7 and len(got) == 7
    payloads = [json.loads(m.payload) for m in got]
    assert {m.topic for m in got} == {f"{prefix}/{D.BUILDING}/{D.ZONE}/command"}
    assert all("heating_power_w" in p for p in payloads[:5])  # planned power
    assert all(p.get("setpoint_c") == 8.0 for p in payloads[5:])  # stale: the schedule
    with store.engine.connect() as conn:
        rows = decisions(conn, plan_id=res.plan_id)
    assert [r["driver_error"] for r in rows] == [None] * 7
    assert {r["dispatch"] for r in rows} == {"sent"} and {r["driver"] for r in rows} == {"mqtt"}
    store.close()


def test_live_mode_waits_for_each_step_on_the_clock(sqlite_url, files):
    store = open_store(sqlite_url)
    D.import_files(store, files)
    now = [pd.Timestamp("2024-01-21T23:07Z").to_pydatetime()]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += pd.Timedelta(seconds=s)

    res = run_on_store(store, D.BUILDING, None, DryRunDriver(), RunOptions(steps=3),
                       sleep=sleep, clock=lambda: now[0])
    assert [s.record.time_utc for s in res.steps] == list(
        pd.date_range("2024-01-21T23:00Z", periods=3, freq="15min"))
    assert waits == [480.0, 900.0]  # to 23:15, then to 23:30; never before a step's time
    store.close()


def test_unreachable_broker_is_recorded_and_the_run_goes_on(sqlite_url, files):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    store = open_store(sqlite_url)
    D.import_files(store, files)
    res = run_on_store(store, D.BUILDING, None, MqttDriver("127.0.0.1", port, timeout_s=1),
                       RunOptions(mode=Mode.AUTOMATIC, apply=True, steps=2, at=REPLAY))
    assert len(res.steps) == 2 and res.sent == 0
    with store.engine.connect() as conn:
        rows = decisions(conn, plan_id=res.plan_id)
    assert all(f"127.0.0.1:{port}" in r["driver_error"] for r in rows)
    store.close()


def test_until_counts_the_steps(sqlite_url, files):
    store = open_store(sqlite_url)
    D.import_files(store, files)
    res = run_on_store(store, D.BUILDING, None, DryRunDriver(),
                       RunOptions(until=REPLAY + pd.Timedelta(hours=1), at=REPLAY,
                                  interval_s=1800))
    assert [s.record.time_utc for s in res.steps] == [REPLAY, REPLAY + pd.Timedelta(minutes=30)]
    with pytest.raises(ControlRunError, match="not both"):
        run_on_store(store, D.BUILDING, None, DryRunDriver(),
                     RunOptions(steps=2, until=REPLAY + pd.Timedelta(hours=1), at=REPLAY))
    store.close()
