"""Drivers against real counterparts: Mosquitto (fixture) and a pymodbus TCP server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from bacpypes3.ipv4.app import NormalApplication
from bacpypes3.local.analog import AnalogValueObjectCmd
from bacpypes3.local.device import DeviceObject
from bacpypes3.pdu import IPv4Address
from pymodbus.client import ModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from sobriete.control.drivers import (
    BacnetDriver,
    Driver,
    DriverConnectionError,
    DriverTimeoutError,
    DriverWriteError,
    DryRunDriver,
    ModbusDriver,
    MqttDriver,
    ZonePoints,
    ZoneRegisters,
)
from sobriete.control.drivers.modbus import decode_power_w, decode_setpoint_c
from sobriete.control.interface import Decision, ZoneDecision

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def _decision(building: str = "ECOLE-JAURES") -> Decision:
    return Decision(
        time_utc=T0, building_code=building, reason_fr="Préchauffage avant le jour rouge",
        reason_en="Pre-heating before the red day",
        zones=(ZoneDecision(zone_code="zone-1", setpoint_c=19.5),
               ZoneDecision(zone_code="zone-2", heating_power_w=12_340.0),
               ZoneDecision(zone_code="hall", setpoint_c=-5.0, heating_power_w=0.0)),
    )


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dry_run_records_and_sends_nothing():
    d = DryRunDriver()
    assert isinstance(d, Driver)
    rep = d.send(_decision())
    assert rep.dry_run and rep.ok and d.sent == [_decision()]
    assert [w.values for w in rep.writes] == [
        {"setpoint_c": 19.5}, {"heating_power_w": 12_340.0},
        {"setpoint_c": -5.0, "heating_power_w": 0.0}]
    assert d.read() is None


# -- MQTT ----------------------------------------------------------------------------------


@pytest.mark.mqtt
def test_mqtt_driver_publishes_exactly_what_was_sent(mqtt_broker, mqtt_subscriber):
    host, port = mqtt_broker
    prefix = mqtt_subscriber.prefix
    drv = MqttDriver(host, port, prefix)
    assert isinstance(drv, Driver)
    rep = drv.send(_decision())
    assert rep.ok, rep.errors
    got = mqtt_subscriber.wait_for(3)
    received = {m.topic: (json.loads(m.payload), m.qos, m.retain) for m in got}
    assert len(got) == 3
    b = "ECOLE-JAURES"
    base = {"time_utc": "2026-01-05T07:00:00+00:00", "building": b,
            "reason_fr": "Préchauffage avant le jour rouge"}
    assert received == {
        f"{prefix}/{b}/zone-1/command": ({**base, "zone": "zone-1", "setpoint_c": 19.5}, 1, 0),
        f"{prefix}/{b}/zone-2/command": (
            {**base, "zone": "zone-2", "heating_power_w": 12340.0}, 1, 0),
        f"{prefix}/{b}/hall/command": (
            {**base, "zone": "hall", "setpoint_c": -5.0, "heating_power_w": 0.0}, 1, 0),
    }
    assert [w.target for w in rep.writes] == [f"mqtt://{host}:{port}/{t}" for t in received]


@pytest.mark.mqtt
def test_mqtt_driver_rejects_a_topic_breaking_code(mqtt_broker):
    host, port = mqtt_broker
    rep = MqttDriver(host, port, "test-drivers/bad").send(Decision(
        time_utc=T0, building_code="B", zones=(ZoneDecision(zone_code="a/#", setpoint_c=19),
                                               ZoneDecision(zone_code="ok", setpoint_c=19))))
    assert [type(e) for e in rep.errors] == [DriverWriteError]
    assert rep.writes[1].ok  # the other zone is still written


def test_mqtt_refused_connection_names_the_broker():
    port = _free_port()  # nothing listens there
    with pytest.raises(DriverConnectionError, match=f"127.0.0.1:{port}"):
        MqttDriver("127.0.0.1", port, timeout_s=1).send(_decision())


def test_mqtt_no_puback_is_a_typed_timeout():
    # A "broker" that accepts the session (MQTT 5 CONNACK) and then swallows every PUBLISH:
    # the real failure mode of an overloaded broker or a half-open link.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    conns: list[socket.socket] = []

    def serve():
        c, _ = srv.accept()
        conns.append(c)
        c.recv(4096)
        c.sendall(bytes([0x20, 0x03, 0x00, 0x00, 0x00]))  # CONNACK, success, no properties
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        t0 = time.monotonic()
        rep = MqttDriver("127.0.0.1", port, "p", timeout_s=0.5).send(_decision())
        assert time.monotonic() - t0 < 3
    finally:
        for c in conns:
            c.close()
        srv.close()
    assert len(rep.errors) == 3 and all(isinstance(e, DriverTimeoutError) for e in rep.errors)
    assert f"mqtt://127.0.0.1:{port}/p/ECOLE-JAURES/zone-1/command" in str(rep.errors[0])
    with pytest.raises(DriverTimeoutError, match="no PUBACK"):
        rep.raise_for_errors()


# -- Modbus TCP ----------------------------------------------------------------------------


@pytest.fixture
def modbus_server():
    """A pymodbus TCP server on a free loopback port, in its own thread and event loop,
    with two devices (unit ids 1 and 2), 100 holding registers each, all zero."""
    port = _free_port()
    devices = [SimDevice(id=i, simdata=[SimData(0, values=[0] * 100,
                                                datatype=DataType.REGISTERS)])
               for i in (1, 2)]
    loop = asyncio.new_event_loop()
    holder: dict[str, ModbusTcpServer] = {}

    async def serve():
        # The server grabs the running loop in its constructor: build it inside the loop.
        holder["server"] = ModbusTcpServer(devices, address=("127.0.0.1", port))
        await holder["server"].serve_forever()

    t = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    t.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    yield port
    asyncio.run_coroutine_threadsafe(holder["server"].shutdown(), loop).result(5)
    t.join(5)
    loop.close()


REGISTERS = {"zone-1": ZoneRegisters(setpoint_register=10),
             "zone-2": ZoneRegisters(power_register=20),
             "hall": ZoneRegisters(setpoint_register=5, power_register=6, device_id=2)}


def _read(port: int, address: int, device_id: int = 1) -> int:
    c = ModbusTcpClient("127.0.0.1", port=port)
    assert c.connect()
    try:
        return c.read_holding_registers(address, count=1, device_id=device_id).registers[0]
    finally:
        c.close()


def test_modbus_driver_writes_scaled_registers(modbus_server):
    port = modbus_server
    drv = ModbusDriver("127.0.0.1", port, REGISTERS)
    assert isinstance(drv, Driver)
    rep = drv.send(_decision())
    assert rep.ok, rep.errors
    assert _read(port, 10) == 195 and decode_setpoint_c(195) == 19.5
    assert _read(port, 20) == 1234 and decode_power_w(1234) == 12_340.0
    assert _read(port, 5, device_id=2) == 0xFFCE  # -5.0 °C, int16 two's complement
    assert decode_setpoint_c(_read(port, 5, device_id=2)) == -5.0
    assert _read(port, 6, device_id=2) == 0
    assert rep.writes[2].target == (f"modbus://127.0.0.1:{port}/unit2/hr5,"
                                    f"modbus://127.0.0.1:{port}/unit2/hr6")


def test_modbus_unencodable_or_unmapped_zone_is_a_zone_error(modbus_server):
    port = modbus_server
    rep = ModbusDriver("127.0.0.1", port, REGISTERS).send(Decision(
        time_utc=T0, building_code="B",
        zones=(ZoneDecision(zone_code="zone-2", heating_power_w=700_000),  # > 655 350 W
               ZoneDecision(zone_code="nowhere", setpoint_c=19),
               ZoneDecision(zone_code="zone-1", heating_power_w=100),  # no power register
               ZoneDecision(zone_code="zone-1", setpoint_c=20.04))))
    assert [type(e) for e in rep.errors] == [DriverWriteError] * 3
    assert "uint16" in str(rep.errors[0]) and "hr20" in str(rep.errors[0])
    assert rep.writes[3].ok and _read(port, 10) == 200
    assert _read(port, 20) == 0  # the out-of-range power was never written


def test_modbus_refused_connection_names_host_and_port():
    port = _free_port()
    with pytest.raises(DriverConnectionError, match=f"127.0.0.1:{port}"):
        ModbusDriver("127.0.0.1", port, REGISTERS, timeout_s=1).send(_decision())


# -- BACnet/IP -----------------------------------------------------------------------------


@pytest.fixture
def bacnet_device():
    """A BACnet/IP device on a free loopback UDP port, in its own thread and event loop,
    with two commandable analog values (setpoint °C, power W)."""
    port = _free_port(socket.SOCK_DGRAM)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    objs: dict[str, AnalogValueObjectCmd] = {}
    holder: dict[str, NormalApplication] = {}

    async def serve():
        app = NormalApplication(
            DeviceObject(objectIdentifier=("device", 1001), objectName="cta-ecole",
                         vendorIdentifier=999), IPv4Address(f"127.0.0.1/8:{port}"))
        for i, (name, unit, default) in enumerate(
                [("zone-1-setpoint", "degreesCelsius", 16.0), ("zone-1-power", "watts", 0.0)],
                start=1):
            objs[name] = AnalogValueObjectCmd(
                objectIdentifier=("analog-value", i), objectName=name, presentValue=default,
                units=unit, relinquishDefault=default)
            app.add_object(objs[name])
        holder["app"] = app
        ready.set()

    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    asyncio.run_coroutine_threadsafe(serve(), loop).result(5)
    assert ready.wait(5)
    yield port, objs
    loop.call_soon_threadsafe(holder["app"].close)
    loop.call_soon_threadsafe(loop.stop)
    t.join(5)
    loop.close()


def _points(port: int) -> dict[str, ZonePoints]:
    return {"zone-1": ZonePoints(f"127.0.0.1:{port}", setpoint_object="analog-value,1",
                                 power_object="analog-value,2")}


def _zone1(**kw) -> Decision:
    return Decision(time_utc=T0, building_code="B", zones=(ZoneDecision(zone_code="zone-1",
                                                                        **kw),))


def test_bacnet_driver_writes_present_values_at_its_priority(bacnet_device):
    port, objs = bacnet_device
    drv = BacnetDriver(_points(port), local_address="127.0.0.1/8:0", timeout_s=2)
    assert isinstance(drv, Driver)
    rep = drv.send(_zone1(setpoint_c=19.5, heating_power_w=12_340.0))
    assert rep.ok, rep.errors
    assert objs["zone-1-setpoint"].presentValue == 19.5
    assert objs["zone-1-power"].presentValue == 12_340.0
    assert objs["zone-1-setpoint"].priorityArray[11].real == 19.5  # slot 12 (1-based)
    assert rep.writes[0].target == (f"bacnet://127.0.0.1:{port}/analog-value,1,"
                                    f"bacnet://127.0.0.1:{port}/analog-value,2")


def test_bacnet_manual_command_at_higher_priority_wins(bacnet_device):
    # A person's command at priority 8 (manual operator) beats the driver's 12: the building
    # itself enforces "a manual setpoint always wins".
    port, objs = bacnet_device
    manual = BacnetDriver(_points(port), local_address="127.0.0.1/8:0", priority=8)
    assert manual.send(_zone1(setpoint_c=21.0)).ok
    rep = BacnetDriver(_points(port), local_address="127.0.0.1/8:0").send(
        _zone1(setpoint_c=17.0))
    assert rep.ok  # accepted into slot 12...
    assert objs["zone-1-setpoint"].presentValue == 21.0  # ...but the manual one is in force


def test_bacnet_refused_write_and_silent_device_are_typed(bacnet_device):
    port, _ = bacnet_device
    bad = {"zone-1": ZonePoints(f"127.0.0.1:{port}", setpoint_object="analog-value,7")}
    rep = BacnetDriver(bad, local_address="127.0.0.1/8:0").send(_zone1(setpoint_c=19))
    assert [type(e) for e in rep.errors] == [DriverWriteError]
    assert "unknown-object" in str(rep.errors[0]) and "analog-value,7" in str(rep.errors[0])
    silent = _free_port(socket.SOCK_DGRAM)
    t0 = time.monotonic()
    rep = BacnetDriver(_points(silent), local_address="127.0.0.1/8:0", timeout_s=0.5).send(
        _zone1(setpoint_c=19))
    assert time.monotonic() - t0 < 3
    assert [type(e) for e in rep.errors] == [DriverTimeoutError]
    assert f"127.0.0.1:{silent}" in str(rep.errors[0])
