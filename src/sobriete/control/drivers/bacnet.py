"""BACnet/IP driver (bacpypes3): WriteProperty on the present-value of commandable objects.

Each zone maps to a device address (``"192.0.2.10"`` or ``"192.0.2.10:47808"``) and the
object(s) taking its setpoint and/or power, e.g. ``"analog-value,1"``. Values are REAL in the
object's own units (°C, W): BACnet carries floats and units, so no scaling table here.

Why priority 12 by default: in the BACnet priority array a lower number wins. A person's
manual command (8, "manual operator") and every life-safety level (1-6) then beat ours, which
is the rule "a manual setpoint always wins" of the safety envelope, enforced by the building
itself. 12 is free in the usual conventions (10-16 for supervisory programs).

Why a fresh application per ``send``, bound to an ephemeral UDP port: confirmed services are
answered to the requester's address, so no fixed port (47808) is needed, and two drivers or a
BMS tool on the same host do not collide. bacpypes3 is asyncio-only: ``send`` runs its own
event loop, so it must be called from synchronous code (the control loop is).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.ipv4.app import NormalApplication
from bacpypes3.local.device import DeviceObject
from bacpypes3.pdu import Address, IPv4Address

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
class ZonePoints:
    """Where one zone's values go on the BACnet network."""

    address: str  # "host" or "host:port" of the device (BACnet/IP, UDP)
    setpoint_object: str | None = None  # e.g. "analog-value,1"
    power_object: str | None = None


class BacnetDriver:
    name = "bacnet"

    def __init__(self, point_map: Mapping[str, ZonePoints], *,
                 local_address: str = "0.0.0.0/0:0", device_instance: int = 4_194_000,
                 priority: int = 12, timeout_s: float = 5.0) -> None:
        if not 1 <= priority <= 16:
            raise ValueError(f"BACnet priority is 1..16, not {priority}")
        self.point_map = dict(point_map)
        self.local_address = local_address  # "ip/prefix:port"; port 0 = ephemeral
        # Our own device instance must be unique on the BACnet network: configurable.
        self.device_instance = device_instance
        self.priority = priority
        self.timeout_s = timeout_s

    def read(self) -> Observation | None:
        return None  # write-only for now: observations come through ingestion

    def send(self, decision: Decision) -> DriverReport:
        return asyncio.run(self._send(decision))

    async def _send(self, decision: Decision) -> DriverReport:
        try:
            app = NormalApplication(
                DeviceObject(objectIdentifier=("device", self.device_instance),
                             objectName="sobriete-driver", vendorIdentifier=999),
                IPv4Address(self.local_address))
        except OSError as exc:
            raise DriverConnectionError(f"cannot open the local BACnet/IP socket: {exc}",
                                        target=f"bacnet://{self.local_address}") from exc
        try:
            writes = []
            for z in decision.zones:
                writes.append(await self._write_zone(app, z.zone_code, zone_values(z)))
            return DriverReport(self.name, decision, tuple(writes))
        finally:
            app.close()

    async def _write_zone(self, app: NormalApplication, zone: str,
                          values: dict[str, float]) -> ZoneWrite:
        pts = self.point_map.get(zone)
        if pts is None:
            return ZoneWrite(zone, "bacnet://", values, DriverWriteError(
                f"zone {zone!r} has no entry in the point map", target="bacnet://"))
        device = f"bacnet://{pts.address}"
        if not values:
            return ZoneWrite(zone, device, values, DriverWriteError(
                "zone decision has neither setpoint_c nor heating_power_w", target=device))
        plan = []
        for quantity, obj in (("setpoint_c", pts.setpoint_object),
                              ("heating_power_w", pts.power_object)):
            if quantity in values:
                if obj is None:
                    return ZoneWrite(zone, device, values, DriverWriteError(
                        f"zone {zone!r} asks {quantity} but the point map has no object "
                        "for it", target=device))
                plan.append((obj, float(values[quantity])))
        target = ",".join(f"{device}/{obj}" for obj, _ in plan)
        for obj, value in plan:
            where = f"{device}/{obj}"
            err: DriverError | None = None
            try:
                await asyncio.wait_for(app.write_property(
                    Address(pts.address), obj, "present-value", value,
                    priority=self.priority), self.timeout_s)
            except TimeoutError:
                # UDP: an absent device and a lost packet look the same, both end here.
                err = DriverTimeoutError(f"no acknowledgement within {self.timeout_s:g} s",
                                         target=where)
            except ErrorRejectAbortNack as exc:  # a BaseException in bacpypes3, not Exception
                err = DriverWriteError(f"device refused the write: {exc}", target=where)
            except (ValueError, TypeError) as exc:  # a malformed object id or address
                err = DriverWriteError(str(exc), target=where)
            if err is not None:
                return ZoneWrite(zone, target, values, err)
        return ZoneWrite(zone, target, values)
