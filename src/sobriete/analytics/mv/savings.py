"""Savings (IPMVP option C): avoided energy and normalised savings, with their uncertainty
(ASHRAE Guideline 14, see ``mv.uncertainty``) and non-routine events (``mv.events``).

Avoided energy = Σ baseline prediction on reporting-period conditions + non-routine
adjustments - Σ metered consumption, over the reporting rows that have both a reading and a
prediction and are not inside an excluded event. Positive = energy saved.

Non-routine events are handled explicitly, never silently: an event without
``adjustment_kwh`` is *excluded* (its rows count neither in the sums nor in m) because the
baseline does not describe that period and a closure would otherwise read as savings; an
event with ``adjustment_kwh`` is *kept* and the amount added to the adjusted baseline. Each
event comes back in the result with its rows, baseline, metered and Σ(actual - predicted)
so a reader sees what the number would have been.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sobriete.analytics.mv import uncertainty as U
from sobriete.analytics.mv.base import ENERGY, PREDICTED, BaselineModel, FitResult
from sobriete.analytics.mv.events import (
    NonRoutineEvent,
    _json_safe,
    detect_non_routine_events,
    event_mask,
)
from sobriete.analytics.mv.savings_warnings import savings_warnings
from sobriete.analytics.mv.typical_year import typical_year
from sobriete.domain.mv import MVWarning

__all__ = ["SavingsResult", "avoided_energy", "normalised_savings", "typical_year",
           "NonRoutineEvent"]


@dataclass
class SavingsResult:
    """A savings number and the evidence it rests on."""

    kind: str  # "avoided" | "normalised"
    model: str
    model_version: str
    frequency: str
    confidence: float
    baseline_period: tuple[str | None, str | None]  # the fit's first and last rows
    reporting_period: tuple[str | None, str | None]  # first and last rows counted
    baseline_kwh: float  # adjusted baseline (predictions + non-routine adjustments)
    reporting_kwh: float  # metered (avoided) or reporting model on normal weather (normalised)
    savings_kwh: float
    uncertainty_kwh: float  # half-width of the interval at ``confidence``
    m: int  # reporting points counted
    n: int
    n_prime: float
    p: int
    rho: float
    t: float
    cvrmse: float
    factor: float = U.ASHRAE_FACTOR
    adjustments_kwh: float = 0.0
    by_period: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: list[NonRoutineEvent] = field(default_factory=list)
    warnings: list[MVWarning] = field(default_factory=list)
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)  # per model, normalised

    @property
    def savings_pct(self) -> float:
        return 100.0 * self.savings_kwh / self.baseline_kwh if self.baseline_kwh else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return self.savings_kwh - self.uncertainty_kwh, self.savings_kwh + self.uncertainty_kwh

    @property
    def fsu(self) -> float:
        """Fractional savings uncertainty: half-width / |savings|."""
        s = abs(self.savings_kwh)
        return self.uncertainty_kwh / s if s > 0 else math.inf

    @property
    def significant(self) -> bool:
        """The interval excludes zero at the stated confidence."""
        return math.isfinite(self.uncertainty_kwh) and abs(self.savings_kwh) > self.uncertainty_kwh

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__
             if k not in ("by_period", "events", "warnings")}
        d.update(savings_pct=self.savings_pct, interval_kwh=list(self.interval), fsu=self.fsu,
                 significant=self.significant)
        bp = self.by_period.reset_index()
        d["by_period"] = bp.astype(object).where(bp.notna(), None).to_dict("records")
        d["events"] = [e.to_dict() for e in self.events]
        d["warnings"] = [w.model_dump(mode="json") for w in self.warnings]
        return _json_safe(d)


def avoided_energy(
    model: BaselineModel, reporting_data: pd.DataFrame, *, confidence: float = 0.90,
    fit: FitResult | None = None, events: list[NonRoutineEvent] | None = None,
    detect_events: bool = False, period: str = "MS", factor: float = U.ASHRAE_FACTOR,
) -> SavingsResult:
    """Avoided energy over ``reporting_data`` (a model frame, see ``mv.base``).

    ``fit`` defaults to ``model.fit_result``. ``events``: declared events, handled as the module
    says. ``detect_events``: also detect sustained departures (``detect_non_routine_events``,
    σ from the baseline fit) and exclude them (hourly and daily models only). ``period``: pandas
    frequency of the ``by_period`` breakdown, on local time; its uncertainty column applies the
    same formula to each period's own m (periods independent, so they add in quadrature).
    """
    fit = fit or model.fit_result
    pred = model.predict(reporting_data)[PREDICTED].reindex(reporting_data.index)
    actual = reporting_data[ENERGY]
    usable = (actual.notna() & pred.notna()).to_numpy()
    no_prediction = int((actual.notna() & pred.isna()).sum())
    when = _row_times(reporting_data)

    all_events = list(events or [])
    if detect_events and model.frequency not in ("hourly", "daily"):
        raise ValueError("detect_events needs hourly or daily data: billing periods are too "
                         "coarse to date an event; declare it instead")
    if detect_events and fit is not None and fit.metrics is not None:
        loc = pd.DatetimeIndex(when)
        all_events += detect_non_routine_events(
            pd.Series(actual.to_numpy(), index=loc), pd.Series(pred.to_numpy(), index=loc),
            sigma=_daily_sigma(fit))

    excluded = np.zeros(len(reporting_data), bool)
    adjust_at: list[tuple[pd.Timestamp, float]] = []
    handled = []
    for ev in all_events:
        mask = event_mask(reporting_data, ev) & usable
        base_ev, act_ev = float(pred[mask].sum()), float(actual[mask].sum())
        treat = "excluded" if ev.adjustment_kwh is None else "adjusted"
        if treat == "excluded":
            excluded |= mask
        else:
            adjust_at.append((ev.start, float(ev.adjustment_kwh)))
        handled.append(replace(ev, impact_kwh=act_ev - base_ev, data={
            **ev.data, "treatment": treat, "rows": int(mask.sum()),
            "baseline_kwh": base_ev, "actual_kwh": act_ev}))

    counted = usable & ~excluded
    m = int(counted.sum())
    adjustments = float(sum(a for _, a in adjust_at))
    base = float(pred[counted].sum()) + adjustments
    meas = float(actual[counted].sum())
    terms = _terms(fit, confidence, factor)
    unc = U.absolute_uncertainty(terms, m) if terms else math.nan

    by = pd.DataFrame({"baseline_kwh": pred.where(counted), "reporting_kwh": actual.where(counted),
                       "rows": counted.astype(int), "excluded_rows": excluded.astype(int)})
    by = by.set_index(pd.DatetimeIndex(when)).groupby(pd.Grouper(freq=period)).sum(min_count=0)
    by["adjustment_kwh"] = 0.0
    for start, amount in adjust_at:
        key = by.index[by.index <= pd.Timestamp(start).tz_localize(None)]
        if len(key):
            by.loc[key[-1], "adjustment_kwh"] += amount
    by["baseline_kwh"] += by["adjustment_kwh"]
    by["savings_kwh"] = by["baseline_kwh"] - by["reporting_kwh"]
    by["uncertainty_kwh"] = [U.absolute_uncertainty(terms, int(r)) if terms else math.nan
                             for r in by["rows"]]
    by.index.name = "period_start"

    shown = pd.DatetimeIndex(when)[counted]
    result = SavingsResult(
        kind="avoided", model=model.name, model_version=model.version,
        frequency=model.frequency, confidence=confidence,
        baseline_period=(fit.period_start, fit.period_end) if fit else (None, None),
        reporting_period=((shown.min().isoformat(), shown.max().isoformat()) if m
                          else (None, None)),
        baseline_kwh=base, reporting_kwh=meas, savings_kwh=base - meas, uncertainty_kwh=unc,
        m=m, factor=factor, adjustments_kwh=adjustments, by_period=by, events=handled,
        **_term_fields(terms, fit),
    )
    result.warnings = savings_warnings(result, fit, no_prediction=no_prediction,
                                       span_days=_span_days(shown, model.frequency))
    return result


def normalised_savings(
    baseline_model: BaselineModel, reporting_model: BaselineModel,
    typical_weather_data: pd.DataFrame, *, confidence: float = 0.90,
    baseline_fit: FitResult | None = None, reporting_fit: FitResult | None = None,
    period: str = "MS", factor: float = U.ASHRAE_FACTOR,
) -> SavingsResult:
    """Savings on normal conditions: Σ baseline model - Σ reporting model, both predicting on
    ``typical_weather_data`` (a model frame on a normal year, e.g. from ``typical_year``).

    Uncertainty: each model's absolute half-width on the m normal-year points (formula in
    ``mv.uncertainty``, its own n, n', p, t), combined by root-sum-square, U = sqrt(U_b² + U_r²),
    the two fits' errors being independent (ASHRAE Guideline 14-2014, normalised savings).
    """
    bfit = baseline_fit or baseline_model.fit_result
    rfit = reporting_fit or reporting_model.fit_result
    pb = baseline_model.predict(typical_weather_data)[PREDICTED]
    pr = reporting_model.predict(typical_weather_data)[PREDICTED].reindex(pb.index)
    ok = (pb.notna() & pr.notna()).to_numpy()
    m = int(ok.sum())
    tb, tr = _terms(bfit, confidence, factor), _terms(rfit, confidence, factor)

    def unc(k: int) -> float:
        if tb is None or tr is None:
            return math.nan
        return U.combine(U.absolute_uncertainty(tb, k), U.absolute_uncertainty(tr, k))

    when = pd.DatetimeIndex(_row_times(typical_weather_data))
    by = pd.DataFrame({"baseline_kwh": pb.where(ok).to_numpy(),
                       "reporting_kwh": pr.where(ok).to_numpy(), "rows": ok.astype(int)},
                      index=when).groupby(pd.Grouper(freq=period)).sum(min_count=0)
    by["savings_kwh"] = by["baseline_kwh"] - by["reporting_kwh"]
    by["uncertainty_kwh"] = [unc(int(r)) for r in by["rows"]]
    by.index.name = "period_start"
    base, rep = float(pb[ok].sum()), float(pr[ok].sum())
    result = SavingsResult(
        kind="normalised", model=baseline_model.name, model_version=baseline_model.version,
        frequency=baseline_model.frequency, confidence=confidence,
        baseline_period=(bfit.period_start, bfit.period_end) if bfit else (None, None),
        reporting_period=(rfit.period_start, rfit.period_end) if rfit else (None, None),
        baseline_kwh=base, reporting_kwh=rep, savings_kwh=base - rep, uncertainty_kwh=unc(m),
        m=m, factor=factor, by_period=by, **_term_fields(tb, bfit),
        terms={"baseline": _terms_dict(tb, baseline_model, m),
               "reporting": _terms_dict(tr, reporting_model, m),
               "normal_period": {"start": when.min().isoformat() if m else None,
                                 "end": when.max().isoformat() if m else None}},
    )
    result.warnings = (savings_warnings(result, bfit, role="baseline")
                       + [w for w in savings_warnings(result, rfit, role="reporting")
                          if w.code in ("baseline_model_disqualified", "no_fit_metrics",
                                        "too_few_effective_points")])
    return result


def _terms(fit: FitResult | None, confidence: float, factor: float) -> U.UncertaintyTerms | None:
    if fit is None or fit.metrics is None:
        return None
    mt = fit.metrics
    return U.terms(mt.n, mt.p, mt.cvrmse, mt.mean_y, mt.rho_lag1, confidence, factor)


def _term_fields(t: U.UncertaintyTerms | None, fit: FitResult | None) -> dict[str, Any]:
    if t is None:
        return dict(n=fit.metrics.n if fit and fit.metrics else 0, n_prime=math.nan, p=0,
                    rho=math.nan, t=math.nan, cvrmse=math.nan)
    return dict(n=t.n, n_prime=t.n_prime, p=t.p, rho=t.rho, t=t.t,
                cvrmse=t.rmse / fit.metrics.mean_y if fit.metrics.mean_y else math.nan)


def _terms_dict(t: U.UncertaintyTerms | None, model: BaselineModel, m: int) -> dict[str, Any]:
    d: dict[str, Any] = {"model": model.name, "version": model.version}
    if t is not None:
        d.update(n=t.n, n_prime=t.n_prime, p=t.p, rho=t.rho, t=t.t, rmse=t.rmse,
                 uncertainty_kwh=U.absolute_uncertainty(t, m))
    return d


def _row_times(frame: pd.DataFrame) -> np.ndarray:
    """Local wall-clock times of rows, for breakdowns, detection and reporting periods."""
    if "local_date" in frame:
        t = pd.DatetimeIndex(frame["local_date"])
        if "local_hour" in frame:
            t = t + pd.to_timedelta(frame["local_hour"].to_numpy(), unit="h")
        return t.to_numpy()
    idx = pd.DatetimeIndex(frame.index)
    return (idx.tz_localize(None) if idx.tz is not None else idx).to_numpy()


def _daily_sigma(fit: FitResult) -> float:
    """The baseline's daily residual σ. Hourly: the σ of a sum of 24 AR(1) errors,
    RMSE · sqrt(24 (1+ρ)/(1-ρ)), an approximation good for ρ not too close to 1."""
    mt = fit.metrics
    rmse = mt.cvrmse * mt.mean_y
    if fit.frequency == "hourly":
        rho = min(max(mt.rho_lag1, 0.0), 0.95)
        return rmse * math.sqrt(24 * (1 + rho) / (1 - rho))
    return rmse


def _span_days(shown: pd.DatetimeIndex, frequency: str) -> float:
    if len(shown) == 0:
        return 0.0
    step = {"hourly": pd.Timedelta(hours=1), "daily": pd.Timedelta(days=1)}.get(
        frequency, pd.Timedelta(days=30))
    return float((shown.max() - shown.min() + step) / pd.Timedelta(days=1))
