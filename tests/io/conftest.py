"""Checks shared by the io tests: the schema every reading frame must have."""

from __future__ import annotations

import pandas as pd
import pytest

from sobriete.domain import columns as C


def check_readings(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == C.READING_COLUMNS
    assert isinstance(frame[C.START_UTC].dtype, pd.DatetimeTZDtype)
    assert str(frame[C.START_UTC].dt.tz) == "UTC"
    assert frame[C.DURATION_S].dtype == "int64"
    assert frame[C.VALUE].dtype == "float64"
    assert pd.api.types.is_string_dtype(frame[C.SERIES_KEY])
    assert pd.api.types.is_string_dtype(frame[C.QUANTITY])
    key = [C.SERIES_KEY, C.QUANTITY, C.START_UTC]
    assert not frame.duplicated(key).any()
    assert frame.equals(frame.sort_values(key, kind="stable").reset_index(drop=True))
    for q in frame[C.QUANTITY].unique():
        spec = C.QUANTITIES[q]
        v = frame.loc[frame[C.QUANTITY] == q, C.VALUE]
        if spec.min_value is not None:
            assert (v >= spec.min_value).all()
        if spec.max_value is not None:
            assert (v <= spec.max_value).all()


@pytest.fixture
def assert_readings():
    """The reading-frame schema check, as a fixture so test modules need no import path."""
    return check_readings
