"""What every driver promises: send a ``Decision``, say what was written where.

A driver is the only place where a decision leaves the process. It never decides anything:
the safety envelope and the mode (advise / approve / automatic) have already run. Failures are
typed and name the target (host:port, topic, register), because the person reading them has
to go and look at a gateway, not at this code.

Two kinds of failure, two channels:
- the target cannot be reached at all (refused connection, broker down): ``send`` raises a
  ``DriverConnectionError`` -- nothing was written, the caller keeps the building's schedule;
- one zone's write fails after the connection was made (no PUBACK in time, a Modbus
  exception reply, a value out of the register's range): the other zones are still written,
  and the failure is in that zone's ``ZoneWrite.error`` (``DriverReport.raise_for_errors()``
  turns it back into an exception for a caller that wants all-or-nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sobriete.control.interface import Decision, Observation, ZoneDecision
from sobriete.domain.errors import SobrieteError


class DriverError(SobrieteError):
    """A decision could not be (fully) applied; ``target`` says where."""

    def __init__(self, message: str, *, target: str) -> None:
        self.target = target
        self.reason = message
        super().__init__(f"{target}: {message}")


class DriverConnectionError(DriverError):
    """The device, gateway or broker could not be reached: nothing was written."""


class DriverTimeoutError(DriverError):
    """The target did not acknowledge a write in time: it may or may not have applied it."""


class DriverWriteError(DriverError):
    """A write was refused (by the target or because the value cannot be encoded)."""


@dataclass(frozen=True)
class ZoneWrite:
    """One zone's outcome: the values and the exact place they went (topic, registers)."""

    zone_code: str
    target: str
    values: dict[str, Any]
    error: DriverError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class DriverReport:
    driver: str
    decision: Decision
    writes: tuple[ZoneWrite, ...] = ()
    dry_run: bool = False  # True: nothing left the process

    @property
    def errors(self) -> tuple[DriverError, ...]:
        return tuple(w.error for w in self.writes if w.error is not None)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        if self.errors:
            raise self.errors[0]


@runtime_checkable
class Driver(Protocol):
    """Applies decisions to a building. ``read`` is optional: ``None`` = this driver does not
    observe (the observation then comes from the store, fed by MQTT ingestion)."""

    name: str

    def send(self, decision: Decision) -> DriverReport: ...

    def read(self) -> Observation | None: ...


def zone_values(z: ZoneDecision) -> dict[str, float]:
    """The quantities a zone decision asks for, unit in the key; empty when it asks nothing."""
    out: dict[str, float] = {}
    if z.setpoint_c is not None:
        out["setpoint_c"] = z.setpoint_c
    if z.heating_power_w is not None:
        out["heating_power_w"] = z.heating_power_w
    return out


@dataclass
class DryRunDriver:
    """The default of ``control run``: records what it would send, sends nothing."""

    name: str = "dry-run"
    sent: list[Decision] = field(default_factory=list)

    def send(self, decision: Decision) -> DriverReport:
        self.sent.append(decision)
        writes = tuple(
            ZoneWrite(z.zone_code, f"dry-run/{decision.building_code}/{z.zone_code}",
                      zone_values(z))
            for z in decision.zones
        )
        return DriverReport(self.name, decision, writes, dry_run=True)

    def read(self) -> Observation | None:
        return None
