"""The model-predictive policy (sobriete's planner) as an ``Observation -> Decision`` function.

Per group of zones (one zone, or several aggregated): an identified ``R2C2`` model, a state
estimate (``control.estimator``: air node = the measured, floor-area-weighted temperature;
envelope node advanced by the model with the metered power and the step's inputs), and every
15 min a 24-h plan by ``control.optimiser.plan`` on the comfort
envelope of the building's calendar, the prices and caps known at that time and the weather
forecast. The first step is applied as setpoints:

- planned power > 0: setpoint = the planned temperature at the end of the step (at least the
  band's floor), the zone's thermostat then delivers the heat;
- planned power 0: setpoint = the band's floor (the thermostat stays a safety net);
- a step capped at 0 kW by a demand-response event: heating off.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.control.estimator import StateEstimator
from sobriete.control.interface import STEP_S, Decision, Observation, ZoneDecision
from sobriete.control.optimiser import PlanSettings, plan
from sobriete.control.thermal import R2C2

HORIZON_STEPS = 96  # 24 h


def group_zones(zones: tuple[str, ...], groups: dict[str, str]) -> dict[str, list[str]]:
    if not groups:
        return {z: [z] for z in zones}
    out: dict[str, list[str]] = {g: [] for g in groups}
    for z in zones:
        g = next(g for g, rx in groups.items() if re.search(rx, z, re.IGNORECASE))
        out[g].append(z)
    return {g: zs for g, zs in out.items() if zs}


def group_frame(temp_end: pd.DataFrame, power: pd.DataFrame, weather: pd.DataFrame,
                members: list[str], areas: dict[str, float]) -> pd.DataFrame:
    """The frame ``thermal.identify`` expects for one group, indexed by step starts: the
    temperature at each step start (= the previous step's end), the mean power of the step,
    the outdoor temperature and irradiance at the step start."""
    w = np.array([areas[z] for z in members])
    temp = (temp_end[members].to_numpy() @ w) / w.sum()
    t = pd.Series(temp, index=temp_end.index + pd.Timedelta(seconds=STEP_S))
    index = power.index
    return pd.DataFrame({
        "temp_zone_c": t.reindex(index),
        "heating_power_w": power[members].sum(axis=1).to_numpy(),
        "temp_out_c": weather["temp_out_c"].reindex(index).to_numpy(),
        "solar_w_m2": weather["solar_w_m2"].reindex(index).to_numpy(),
    }, index=index)


class MpcPolicy:
    def __init__(self, *, groups: dict[str, list[str]], models: dict[str, R2C2],
                 caps_w: dict[str, float], areas: dict[str, float], envelope: pd.DataFrame,
                 prices, forecaster, building_code: str, perfect: bool) -> None:
        self.groups, self.models, self.caps_w, self.areas = groups, models, caps_w, areas
        self.envelope, self.prices, self.forecaster = envelope, prices, forecaster
        self.code, self.perfect = building_code, perfect
        # The product's observer: envelope node advanced with the measured power and the
        # step's inputs, air node reset to the measurement (control.estimator).
        self.estimators = {g: StateEstimator(m) for g, m in models.items()}
        self.solve_s: list[float] = []  # per step, all groups of the building
        self.violations: list[float] = []
        self.failures: list[tuple[str, str, str]] = []
        self.dump: Path | None = None

    def __call__(self, obs: Observation) -> Decision:
        t = pd.Timestamp(obs.time_utc)
        index = pd.date_range(t, periods=HORIZON_STEPS, freq=f"{STEP_S}s")
        fc = self.forecaster(index)
        prices = self.prices.frame(index, None if self.perfect else t)
        env = self.envelope.reindex(index)
        zones = {z.zone_code: z for z in obs.zones}
        decisions, spent = [], 0.0
        for g, members in self.groups.items():
            w = np.array([self.areas[z] for z in members])
            temp = float(np.array([zones[z].temp_zone_c for z in members]) @ w / w.sum())
            measured = sum(zones[z].heating_power_w or 0.0 for z in members)
            inputs = (float(obs.temp_out_c), float(obs.solar_w_m2 or 0.0), 0.0)
            x0 = self.estimators[g].estimate(obs.time_utc, temp, float(obs.temp_out_c),
                                             measured, inputs)
            started = time.perf_counter()
            try:
                p = plan(self.models[g], x0, fc, env, prices,
                         PlanSettings(max_power_w=self.caps_w[g], explain_gain=False))
            except RuntimeError as exc:  # no plan: the zones keep the building's schedule
                spent += time.perf_counter() - started
                self.failures.append((str(t), g, str(exc)))
                if self.dump is not None and len(self.failures) <= 3:
                    import pickle

                    self.dump.write_bytes(pickle.dumps((self.models[g], x0, fc, env, prices,
                                                        self.caps_w[g])))
                continue
            spent += time.perf_counter() - started
            steps = p.steps
            power0 = float(steps["power_w"].iloc[0])
            floor1 = float(steps["t_min_c"].iloc[1])
            off = float(steps["cap_w"].iloc[0]) <= 0.0
            if off:
                sp, power = floor1, 0.0
            elif power0 > 0:
                sp, power = max(float(steps["temp_c"].iloc[1]), floor1), power0
            else:
                sp, power = floor1, None
            self.estimators[g].record(None)  # the next observation meters the power
            self.violations.append(p.violation_kh)
            for z in members:
                decisions.append(ZoneDecision(zone_code=z, setpoint_c=round(sp, 3),
                                              heating_power_w=0.0 if off else power))
        self.solve_s.append(spent)
        return Decision(time_utc=obs.time_utc, building_code=self.code, zones=tuple(decisions))
