"""RC models: discretisation, JSON, identification accuracy on simulated data, bad input."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from sobriete.control.interface import STEP_S
from sobriete.control.simulator import (
    RCSimulator,
    SimZone,
    office_hours,
    run_schedule,
    synthetic_weather,
)
from sobriete.control.thermal import (
    R1C1,
    R2C2,
    Identification,
    identify,
    model_from_json,
    prepare_frame,
)

START = "2024-01-08T00:00:00Z"  # a Monday
# A mid-sized school: UA = 500 W/K, envelope time constant 67 h, air node 1.3 h.
TRUE_R2C2 = R2C2(
    r_air_env_k_per_w=6e-4,
    r_env_out_k_per_w=1.4e-3,
    c_air_j_per_k=8e6,
    c_env_j_per_k=1.2e8,
    a_sol_m2=8.0,
)
TRUE_R1C1 = R1C1(r_k_per_w=2e-3, c_j_per_k=5e7, a_sol_m2=5.0)
RC_FIELDS = {
    "R1C1": ("r_k_per_w", "c_j_per_k"),
    "R2C2": ("r_air_env_k_per_w", "r_env_out_k_per_w", "c_air_j_per_k", "c_env_j_per_k"),
}


def school_setpoint(t: datetime, zone: str) -> float:
    """20 °C from 2 h before opening to closing on weekdays, 16 °C set-back otherwise."""
    return 20.0 if office_hours(t) or office_hours(t + pd.Timedelta(hours=2)) else 16.0


def simulated(model: R1C1 | R2C2, days: int, seed: int = 3) -> pd.DataFrame:
    sim = RCSimulator(
        "B",
        [SimZone("z", model, max_power_w=40_000)],
        synthetic_weather(START, days + 1, seed=1),
        noise_std_c=0.1,
        seed=seed,
    )
    run_schedule(sim, days * 96, school_setpoint)
    return sim.history("z")[["temp_zone_c", "heating_power_w", "temp_out_c", "solar_w_m2"]]


@pytest.fixture(scope="module")
def data_21d() -> pd.DataFrame:
    return simulated(TRUE_R2C2, 21)


def max_rc_error(result: Identification, true: R1C1 | R2C2) -> float:
    return max(abs(result.parameters[f] / getattr(true, f) - 1) for f in RC_FIELDS[true.kind])


def test_state_space_shapes() -> None:
    for model, n in ((TRUE_R1C1, 1), (TRUE_R2C2, 2)):
        a, b, c = model.state_space(STEP_S)
        assert a.shape == (n, n) and b.shape == (n, 3) and c.shape == (1, n)
        assert np.all(np.abs(np.linalg.eigvals(a)) < 1)  # a passive building is stable
        assert model.initial_state(19.0, 5.0).shape == (n,)


@pytest.mark.parametrize("model", [TRUE_R1C1, TRUE_R2C2])
def test_zero_order_hold_matches_fine_euler(model: R1C1 | R2C2) -> None:
    ac, bc, c = model.continuous()
    a, b, _ = model.state_space(STEP_S)
    x = model.initial_state(18.0, 2.0)
    u = np.array([12_000.0, 2.0, 300.0])
    fine = x.copy()
    for _ in range(STEP_S * 10):  # 0.1-s Euler steps
        fine = fine + 0.1 * (ac @ fine + bc @ u)
    np.testing.assert_allclose(a @ x + b @ u, fine, atol=1e-4)


def test_to_json_round_trip(data_21d: pd.DataFrame) -> None:
    for model in (TRUE_R1C1, TRUE_R2C2):
        assert type(model).from_json(model.to_json()) == model
        assert model_from_json(model.to_json()) == model
    result = identify(data_21d)
    assert Identification.from_json(result.to_json()) == result


def test_identification_recovers_r2c2_and_improves_with_data(data_21d: pd.DataFrame) -> None:
    week = identify(data_21d.iloc[: 7 * 96])
    three_weeks = identify(data_21d)
    err7, err21 = max_rc_error(week, TRUE_R2C2), max_rc_error(three_weeks, TRUE_R2C2)
    assert err7 < 0.15 and err21 < 0.10
    assert err21 <= err7
    for result in (week, three_weeks):
        assert result.rmse_24h_c < 0.2  # sensor noise is 0.1 K
        assert result.rmse_one_step_c < 0.2
        assert not result.warnings
    assert three_weeks.n_points == 21 * 96
    assert three_weeks.n_validation == 21 * 96 // 4
    assert three_weeks.data_start_utc == pd.Timestamp(START)


def test_identification_recovers_r1c1() -> None:
    result = identify(simulated(TRUE_R1C1, 10), model="R1C1")
    assert max_rc_error(result, TRUE_R1C1) < 0.10
    assert result.rmse_24h_c < 0.2


def test_short_data_and_poor_excitation_warn(data_21d: pd.DataFrame) -> None:
    short = identify(data_21d.iloc[: 4 * 96])
    assert any("usable after 7 days" in w.message for w in short.warnings)
    flat = data_21d.iloc[: 8 * 96].assign(heating_power_w=5000.0, solar_w_m2=0.0)
    codes = {w.code for w in identify(flat).warnings}
    assert {"poor_excitation", "no_solar"} <= codes


def test_finer_and_coarser_steps_are_resampled(data_21d: pd.DataFrame) -> None:
    fine = data_21d.iloc[: 3 * 96].resample("5min").ffill()
    fine["temp_zone_c"] = data_21d["temp_zone_c"].resample("5min").interpolate()
    out = prepare_frame(fine)
    assert (out.index[1] - out.index[0]).total_seconds() == STEP_S
    np.testing.assert_allclose(out["heating_power_w"], data_21d["heating_power_w"].iloc[: len(out)])
    hourly = prepare_frame(data_21d.iloc[::4])
    assert hourly["temp_zone_c"].notna().all() and len(hourly) == len(data_21d) - 3


def test_bad_input_is_refused_with_the_reason(data_21d: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no timezone"):
        identify(data_21d.tz_localize(None))
    with pytest.raises(ValueError, match="missing column 'temp_out_c'"):
        identify(data_21d.drop(columns="temp_out_c"))
    with pytest.raises(ValueError, match="too short"):
        identify(data_21d.iloc[:96])
    with pytest.raises(ValueError, match="at least 5 minutes"):
        identify(data_21d.resample("1min").ffill())
    gappy = data_21d.copy()
    gappy.iloc[100:110, gappy.columns.get_loc("heating_power_w")] = np.nan
    with pytest.raises(ValueError, match="'heating_power_w' has gaps"):
        identify(gappy)
    with pytest.raises(ValueError, match="unknown model"):
        identify(data_21d, model="R3C3")  # type: ignore[arg-type]


def test_missing_temperatures_are_left_out(data_21d: pd.DataFrame) -> None:
    holed = data_21d.iloc[: 8 * 96].copy()
    holed.iloc[200:260, holed.columns.get_loc("temp_zone_c")] = np.nan  # a 15-h sensor outage
    result = identify(holed)
    assert max_rc_error(result, TRUE_R2C2) < 0.15 and np.isfinite(result.rmse_24h_c)
