"""No loss, no duplicate across SIGKILL: the service is killed mid-stream and restarted.

The test runs its own Mosquitto on a free loopback port, configured so the broker itself
never drops a QoS 1 message (max_queued_messages 0 = unbounded): a default broker queues at
most 1000 messages per client beyond those in flight and would lose the rest by design,
which is a broker setting this test must not depend on (see docs/mqtt.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

pytestmark = pytest.mark.mqtt

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
N = 10_000
N_SERIES = 10
PREFIX = "sobriete/v1"
BASE = datetime(2026, 1, 5, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture
def own_broker(tmp_path: Path):
    """A private Mosquitto: (host, port). Skips (fails in CI) when the binary is missing."""
    exe = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )
    if exe is None:
        msg = "the mosquitto binary is not installed"
        if IN_CI:
            pytest.fail(msg + ", and CI=true requires it")
        pytest.skip(msg + " (runs in CI, where CI=true)")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"  # only the service is killed; the broker keeps its memory
        "max_queued_messages 0\n"
        "max_queued_bytes 0\n"
        "max_inflight_messages 0\n"
    )
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "mosquitto.log", "wb"))
    try:
        if not _wait_port(port, 10):
            pytest.fail(f"mosquitto did not listen on {port}: "
                        f"{(tmp_path / 'mosquitto.log').read_text()}")
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The service itself, not the CLI: what is under test is delivery, and the `sobriete` command
# group imports every other command (test_mqtt_ingest.py covers `sobriete ingest mqtt`).
LAUNCHER = """
import logging, sys
from sobriete.services.mqtt_ingest import IngestSettings, run
logging.basicConfig(level="INFO", format="%(asctime)s level=%(levelname)s %(message)s")
host, port, url, batch, flush = sys.argv[1:]
sys.exit(run(IngestSettings(host=host, port=int(port), db_url=url, batch_size=int(batch),
                            flush_seconds=float(flush), client_id="sobriete-sigkill-test",
                            log_every_s=1.0)))
