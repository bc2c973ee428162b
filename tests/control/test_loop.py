"""The closed loop on the own simulator: identify a building from a week of data, then let the
controller run a Tempo red day against the building's own schedule, same weather, same start."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest

from sobriete.control.interface import Mode
from sobriete.control.loop import horizon, on_grid, run_closed_loop, tempo_prices
from sobriete.control.optimiser import PlanSettings
from sobriete.control.simulator import RCSimulator, SimZone, run_schedule, synthetic_weather
from sobriete.control.thermal import R2C2, identify
from sobriete.domain.portfolio import (
    Building,
    OccupancyCalendar,
    OpeningHours,
    Sensor,
    SensorKind,
    Zone,
)

PARIS = "Europe/Paris"
TRUE = R2C2(r_air_env_k_per_w=6e-4, r_env_out_k_per_w=1.4e-3, c_air_j_per_k=8e6,
            c_env_j_per_k=1.2e8, a_sol_m2=8.0)
MAX_W = 40_000.0
# The simulator's occupants: weekdays 08:00-18:00 Paris; the calendar says the same.
CAL = OccupancyCalendar(weekly={d: (OpeningHours(start=time(8), end=time(18)),)
                                for d in range(1, 6)}, closed_on_public_holidays=False)
BUILDING = Building(code="ECOLE", name="École test", activity="school", calendar=CAL,
                    zones=(Zone(code="Z1", sensors=(Sensor(code="T1",
                                                           kind=SensorKind.TEMPERATURE),)),))
LEARN = pd.Timestamp("2024-01-08 00:00", tz=PARIS).tz_convert("UTC")  # a Monday
WEATHER = synthetic_weather(LEARN - pd.Timedelta(days=1), 12, seed=3)
RED = {date(2024, 1, 15)}  # the Monday after the learning week


def _sim(start) -> RCSimulator:
    return RCSimulator("ECOLE", [SimZone("Z1", TRUE, MAX_W, initial_temp_c=17.0)], WEATHER,
                       start_utc=start.to_pydatetime(), noise_std_c=0.05, seed=1)


def _schedule(t: datetime, _zone: str) -> float:
    """The building's own rule: 19 °C from 07:00 (an hour of pre-heat) to 18:00 on weekdays,
    16 °C otherwise."""
    local = pd.Timestamp(t).tz_convert(PARIS)
    return 19.0 if local.weekday() < 5 and 7 <= local.hour < 18 else 16.0


def _cost_and_discomfort(hist: pd.DataFrame, prices: pd.DataFrame) -> tuple[float, float]:
    p = prices.reindex(hist.index)["price_eur_per_kwh"]
    cost = float((hist["Z1:heating_power_w"] / 1000 * 0.25 * p).sum())
    local = hist.index.tz_convert(PARIS)
    occupied = (local.day_of_week < 5) & (local.hour >= 8) & (local.hour < 18)
    cold = np.clip(19.0 - 0.5 - hist["Z1:temp_true_c"].to_numpy(), 0, None)
    return cost, float((cold * occupied).sum() * 0.25)


@pytest.fixture(scope="module")
def learnt():
    sim = _sim(LEARN)
    run_schedule(sim, 7 * 96, _schedule)
    return identify(sim.history("Z1"), model="R2C2").model


def test_controller_holds_comfort_and_costs_less_than_the_schedule_on_a_red_day(learnt):
    day_start = pd.Timestamp("2024-01-15 00:00", tz=PARIS).tz_convert("UTC")
    steps = 96
    idx = horizon(day_start, steps + 96)
    prices = tempo_prices(idx, RED, red_eur_per_kwh=0.75, base_eur_per_kwh=0.15,
                          co2_kg_per_kwh=0.08)
    forecast = on_grid(WEATHER, idx)

    rule = _sim(day_start)
    run_schedule(rule, steps, _schedule)
    rule_cost, rule_cold = _cost_and_discomfort(rule.history(), prices)

    sim = _sim(day_start)
    out = run_closed_loop(sim, BUILDING, "Z1", learnt, forecast, prices, steps,
                          PlanSettings(max_power_w=MAX_W, explain_gain=False))
    mpc_cost, mpc_cold = _cost_and_discomfort(sim.history(), prices)
    print(f"rule {rule_cost:.2f} EUR, {rule_cold:.2f} K.h; controller {mpc_cost:.2f} EUR, "
          f"{mpc_cold:.2f} K.h; {out.plans_solved} plans in {out.solve_time_s:.1f} s")
    assert out.plans_solved == steps and out.fallbacks == 0
    assert len(out.audit) == steps
    assert mpc_cost < rule_cost
    assert mpc_cold <= rule_cold + 0.5  # no more discomfort than the schedule (K·h)
    red = sim.history().index.tz_convert(PARIS)
    in_red = (red.hour >= 6) & (red.hour < 22)
    assert sim.history()["Z1:heating_power_w"][in_red].mean() < (
        rule.history()["Z1:heating_power_w"][in_red].mean())


def test_advise_mode_keeps_the_buildings_schedule(learnt):
    day_start = pd.Timestamp("2024-01-15 05:00", tz=PARIS).tz_convert("UTC")
    idx = horizon(day_start, 8 + 96)
    prices = tempo_prices(idx, RED, red_eur_per_kwh=0.75, base_eur_per_kwh=0.15,
                          co2_kg_per_kwh=0.08)
    sim = _sim(day_start)
    out = run_closed_loop(sim, BUILDING, "Z1", learnt, on_grid(WEATHER, idx), prices, 8,
                          PlanSettings(max_power_w=MAX_W, explain_gain=False),
                          mode=Mode.ADVISE)
    assert all(d.fallback for d in out.decisions)  # the schedule ran, the plan was logged
    assert all(r.proposed is not None for r in out.audit.records)
