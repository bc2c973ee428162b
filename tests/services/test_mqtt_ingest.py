"""The MQTT ingestion service on the real broker: normal path on both stores, dead letters,
re-deliveries, a message the store refuses, and the CLI's options."""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import create_engine, text

from sobriete.services import mqtt_ingest
from sobriete.services.mqtt_ingest import IngestSettings, MqttIngestService

pytestmark = pytest.mark.mqtt


@pytest.fixture
def prefix() -> str:
    # A topic tree and session of its own: the shared broker may serve other tests at once.
    return f"sobriete-test/{uuid.uuid4().hex[:10]}/v1"


@contextmanager
def running(broker, url: str, prefix: str, **opts):
    opts = {"batch_size": 50, "flush_seconds": 0.2, "session_expiry_s": 60,
            "client_id": f"ingest-{prefix.split('/')[1]}", **opts}
    settings = IngestSettings(host=broker[0], port=broker[1], topic_prefix=prefix, db_url=url,
                              **opts)
    svc = MqttIngestService(settings)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", svc.run()), daemon=True)
    thread.start()
    _wait(lambda: svc._client is not None and svc._client.is_connected(), "the connection")
    time.sleep(0.2)  # the SUBSCRIBE follows the CONNACK
    try:
        yield svc, thread
    finally:
        svc.stop()
        thread.join(15)
    assert not thread.is_alive()
    assert result["rc"] == 0


