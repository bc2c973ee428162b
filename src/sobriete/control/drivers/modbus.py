"""Modbus TCP driver: setpoints and powers written as holding registers (pymodbus).

Scaling (fixed here, the same for every zone; a gateway needing another one is configured on
the gateway side, which always has a scaling table):

| quantity          | register            | encoding                | range                  |
| ----------------- | ------------------- | ----------------------- | ---------------------- |
| `setpoint_c`      | `setpoint_register` | round(°C × 10), int16   | −3276.8 .. 3276.7 °C   |
| `heating_power_w` | `power_register`    | round(W / 10), uint16   | 0 .. 655 350 W         |

int16 is sent in two's complement (−5.0 °C → −50 → 0xFFCE). Why tenths of a degree: most
thermostat and BMS gateways use it, and 0.1 K is below any sensor's accuracy. Why decawatts:
one uint16 then covers 655 kW, more than a commune's largest boiler room.

Each value is written with function 06 (write single register), which every device supports;
function 16 is not implemented by some cheap thermostats. One connection per ``send``: no
state to go stale between 15-minute steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from sobriete.control.drivers.base import (
    DriverConnectionError,
    DriverError,
    DriverReport,
    DriverTimeoutError,
    DriverWriteError,
    ZoneWrite,
    zone_values,
)
from sobriete.control.interface import Decision, Observation


@dataclass(frozen=True)
class ZoneRegisters:
    """Where one zone's values go: holding-register addresses (0-based, as on the wire)."""

    setpoint_register: int | None = None
    power_register: int | None = None
    device_id: int = 1  # the Modbus unit / slave id behind the gateway


def encode_setpoint_c(value: float) -> int:
    """°C → register word: round(°C × 10) as int16 in two's complement."""
    tenths = round(value * 10)
    if not -32768 <= tenths <= 32767:
        raise ValueError(f"{value} °C does not fit int16 tenths")
    return tenths & 0xFFFF


def decode_setpoint_c(word: int) -> float:
    return (word - 0x10000 if word >= 0x8000 else word) / 10


def encode_power_w(value: float) -> int:
    """W → register word: round(W / 10) as uint16."""
    deca = round(value / 10)
    if not 0 <= deca <= 0xFFFF:
        raise ValueError(f"{value} W does not fit uint16 decawatts")
    return deca


def decode_power_w(word: int) -> float:
    return word * 10.0


class ModbusDriver:
    name = "modbus"

    def __init__(self, host: str, port: int = 502,
                 register_map: Mapping[str, ZoneRegisters] | None = None, *,
                 timeout_s: float = 3.0) -> None:
        self.host, self.port = host, port
        self.register_map = dict(register_map or {})
        self.timeout_s = timeout_s

    @property
    def endpoint(self) -> str:
        return f"modbus://{self.host}:{self.port}"

    def read(self) -> Observation | None:
        return None  # this driver only writes; reading zone temperatures needs an input map

    def send(self, decision: Decision) -> DriverReport:
        # retries=0: the loop re-sends at the next step anyway; a retry storm on a gateway
        # that is already struggling helps nobody.
        client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0)
        if not client.connect():
            client.close()
            raise DriverConnectionError("cannot connect to the Modbus TCP device "
                                        f"(refused or unreachable) at {self.host}:{self.port}",
                                        target=self.endpoint)
        try:
            writes = tuple(self._write_zone(client, decision, z.zone_code, zone_values(z))
                           for z in decision.zones)
        finally:
            client.close()
        return DriverReport(self.name, decision, writes)

    def _write_zone(self, client: ModbusTcpClient, decision: Decision, zone: str,
                    values: dict[str, float]) -> ZoneWrite:
        regs = self.register_map.get(zone)
        if regs is None:
            return ZoneWrite(zone, self.endpoint, values, DriverWriteError(
                f"zone {zone!r} has no entry in the register map", target=self.endpoint))
        if not values:
            return ZoneWrite(zone, self.endpoint, values, DriverWriteError(
                "zone decision has neither setpoint_c nor heating_power_w",
                target=self.endpoint))
        plan: list[tuple[str, int, int]] = []  # (quantity, address, word)
        for quantity, register, encode in (
            ("setpoint_c", regs.setpoint_register, encode_setpoint_c),
            ("heating_power_w", regs.power_register, encode_power_w),
        ):
            if quantity not in values:
                continue
            where = f"{self.endpoint}/unit{regs.device_id}/hr{register}"
            if register is None:
                return ZoneWrite(zone, self.endpoint, values, DriverWriteError(
                    f"zone {zone!r} asks {quantity} but the register map has no register "
                    "for it", target=self.endpoint))
            try:
                plan.append((quantity, register, encode(values[quantity])))
            except ValueError as exc:
                return ZoneWrite(zone, where, values, DriverWriteError(str(exc), target=where))
        target = ",".join(f"{self.endpoint}/unit{regs.device_id}/hr{a}" for _, a, _ in plan)
        for _quantity, address, word in plan:
            where = f"{self.endpoint}/unit{regs.device_id}/hr{address}"
            err: DriverError | None = None
            try:
                resp = client.write_register(address, word, device_id=regs.device_id)
                if resp.isError():
                    err = DriverWriteError(f"device replied with an exception: {resp}",
                                           target=where)
            except ModbusException as exc:
                # pymodbus raises ModbusIOException on a timeout or a dropped connection.
                err = DriverTimeoutError(f"no valid reply: {exc}", target=where)
            if err is not None:
                return ZoneWrite(zone, target, values, err)
        return ZoneWrite(zone, target, values)
