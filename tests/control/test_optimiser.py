"""Planning on a test-local 1R1C model: comfort kept, red-day pre-heat, shed caps, relaxation."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.control.interface import STEP_S, LinearThermalModel
from sobriete.control.optimiser import Plan, PlanSettings, plan


class RC1:
    """1R1C zone: C dT/dt = (T_out - T)/R + P + g S, exact zero-order-hold discretisation.

    R [K/W], C [J/K], g [m²]: solar aperture (W per W/m²).
    """

    def __init__(self, r_k_per_w: float = 2e-3, c_j_per_k: float = 5e7, g_m2: float = 2.0):
        self.r, self.c, self.g = r_k_per_w, c_j_per_k, g_m2

    def state_space(self, dt_s: float):
        a = np.exp(-dt_s / (self.r * self.c))
        b = (1 - a) * np.array([[self.r, 1.0, self.r * self.g]])
        return np.array([[a]]), b, np.array([[1.0]])

    def initial_state(self, temp_zone_c: float) -> np.ndarray:
        return np.array([temp_zone_c])


START = pd.Timestamp("2025-01-14 23:00", tz="UTC")  # local midnight, a Wednesday


def horizon(hours: int = 24) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=hours * 3600 // STEP_S, freq=f"{STEP_S}s")


def local_hours(index: pd.DatetimeIndex) -> np.ndarray:
    local = index.tz_convert("Europe/Paris")
    return np.asarray(local.hour + local.minute / 60)


def envelope(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Occupied 08:00-18:00 local each day [19, 21]; otherwise [12, 16], restart from 05:00."""
    h = local_hours(index)
    occ = (h >= 8) & (h < 18)
    t_max = np.where(occ | ((h >= 5) & (h < 8)), 21.0, 16.0)
    return pd.DataFrame({"t_min_c": np.where(occ, 19.0, 12.0), "t_max_c": t_max,
                         "occupied": occ}, index=index)


def forecast(index: pd.DatetimeIndex, temp_out_c: float = 2.0) -> pd.DataFrame:
    return pd.DataFrame({"temp_out_c": temp_out_c, "solar_w_m2": 0.0}, index=index)


def prices(index: pd.DatetimeIndex, red: bool = False) -> pd.DataFrame:
    h = local_hours(index)
    window = (h >= 6) & (h < 22)
    price = np.where(window, 0.75, 0.16) if red else np.full(len(index), 0.20)
    return pd.DataFrame({"price_eur_per_kwh": price, "co2_kg_per_kwh": 0.06,
                         "tariff_label": np.where(window, "jour rouge Tempo", "heures creuses")},
                        index=index)


# Typed as the protocol: a static check that RC1 fulfils it (it is not runtime_checkable).
MODEL: LinearThermalModel = RC1()
SETTINGS = PlanSettings(max_power_w=60_000)


def run(index, *, red=False, temp0=16.0, cfg=SETTINGS, price_frame=None) -> Plan:
    p = prices(index, red) if price_frame is None else price_frame
    return plan(MODEL, MODEL.initial_state(temp0), forecast(index), envelope(index), p, cfg)


def test_feasible_plan_keeps_the_envelope():
    index = horizon()
    p = run(index)
    assert p.status == "Optimal"
    temps = p.steps["temp_c"].to_numpy()[1:]
    assert (temps >= p.steps["t_min_c"].to_numpy()[1:] - 1e-6).all()
    # Above the band only while cooling freely after closing (no cooling plant): never heated.
    heated = p.steps["power_w"].to_numpy()[:-1] > 0
    assert (temps[heated] <= p.steps["t_max_c"].to_numpy()[1:][heated] + 1e-6).all()
    assert (temps <= p.steps["t_max_c"].to_numpy()[1:] + 1e-6).mean() > 0.5
    assert p.overshoot_kh > 0
    assert p.temp_end_c >= p.steps["t_min_c"].iloc[-1] - 1e-6
    assert p.violation_kh == 0 and p.comfort_kept
    assert p.infeasible_reason_fr == "" and p.infeasible_reason_en == ""
    assert "19 °C tenus en occupation" in p.explanation_fr
    assert (p.steps["power_w"] >= 0).all() and (p.steps["power_w"] <= 60_000 + 1e-6).all()
    assert p.energy_kwh > 0 and p.cost_eur == pytest.approx(p.energy_kwh * 0.20)
    assert p.co2_kg == pytest.approx(p.energy_kwh * 0.06)
    assert p.occupied_mean_c == pytest.approx(19.0, abs=1e-3)


def test_feasible_band_is_kept_everywhere():
    index = horizon()
    env = envelope(index).assign(t_min_c=19.0, t_max_c=20.0, occupied=True)
    p = plan(MODEL, MODEL.initial_state(19.5), forecast(index), env, prices(index, red=True),
             SETTINGS)
    temps = np.append(p.steps["temp_c"].to_numpy()[1:], p.temp_end_c)
    assert (temps >= 19.0 - 1e-6).all() and (temps <= 20.0 + 1e-6).all()
    assert p.violation_kh == 0 and p.overshoot_kh == 0


