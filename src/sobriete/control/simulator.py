"""A fast RC simulator of one building: the test bench of the controller.

Each zone is an RC model (``thermal.R1C1`` or ``thermal.R2C2``) with its true parameters;
zones are thermally independent (no heat flows between them). The simulator speaks the
interface: ``observation()`` says the state at the start of the step, ``step(decision)``
applies the decision for one 15-min step and returns the next observation.

A setpoint decision drives an ideal bounded heater: the constant power that brings the air to
the setpoint at the end of the step, clipped to [0, max_power_w]. A power decision is applied
as is (clipped to max_power_w). A zone absent from a decision keeps what was last decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sobriete.control.interface import (
    STEP_S,
    Decision,
    Observation,
    ZoneDecision,
    ZoneObservation,
)
from sobriete.control.thermal import R1C1, R2C2

PARIS = ZoneInfo("Europe/Paris")


def office_hours(time_utc: datetime) -> bool:
    """Occupied on weekdays 08:00-18:00 Europe/Paris (a school or town hall, roughly)."""
    local = time_utc.astimezone(PARIS)
    return local.weekday() < 5 and 8 <= local.hour < 18


@dataclass(frozen=True)
class SimZone:
    """One simulated zone: its true model, heater and occupants."""

    zone_code: str
    model: R1C1 | R2C2
    max_power_w: float  # heater capacity [W]
    internal_gain_w: float = 0.0  # people, lights, computers while occupied [W], not metered
    initial_temp_c: float = 19.0  # air temperature at the start [°C]


class RCSimulator:
    """Simulate ``zones`` of ``building_code`` under ``weather`` from ``start_utc``.

    ``weather``: UTC-indexed frame with ``temp_out_c`` [°C] and optional ``solar_w_m2``
    [W/m²], any regular step (interpolated to 15 min; timestamps are sample instants).
    ``noise_std_c``: standard deviation of the zone temperature sensor noise [K].
    """

    def __init__(
        self,
        building_code: str,
        zones: list[SimZone] | tuple[SimZone, ...],
        weather: pd.DataFrame,
        *,
        start_utc: datetime | None = None,
        occupancy: Callable[[datetime], bool] = office_hours,
        noise_std_c: float = 0.0,
        seed: int = 0,
    ) -> None:
        if not zones:
            raise ValueError("a building needs at least one zone")
        codes = [z.zone_code for z in zones]
        if len(set(codes)) != len(codes):
            raise ValueError(f"duplicate zone codes: {codes}")
        if not isinstance(weather.index, pd.DatetimeIndex) or weather.index.tz is None:
            raise ValueError("weather index must be timezone-aware UTC timestamps")
        if "temp_out_c" not in weather.columns:
            raise ValueError("weather lacks column 'temp_out_c'")
        w = weather.sort_index().tz_convert("UTC")
        grid = pd.date_range(w.index[0].ceil(f"{STEP_S}s"), w.index[-1], freq=f"{STEP_S}s")
        w = w.reindex(w.index.union(grid)).interpolate(method="time").reindex(grid)
        self._temp_out = w["temp_out_c"].to_numpy(float)
        solar = w["solar_w_m2"] if "solar_w_m2" in w.columns else pd.Series(0.0, index=grid)
        self._solar = solar.fillna(0.0).clip(lower=0.0).to_numpy(float)
        self._grid = grid
        start = pd.Timestamp(start_utc if start_utc is not None else grid[0])
        if start.tz is None:
            raise ValueError("start_utc must be timezone-aware")
        if start not in grid:
            raise ValueError(f"start {start} is not a 15-min instant covered by the weather")
        self._k = int(grid.get_loc(start))
        self.building_code = building_code
        self.zones = tuple(zones)
        self._occupancy = occupancy
        self._noise = float(noise_std_c)
        self._rng = np.random.default_rng(seed)
        self._ss = [z.model.state_space(STEP_S) for z in zones]
        self._x = [z.model.initial_state(z.initial_temp_c, self._temp_out[self._k]) for z in zones]
        self._setpoint: list[float | None] = [None] * len(zones)
        self._power_cmd: list[float | None] = [None] * len(zones)
        self._last_power = [0.0] * len(zones)
        self._rows: list[dict] = []
        self._obs = self._observe()

    @property
    def time_utc(self) -> datetime:
        return self._grid[self._k].to_pydatetime()

    def observation(self) -> Observation:
        """The observation at the start of the current step."""
        return self._obs

    def true_temps_c(self) -> dict[str, float]:
        """Noise-free air temperatures now [°C] (what a perfect sensor would read)."""
        return {z.zone_code: float(x[0]) for z, x in zip(self.zones, self._x, strict=True)}

    def _observe(self) -> Observation:
        occupied = self._occupancy(self.time_utc)
        zones = []
        for i, z in enumerate(self.zones):
            temp = float(self._x[i][0])
            if self._noise > 0:
                temp += float(self._rng.normal(0.0, self._noise))
            zones.append(
                ZoneObservation(
                    zone_code=z.zone_code,
                    temp_zone_c=round(temp, 3),
                    heating_power_w=self._last_power[i],
                    setpoint_c=self._setpoint[i],
                    occupied=occupied,
                )
            )
        return Observation(
            time_utc=self.time_utc,
            building_code=self.building_code,
            temp_out_c=float(self._temp_out[self._k]),
            solar_w_m2=float(self._solar[self._k]),
            zones=tuple(zones),
            building_power_w=float(sum(self._last_power)),
        )

    def step(self, decision: Decision) -> Observation:
        """Apply ``decision`` over [t, t + 15 min) and return the observation at t + 15 min."""
        if decision.building_code != self.building_code:
            raise ValueError(
                f"decision for {decision.building_code!r}, simulating {self.building_code!r}"
            )
        if decision.time_utc != self.time_utc:
            raise ValueError(f"decision for {decision.time_utc}, simulator at {self.time_utc}")
        if self._k + 1 >= len(self._grid):
            raise ValueError(f"weather ends at {self._grid[-1]}: cannot simulate further")
        index = {z.zone_code: i for i, z in enumerate(self.zones)}
        for zd in decision.zones:
            if zd.zone_code not in index:
                raise ValueError(f"unknown zone {zd.zone_code!r} in decision")
            i = index[zd.zone_code]
            if zd.heating_power_w is not None:
                self._power_cmd[i], self._setpoint[i] = zd.heating_power_w, None
            elif zd.setpoint_c is not None:
                self._setpoint[i], self._power_cmd[i] = zd.setpoint_c, None
        occupied = bool(self._occupancy(self.time_utc))
        gains = [z.internal_gain_w if occupied else 0.0 for z in self.zones]
        disturbance = (self._temp_out[self._k], self._solar[self._k])
        row: dict = {
            "time_utc": self._grid[self._k],
            "temp_out_c": disturbance[0],
            "solar_w_m2": disturbance[1],
            "occupied": float(occupied),
        }
        for i, z in enumerate(self.zones):
            a, b, c = self._ss[i]
            # Internal gains enter the air node like heating; they are not part of the meter.
            free = a @ self._x[i] + b @ np.array([gains[i], *disturbance])
            if self._power_cmd[i] is not None:
                power = self._power_cmd[i]
            elif self._setpoint[i] is not None:
                power = (self._setpoint[i] - (c @ free)[0]) / (c @ b[:, 0])[0]
            else:
                power = 0.0
            power = float(np.clip(power, 0.0, z.max_power_w))
            row[f"{z.zone_code}:temp_zone_c"] = self._obs.zones[i].temp_zone_c
            row[f"{z.zone_code}:temp_true_c"] = float(self._x[i][0])
            row[f"{z.zone_code}:heating_power_w"] = power
            row[f"{z.zone_code}:internal_gain_w"] = gains[i]
            self._x[i] = free + b[:, 0] * power
            self._last_power[i] = power
        self._rows.append(row)
        self._k += 1
        self._obs = self._observe()
        return self._obs

    def history(self, zone_code: str | None = None, *, occupied: bool = False) -> pd.DataFrame:
        """Simulated steps so far, indexed by step start (UTC): inputs over the step and the
        temperatures at its start; ``occupied`` (0/1) is the occupancy schedule that drove the
        internal gains. With ``zone_code``, the columns ``identify`` expects, plus
        ``occupied`` if asked (then ``identify`` estimates the internal gains)."""
        df = pd.DataFrame(self._rows).set_index("time_utc") if self._rows else pd.DataFrame()
        if zone_code is None or df.empty:
            return df
        cols = {f"{zone_code}:{c}": c for c in ("temp_zone_c", "temp_true_c", "heating_power_w")}
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"unknown zone {zone_code!r}")
        extra = ["occupied"] if occupied else []
        return df[[*cols, "temp_out_c", "solar_w_m2", *extra]].rename(columns=cols)


def synthetic_weather(start_utc: str | datetime, days: int, *, seed: int = 0) -> pd.DataFrame:
    """Hourly winter weather (temp_out_c [°C], solar_w_m2 [W/m²]): a daily cycle around
    5 °C with a random walk, and a midday solar bell scaled by a daily cloudiness."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(pd.Timestamp(start_utc), periods=days * 24 + 1, freq="1h")
    if idx.tz is None:
        raise ValueError("start_utc must be timezone-aware")
    hour = idx.tz_convert(PARIS).hour.to_numpy()
    drift = 0.5 * np.cumsum(rng.normal(0.0, 0.3, len(idx)))
    temp = 5.0 + 4.0 * np.sin(2 * np.pi * (hour - 9) / 24) + drift
    clear = np.repeat(rng.uniform(0.2, 1.0, days + 1), 24)[: len(idx)]
    solar = np.clip(np.sin(np.pi * (hour - 8) / 9), 0.0, None) * 400.0 * clear
    return pd.DataFrame({"temp_out_c": temp, "solar_w_m2": solar}, index=idx.tz_convert("UTC"))


def run_schedule(
    sim: RCSimulator, steps: int, setpoint_c: Callable[[datetime, str], float]
) -> pd.DataFrame:
    """Drive ``sim`` for ``steps`` steps with ``setpoint_c(time_utc, zone_code)``; return the
    history (a convenience for tests, examples and benchmarks)."""
    for _ in range(steps):
        t = sim.time_utc
        sim.step(
            Decision(
                time_utc=t,
                building_code=sim.building_code,
                zones=tuple(
                    ZoneDecision(zone_code=z.zone_code, setpoint_c=setpoint_c(t, z.zone_code))
                    for z in sim.zones
                ),
            )
        )
    return sim.history()
