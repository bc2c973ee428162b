"""The model's state carried from step to step in a receding-horizon loop.

A zone sensor measures the air node only. Re-initialising the hidden nodes (the building
fabric) at their steady state at every step tells the planner, after a night set-back, that
the walls are warmer than they are: it then under-heats every step by the same bias (measured
on the simulated school: the true air temperature held 0.4 K under the 19 °C floor all day).
Here the hidden nodes are advanced by the model with the inputs of the step just lived, and
the air node is reset to each measurement: a simple observer that needs no noise model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from sobriete.control.interface import STEP_S, LinearThermalModel


@dataclass(frozen=True)
class _Step:
    time_utc: datetime
    state: np.ndarray
    heating_w: float | None  # the power applied, when known (None: the building's own)
    temp_out_c: float
    solar_w_m2: float
    internal_gain_w: float


class StateEstimator:
    """``estimate`` at the start of each step, ``record`` once the step's inputs are known.

    The hidden nodes restart from the steady state whenever the chain breaks: first step, a
    gap of more than one step, or a step whose heating power is unknown both as applied and
    as measured (e.g. a building left on its own schedule with no heat meter)."""

    def __init__(self, model: LinearThermalModel, dt_s: float = STEP_S) -> None:
        self.model = model
        self.dt = timedelta(seconds=dt_s)
        self.a, self.b, _ = model.state_space(dt_s)
        self._last: _Step | None = None
        self._pending: tuple | None = None
        self.restarts = 0  # how many times the hidden nodes were reset to steady state

    def estimate(self, time_utc: datetime, temp_zone_c: float, temp_out_c: float | None,
                 measured_heating_w: float | None, step_inputs: tuple[float, float, float],
                 ) -> np.ndarray:
        """The state at ``time_utc`` for a measured air temperature. ``measured_heating_w``:
        the heating power metered over the previous step, preferred to the applied one.
        ``step_inputs``: the disturbances forecast for the step starting now (outdoor
        temperature, irradiance, internal gains), kept to advance the state at the next one."""
        last = self._last
        heating = measured_heating_w if measured_heating_w is not None else (
            last.heating_w if last else None)
        if last is None or time_utc - last.time_utc != self.dt or heating is None:
            x = self.model.initial_state(temp_zone_c, temp_out_c)
            self.restarts += 1
        else:
            u = np.array([heating + last.internal_gain_w, last.temp_out_c, last.solar_w_m2])
            x = self.a @ last.state + self.b @ u
            x[0] = temp_zone_c
        self._pending = (time_utc, np.asarray(x, float), *map(float, step_inputs))
        return self._pending[1]

    def record(self, heating_w: float | None) -> None:
        """The heating power applied over the step just estimated (None: not imposed)."""
        if self._pending is None:
            raise RuntimeError("record() before estimate()")
        t, x, temp_out_c, solar_w_m2, gain_w = self._pending
        self._last = _Step(t, x, heating_w, temp_out_c, solar_w_m2, gain_w)
        self._pending = None
