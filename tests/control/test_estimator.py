"""The state carried across steps: hidden nodes advanced by the model, air reset to the
measurement, restart on a broken chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sobriete.control.estimator import StateEstimator
from sobriete.control.thermal import R2C2

MODEL = R2C2(r_air_env_k_per_w=6e-4, r_env_out_k_per_w=1.4e-3, c_air_j_per_k=8e6,
             c_env_j_per_k=1.2e8, a_sol_m2=8.0)
T0 = datetime(2024, 1, 15, 5, tzinfo=UTC)
STEP = timedelta(minutes=15)


def test_the_fabric_follows_the_model_and_the_air_the_sensor():
    est = StateEstimator(MODEL)
    x0 = est.estimate(T0, 12.0, 0.0, None, (0.0, 0.0, 0.0))
    est.record(40_000.0)
    a, b, _ = MODEL.state_space(900)
    expected = a @ x0 + b @ np.array([40_000.0, 0.0, 0.0])
    x1 = est.estimate(T0 + STEP, 13.3, 0.0, None, (0.0, 0.0, 0.0))
    assert x1[0] == 13.3  # the measurement wins for the air node
    assert x1[1] == pytest.approx(expected[1])  # the fabric is the model's
    assert est.restarts == 1


def test_a_metered_power_is_preferred_to_the_applied_one():
    est = StateEstimator(MODEL)
    x0 = est.estimate(T0, 12.0, 0.0, None, (0.0, 0.0, 500.0))
    est.record(40_000.0)
    a, b, _ = MODEL.state_space(900)
    x1 = est.estimate(T0 + STEP, 13.0, 0.0, 10_000.0, (0.0, 0.0, 0.0))
    assert x1[1] == pytest.approx((a @ x0 + b @ np.array([10_500.0, 0.0, 0.0]))[1])


@pytest.mark.parametrize("gap, applied", [(2 * STEP, 40_000.0), (STEP, None)])
def test_a_broken_chain_restarts_from_steady_state(gap, applied):
    est = StateEstimator(MODEL)
    est.estimate(T0, 12.0, 0.0, None, (0.0, 0.0, 0.0))
    est.record(applied)
    x = est.estimate(T0 + gap, 13.0, 0.0, None, (0.0, 0.0, 0.0))
    assert np.allclose(x, MODEL.initial_state(13.0, 0.0))
    assert est.restarts == 2


def test_record_needs_an_estimate():
    with pytest.raises(RuntimeError):
        StateEstimator(MODEL).record(0.0)
