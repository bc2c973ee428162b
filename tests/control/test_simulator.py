"""The RC simulator: interface, heater, energy balance, noise, bad decisions."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from sobriete.control.interface import STEP_S, Decision, Observation, ZoneDecision
from sobriete.control.simulator import RCSimulator, SimZone, run_schedule, synthetic_weather
from sobriete.control.thermal import R1C1, R2C2

START = "2024-01-08T00:00:00Z"
FAST_R1C1 = R1C1(r_k_per_w=2e-3, c_j_per_k=1e6, a_sol_m2=0.0)  # τ = 2000 s: steady in hours
FAST_R2C2 = R2C2(
    r_air_env_k_per_w=5e-4,
    r_env_out_k_per_w=1.5e-3,
    c_air_j_per_k=5e5,
    c_env_j_per_k=2e6,
    a_sol_m2=0.0,
)


def constant_weather(days: int, temp_out_c: float = 5.0) -> pd.DataFrame:
    idx = pd.date_range(START, periods=days * 24 + 1, freq="1h")
    return pd.DataFrame({"temp_out_c": temp_out_c, "solar_w_m2": 0.0}, index=idx)


def decide(sim: RCSimulator, **zones: dict) -> Decision:
    return Decision(
        time_utc=sim.time_utc,
        building_code=sim.building_code,
        zones=tuple(ZoneDecision(zone_code=z, **d) for z, d in zones.items()),
    )


@pytest.mark.parametrize("model", [FAST_R1C1, FAST_R2C2])
def test_steady_state_energy_balance(model: R1C1 | R2C2) -> None:
    """Constant power φ under constant T_out settles at T = T_out + R_total·φ."""
    sim = RCSimulator("B", [SimZone("z", model, max_power_w=10_000)], constant_weather(2))
    for _ in range(96):
        obs = sim.step(decide(sim, z={"heating_power_w": 3000.0}))
    expected = 5.0 + 3000.0 / model.ua_w_per_k()
    assert obs.zones[0].temp_zone_c == pytest.approx(expected, abs=0.01)
    assert obs.zones[0].heating_power_w == 3000.0 and obs.building_power_w == 3000.0


def test_setpoint_heater_holds_setpoint_with_steady_power() -> None:
    sim = RCSimulator(
        "B",
        [SimZone("z", FAST_R2C2, max_power_w=20_000)],
        constant_weather(2),
        start_utc=pd.Timestamp(START).to_pydatetime(),
    )
    for _ in range(96):
        obs = sim.step(decide(sim, z={"setpoint_c": 20.0}))
    assert obs.zones[0].temp_zone_c == pytest.approx(20.0, abs=1e-6)
    assert obs.zones[0].setpoint_c == 20.0
    assert obs.zones[0].heating_power_w == pytest.approx(15.0 * FAST_R2C2.ua_w_per_k(), rel=1e-3)


def test_heater_is_bounded() -> None:
    sim = RCSimulator(
        "B", [SimZone("z", FAST_R1C1, max_power_w=1000, initial_temp_c=15)], constant_weather(1)
    )
    obs = sim.step(decide(sim, z={"setpoint_c": 30.0}))
    assert obs.zones[0].heating_power_w == 1000.0  # too cold: full power
    obs = sim.step(decide(sim, z={"setpoint_c": 5.0}))
    assert obs.zones[0].heating_power_w == 0.0  # too warm: off, never cooling
    sim.step(decide(sim))  # an empty decision keeps the setpoint in force
    assert sim.observation().zones[0].setpoint_c == 5.0


def test_observation_follows_the_interface() -> None:
    zones = [SimZone("a", FAST_R1C1, max_power_w=5000), SimZone("b", FAST_R2C2, 5000)]
    sim = RCSimulator("B", zones, synthetic_weather(START, 2, seed=1))
    first = sim.observation()
    assert isinstance(first, Observation) and first.time_utc.utcoffset() == timedelta(0)
    obs = sim.step(decide(sim, a={"heating_power_w": 1000.0}, b={"heating_power_w": 2500.0}))
    assert obs.time_utc - first.time_utc == timedelta(seconds=STEP_S)
    assert [z.zone_code for z in obs.zones] == ["a", "b"]
    assert obs.building_power_w == 3500.0
    assert obs.zones[0].occupied is False  # Monday 00:15 UTC: not office hours


def test_noise_is_seeded() -> None:
    def temps(seed: int) -> np.ndarray:
        sim = RCSimulator(
            "B", [SimZone("z", FAST_R1C1, 5000)], constant_weather(2), noise_std_c=0.2, seed=seed
        )
        run_schedule(sim, 150, lambda t, z: 20.0)
        h = sim.history("z")
        return (h["temp_zone_c"] - h["temp_true_c"]).to_numpy()

    a, b, c = temps(1), temps(1), temps(2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.std(a) == pytest.approx(0.2, rel=0.25)


def test_internal_gains_follow_occupancy() -> None:
    sim = RCSimulator(
        "B", [SimZone("z", FAST_R1C1, 5000, internal_gain_w=800)], constant_weather(2)
    )
    h = run_schedule(sim, 96, lambda t, z: 10.0)
    assert set(h["z:internal_gain_w"]) == {0.0, 800.0}
    assert h["z:internal_gain_w"].sum() == 800.0 * 40  # 10 office hours on a Monday


def test_bad_decisions_and_settings_are_refused() -> None:
    sim = RCSimulator("B", [SimZone("z", FAST_R1C1, 5000)], constant_weather(1))
    with pytest.raises(ValueError, match="simulator at"):
        sim.step(
            Decision(time_utc=pd.Timestamp("2024-01-09T00:00Z").to_pydatetime(), building_code="B")
        )
    with pytest.raises(ValueError, match="simulating 'B'"):
        sim.step(Decision(time_utc=sim.time_utc, building_code="other"))
    with pytest.raises(ValueError, match="unknown zone 'y'"):
        sim.step(decide(sim, y={"setpoint_c": 19.0}))
    run_schedule(sim, 96, lambda t, z: 19.0)
    with pytest.raises(ValueError, match="weather ends"):
        sim.step(decide(sim))
    naive = constant_weather(1).tz_localize(None)
    with pytest.raises(ValueError, match="timezone-aware"):
        RCSimulator("B", [SimZone("z", FAST_R1C1, 5000)], naive)
    with pytest.raises(ValueError, match="temp_out_c"):
        RCSimulator("B", [SimZone("z", FAST_R1C1, 5000)], constant_weather(1)[["solar_w_m2"]])
