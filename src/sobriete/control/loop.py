"""The control loop: observe, plan over the horizon, keep the first step, pass it through the
safety envelope, log it, apply it; again at the next step with fresh data (receding horizon).

Re-planning every step is what makes the plan robust to forecast error: each decision starts
from the measured temperature, whatever the previous forecast said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from sobriete.control.audit import AuditLog, AuditRecord
from sobriete.control.comfort import ComfortSettings, comfort_envelope
from sobriete.control.estimator import StateEstimator
from sobriete.control.interface import (
    STEP_S,
    Decision,
    LinearThermalModel,
    Mode,
    Observation,
    ZoneDecision,
)
from sobriete.control.optimiser import Plan, PlanSettings, plan
from sobriete.control.safety import SafetyEnvelope, SafetyState, dispatchable, fallback_decision
from sobriete.domain.portfolio import Building


class NoZoneTemperature(ValueError):
    """The zone's temperature is missing this step: nothing to plan from. The loop answers it
    with the building's own schedule; every other planning error must surface, not be
    silently replaced by the schedule (a price frame not covering the horizon, say)."""


def horizon(start_utc, steps: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start_utc), periods=steps, freq=f"{STEP_S}s")


def on_grid(frame: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    """``frame`` (any regular UTC step) interpolated in time onto the planning ``index``."""
    union = frame.index.union(index)
    return frame.reindex(union).interpolate(method="time", limit_direction="both").reindex(index)


def with_internal_gains(forecast: pd.DataFrame, model: LinearThermalModel,
                       envelope: pd.DataFrame) -> pd.DataFrame:
    """``forecast`` with the model's unmetered internal gains on the envelope's occupancy
    (column ``internal_gain_w``), unless the caller forecast them already. Models that carry
    no gains (``internal_gains_w`` absent) leave the forecast as it is."""
    gains = getattr(model, "internal_gains_w", None)
    if gains is None or "internal_gain_w" in forecast.columns:
        return forecast
    return forecast.assign(internal_gain_w=gains(envelope["occupied"].to_numpy(float)))


def decide(building: Building, zone_code: str, model: LinearThermalModel, obs: Observation,
           forecast: pd.DataFrame, prices: pd.DataFrame, settings: PlanSettings, *,
           comfort: ComfortSettings | None = None,
           closures: list[tuple[date, date]] | None = None,
           envelope: pd.DataFrame | None = None,
           time_utc: datetime | None = None,
           estimator: StateEstimator | None = None) -> tuple[Decision, Plan]:
    """Plan ``zone_code`` from the observation over ``forecast``'s index (which starts at
    the step's time: ``time_utc``, by default ``obs.time_utc``) and propose the first step's
    heating power, with the plan's reasons. ``envelope``: the comfort envelope on that index
    when the caller has it already (otherwise computed here from ``comfort`` and
    ``closures``). A real building's observation may be older than the step it serves: the
    decision is dated ``time_utc``, so the safety envelope sees the observation's age.
    ``estimator``: carries the hidden nodes from the previous steps (a loop's); without it they
    start at steady state (a one-off plan)."""
    zone = next((z for z in obs.zones if z.zone_code == zone_code), None)
    if zone is None or zone.temp_zone_c is None:
        raise NoZoneTemperature(f"no temperature observed for zone {zone_code!r}: cannot plan "
                         "(the safety envelope falls back to the schedule)")
    if envelope is None:
        envelope = comfort_envelope(building, forecast.index, settings=comfort,
                                    closures=closures)
    forecast = with_internal_gains(forecast, model, envelope)
    if estimator is None:
        x0 = model.initial_state(zone.temp_zone_c, obs.temp_out_c)
    else:
        first = forecast.iloc[0]
        x0 = estimator.estimate(time_utc or obs.time_utc, zone.temp_zone_c, obs.temp_out_c,
                                zone.heating_power_w,
                                (first["temp_out_c"], first["solar_w_m2"],
                                 first.get("internal_gain_w", 0.0)))
    p = plan(model, x0, forecast, envelope, prices, settings)
    power = float(max(p.steps["power_w"].iloc[0], 0.0))
    reason_fr = " ".join(t for t in (p.explanation_fr, p.infeasible_reason_fr) if t)
    reason_en = " ".join(t for t in (p.explanation_en, p.infeasible_reason_en) if t)
    return Decision(time_utc=time_utc or obs.time_utc, building_code=building.code,
                    zones=(ZoneDecision(zone_code=zone_code, heating_power_w=power),),
                    reason_fr=reason_fr, reason_en=reason_en), p


@dataclass
class LoopResult:
    decisions: list[Decision]
    audit: AuditLog
    plans_solved: int
    solve_time_s: float  # total wall time of the plans
    fallbacks: int


def run_closed_loop(sim, building: Building, zone_code: str, model: LinearThermalModel,
                    forecast: pd.DataFrame, prices: pd.DataFrame, steps: int,
                    settings: PlanSettings, *, horizon_steps: int = 96,
                    safety: SafetyEnvelope | None = None, mode: Mode = Mode.AUTOMATIC,
                    comfort: ComfortSettings | None = None,
                    on_step: Callable[[AuditRecord], None] | None = None) -> LoopResult:
    """Drive ``sim`` (anything with ``observation()`` and ``step(decision)``, e.g.
    ``simulator.RCSimulator``) for ``steps`` steps. ``forecast`` (temp_out_c, solar_w_m2) and
    ``prices`` (price_eur_per_kwh, co2_kg_per_kwh, optional max_power_w, tariff_label) must
    cover the last step plus the horizon. In ``advise`` or unapproved ``approve`` mode the
    building keeps its own schedule: the plan is logged, not applied.

    The step's time is ``sim.time_utc`` when ``sim`` has one (a real building read from the
    store: its latest observation may be older, and then stale), else the observation's.
    ``on_step(record)`` is called after each step is applied (to store or print it)."""
    safety = safety or SafetyEnvelope(building)
    state, audit = SafetyState(), AuditLog()
    estimator = StateEstimator(model)
    decisions, solved, solve_s, fallbacks = [], 0, 0.0, 0
    # The envelope of every horizon at once: the calendar is read once, not at every step.
    def now(obs: Observation) -> datetime:
        return getattr(sim, "time_utc", None) or obs.time_utc

    span = horizon(now(sim.observation()), steps + horizon_steps)
    envelopes = comfort_envelope(building, span, settings=comfort)
    for _ in range(steps):
        obs = sim.observation()
        t = now(obs)
        index = horizon(t, horizon_steps)
        envelope = envelopes.loc[index] if index.isin(span).all() else None
        proposed, p = None, None
        try:
            proposed, p = decide(building, zone_code, model, obs, on_grid(forecast, index),
                                 prices.reindex(index), settings, comfort=comfort,
                                 envelope=envelope, time_utc=t, estimator=estimator)
            solved, solve_s = solved + 1, solve_s + p.solve_time_s
        except NoZoneTemperature:
            pass  # the envelope below falls back to the schedule; any other error is a bug
        outcome = safety.step(proposed or fallback_decision(building, t), obs, state)
        state = outcome.state
        applied = outcome.decision
        if not dispatchable(applied, mode, approved=False):
            applied = fallback_decision(building, t, zone_codes=(zone_code,))
        fallbacks += int(applied.fallback)
        if p is not None:
            estimator.record(_applied_power(applied, zone_code))
        record = AuditRecord.from_step(mode, proposed, applied, outcome.interventions, obs)
        audit.append(record)
        decisions.append(applied)
        sim.step(applied)
        if on_step is not None:
            on_step(record)
    return LoopResult(decisions, audit, solved, solve_s, fallbacks)


def _applied_power(decision: Decision, zone_code: str) -> float | None:
    """The power a dispatched decision imposes on the zone; None for a setpoint (the
    building's regulation decides the power: the next observation's meter will tell)."""
    zone = next((z for z in decision.zones if z.zone_code == zone_code), None)
    return None if zone is None else zone.heating_power_w


def tempo_prices(index: pd.DatetimeIndex, red_days: set[date], *, red_eur_per_kwh: float,
                 base_eur_per_kwh: float, co2_kg_per_kwh: float,
                 timezone: str = "Europe/Paris") -> pd.DataFrame:
    """A price frame with Tempo red hours (06:00-22:00 local on red days) at the red price and
    every other hour at the base price; ``tariff_label`` names the red hours for the plan's
    explanation. Prices are the caller's (a contract's), never defaults."""
    local = index.tz_convert(timezone)
    red = np.array([d in red_days for d in local.date]) & (local.hour >= 6) & (local.hour < 22)
    return pd.DataFrame({
        "price_eur_per_kwh": np.where(red, red_eur_per_kwh, base_eur_per_kwh),
        "co2_kg_per_kwh": co2_kg_per_kwh,
        "tariff_label": np.where(red, "jour rouge Tempo", ""),
    }, index=index)