def _wait(pred, what: str, timeout: float = 15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def publish(broker, messages: list[tuple[str, bytes | str]]) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.connect(*broker)
    c.loop_start()
    infos = [c.publish(t, p.encode() if isinstance(p, str) else p, qos=1) for t, p in messages]
    for info in infos:
        info.wait_for_publish(timeout=10)
    c.disconnect()
    c.loop_stop()


def _scalar(url: str, sql: str):
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with eng.connect() as c:
            return c.execute(text(sql)).scalar()
    finally:
        eng.dispose()


def _rows(url: str, sql: str) -> list[tuple]:
    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with eng.connect() as c:
            return [tuple(r) for r in c.execute(text(sql))]
    finally:
        eng.dispose()


def _energy(i: int, value: float | None = None) -> str:
    return json.dumps({"ts": f"2026-01-05T{i // 6:02d}:{i % 6 * 10:02d}:00+01:00",
                       "quantity": "energy_kwh", "value": float(i) if value is None else value,
                       "duration_s": 600})


def test_normal_path_on_both_stores(mqtt_broker, any_store_url, prefix):
    url = any_store_url
    msgs = [(f"{prefix}/MAIRIE/meter/PRM1", _energy(i)) for i in range(120)]
    msgs.append((f"{prefix}/ECOLE/sensor/zone-1", json.dumps({"readings": [
        {"ts": "2026-01-05T08:00:00+01:00", "quantity": "temp_zone_c", "value": 19.5},
        {"ts": "2026-01-05T08:00:00+01:00", "quantity": "setpoint_c", "value": 19.0},
    ]})))
    msgs.append((f"{prefix}/ECOLE/weather/STATION-7",
                 json.dumps({"ts": "2026-01-05T07:00:00Z", "quantity": "temp_air_c",
                             "value": -2.5})))
    with running(mqtt_broker, url, prefix):
        publish(mqtt_broker, msgs)
        _wait(lambda: _scalar(url, "SELECT count(*) FROM reading") == 123, "123 readings")
        # Re-delivery of stored readings (same values) is a no-op; a changed value is revised.
        publish(mqtt_broker, msgs[1:11] + [(f"{prefix}/MAIRIE/meter/PRM1", _energy(0, 99.0))])
        _wait(lambda: _scalar(url, "SELECT count(*) FROM reading_revision") == 1, "revision")
    assert _scalar(url, "SELECT count(*) FROM reading") == 123
    assert _scalar(url, "SELECT sum(value) FROM reading WHERE series_id = "
                        "(SELECT id FROM series WHERE key = 'PRM1')") == sum(range(120)) + 99
    assert sorted(_rows(url, "SELECT key, quantity, kind FROM series")) == [
        ("PRM1", "energy_kwh", "meter"), ("STATION-7", "temp_air_c", "weather"),
        ("zone-1", "setpoint_c", "sensor"), ("zone-1", "temp_zone_c", "sensor")]
    [(fmt, status, rows_in, new, unchanged, revised)] = _rows(
        url, "SELECT format, status, rows_in, rows_new, rows_unchanged, rows_revised"
             " FROM import_batch")
    assert (fmt, status) == ("mqtt", "ok")
    assert (rows_in, new, unchanged, revised) == (134, 123, 10, 1)
    assert _scalar(url, "SELECT count(*) FROM mqtt_dead_letter") == 0


BAD = [
    ("bad json", "{oops", "not JSON"),
    ("unknown quantity", '{"ts": "2026-01-05T08:00:00Z", "quantity": "temp_k", "value": 1}',
     "unknown quantity"),
    ("naive ts", '{"ts": "2026-01-05T08:00:00", "quantity": "temp_zone_c", "value": 20}',
     "no UTC offset"),
    ("out of range", '{"ts": "2026-01-05T08:00:00Z", "quantity": "temp_zone_c", "value": 95}',
     "out of the valid range"),
    ("empty", "", "not JSON"),
]


def test_malformed_messages_are_dead_lettered_and_the_service_keeps_running(
    mqtt_broker, sqlite_url, prefix
):
    topic = f"{prefix}/ECOLE/sensor/zone-1"
    good = '{"ts": "2026-01-05T08:00:00+01:00", "quantity": "temp_zone_c", "value": 20.5}'
    with running(mqtt_broker, sqlite_url, prefix) as (svc, thread):
        publish(mqtt_broker, [(topic, p) for _, p, _ in BAD]
                + [(f"{prefix}/ECOLE/boiler", good), (f"{prefix}/ECOLE/heater/x", good)])
        publish(mqtt_broker, [(topic, good)])
        _wait(lambda: _scalar(sqlite_url, "SELECT count(*) FROM reading") == 1, "good reading")
        _wait(lambda: _scalar(sqlite_url, "SELECT count(*) FROM mqtt_dead_letter") == 7,
              "seven dead letters")
        assert thread.is_alive()
    dead = _rows(sqlite_url, "SELECT topic, payload, reason, received_at FROM mqtt_dead_letter"
                             " ORDER BY id")
    for (_, payload, words), (t, stored, reason, received_at) in zip(BAD, dead, strict=False):
        assert t == topic
        assert bytes(stored) == payload.encode()  # the raw bytes, for replay after a fix
        assert words in reason, reason
        assert received_at is not None
    assert "three levels" in dead[5][2]
    assert "unknown kind" in dead[6][2]
    assert svc.stats.dead_letters == 7


def test_a_message_the_store_refuses_is_dead_lettered_alone(
    mqtt_broker, sqlite_url, prefix, monkeypatch
):
    from sqlalchemy.exc import IntegrityError

    real = mqtt_ingest.write_readings

    def picky(conn, frame, import_id, *, kind="meter"):
        if (frame["series_key"] == "POISON").any():
            raise IntegrityError("INSERT ...", {}, Exception("simulated constraint"))
        return real(conn, frame, import_id, kind=kind)

    monkeypatch.setattr(mqtt_ingest, "write_readings", picky)
    msgs = [(f"{prefix}/B/meter/M{i}", _energy(i)) for i in range(5)]
    msgs.insert(2, (f"{prefix}/B/meter/POISON", _energy(1)))
    with running(mqtt_broker, sqlite_url, prefix, batch_size=6, flush_seconds=5):
        publish(mqtt_broker, msgs)
        _wait(lambda: _scalar(sqlite_url, "SELECT count(*) FROM mqtt_dead_letter") == 1,
              "the poison message in the dead letters")
    assert _scalar(sqlite_url, "SELECT count(*) FROM reading") == 5
    reason = _scalar(sqlite_url, "SELECT reason FROM mqtt_dead_letter")
    assert "store refused" in reason and "simulated constraint" in reason


def test_cli_maps_options_to_settings(monkeypatch):
    from click.testing import CliRunner

    from sobriete.cli.ingest import ingest

    seen = {}
    monkeypatch.setattr(mqtt_ingest, "run", lambda s: seen.setdefault("s", s) and 0)
    res = CliRunner().invoke(ingest, [
        "mqtt", "--broker", "broker.local:8883", "--topic-prefix", "ville/v1/",
        "--client-id", "ville-ingest", "--db", "sqlite:///x.sqlite", "--batch-size", "200",
        "--flush-seconds", "5", "--username", "u"], env={"SOBRIETE_MQTT_PASSWORD": "p"})
    assert res.exit_code == 0, res.output
    s = seen["s"]
    assert (s.host, s.port, s.topic_prefix, s.client_id) == (
        "broker.local", 8883, "ville/v1", "ville-ingest")
    assert (s.db_url, s.batch_size, s.flush_seconds, s.username, s.password) == (
        "sqlite:///x.sqlite", 200, 5.0, "u", "p")
    bad = CliRunner().invoke(ingest, ["mqtt", "--broker", "host:notaport"])
    assert bad.exit_code != 0 and "host:port" in bad.output


def test_store_outage_holds_messages_unacknowledged_until_it_is_back(
    mqtt_broker, sqlite_url, prefix, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    real = mqtt_ingest.write_readings
    calls = {"n": 0}

    def flaky(conn, frame, import_id, *, kind="meter"):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OperationalError("INSERT ...", {}, Exception("simulated outage"))
        return real(conn, frame, import_id, kind=kind)

    monkeypatch.setattr(mqtt_ingest, "write_readings", flaky)
    with running(mqtt_broker, sqlite_url, prefix, batch_size=5) as (svc, _):
        publish(mqtt_broker, [(f"{prefix}/B/meter/M", _energy(i)) for i in range(5)])
        _wait(lambda: calls["n"] >= 1, "the first failed flush")
        assert svc.stats.acked == 0
        _wait(lambda: _scalar(sqlite_url, "SELECT count(*) FROM reading") == 5, "recovery")
    assert svc.stats.acked == 5
    assert _scalar(sqlite_url, "SELECT count(*) FROM mqtt_dead_letter") == 0


def test_every_cli_option_is_documented():
    from pathlib import Path

    from sobriete.cli.ingest import ingest

    doc = (Path(__file__).resolve().parents[2] / "docs" / "mqtt.md").read_text()
    for param in ingest.commands["mqtt"].params:
        for opt in param.opts:
            assert f"`{opt}" in doc, f"{opt} is not documented in docs/mqtt.md"


def test_a_crash_between_commit_and_ack_redelivers_and_changes_nothing(
    mqtt_broker, sqlite_url, prefix, monkeypatch
):
    class Crash(Exception):
        pass

    def crash(self, batch):
        raise Crash("died after the commit, before any PUBACK")

    monkeypatch.setattr(MqttIngestService, "_ack", crash)
    settings = IngestSettings(host=mqtt_broker[0], port=mqtt_broker[1], topic_prefix=prefix,
                              db_url=sqlite_url, client_id=f"crash-{prefix.split('/')[1]}",
                              session_expiry_s=60, batch_size=5, flush_seconds=0.2)
    first = MqttIngestService(settings)
    died = []
    thread = threading.Thread(target=lambda: died.append(_raises(first.run, Crash)))
    thread.start()
    _wait(lambda: first._client is not None and first._client.is_connected(), "connection")
    time.sleep(0.2)
    publish(mqtt_broker, [(f"{prefix}/B/meter/M", _energy(i)) for i in range(5)])
    thread.join(15)
    assert died == [True]
    assert _scalar(sqlite_url, "SELECT count(*) FROM reading") == 5

    monkeypatch.undo()
    with running(mqtt_broker, sqlite_url, prefix, client_id=settings.client_id) as (svc, _):
        _wait(lambda: svc.stats.acked == 5, "the re-delivered messages, acknowledged")
    assert svc.stats.readings_new == 0
    assert _scalar(sqlite_url, "SELECT count(*) FROM reading") == 5
    assert _rows(sqlite_url, "SELECT status, rows_new, rows_unchanged FROM import_batch"
                             " ORDER BY id") == [("interrupted", 5, 0), ("ok", 0, 5)]


def _raises(fn, exc_type) -> bool:
    try:
        fn()
    except exc_type:
        return True
    return False
