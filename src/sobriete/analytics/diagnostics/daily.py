"""Daily consumption against what the building's own reference says it should be.

The reference is a daily change-point baseline (``analytics.mv``) fitted on the history before
the analysed window, split by occupancy so that a closed day is expected at the closed-day
level and a workday at the workday level, both following outdoor temperature. Without enough
history the baseline is fitted on the analysed window itself: the rules then see departures
from the window's own norm only, and say so.

Sums over consecutive days are tested with the variance of an AR(1) process: daily residuals
of buildings are autocorrelated (a cold spell, a busy week), and ignoring it would make
multi-day excesses look far more significant than they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sobriete.analytics.calendar import DayType
from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.analytics.diagnostics.settings import DiagnosticSettings
from sobriete.analytics.mv.changepoint import ChangePointModel, ChangePointSettings
from sobriete.analytics.mv.data import daily_input
from sobriete.analytics.mv.events import robust_sigma

# Occupancy alone, or with the season: a closed day must be compared with closed days.
_SPLITS = ("occupancy", "season_occupancy")
# Stand-in temperature when no weather exists: the model then learns levels per day group.
_NO_WEATHER_TEMP_C = 15.0
_SIGMA_FLOOR_SHARE = 0.02  # of the mean daily use: the smallest daily noise assumed
Z90 = 1.645  # z of a two-sided 90 % interval, for the waste intervals


@dataclass(frozen=True)
class DailyReference:
    """Daily actual, expected and residual kWh of the whole series, with the noise model."""

    days: pd.DataFrame  # daily_input columns + expected_kwh, residual_kwh, analysed
    sigma_kwh: float  # robust σ of the reference's daily residuals
    rho: float  # lag-1 autocorrelation of those residuals
    source: str  # "reference" (history before the window) or "window" (the window itself)
    model: dict  # the baseline's parameters, for the evidence
    warnings: tuple[str, ...]
    sigma_closed_kwh: float | None = None  # the same over closed days only (quieter)
    sigma_floor_kwh: float = 0.0  # the smallest daily noise assumed for this meter
    weather: bool = True  # False: no outdoor temperature, expected levels ignore the weather

    @property
    def analysed(self) -> pd.DataFrame:
        return self.days[self.days["analysed"]]

    def sum_sigma(self, n_days: int, closed: bool = False) -> float:
        """σ of a sum of ``n_days`` consecutive daily residuals under AR(1); ``closed``: of
        closed days, whose residuals are quieter than workdays'."""
        if n_days <= 0:
            return float("nan")
        k = np.arange(1, n_days)
        var = n_days + 2.0 * np.sum((n_days - k) * self.rho ** k)
        sigma = self.sigma_closed_kwh if closed and self.sigma_closed_kwh else self.sigma_kwh
        return float(sigma * np.sqrt(max(var, 1.0)))


def _lag1(r: pd.Series) -> float:
    r = r.dropna()
    if len(r) < 10:
        return 0.0
    x = r.to_numpy(dtype=float)
    x = x - x.mean()
    den = float(np.dot(x, x))
    # Negative autocorrelation would shrink sums' variance; buildings never earn that credit.
    return float(np.clip(np.dot(x[1:], x[:-1]) / den, 0.0, 0.95)) if den > 0 else 0.0


def daily_reference(series: MeterSeries, settings: DiagnosticSettings) -> DailyReference:
    hourly = series.frame()
    warnings: list[str] = []
    weather = bool(np.isfinite(hourly["temp_air_c"]).any())
    if not weather:
        hourly["temp_air_c"] = _NO_WEATHER_TEMP_C
        warnings.append("no outdoor temperature: expected levels do not follow the weather")
    days = daily_input(hourly)
    analysed_from = series.start.tz_convert(series.building.occupancy().timezone)
    days["analysed"] = days.index >= analysed_from.tz_localize(None).normalize()
    c = settings.change
    ref_lo = analysed_from.tz_localize(None).normalize() - pd.Timedelta(days=c.reference_days)
    in_ref = (~days["analysed"]) & (days.index >= ref_lo) & days["energy_kwh"].notna()
    source = "reference"
    if int(in_ref.sum()) < c.min_reference_days:
        source = "window"
        in_ref = days["analysed"] & days["energy_kwh"].notna()
        warnings.append(
            f"{int((~days['analysed'] & days['energy_kwh'].notna()).sum())} day(s) of history "
            f"(< {c.min_reference_days}): compared with the analysed window's own norm")
    model = ChangePointModel(ChangePointSettings(splits=_SPLITS, modes=("separate",)))
    fit = model.fit(days[in_ref])
    pred = model.predict(days)
    days["expected_kwh"] = pred["predicted_kwh"]
    days["residual_kwh"] = days["energy_kwh"] - days["expected_kwh"]
    ref_res = days.loc[in_ref, "residual_kwh"]
    # A meter reading 0 most days (a boiler off in summer) has a MAD of 0: below a small share
    # of its mean use, noise is resolution, not a reason to call every excess infinite.
    floor = _SIGMA_FLOOR_SHARE * float(days.loc[in_ref, "energy_kwh"].mean())
    floor = floor if np.isfinite(floor) else 0.0
    sigma = _sigma(ref_res, floor)
    closed = days["day_type"] != DayType.WORKDAY.value
    sigma_closed = _sigma(days.loc[in_ref & closed, "residual_kwh"], floor)
    warnings += [w.message_en for w in fit.warnings if w.level != "info"]
    return DailyReference(days, sigma, _lag1(ref_res), source,
                          {"model": model.name, "split": model.split, "feature": model.feature,
                           "reference_days": int(in_ref.sum())},
                          tuple(warnings), sigma_closed, floor, weather)


