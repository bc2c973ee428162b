"""`sobriete control simulate`: the closed loop on the simulated school, schedule vs controller.

The worked example of ``tests/control/test_loop.py`` as a use case: a one-zone school (an R2C2
of known parameters, 40 kW of heating) runs ``days_learning`` days under its own schedule, its
model is identified from that history, then the same day (Monday 15 January 2024) is simulated
twice from the same start and weather: once under the schedule, once under the controller
(``control.loop.run_closed_loop``), optionally on a Tempo red day and with a demand-response
cap window (``max_power_w`` in the price frame). This is a *simulated* building: the numbers
say what the controller does on a model of the right structure, not on a real school.

The same loop on a stored building is ``services.control_run`` (`sobriete control run`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from sobriete.control.comfort import comfort_envelope
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
ZONE = "Z1"
STEP_H = 0.25
# The simulated school's true thermal model and heater.
TRUE_MODEL = R2C2(r_air_env_k_per_w=6e-4, r_env_out_k_per_w=1.4e-3, c_air_j_per_k=8e6,
                  c_env_j_per_k=1.2e8, a_sol_m2=8.0)
MAX_W = 40_000.0
# Unmetered gains of pupils, lights and computers while occupied (a few classes' worth).
INTERNAL_GAIN_W = 3_000.0
# The simulator's occupants: weekdays 08:00-18:00 Paris; the calendar says the same.
CALENDAR = OccupancyCalendar(weekly={d: (OpeningHours(start=time(8), end=time(18)),)
                                     for d in range(1, 6)}, closed_on_public_holidays=False)
BUILDING = Building(code="ECOLE", name="École simulée", activity="school", calendar=CALENDAR,
                    zones=(Zone(code=ZONE, sensors=(Sensor(code="T1",
                                                           kind=SensorKind.TEMPERATURE),)),))
DAY = date(2024, 1, 15)  # a Monday, after a week of learning
# Example prices of the worked example (a Tempo contract's order of magnitude, not defaults).
RED_EUR_PER_KWH, BASE_EUR_PER_KWH, CO2_KG_PER_KWH = 0.75, 0.15, 0.08
RED_HOURS = (time(6), time(22))
COMFORT_MIN_C, COMFORT_TOL_K = 19.0, 0.5
NOISE_SEED = 1  # the sensor noise; ``seed`` draws the weather


def day_start_utc(day: date = DAY) -> pd.Timestamp:
    return pd.Timestamp(datetime.combine(day, time(0)), tz=PARIS).tz_convert("UTC")


def school_weather(days_learning: int = 7, seed: int = 3, day: date = DAY) -> pd.DataFrame:
    """Hourly synthetic weather from the day before learning to two days after ``day`` (the
    last step plus the 24 h horizon)."""
    start = day_start_utc(day) - pd.Timedelta(days=days_learning + 1)
    return synthetic_weather(start, days_learning + 5, seed=seed)


def school_simulator(weather: pd.DataFrame, start_utc: pd.Timestamp, *,
                     noise_seed: int = NOISE_SEED) -> RCSimulator:
    """The school at 17 °C at ``start_utc``, 0.05 K of sensor noise."""
    return RCSimulator(BUILDING.code, [SimZone(ZONE, TRUE_MODEL, MAX_W, INTERNAL_GAIN_W,
                                                initial_temp_c=17.0)],
                       weather, start_utc=pd.Timestamp(start_utc).to_pydatetime(),
                       noise_std_c=0.05, seed=noise_seed)


def school_schedule(t: datetime, _zone: str) -> float:
    """The school's own rule: 19 °C from 07:00 (an hour of pre-heat) to 18:00 on weekdays,
    16 °C otherwise."""
    local = pd.Timestamp(t).tz_convert(PARIS)
    return 19.0 if local.weekday() < 5 and 7 <= local.hour < 18 else 16.0


def occupied_mask(index: pd.DatetimeIndex) -> np.ndarray:
    local = index.tz_convert(PARIS)
    return np.asarray((local.day_of_week < 5) & (local.hour >= 8) & (local.hour < 18))


def cost_and_discomfort(hist: pd.DataFrame, prices: pd.DataFrame,
                        zone: str = ZONE) -> tuple[float, float]:
    """Energy cost [EUR] at ``prices`` and K·h below 18.5 °C in occupation (true temperature)."""
    p = prices.reindex(hist.index)["price_eur_per_kwh"]
    cost = float((hist[f"{zone}:heating_power_w"] / 1000 * STEP_H * p).sum())
    cold = np.clip(COMFORT_MIN_C - COMFORT_TOL_K - hist[f"{zone}:temp_true_c"].to_numpy(), 0,
                   None)
    return cost, float((cold * occupied_mask(hist.index)).sum() * STEP_H)


def learn_model(weather: pd.DataFrame, days_learning: int = 7, day: date = DAY):
    """The school's model identified (R2C2) from ``days_learning`` days under its schedule."""
    sim = school_simulator(weather, day_start_utc(day) - pd.Timedelta(days=days_learning))
    run_schedule(sim, days_learning * 96, school_schedule)
    return identify(sim.history(ZONE, occupied=True), model="R2C2").model


