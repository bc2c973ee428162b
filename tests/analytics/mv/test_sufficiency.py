"""Baseline data sufficiency and fit quality: stable codes, levels and numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sobriete.analytics.mv.base import FitMetrics
from sobriete.analytics.mv.sufficiency import baseline_sufficiency, fit_quality_warnings
from sobriete.domain.mv import WarningLevel


def _codes(ws) -> dict[str, object]:
    return {w.code: w for w in ws}


def test_a_clean_year_passes(synth) -> None:
    d = synth.daily_frame(synth.temperatures())
    assert baseline_sufficiency(d, fuel="gas") == []


def test_span_too_short_and_too_long(synth) -> None:
    short = baseline_sufficiency(synth.daily_frame(synth.temperatures(n=300)))
    w = _codes(short)["baseline_too_short"]
    assert w.level is WarningLevel.DISQUALIFICATION and w.data["n_days"] == 300
    long = _codes(baseline_sufficiency(synth.daily_frame(synth.temperatures(n=400))))
    assert long["baseline_too_long"].data == {"n_days": 400, "max_days": 366}
    assert "baseline_too_long" not in _codes(
        baseline_sufficiency(synth.daily_frame(synth.temperatures(n=366))))


def test_coverage_of_energy_and_temperature(synth) -> None:
    d = synth.daily_frame(synth.temperatures())
    d.iloc[:40, d.columns.get_loc("energy_kwh")] = np.nan
    d.iloc[100:130, d.columns.get_loc("temp_air_c")] = np.nan
    d.iloc[200:210, d.columns.get_loc("temp_air_c")] = 80.0  # a broken sensor
    w = _codes(baseline_sufficiency(d))
    assert w["too_few_energy_days"].data["n_valid"] == 325
    assert w["too_few_temperature_days"].data["n_valid"] == 325
    assert w["implausible_temperature"].data["n_days"] == 10
    assert all(x.message_fr and x.message_en for x in w.values())


def test_dropped_low_coverage_days_are_counted(synth) -> None:
    d = synth.daily_frame(synth.temperatures())
    d.iloc[5:8, d.columns.get_loc("energy_coverage")] = 0.3
    d.iloc[5:8, d.columns.get_loc("energy_kwh")] = np.nan
    w = _codes(baseline_sufficiency(d))["days_dropped_low_coverage"]
    assert w.level is WarningLevel.INFO and w.data["n_days"] == 3


def test_negative_consumption_disqualifies_gas_only(synth) -> None:
    d = synth.daily_frame(synth.temperatures())
    d.iloc[3, d.columns.get_loc("energy_kwh")] = -5.0
    gas = _codes(baseline_sufficiency(d, fuel="gas"))["negative_consumption"]
    elec = _codes(baseline_sufficiency(d, fuel="electricity"))["negative_consumption"]
    assert gas.level is WarningLevel.DISQUALIFICATION and gas.data["n_days"] == 1
    assert elec.level is WarningLevel.WARNING


def test_too_many_zero_days(synth) -> None:
    d = synth.daily_frame(synth.temperatures())
    d.iloc[:200, d.columns.get_loc("energy_kwh")] = 0.0
    w = _codes(baseline_sufficiency(d))["too_many_zero_days"]
    assert w.data["n_days"] == 200


def test_empty_frame() -> None:
    d = pd.DataFrame(columns=["energy_kwh", "temp_air_c"], index=pd.DatetimeIndex([]))
    assert [w.code for w in baseline_sufficiency(d)] == ["baseline_empty"]


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 500), st.floats(0, 1))
def test_never_crashes_and_data_is_plain(synth, n: int, missing: float) -> None:
    d = synth.daily_frame(synth.temperatures(n=n))
    rng = np.random.default_rng(n)
    d.loc[rng.random(n) < missing, "energy_kwh"] = np.nan
    for w in baseline_sufficiency(d, fuel="gas"):
        assert all(v is None or isinstance(v, int | float | str) for v in w.data.values())


def _metrics(cv: float, nmbe: float) -> FitMetrics:
    return FitMetrics(n=365, p=3, cvrmse=cv, nmbe=nmbe, r2=0.8, rho_lag1=0.3, mean_y=100)


def test_fit_quality_thresholds() -> None:
    assert fit_quality_warnings(_metrics(0.2, 0.001), "daily", 0.25, 0.005) == []
    w = _codes(fit_quality_warnings(_metrics(0.3, -0.01), "daily", 0.25, 0.005))
    assert set(w) == {"cvrmse_above_threshold", "nmbe_above_threshold"}
    assert w["cvrmse_above_threshold"].data["threshold"] == 0.25
    bad = _codes(fit_quality_warnings(_metrics(1.2, 0), "daily", 0.25, 0.005, 1.0, 2.0, 1.6))
    assert bad["poor_fit"].level is WarningLevel.DISQUALIFICATION
    ok = _codes(fit_quality_warnings(_metrics(1.2, 0), "daily", 0.25, 0.005, 1.0, 1.0, 1.6))
    assert "poor_fit" not in ok
    undefined = fit_quality_warnings(None, "daily", 0.25, 0.005)
    assert undefined[0].code == "fit_metrics_undefined"


def test_cambridge_gas_baselines(cambridge_gas_daily) -> None:
    for d in cambridge_gas_daily.values():
        assert not [w for w in baseline_sufficiency(d.loc["2016"], fuel="gas")
                    if w.level is WarningLevel.DISQUALIFICATION]
        too_long = _codes(baseline_sufficiency(d.loc["2016":"2017"], fuel="gas"))
        assert "baseline_too_long" in too_long
