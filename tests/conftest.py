"""Shared fixtures: real data from ../shared/data and the real services.

Tests that need PostgreSQL or Mosquitto run against the real service. In CI (CI=true) an
absent service is a failure; elsewhere the test skips and says why.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SOBRIETE_SHARED_DATA", REPO.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("SOBRIETE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MQTT_HOST = os.environ.get("SOBRIETE_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("SOBRIETE_TEST_MQTT_PORT", "1883"))


def _unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is not reachable, and CI=true requires it")
    pytest.skip(f"{what} is not reachable here (runs in CI, where CI=true)")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        _unavailable(f"the shared data folder {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """Admin URL of the real PostgreSQL server."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    try:
        eng = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
        with eng.connect():
            pass
        eng.dispose()
    except OperationalError:
        _unavailable(f"PostgreSQL at {PG_ADMIN_URL}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server_url: str):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine

    name = f"sobriete_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        pg_server_url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = pg_server_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    if not _port_open(MQTT_HOST, MQTT_PORT):
        _unavailable(f"the MQTT broker at {MQTT_HOST}:{MQTT_PORT}")
    return MQTT_HOST, MQTT_PORT


class Subscription:
    """Messages received on ``<prefix>/#`` (QoS 1) at the real broker."""

    def __init__(self, host: str, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.prefix = f"test-{uuid.uuid4().hex[:8]}"
        self.got: list = []
        subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.on_message = lambda _c, _u, m: self.got.append(m)
        self._client.on_subscribe = lambda *_a: subscribed.set()
        self._client.connect(host, port)
        self._client.subscribe(f"{self.prefix}/#", qos=1)
        self._client.loop_start()
        assert subscribed.wait(5), "no SUBACK from the broker"

    def wait_for(self, n: int, timeout_s: float = 5.0) -> list:
        """The messages once ``n`` have arrived (or the timeout), after a short quiet time
        so that an extra message would be seen."""
        deadline = time.monotonic() + timeout_s
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        return list(self.got)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def mqtt_subscriber(mqtt_broker):
    """A subscriber on a fresh topic prefix of the real broker (``.prefix``, ``.wait_for``)."""
    sub = Subscription(*mqtt_broker)
    yield sub
    sub.close()