"""


def _start_service(broker, db_url: str, log: Path, batch_size: int, flush_seconds: float):
    args = [sys.executable, "-c", LAUNCHER, broker[0], str(broker[1]), db_url,
            str(batch_size), str(flush_seconds)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))


def _wait_for(pred, timeout: float, what: str, interval: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _log_has(log: Path, text: str, after: int = 0) -> bool:
    return log.exists() and text in log.read_text()[after:]


def _store_counts(db: Path) -> tuple[int, float]:
    if not db.exists():
        return 0, 0.0
    with sqlite3.connect(db, timeout=30) as c:
        try:
            n, total = c.execute(
                "SELECT count(*), coalesce(sum(value), 0) FROM reading").fetchone()
        except sqlite3.OperationalError:  # schema not created yet
            return 0, 0.0
    return n, total


def _message(i: int) -> tuple[str, bytes]:
    series, step = i % N_SERIES, i // N_SERIES
    ts = (BASE + timedelta(minutes=10 * step)).isoformat()
    payload = (f'{{"ts": "{ts}", "quantity": "energy_kwh", "value": {i}, '
               f'"duration_s": 600}}')
    return f"{PREFIX}/ECOLE-01/meter/m{series}", payload.encode()


class Publisher(threading.Thread):
    """Publishes N QoS 1 messages at a steady pace, so the kill lands mid-stream."""

    def __init__(self, broker, per_second: int) -> None:
        super().__init__(daemon=True)
        self.broker, self.per_second = broker, per_second
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sigkill-publisher")
            c.max_inflight_messages_set(500)
            c.max_queued_messages_set(0)
            c.connect(*self.broker)
            c.loop_start()
            infos, t0, chunk = [], time.monotonic(), 100
            for start in range(0, N, chunk):
                for i in range(start, min(start + chunk, N)):
                    infos.append(c.publish(*_message(i), qos=1))
                self.sent = min(start + chunk, N)
                delay = t0 + self.sent / self.per_second - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            for info in infos:  # the broker holds them all: it acked every one
                info.wait_for_publish(timeout=30)
                assert info.is_published()
            c.disconnect()
            c.loop_stop()
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(own_broker, tmp_path):
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    log = tmp_path / "service.log"
    t_start = time.monotonic()
    svc = _start_service(own_broker, url, log, batch_size=500, flush_seconds=0.5)
    kills = []
    try:
        # The session must exist before publishing: a broker queues only for known sessions.
        _wait_for(lambda: _log_has(log, "event=subscribed"), 20, "the first subscription")
        pub = Publisher(own_broker, per_second=2500)
        pub.start()
        # Two kills: one a little after a commit, so received-but-uncommitted messages die
        # with the process; one right at a commit, so committed-but-unacked ones come back.
        for threshold, delay in ((3000, 0.13), (6000, 0.0)):
            _wait_for(lambda t=threshold: _store_counts(db)[0] >= t, 30, f"{threshold} stored")
            time.sleep(delay)
            svc.send_signal(signal.SIGKILL)
            svc.wait(10)
            kills.append((_store_counts(db)[0], pub.sent))
            time.sleep(0.4)  # the publisher keeps going while the service is down
            offset = len(log.read_text())
            svc = _start_service(own_broker, url, log, batch_size=500, flush_seconds=0.5)
            _wait_for(lambda o=offset: _log_has(log, "event=connected", o), 20, "reconnect")
            assert "session_present=True" in log.read_text()[offset:]
        assert kills[-1][0] < N, "the kills came too late to test anything"
        try:
            _wait_for(lambda: _store_counts(db)[0] >= N, 45, f"{N} stored readings")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; stored {_store_counts(db)[0]}, kills {kills}") from None
        pub.join(30)
        assert pub.error is None, pub.error
        time.sleep(1.0)  # late duplicates or revisions, if any, would land now
        n, total = _store_counts(db)
        print(f"\n(stored, published) at each SIGKILL: {kills}; final stored: {n};"
              f" total {time.monotonic() - t_start:.1f} s")
        assert n == N
        assert total == sum(range(N))  # a lost message replaced by another would show here
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT count(*) FROM mqtt_dead_letter").fetchone()[0] == 0
            assert c.execute("SELECT count(*) FROM reading_revision").fetchone()[0] == 0
        svc.send_signal(signal.SIGTERM)
        assert svc.wait(15) == 0
        with sqlite3.connect(db) as c:
            statuses = [r[0] for r in c.execute("SELECT status FROM import_batch ORDER BY id")]
            new = c.execute("SELECT sum(rows_new) FROM import_batch").fetchone()[0]
        assert statuses == ["interrupted", "interrupted", "ok"]
        assert new == N
    finally:
        if svc.poll() is None:
            svc.kill()
            svc.wait()


def test_sigterm_flushes_what_is_pending(own_broker, tmp_path):
    db = tmp_path / "store.sqlite"
    log = tmp_path / "service.log"
    # A batch that never fills and a timer that never fires: only the stop can flush.
    svc = _start_service(own_broker, f"sqlite:///{db}", log, batch_size=1000,
                         flush_seconds=600)
    try:
        _wait_for(lambda: _log_has(log, "event=subscribed"), 20, "the subscription")
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sigterm-publisher")
        c.connect(*own_broker)
        c.loop_start()
        infos = [c.publish(*_message(i), qos=1) for i in range(25)]
        for info in infos:
            info.wait_for_publish(timeout=10)
        c.disconnect()
        c.loop_stop()
        _wait_for(lambda: _log_has(log, "received=25"), 10, "the service to hold 25 messages")
        assert _store_counts(db)[0] == 0
        svc.send_signal(signal.SIGTERM)
        assert svc.wait(15) == 0
        assert _store_counts(db) == (25, float(sum(range(25))))
        assert "event=stopping pending=25" in log.read_text()
    finally:
        if svc.poll() is None:
            svc.kill()
            svc.wait()
