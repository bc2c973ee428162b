"""Drivers: where a ``Decision`` leaves the process (MQTT, Modbus TCP, BACnet/IP) or, by
default, doesn't (``DryRunDriver``). See docs/control.md, section "Drivers"."""

from sobriete.control.drivers.bacnet import BacnetDriver, ZonePoints
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
    "BacnetDriver",
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
    "ZonePoints",
    "ZoneWrite",
]
