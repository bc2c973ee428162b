"""EnergyPlus as an emulator behind sobriete's observation -> decision interface.

``EnergyPlusBuilding.run(controller)`` runs one simulation (pyenergyplus runtime API). At the
end of every 15-min zone timestep of the run period (warm-up and sizing days excluded) it
builds an ``interface.Observation`` (zone mean air temperatures, the heating power of the step
that just ended, outdoor dry-bulb, global horizontal irradiance of the weather file) dated at
the start of the next step, calls ``controller(observation) -> Decision | None`` and applies
the decision for the next step:

- ``ZoneDecision.setpoint_c`` -> the zone's heating setpoint (actuator "Zone Temperature
  Control" / "Heating Setpoint"); the ideal heater (see ``idf.py``) delivers what holding it
  needs, within its autosized capacity;
- ``ZoneDecision.heating_power_w == 0`` -> heating off for the step (its availability
  schedule actuated to 0); a positive power is *not* applied as such: the setpoint drives
  the heater (documented limit of an ideal-loads plant);
- a zone absent from the decision, or ``None``: the prototype's own thermostat schedule.

Clock: the simulation's local standard time is read as Paris local time (UTC+1 in winter), so
that opening hours, Tempo hours and EcoWatt windows are French clock times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.control.interface import STEP_S, Decision, Observation, ZoneObservation

LOCAL = timezone(timedelta(hours=1))  # CET, January has no DST
_RUN_PERIOD_WEATHER = 3  # EnergyPlus KindOfSim::RunPeriodWeather


def read_epw(path: Path, year: int) -> pd.DataFrame:
    """Hourly dry-bulb [°C] and global horizontal irradiance [W/m²] of an EPW file, as a
    15-min UTC frame (temperatures at the hour's end, irradiance centred on its hour), the
    file's month/day placed in ``year``."""
    rows = pd.read_csv(path, skiprows=8, header=None)
    stamps = [datetime(year, int(m), int(d), tzinfo=LOCAL) + timedelta(hours=int(h))
              for m, d, h in zip(rows[1], rows[2], rows[3], strict=True)]
    index = pd.DatetimeIndex(stamps).tz_convert("UTC")
    temp = pd.Series(rows[6].to_numpy(float), index=index)
    ghi = pd.Series(rows[13].to_numpy(float), index=index - pd.Timedelta(minutes=30))
    grid = pd.date_range(index[0].floor("1D") - pd.Timedelta(days=1), index[-1] + pd.Timedelta(
        days=2), freq=f"{STEP_S}s")
    out = pd.DataFrame({
        "temp_out_c": temp.reindex(temp.index.union(grid)).interpolate(
            method="time", limit_direction="both").reindex(grid),
        "solar_w_m2": ghi.reindex(ghi.index.union(grid)).interpolate(
            method="time", limit_direction="both").reindex(grid).clip(lower=0.0),
    })
    return out


@dataclass
class RunResult:
    """What happened at each step (index: UTC step starts)."""

    temp_c: pd.DataFrame  # zone mean air temperature at the step's end [°C], one column per zone
    power_w: pd.DataFrame  # mean heating power over the step [W] (= electricity, COP 1)
    setpoint_c: pd.DataFrame  # heating setpoint in force during the step [°C]
    temp_out_c: pd.Series  # outdoor dry-bulb at the step's end [°C]
    floor_area_m2: dict[str, float]
    wall_s: float
    controller_s: float  # time spent in the controller


class EnergyPlusBuilding:
    """One prepared IDF + EPW, runnable several times (a fresh EnergyPlus state each run)."""

    def __init__(self, building_code: str, idf: Path, epw: Path, zones: tuple[str, ...],
                 heating_schedule: str, out_dir: Path, year: int) -> None:
        self.code, self.idf, self.epw, self.zones = building_code, idf, epw, zones
        self.heating_schedule, self.out_dir, self.year = heating_schedule, out_dir, year
        self.weather = read_epw(epw, year)

    def run(self, controller: Callable[[Observation], Decision | None] | None,
            tag: str) -> RunResult:
        import time

        from pyenergyplus.api import EnergyPlusAPI

        api = EnergyPlusAPI()
        ex = api.exchange
        state = api.state_manager.new_state()
        api.runtime.set_console_output_status(state, False)
        zones = self.zones
        for z in zones:
            ex.request_variable(state, "Zone Mean Air Temperature", z)
            ex.request_variable(state, "Zone Ideal Loads Supply Air Total Heating Rate",
                                f"SOB_IL {z}")
            ex.request_variable(state, "Zone Thermostat Heating Setpoint Temperature", z)
        ex.request_variable(state, "Site Outdoor Air Drybulb Temperature", "Environment")
        h: dict = {}
        rows: list[tuple] = []
        ctrl_s = [0.0]
        errors: list[Exception] = []
        solar = self.weather["solar_w_m2"]

        def callback(s) -> None:
            if ex.warmup_flag(s) or ex.kind_of_sim(s) != _RUN_PERIOD_WEATHER:
                return
            if not h:
                if not ex.api_data_fully_ready(s):
                    return
                h["t"] = [ex.get_variable_handle(s, "Zone Mean Air Temperature", z)
                          for z in zones]
                h["p"] = [ex.get_variable_handle(
                    s, "Zone Ideal Loads Supply Air Total Heating Rate", f"SOB_IL {z}")
                    for z in zones]
                h["sp"] = [ex.get_variable_handle(
                    s, "Zone Thermostat Heating Setpoint Temperature", z) for z in zones]
                h["out"] = ex.get_variable_handle(s, "Site Outdoor Air Drybulb Temperature",
                                                  "Environment")
                h["act_sp"] = [ex.get_actuator_handle(s, "Zone Temperature Control",
                                                      "Heating Setpoint", z) for z in zones]
                h["act_on"] = [ex.get_actuator_handle(s, "Schedule:Constant", "Schedule Value",
                                                      f"SOB_AVAIL {z}") for z in zones]
                h["area"] = [ex.get_internal_variable_value(
                    s, ex.get_internal_variable_handle(s, "Zone Floor Area", z)) for z in zones]
                bad = [k for k, v in h.items() if k != "area" and np.min(v) < 0]
                if bad:
                    raise RuntimeError(f"EnergyPlus handles not found: {bad}")
            end = (datetime(self.year, ex.month(s), ex.day_of_month(s), tzinfo=LOCAL)
                   + timedelta(hours=round(ex.current_time(s) * 4) / 4)).astimezone(UTC)
            temps = [ex.get_variable_value(s, k) for k in h["t"]]
            powers = [ex.get_variable_value(s, k) for k in h["p"]]
            sps = [ex.get_variable_value(s, k) for k in h["sp"]]
            t_out = ex.get_variable_value(s, h["out"])
            rows.append((end - timedelta(seconds=STEP_S), temps, powers, sps, t_out))
            if controller is None:
                return
            ts = pd.Timestamp(end)
            obs = Observation(
                time_utc=end, building_code=self.code, temp_out_c=t_out,
                solar_w_m2=float(solar.asof(ts)),
                zones=tuple(ZoneObservation(zone_code=z, temp_zone_c=t, heating_power_w=p,
                                            setpoint_c=sp)
                            for z, t, p, sp in zip(zones, temps, powers, sps, strict=True)),
                building_power_w=float(sum(powers)))
            started = time.perf_counter()
            try:
                decision = controller(obs)
            except Exception as exc:  # noqa: BLE001 - EnergyPlus would swallow it: keep it
                errors.append(exc)
                decision = None
            ctrl_s[0] += time.perf_counter() - started
            decided = {d.zone_code: d for d in decision.zones} if decision else {}
            for i, z in enumerate(zones):
                d = decided.get(z)
                if d is None:
                    ex.reset_actuator(s, h["act_sp"][i])
                    ex.set_actuator_value(s, h["act_on"][i], 1.0)
                    continue
                if d.setpoint_c is not None:
                    ex.set_actuator_value(s, h["act_sp"][i], float(d.setpoint_c))
                else:
                    ex.reset_actuator(s, h["act_sp"][i])
                off = d.heating_power_w is not None and d.heating_power_w <= 0.0
                ex.set_actuator_value(s, h["act_on"][i], 0.0 if off else 1.0)

        api.runtime.callback_end_zone_timestep_after_zone_reporting(state, callback)
        out = self.out_dir / tag
        started = time.perf_counter()
        rc = api.runtime.run_energyplus(state, ["-w", str(self.epw), "-d", str(out),
                                                str(self.idf)])
        wall = time.perf_counter() - started
        api.state_manager.delete_state(state)
        if errors:
            raise RuntimeError(f"the controller failed {len(errors)} times") from errors[0]
        if rc != 0:
            raise RuntimeError(f"EnergyPlus failed ({rc}): see {out / 'eplusout.err'}")
        index = pd.DatetimeIndex([r[0] for r in rows])
        return RunResult(
            temp_c=pd.DataFrame([r[1] for r in rows], index=index, columns=list(zones)),
            power_w=pd.DataFrame([r[2] for r in rows], index=index, columns=list(zones)),
            setpoint_c=pd.DataFrame([r[3] for r in rows], index=index, columns=list(zones)),
            temp_out_c=pd.Series([r[4] for r in rows], index=index),
            floor_area_m2=dict(zip(zones, h["area"], strict=True)), wall_s=wall,
            controller_s=ctrl_s[0])
