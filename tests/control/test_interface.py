"""The observation -> decision contract refuses what an emulator or a gateway could get wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from sobriete.control.interface import Decision, Observation, ZoneDecision


@pytest.mark.parametrize("model", [Observation, Decision])
def test_a_naive_time_is_refused(model):
    with pytest.raises(ValidationError, match="timezone"):
        model(time_utc=datetime(2024, 1, 15, 6), building_code="B")
    assert model(time_utc=datetime(2024, 1, 15, 6, tzinfo=UTC), building_code="B")


def test_no_negative_power_and_no_nan():
    t = datetime(2024, 1, 15, 6, tzinfo=UTC)
    with pytest.raises(ValidationError):
        ZoneDecision(zone_code="Z1", heating_power_w=-1.0)
    with pytest.raises(ValidationError):
        Observation(time_utc=t, building_code="B", temp_out_c=float("nan"))