@dataclass(frozen=True)
class PolicyResult:
    """One run of the day: the schedule's or the controller's."""

    cost_eur: float
    energy_kwh: float
    peak_kw: float
    kwh_red: float | None  # in the Tempo red hours (None: not a red day)
    kwh_shed: float | None  # in the demand-response window (None: no window)
    discomfort_kh: float  # below 18.5 °C in occupation


@dataclass(frozen=True)
class KeyStep:
    """One audited step of the controller, with its explanation."""

    time_local: str  # HH:MM, Europe/Paris
    what_fr: str
    what_en: str
    power_kw: float
    temp_c: float  # measured at the step start
    explanation_fr: str
    explanation_en: str


@dataclass
class SimulationOutcome:
    day: date
    red_day: bool
    shed_window: tuple[time, time] | None
    shed_cap_kw: float | None
    seed: int
    days_learning: int
    schedule: PolicyResult
    controller: PolicyResult
    plans_solved: int
    solve_time_s: float
    fallbacks: int
    key_steps: list[KeyStep]
    # Per step (UTC index): temp_*_c (true), power_*_w for schedule and controller, t_min_c,
    # t_max_c, occupied, red, shed, price_eur_per_kwh.
    steps: pd.DataFrame = field(repr=False)

    @property
    def red_window(self) -> tuple[time, time] | None:
        return RED_HOURS if self.red_day else None

    def to_dict(self) -> dict:
        """Everything but the per-step frame, JSON-ready."""
        def hm(w):
            return None if w is None else [t.strftime("%H:%M") for t in w]
        return {
            "simulation": "simulated building (own RC simulator), not a measured one",
            "building": BUILDING.code, "day": self.day.isoformat(), "red_day": self.red_day,
            "red_window": hm(self.red_window), "shed_window": hm(self.shed_window),
            "shed_cap_kw": self.shed_cap_kw, "seed": self.seed,
            "days_learning": self.days_learning,
            "prices_eur_per_kwh": {"red": RED_EUR_PER_KWH, "base": BASE_EUR_PER_KWH},
            "schedule": asdict(self.schedule), "controller": asdict(self.controller),
            "plans_solved": self.plans_solved, "solve_time_s": self.solve_time_s,
            "fallbacks": self.fallbacks, "key_steps": [asdict(k) for k in self.key_steps],
        }


def _in_window(index: pd.DatetimeIndex, window: tuple[time, time] | None,
               day: date) -> np.ndarray:
    if window is None:
        return np.zeros(len(index), bool)
    local = index.tz_convert(PARIS)
    clock = np.array([t.time() for t in local])
    on_day = np.array([d == day for d in local.date])
    return on_day & (clock >= window[0]) & (clock < window[1])


def _result(hist: pd.DataFrame, prices: pd.DataFrame, red: np.ndarray, shed: np.ndarray,
            red_day: bool, has_shed: bool) -> PolicyResult:
    cost, cold = cost_and_discomfort(hist, prices)
    kwh = hist[f"{ZONE}:heating_power_w"].to_numpy() / 1000 * STEP_H
    return PolicyResult(cost_eur=cost, energy_kwh=float(kwh.sum()),
                        peak_kw=float(hist[f"{ZONE}:heating_power_w"].max() / 1000),
                        kwh_red=float(kwh[red].sum()) if red_day else None,
                        kwh_shed=float(kwh[shed].sum()) if has_shed else None,
                        discomfort_kh=cold)


