"""Drivers: where a ``Decision`` leaves the process (MQTT, Modbus TCP) or, by default, doesn't
(``DryRunDriver``). See docs/control.md, section "Drivers"."""

from sobriete.control.drivers.base import (
    Driver,
    DriverConnectionError,
    DriverError,
    DriverReport,
    DriverTimeoutError,
    DriverWriteError,
    DryRunDriver,
    ZoneWrite,
)
from sobriete.control.drivers.modbus import ModbusDriver, ZoneRegisters
from sobriete.control.drivers.mqtt import MqttDriver

__all__ = [
    "Driver",
    "DriverConnectionError",
    "DriverError",
    "DriverReport",
    "DriverTimeoutError",
    "DriverWriteError",
    "DryRunDriver",
    "ModbusDriver",
    "MqttDriver",
    "ZoneRegisters",
    "ZoneWrite",
]