def _sigma(residuals: pd.Series, floor: float) -> float:
    """Robust σ (MAD), the standard deviation when the MAD is 0, never below ``floor``."""
    r = residuals.dropna()
    if len(r) < 10:
        return float("nan")
    sigma = robust_sigma(r)
    if not np.isfinite(sigma) or sigma <= 0:
        sigma = float(r.std())
    return float(max(sigma, floor))


def episodes(mask: pd.Series, max_gap_days: int = 0) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Runs of True days in a daily boolean series (date index), as inclusive (first, last);
    runs separated by at most ``max_gap_days`` False days are merged."""
    days = mask.index[mask.to_numpy(dtype=bool)]
    if len(days) == 0:
        return []
    gaps = np.diff(days.values).astype("timedelta64[D]").astype(int) > max_gap_days + 1
    starts = np.r_[0, np.flatnonzero(gaps) + 1]
    ends = np.r_[np.flatnonzero(gaps), len(days) - 1]
    return [(days[a], days[b]) for a, b in zip(starts, ends, strict=True)]


def local_day_bounds(series: MeterSeries, first: pd.Timestamp,
                     last: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC instants of [first local day 00:00, day after last local day 00:00)."""
    tz = series.building.occupancy().timezone
    lo = pd.Timestamp(first).tz_localize(tz).tz_convert("UTC")
    hi = (pd.Timestamp(last) + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
    return lo, hi


@dataclass(frozen=True)
class Excess:
    """Actual minus expected kWh over some days, and how unusual it is."""

    actual_kwh: float
    expected_kwh: float
    n_days: int

    @property
    def excess_kwh(self) -> float:
        return self.actual_kwh - self.expected_kwh

    @property
    def ratio(self) -> float:
        return self.excess_kwh / self.expected_kwh if self.expected_kwh > 0 else float("inf")

    @property
    def ratio_shown(self) -> float | None:
        """The ratio for evidence (JSON has no infinity: None when nothing was expected)."""
        return round(self.ratio, 3) if np.isfinite(self.ratio) else None

    @property
    def pct_text(self) -> str:
        """" (+42 %)" for messages, or nothing when nothing was expected."""
        return f" (+{100 * self.ratio:.0f} %)" if np.isfinite(self.ratio) else ""


def excess(days: pd.DataFrame) -> Excess:
    """Excess over the days given that have both an actual and an expected value."""
    ok = days["energy_kwh"].notna() & days["expected_kwh"].notna()
    d = days[ok]
    return Excess(float(d["energy_kwh"].sum()), float(d["expected_kwh"].sum()), int(ok.sum()))


def significance(ref: DailyReference, ex: Excess, closed: bool = False) -> float:
    """Excess in σ of a sum of that many consecutive days (AR(1))."""
    s = ref.sum_sigma(ex.n_days, closed)
    return ex.excess_kwh / s if s > 0 and np.isfinite(s) else 0.0


def score(z: float, ratio: float, z_min: float, ratio_min: float) -> float:
    """0.5 at the reporting thresholds, towards 1 as both margins grow."""
    return margin_score(min(z / z_min if z_min > 0 else 2.0,
                            ratio / ratio_min if ratio_min > 0 else 2.0))


def margin_score(margin: float) -> float:
    """0.5 at margin 1 (the threshold itself), towards 1 as it grows."""
    return float(np.clip(0.5 + 0.5 * np.tanh(margin - 1.0), 0.0, 1.0))