def _key_steps(out, steps: pd.DataFrame, red_day: bool,
               shed_window: tuple[time, time] | None) -> list[KeyStep]:
    """The first heating step (pre-heat), the red window's start (or the opening) and the
    shed window's start (or the closing)."""
    records = out.audit.records
    local = steps.index.tz_convert(PARIS)
    power = steps["power_controller_w"].to_numpy()
    picks: list[tuple[int, str, str]] = []
    heating = np.flatnonzero(power > 0)
    if len(heating):
        picks.append((int(heating[0]), "première chauffe", "first heating"))
    mark = RED_HOURS[0] if red_day else time(8)
    what = ("début des heures rouges", "red hours start") if red_day else (
        "arrivée des occupants", "occupants arrive")
    picks.append((int(np.flatnonzero(local.time >= mark)[0]), *what))
    if shed_window is not None:
        k = np.flatnonzero(local.time >= shed_window[0])
        if len(k):
            picks.append((int(k[0]), "début de l'effacement", "demand response starts"))
    else:
        picks.append((int(np.flatnonzero(local.time >= time(18))[0]), "départ des occupants",
                      "occupants leave"))
    seen, keys = set(), []
    for k, fr, en in sorted(picks):
        if k in seen:
            continue
        seen.add(k)
        r = records[k]
        keys.append(KeyStep(time_local=local[k].strftime("%H:%M"), what_fr=fr, what_en=en,
                            power_kw=float(power[k] / 1000),
                            temp_c=float(r.inputs.get(f"{ZONE}.temp_zone_c") or np.nan),
                            explanation_fr=r.explanation_fr, explanation_en=r.explanation_en))
    return keys


def simulate_day(*, red_day: bool, seed: int = 3, days_learning: int = 7,
                 shed_window: tuple[time, time] | None = None, shed_cap_w: float = 0.0,
                 day: date = DAY) -> SimulationOutcome:
    """Learn the simulated school from ``days_learning`` days under its schedule, then run
    ``day`` under the schedule and under the controller (perfect weather forecast).

    ``red_day``: Tempo red hours 06:00-22:00 at 0.75 EUR/kWh, 0.15 otherwise (else 0.15 all
    day). ``shed_window``: local (start, end) on ``day`` during which the heating power is
    capped at ``shed_cap_w`` (``max_power_w`` in the price frame); the schedule ignores it, as
    a building without a controller would. ``seed`` draws the weather.
    """
    if days_learning < 2:
        raise ValueError("days_learning must be at least 2 (identification needs the history)")
    if shed_window is not None and not shed_window[0] < shed_window[1]:
        raise ValueError(f"shed window {shed_window}: the start must precede the end")
    if shed_cap_w < 0:
        raise ValueError("shed_cap_w must be >= 0")
    weather = school_weather(days_learning, seed, day)
    model = learn_model(weather, days_learning, day)
    start, n = day_start_utc(day), 96
    idx = horizon(start, n + 96)
    prices = tempo_prices(idx, {day} if red_day else set(), red_eur_per_kwh=RED_EUR_PER_KWH,
                          base_eur_per_kwh=BASE_EUR_PER_KWH, co2_kg_per_kwh=CO2_KG_PER_KWH)
    shed_all = _in_window(idx, shed_window, day)
    if shed_window is not None:
        prices["max_power_w"] = np.where(shed_all, shed_cap_w, np.nan)

    rule = school_simulator(weather, start)
    run_schedule(rule, n, school_schedule)
    sim = school_simulator(weather, start)
    out = run_closed_loop(sim, BUILDING, ZONE, model, on_grid(weather, idx), prices, n,
                          PlanSettings(max_power_w=MAX_W, explain_gain=False))
    h_rule, h_ctrl = rule.history(), sim.history()
    index = h_ctrl.index
    red = _in_window(index, RED_HOURS, day) if red_day else np.zeros(len(index), bool)
    shed = _in_window(index, shed_window, day)
    env = comfort_envelope(BUILDING, index)
    steps = pd.DataFrame({
        "temp_schedule_c": h_rule[f"{ZONE}:temp_true_c"].to_numpy(),
        "temp_controller_c": h_ctrl[f"{ZONE}:temp_true_c"].to_numpy(),
        "power_schedule_w": h_rule[f"{ZONE}:heating_power_w"].to_numpy(),
        "power_controller_w": h_ctrl[f"{ZONE}:heating_power_w"].to_numpy(),
        "t_min_c": env["t_min_c"].to_numpy(float), "t_max_c": env["t_max_c"].to_numpy(float),
        "occupied": occupied_mask(index), "red": red, "shed": shed,
        "price_eur_per_kwh": prices.reindex(index)["price_eur_per_kwh"].to_numpy(),
    }, index=index)
    has_shed = shed_window is not None
    return SimulationOutcome(
        day=day, red_day=red_day, shed_window=shed_window,
        shed_cap_kw=shed_cap_w / 1000 if has_shed else None, seed=seed,
        days_learning=days_learning,
        schedule=_result(h_rule, prices, red, shed, red_day, has_shed),
        controller=_result(h_ctrl, prices, red, shed, red_day, has_shed),
        plans_solved=out.plans_solved, solve_time_s=out.solve_time_s, fallbacks=out.fallbacks,
        key_steps=_key_steps(out, steps, red_day, shed_window), steps=steps)
