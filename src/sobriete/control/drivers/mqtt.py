"""MQTT driver: one JSON command per zone on ``<prefix>/<building>/<zone>/command``.

Payload (UTF-8 JSON): ``{"time_utc", "building", "zone", "setpoint_c" and/or
"heating_power_w", "reason_fr"}``; ``time_utc`` is ISO 8601 with its offset, the start of the
step the command is for.

Why QoS 1 and waiting for the PUBACK: with QoS 0 a command lost on a flaky link looks exactly
like one applied. The PUBACK only says the *broker* has it; whether the gateway applied it is
seen in the next observation. Why retained=False: a retained setpoint would be replayed to a
gateway reconnecting hours later, after the step it was for -- a stale command is worse than
none, the gateway's own schedule is the fallback.

Why one connection per ``send`` (every 15 min) and paho's loop run in the calling thread: no
background thread and no connection state to go stale between steps; a broker down shows up
as a ``DriverConnectionError`` at the step that needed it.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import paho.mqtt.client as mqtt

from sobriete.control.drivers.base import (
    DriverConnectionError,
    DriverReport,
    DriverTimeoutError,
    DriverWriteError,
    ZoneWrite,
    zone_values,
)
from sobriete.control.interface import Decision, Observation

DEFAULT_COMMAND_PREFIX = "sobriete/v1"
# Same alphabet as the ingestion topics (docs/mqtt.md): no '/', '+', '#' inside a level.
_LEVEL = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _drop(c: mqtt.Client) -> None:
    # paho has no public "close the socket": after a failed or finished send the client is
    # discarded, so closing its socket directly is enough to leak no file descriptor.
    sock = c.socket()
    if sock is not None:
        sock.close()


def command_topic(prefix: str, building_code: str, zone_code: str) -> str:
    return f"{prefix}/{building_code}/{zone_code}/command"


def command_payload(decision: Decision, zone_code: str, values: dict[str, float]) -> dict:
    return {
        "time_utc": decision.time_utc.isoformat(),
        "building": decision.building_code,
        "zone": zone_code,
        **values,
        "reason_fr": decision.reason_fr,
    }


class MqttDriver:
    name = "mqtt"

    def __init__(self, host: str, port: int = 1883, topic_prefix: str = DEFAULT_COMMAND_PREFIX,
                 qos: int = 1, *, timeout_s: float = 5.0, client_id: str | None = None,
                 username: str | None = None, password: str | None = None) -> None:
        if qos not in (1, 2):
            # QoS 0 has no acknowledgement: "sent" would mean nothing (see module docstring).
            raise ValueError(f"qos must be 1 or 2, not {qos}")
        self.host, self.port, self.qos = host, port, qos
        self.topic_prefix = topic_prefix.rstrip("/")
        self.timeout_s = timeout_s
        # A fixed id per process: two drivers with the same id would kick each other off.
        self.client_id = client_id or f"sobriete-driver-{uuid.uuid4().hex[:8]}"
        self.username, self.password = username, password

    @property
    def broker(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def read(self) -> Observation | None:
        return None  # observations arrive through `sobriete ingest mqtt`, not through here

    def send(self, decision: Decision) -> DriverReport:
        client = self._connect()
        try:
            return self._publish_all(client, decision)
        finally:
            if client.is_connected():
                client.disconnect()
                for _ in range(5):
                    if client.loop(timeout=0.02) != mqtt.MQTT_ERR_SUCCESS:
                        break
            _drop(client)

    def _connect(self) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                        protocol=mqtt.MQTTv5, reconnect_on_failure=False)
        if self.username:
            c.username_pw_set(self.username, self.password)
        state: dict[str, object] = {}
        c.on_connect = lambda _c, _u, _f, rc, _p: state.setdefault("rc", rc)
        try:
            c.connect(self.host, self.port, keepalive=max(10, int(self.timeout_s * 2)))
        except OSError as exc:
            raise DriverConnectionError(f"cannot connect to the MQTT broker: {exc}",
                                        target=self.broker) from exc
        deadline = time.monotonic() + self.timeout_s
        while "rc" not in state:
            if time.monotonic() > deadline or c.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                _drop(c)
                raise DriverConnectionError(
                    f"no CONNACK within {self.timeout_s:g} s", target=self.broker)
        rc = state["rc"]
        if getattr(rc, "is_failure", False):
            _drop(c)
            raise DriverConnectionError(f"broker refused the connection: {rc}",
                                        target=self.broker)
        return c

    def _publish_all(self, c: mqtt.Client, decision: Decision) -> DriverReport:
        pending: list[tuple[str, str, dict, mqtt.MQTTMessageInfo | None, Exception | None]] = []
        for z in decision.zones:
            topic = command_topic(self.topic_prefix, decision.building_code, z.zone_code)
            target = f"{self.broker}/{topic}"
            values = zone_values(z)
            err: Exception | None = None
            info = None
            if not (_LEVEL.match(decision.building_code) and _LEVEL.match(z.zone_code)):
                err = DriverWriteError("building or zone code not allowed in a topic level "
                                       "(1-128 of A-Z a-z 0-9 . _ : -)", target=target)
            elif not values:
                err = DriverWriteError("zone decision has neither setpoint_c nor "
                                       "heating_power_w", target=target)
            else:
                payload = json.dumps(command_payload(decision, z.zone_code, values))
                info = c.publish(topic, payload, qos=self.qos, retain=False)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    err = DriverWriteError(f"publish failed: {mqtt.error_string(info.rc)}",
                                           target=target)
                    info = None
            pending.append((z.zone_code, target, values, info, err))

        deadline = time.monotonic() + self.timeout_s
        while any(i is not None and not i.is_published() for *_, i, _e in pending):
            if time.monotonic() > deadline:
                break
            if c.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                break  # connection lost: the unacked ones become timeouts below
        writes = []
        for zone, target, values, info, err in pending:
            if err is None and info is not None and not info.is_published():
                err = DriverTimeoutError(
                    f"no PUBACK within {self.timeout_s:g} s (QoS {self.qos}); the broker "
                    "may or may not have the command", target=target)
            writes.append(ZoneWrite(zone, target, values, err))  # type: ignore[arg-type]
        return DriverReport(self.name, decision, tuple(writes))
