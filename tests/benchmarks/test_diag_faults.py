"""The diagnostics benchmark's fault injection: the ground truth is exactly what was added,
where and when it was asked (benchmarks/diag/faults.py). Real Cambridge data; no sklearn."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from tests.conftest import SHARED_DATA

if not (SHARED_DATA / "cambridge" / "electricity_kwh_hourly.csv.gz").exists():
    pytest.skip("Cambridge data not found", allow_module_level=True)

from benchmarks.diag import faults as F  # noqa: E402
from benchmarks.diag.data import meter_year  # noqa: E402

from sobriete.analytics.calendar import DayType  # noqa: E402

SEED = (7, 1, 0, 2017)


@pytest.fixture(scope="module")
def years():
    out = {f: meter_year("b4", f, 2017) for f in ("electricity", "gas")}
    out["holiday"] = meter_year("b8", "gas", 2017)  # b4 heats or misses data on its closures
    return out


CASES = [(ft, fuel) for ft in F.FAULT_TYPES for fuel in F.CARRIERS[ft]]


@pytest.mark.parametrize(("fault_type", "fuel"), CASES)
def test_truth_is_the_difference(years, fault_type, fuel):
    my = years["holiday" if fault_type == "holiday_heating" else fuel]
    ctx = my.context
    mod, truth = F.inject(ctx, fuel, fault_type, 0.3, SEED, 0)
    orig = my.energy_kwh
    diff = (mod - orig).fillna(0.0)
    assert (diff >= -1e-9).all()
    assert diff.sum() == pytest.approx(truth.kwh, rel=1e-9)
    assert truth.kwh > 0
    hot = diff[diff > 0]
    assert hot.index[0] == truth.start_utc
    assert hot.index[-1] + pd.Timedelta(hours=1) == truth.end_utc
    assert truth.hours == len(hot)
    # inside the requested window and the analysed year, never on a missing reading
    lo = pd.Timestamp(truth.params["window_start_utc"])
    hi = pd.Timestamp(truth.params["window_end_utc"])
    assert truth.start_utc >= max(lo, my.analysis_start)
    assert truth.end_utc <= min(hi, my.analysis_end)
    assert mod.isna().equals(orig.isna())
    # where it lands, per fault
    on = (diff > 0).to_numpy()
    if fault_type == "night_base":
        assert not ctx.occupied[on].any()
        assert np.allclose(diff[on], 0.3 * truth.params["night_base_kw"])
    elif fault_type == "weekend_operation":
        assert (ctx.day_type[on] == DayType.WEEKEND.value).all()
    elif fault_type == "holiday_heating":
        assert (ctx.day_type[on] == DayType.CLOSURE.value).all()
    elif fault_type == "summer_heating":
        warm = ctx.daily_temp.reindex(pd.DatetimeIndex(ctx.local_date[on]))
        assert (warm >= F.NO_HEATING_C).all()
    elif fault_type == "step_change":
        sel = on & (orig.to_numpy() > 0)
        assert np.allclose(mod[sel], 1.3 * orig[sel])
    elif fault_type == "drift":
        ratio = (mod[on] / orig[on]).to_numpy()
        assert ratio.max() <= 1.3 + 1e-9
        assert np.all(np.diff(ratio[np.isfinite(ratio)]) >= -1e-12)  # a ramp, never down


def test_timing_does_not_depend_on_magnitude(years):
    ctx = years["electricity"].context
    a = F.inject(ctx, "electricity", "step_change", 0.1, SEED, 0)[1]
    b = F.inject(ctx, "electricity", "step_change", 0.5, SEED, 0)[1]
    c = F.inject(ctx, "electricity", "step_change", 0.5, SEED, 1)[1]
    assert (a.start_utc, a.end_utc) == (b.start_utc, b.end_utc)
    assert b.kwh == pytest.approx(5 * a.kwh)
    assert (c.start_utc, c.end_utc) != (a.start_utc, a.end_utc)


def test_no_sklearn_needed():
    assert "sklearn" not in sys.modules
