"""Savings, uncertainty, CUSUM and non-routine events, on synthetic series with known savings
and on the Cambridge 2020 closure. The baseline model here is a test-only daily HDD +
day-of-week regression, so these tests do not depend on the production models."""

from __future__ import annotations

import json
import math
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest

from sobriete.analytics.mv.base import BaselineModel, FitResult
from sobriete.analytics.mv.events import NonRoutineEvent, cusum, cusum_changes
from sobriete.analytics.mv.metrics import fit_metrics
from sobriete.analytics.mv.savings import avoided_energy, normalised_savings, typical_year
from sobriete.analytics.mv.uncertainty import (
    absolute_uncertainty,
    fractional_savings_uncertainty,
    student_t_ppf,
    t_quantile,
    terms,
)


class HddDow(BaselineModel):
    """y = Σ day-of-week intercepts + b · max(0, 15.5 °C - T)."""

    name, version, frequency = "test_hdd_dow", "0", "daily"

    def __init__(self, beta: list[float] | None = None) -> None:
        self.beta = None if beta is None else np.asarray(beta)

    @staticmethod
    def _x(d: pd.DataFrame) -> np.ndarray:
        dow = np.eye(7)[np.asarray(d.index.day_of_week if "local_dow" not in d else d.local_dow)]
        return np.column_stack([dow, np.clip(15.5 - d.temp_air_c.to_numpy(), 0, None)])

    def fit(self, data: pd.DataFrame) -> FitResult:
        ok = (data.energy_kwh.notna() & data.temp_air_c.notna()).to_numpy()
        x = self._x(data)
        self.beta = np.linalg.lstsq(x[ok], data.energy_kwh.to_numpy()[ok], rcond=None)[0]
        yhat = np.where(ok, x @ self.beta, np.nan)
        self.fit_result = FitResult(self.name, self.version, self.frequency,
                                    str(data.index[0].date()), str(data.index[-1].date()),
                                    {"beta": self.beta.tolist()},
                                    fit_metrics(data.energy_kwh.to_numpy(), yhat, p=8))
        return self.fit_result

    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        x = self._x(data)
        heat = self.beta[7] * x[:, 7]
        return pd.DataFrame({"predicted_kwh": x @ self.beta, "base_kwh": x @ self.beta - heat,
                             "heating_kwh": heat, "cooling_kwh": 0.0, "calendar_kwh": 0.0},
                            index=data.index)

    def to_json(self) -> dict[str, Any]:
        return {"beta": self.beta.tolist()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Self:
        return cls(doc["beta"])


def _temps(days: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    return 11 - 8 * np.cos(2 * np.pi * (days.day_of_year - 15) / 365.25) + rng.normal(0, 3,
                                                                                   len(days))


def synthetic(seed: int, rho: float = 0.0, cut: float = 0.15, cut_from: str = "2022-01-01",
              sigma: float = 25.0) -> pd.DataFrame:
    """Two years of days; consumption (noise included) cut by ``cut`` from ``cut_from``."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2021-01-01", "2022-12-31", freq="D")
    t = _temps(days, rng)
    mu = 400 + 60 * (days.day_of_week < 5) + 12 * np.clip(15.5 - t, 0, None)
    e = np.zeros(len(days))
    shocks = rng.normal(0, sigma * math.sqrt(1 - rho**2), len(days))
    for i in range(len(days)):
        e[i] = (rho * e[i - 1] if i else 0.0) + shocks[i]
    counterfactual = mu + e
    actual = np.where(days >= pd.Timestamp(cut_from), (1 - cut) * counterfactual, counterfactual)
    return pd.DataFrame({"energy_kwh": actual, "temp_air_c": t,
                         "counterfactual_kwh": counterfactual}, index=days)


def _split(f: pd.DataFrame, at: str = "2022-01-01"):
    return f[f.index < at], f[f.index >= at]


def test_known_savings_recovered_within_uncertainty() -> None:
    base, rep = _split(synthetic(1))
    model = HddDow()
    model.fit(base)
    r = avoided_energy(model, rep)
    truth = float((rep.counterfactual_kwh - rep.energy_kwh).sum())
    assert r.interval[0] <= truth <= r.interval[1]
    assert r.savings_pct == pytest.approx(15.0, abs=1.5)
    assert r.significant and r.m == 365 and r.n == 365 and r.p == 8
    assert len(r.by_period) == 12
    assert r.by_period.savings_kwh.sum() == pytest.approx(r.savings_kwh)
    # Monthly half-widths add in quadrature to the yearly one (independent months).
    assert math.sqrt((r.by_period.uncertainty_kwh**2).sum()) == pytest.approx(r.uncertainty_kwh)
    assert r.baseline_period == ("2021-01-01", "2021-12-31")
    assert not [w for w in r.warnings if w.level != "info"]
    doc = r.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["interval_kwh"][0] < doc["savings_kwh"] < doc["interval_kwh"][1]


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_interval_covers_the_truth_at_about_the_stated_confidence(rho: float) -> None:
    hits = []
    for seed in range(200):
        base, rep = _split(synthetic(1000 + seed, rho=rho))
        model = HddDow()
        model.fit(base)
        r = avoided_energy(model, rep, confidence=0.90)
        truth = float((rep.counterfactual_kwh - rep.energy_kwh).sum())
        hits.append(r.interval[0] <= truth <= r.interval[1])
    coverage = float(np.mean(hits))
    print(f"coverage at 90 %, rho={rho}: {coverage:.3f}")
    assert 0.78 <= coverage <= 0.99


def test_fsu_formula_matches_a_worked_example() -> None:
    # n = 365 daily points, p = 8, CV(RMSE) = 10 %, ρ = 0.3, m = 365, F = 15 %, 90 %:
    # n' = 365 · 0.7 / 1.3 = 196.5385;  n/n' = 1.3/0.7 = 1.857143;  1 + 2/n' = 1.010176
    # t(0.95, n'-p = 188.54) = 1.6530 (table: 1.653 at 188 dof)
    # FSU = 1.26 · 1.6530 · 0.10 · sqrt(1.857143 · 1.010176 / 365) / 0.15
    #     = 0.208278 · sqrt(0.0051398) / 0.15 = 0.208278 · 0.071693 / 0.15 = 0.09955
    n_prime = 365 * 0.7 / 1.3
    assert n_prime == pytest.approx(196.5385, abs=1e-4)
    assert t_quantile(0.90, n_prime - 8) == pytest.approx(1.6530, abs=5e-4)
    fsu = fractional_savings_uncertainty(0.10, 365, 8, 0.3, 365, 0.15, confidence=0.90)
    assert fsu == pytest.approx(0.09955, rel=2e-3)
    # The absolute form: same number when the reporting mean equals the baseline mean.
    u = terms(365, 8, 0.10, 500.0, 0.3, 0.90)
    savings = 0.15 * 365 * 500.0
    assert absolute_uncertainty(u, 365) / savings == pytest.approx(fsu, rel=1e-12)


def test_t_is_for_the_stated_confidence_not_alpha() -> None:
    t90 = t_quantile(0.90, 100)
    assert t90 == pytest.approx(1.660, abs=1e-3)  # two-sided 90 %, 100 dof
    misuse = student_t_ppf(1 - (1 - 0.10) / 2, 100)  # alpha = 0.1 taken as a confidence level
    assert misuse == pytest.approx(0.1260, abs=1e-4)
    assert t90 > 13 * misuse
    assert t_quantile(0.95, 100) > t90 > t_quantile(0.68, 100)
    with pytest.raises(ValueError):
        t_quantile(90, 100)


def test_autocorrelation_widens_the_interval() -> None:
    plain = absolute_uncertainty(terms(365, 8, 0.1, 500, 0.0, 0.9), 365)
    corr = absolute_uncertainty(terms(365, 8, 0.1, 500, 0.5, 0.9), 365)
    assert corr > 1.7 * plain  # sqrt(n/n') = sqrt(3) ≈ 1.73, t and 2/n' add a little
    # Negative ρ never narrows it below the independent case.
    assert absolute_uncertainty(terms(365, 8, 0.1, 500, -0.4, 0.9), 365) == plain


def test_cusum_finds_a_step_at_the_right_date() -> None:
    rng = np.random.default_rng(7)
    days = pd.date_range("2023-01-01", periods=365, freq="D")
    predicted = pd.Series(500.0, index=days)
    actual = predicted + rng.normal(0, 10, 365) - 30 * (days >= "2023-07-20")
    f = cusum(actual, predicted, sigma=10.0)
    ch = cusum_changes(f)
    down = ch[ch.direction < 0]
    assert len(down) >= 1
    first = down.iloc[0]
    assert abs((first.start - pd.Timestamp("2023-07-20")).days) <= 5
    assert first.change_kwh == pytest.approx(-30, rel=0.35)
    assert f.cusum_kwh.iloc[-1] == pytest.approx(actual.sum() - predicted.sum())
    assert (ch.start < pd.Timestamp("2023-07-10")).sum() <= 1  # at most one false alarm


def test_closure_is_detected_and_excluded_explicitly() -> None:
    f = synthetic(3, cut=0.0)
    closed = (f.index >= "2022-03-14") & (f.index < "2022-05-02")
    f.loc[closed, "energy_kwh"] *= 0.55
    base, rep = _split(f)
    model = HddDow()
    model.fit(base)
    naive = avoided_energy(model, rep)
    r = avoided_energy(model, rep, detect_events=True)
    (ev,) = [e for e in r.events if e.kind == "detected"]
    assert abs((ev.start - pd.Timestamp("2022-03-14")).days) <= 2
    assert abs((ev.end - pd.Timestamp("2022-05-02")).days) <= 2
    assert ev.impact_kwh < 0 and ev.data["treatment"] == "excluded"
    assert abs(r.savings_kwh) < r.uncertainty_kwh  # no real action: no savings left
    assert naive.savings_kwh > naive.uncertainty_kwh  # the closure read as savings
    assert any(w.code == "non_routine_event_excluded" for w in r.warnings)
    # Declared with an adjustment: rows kept, amount added to the adjusted baseline.
    adj = NonRoutineEvent("2022-03-14", "2022-05-02", "declared", "Fermeture", "Closure",
                          adjustment_kwh=-10_000.0)
    ra = avoided_energy(model, rep, events=[adj])
    assert ra.m == 365 and ra.adjustments_kwh == -10_000.0
    assert ra.savings_kwh == pytest.approx(naive.savings_kwh - 10_000.0)
    assert ra.by_period.loc["2022-03-01", "adjustment_kwh"] == -10_000.0


def test_warnings_for_short_or_insignificant_reporting() -> None:
    base, rep = _split(synthetic(4, cut=0.0))
    model = HddDow()
    model.fit(base)
    r = avoided_energy(model, rep.iloc[:40])
    codes = {w.code for w in r.warnings}
    assert {"savings_not_significant", "fsu_above_50pct", "reporting_period_too_short"} <= codes
    model.fit_result.metrics = None
    r = avoided_energy(model, rep)
    assert math.isnan(r.uncertainty_kwh) and "no_fit_metrics" in {w.code for w in r.warnings}


def test_hourly_frame_events_on_local_dates() -> None:
    idx = pd.date_range("2022-01-01", "2023-01-01", freq="h", tz="UTC", inclusive="left")
    local = idx.tz_convert("Europe/Paris")
    t = _temps(idx, np.random.default_rng(6))
    f = pd.DataFrame({"temp_air_c": t, "local_dow": local.day_of_week, "local_hour": local.hour,
                      "local_date": local.tz_localize(None).normalize()}, index=idx)
    f["energy_kwh"] = 20 + 5 * (local.day_of_week < 5) + np.clip(15.5 - t, 0, None)
    model = HddDow()
    model.fit(f)
    june = NonRoutineEvent("2022-06-01", "2022-07-01", "declared", "Travaux", "Works")
    r = avoided_energy(model, f, events=[june])
    assert r.events[0].data["rows"] == 720 and r.m == 8760 - 720  # local June: 30 · 24 h
    assert r.by_period.loc["2022-06-01", "rows"] == 0
    assert r.by_period.loc["2022-06-01", "excluded_rows"] == 720
    assert r.reporting_period[0] == "2022-01-01T01:00:00"  # local wall-clock time


def test_typical_year_averages_hours_of_year() -> None:
    idx = pd.date_range("2017-01-01", "2020-12-31 23:00", freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    clean = (10 - 8 * np.cos(2 * np.pi * idx.day_of_year / 365)
             + 3 * np.sin(2 * np.pi * idx.hour / 24))
    ty = typical_year(pd.Series(clean + rng.normal(0, 2, len(idx)), idx), 4)
    assert len(ty) == 8760 and ty.index[0] == pd.Timestamp("2023-01-01", tz="UTC")
    assert ty.attrs["years"] == [2017, 2018, 2019, 2020]
    doy, hour = np.asarray(ty.index.day_of_year), np.asarray(ty.index.hour)
    ref = 10 - 8 * np.cos(2 * np.pi * doy / 365) + 3 * np.sin(2 * np.pi * hour / 24)
    assert np.abs(ty.to_numpy() - ref).mean() < 1.0  # noise averaged over 4 years: σ ≈ 1
    with pytest.raises(ValueError):
        typical_year(pd.Series(clean, idx), [2019], target_year=2024)


def test_normalised_savings_on_a_typical_year() -> None:
    f = synthetic(5)
    base, rep = _split(f)
    bm, rm = HddDow(), HddDow()
    bm.fit(base)
    rm.fit(rep)
    temps = typical_year(f.temp_air_c, [2021, 2022])
    normal = pd.DataFrame({"temp_air_c": temps})
    r = normalised_savings(bm, rm, normal)
    assert r.kind == "normalised" and r.m == 365
    assert r.savings_pct == pytest.approx(15.0, abs=1.5)
    ub, ur = r.terms["baseline"]["uncertainty_kwh"], r.terms["reporting"]["uncertainty_kwh"]
    assert r.uncertainty_kwh == pytest.approx(math.hypot(ub, ur))
    assert r.reporting_period == ("2022-01-01", "2022-12-31")
    json.dumps(r.to_dict(), allow_nan=False)


def test_cambridge_2020_closure_is_a_non_routine_event(shared_data) -> None:
    from sobriete.analytics.mv.data import daily_input, hourly_input
    from sobriete.domain.portfolio import OccupancyCalendar

    wide = pd.read_csv(shared_data / "cambridge/electricity_kwh_hourly.csv.gz")
    start = pd.to_datetime(wide.timestamp_utc, utc=True)
    w = pd.read_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz")
    weather = pd.DataFrame({"temp_air_c": w.air_temperature_c.to_numpy()},
                           index=pd.to_datetime(w.timestamp_utc, utc=True))
    cal = OccupancyCalendar(timezone="Europe/London", closed_on_public_holidays=False)
    found = {}
    for b in ("b0", "b4", "b8"):
        keep = (start >= "2019-01-01") & (start < "2021-01-01")
        readings = pd.DataFrame({"series_key": b, "quantity": "energy_kwh",
                                 "start_utc": start[keep], "duration_s": 3600,
                                 "value": wide.loc[keep, b].to_numpy()})
        daily = daily_input(hourly_input(readings, weather, cal)[0])
        model = HddDow()
        model.fit(daily[daily.index < "2020-01-01"])
        r = avoided_energy(model, daily[daily.index >= "2020-01-01"], detect_events=True)
        lows = [e for e in r.events if e.data["direction"] < 0 and e.data["days"] >= 28]
        assert lows, f"{b}: no closure found"
        ev = min(lows, key=lambda e: e.start)
        found[b] = ev
        print(b, ev.start.date(), ev.end.date(), round(ev.impact_kwh),
              f"{ev.data['relative_departure']:.0%}", ev.description_en)
        assert pd.Timestamp("2020-03-09") <= ev.start <= pd.Timestamp("2020-04-06"), b
        assert -0.6 <= ev.data["relative_departure"] <= -0.2, b
        assert any(w.code == "non_routine_event_excluded" for w in r.warnings)
    assert len(found) == 3