def test_heating_never_stores_above_the_band():
    """A 0 W shed the mass cannot bridge: discomfort is reported, never bought by overheating."""
    index = horizon()
    h = local_hours(index)
    shed = (h >= 8) & (h < 13)
    p = run(index, price_frame=prices(index).assign(max_power_w=np.where(shed, 0.0, np.nan)))
    assert (p.steps["power_w"].to_numpy()[shed] == 0).all()
    assert p.steps["temp_c"].max() <= 21.0 + 1e-6
    assert p.violation_kh > 0
    assert "puissance plafonnée par l'effacement (0,0 kW)" in p.infeasible_reason_fr


def test_red_day_preheats_and_uses_less_in_the_window():
    index = horizon()
    flat, red = run(index), run(index, red=True)
    h = local_hours(index)
    window = (h >= 6) & (h < 22)
    before = (h >= 5) & (h < 6)
    kwh = lambda p, m: p.steps["power_w"].to_numpy()[m].sum() * STEP_S / 3.6e6  # noqa: E731
    assert kwh(red, before) > kwh(flat, before) + 1.0
    assert kwh(red, window) < kwh(flat, window) - 1.0
    assert red.violation_kh == 0
    assert red.gain_eur is not None and red.gain_eur > 0
    assert red.explanation_fr.startswith("Préchauffage de 0")
    assert "jour rouge Tempo de 06:00 à 22:00" in red.explanation_fr
    assert "gain prévu" in red.explanation_fr
    print("\n", red.explanation_fr, "\n", red.explanation_en)


def test_shed_window_respects_the_cap():
    index = horizon()
    h = local_hours(index)
    shed = (h >= 8) & (h < 13)
    pr = prices(index).assign(max_power_w=np.where(shed, 5_000.0, np.nan))
    p = run(index, price_frame=pr)
    assert (p.steps["power_w"].to_numpy()[shed] <= 5_000 + 1e-6).all()
    assert "Effacement de 08:00 à 13:00" in p.explanation_fr
    # 5 kW alone would not hold 19 °C (8.5 kW needed), the stored heat does: stored, kept.
    assert p.steps["temp_c"].to_numpy()[shed][0] > 19.5
    assert p.violation_kh == 0


def test_too_little_power_is_relaxed_and_reported():
    index = horizon()
    p = run(index, cfg=PlanSettings(max_power_w=6_000))
    assert p.status == "Optimal"
    assert p.violation_kh > 0 and not p.comfort_kept
    assert p.infeasible_reason_fr.startswith("Confort non tenable de ")
    assert "puissance maximale insuffisante (6,0 kW)" in p.infeasible_reason_fr
    assert "maximum power too low" in p.infeasible_reason_en
    assert "confort non tenu" in p.explanation_fr
    # Before every short step the heating runs at full power: nothing held back for money.
    short = p.steps["slack_low_k"].to_numpy()[1:] > 0
    assert (p.steps["power_w"].to_numpy()[:-1][short] >= 0.99 * 6_000).all()


def test_cold_start_is_reported():
    index = horizon()
    env = envelope(index).assign(t_min_c=19.0, occupied=True, t_max_c=21.0)
    p = plan(MODEL, MODEL.initial_state(10.0), forecast(index), env, prices(index),
             SETTINGS)
    assert p.violation_kh > 0
    assert "départ trop froid (10,0 °C)" in p.infeasible_reason_fr


def test_solve_time_48h():
    index = horizon(48)
    assert len(index) == 192
    started = time.perf_counter()
    p = run(index, red=True)
    wall = time.perf_counter() - started
    assert p.status == "Optimal"
    print(f"\n48 h / 192 steps: HiGHS {p.solve_time_s * 1000:.1f} ms (3 LPs), "
          f"plan() {wall * 1000:.1f} ms")


def test_inputs_must_share_the_index():
    index = horizon()
    with pytest.raises(ValueError, match="index"):
        plan(MODEL, MODEL.initial_state(17.0), forecast(index[1:]), envelope(index),
             prices(index), SETTINGS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(factor=st.floats(1.0, 50.0), offset=st.floats(0.0, 5.0),
       max_power_w=st.sampled_from([6_000.0, 9_000.0, 30_000.0]),
       red=st.booleans())
def test_raising_prices_never_changes_comfort(factor, offset, max_power_w, red):
    index = horizon(12)
    cfg = PlanSettings(max_power_w=max_power_w, explain_gain=False)
    base = prices(index, red)
    dear = base.assign(price_eur_per_kwh=base["price_eur_per_kwh"] * factor + offset)
    a = run(index, red=red, cfg=cfg, price_frame=base)
    b = run(index, red=red, cfg=cfg, price_frame=dear)
    assert b.violation_kh == pytest.approx(a.violation_kh, abs=1e-4)
