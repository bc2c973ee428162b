"""The observation -> decision contract between the controller and the world.

Any emulator (the own RC simulator, EnergyPlus) or a real building behind drivers produces an
``Observation`` every step (15 min by default) and receives a ``Decision``. Units are in the
field names; times are timezone-aware UTC. Nothing here computes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

STEP_S = 900  # 15 minutes: the control step


class Mode(StrEnum):
    ADVISE = "advise"  # decisions are proposed, never sent
    APPROVE = "approve"  # decisions wait for a person's approval
    AUTOMATIC = "automatic"  # decisions are sent


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ZoneObservation(_Frozen):
    zone_code: str
    temp_zone_c: float | None = None  # None: sensor missing this step
    heating_power_w: float | None = None  # measured heating power, if metered
    setpoint_c: float | None = None  # setpoint in force
    manual_override_c: float | None = None  # a person's setpoint, which always wins
    occupied: bool | None = None  # occupancy sensor, if any


class Observation(_Frozen):
    """What the world says at ``time_utc``, the start of the step about to be decided."""

    time_utc: AwareDatetime
    building_code: str
    temp_out_c: float | None = None
    solar_w_m2: float | None = None  # global horizontal irradiance
    zones: tuple[ZoneObservation, ...] = ()
    building_power_w: float | None = None  # whole-building electric power, if metered


class ZoneDecision(_Frozen):
    zone_code: str
    setpoint_c: float | None = None  # temperature setpoint to apply
    heating_power_w: float | None = Field(None, ge=0)  # or a power to apply (direct control)


class Decision(_Frozen):
    """What to apply for the step starting at ``time_utc``, and why (FR/EN)."""

    time_utc: AwareDatetime
    building_code: str
    zones: tuple[ZoneDecision, ...] = ()
    reason_fr: str = ""
    reason_en: str = ""
    fallback: bool = False  # True: the building's own schedule, not a plan (stale data ...)


@runtime_checkable
class LinearThermalModel(Protocol):
    """A grey-box model the optimiser can plan with: x[k+1] = A x[k] + B u[k], y = C x.

    Inputs u = [heating_power_w, temp_out_c, solar_w_m2]; output y = zone temperature [°C].
    """

    def state_space(self, dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Discrete (A, B, C) for a step of ``dt_s`` seconds."""
        ...

    def initial_state(self, temp_zone_c: float, temp_out_c: float | None = None) -> np.ndarray:
        """A state consistent with the measured zone temperature; the unmeasured nodes at
        equilibrium with the outside when ``temp_out_c`` is given, else at the zone's."""
        ...
