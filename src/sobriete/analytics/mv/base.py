"""The contract every baseline model keeps: fit / predict / to_json / from_json, an
explanation of each prediction by component, and a fit result carrying its evidence.

Input frames (built by ``analytics.mv.data``):

- **hourly**: indexed by the hour's start, UTC; columns ``energy_kwh`` (NaN = missing),
  ``temp_air_c`` (°C, hourly mean), ``local_hour`` (0-23), ``local_dow`` (0 = Monday),
  ``local_date`` (datetime64, local midnight, naive), ``day_type`` (``analytics.calendar``
  DayType values), ``occupied`` (bool, from the building's calendar).
- **daily**: indexed by local date (naive datetime64 at midnight); ``energy_kwh`` (sum, NaN
  when under-covered), ``temp_air_c`` (mean °C), ``temp_min_c``, ``temp_max_c``,
  ``energy_coverage`` (0-1 share of hours present), ``day_type``, ``local_dow``.
- **billing**: one row per billing period, indexed by period start (naive local date);
  ``period_end`` (exclusive), ``n_days``, ``energy_kwh`` (total), ``temp_air_c`` (mean °C),
  ``hdd_18`` / ``cdd_18`` (degree-days of the period).

Predictions are frames on the same index with ``predicted_kwh`` and the components it sums:
``base_kwh`` + ``heating_kwh`` + ``cooling_kwh`` + ``calendar_kwh`` (the difference due to
occupancy, day type and holidays; 0 for models without it). Models predict on any weather,
past or forecast, as long as the frame has the columns they use.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Self

import pandas as pd

from sobriete.domain.mv import MVWarning, disqualified

ENERGY = "energy_kwh"
TEMP = "temp_air_c"
PREDICTED = "predicted_kwh"
COMPONENTS = ("base_kwh", "heating_kwh", "cooling_kwh", "calendar_kwh")


@dataclass
class FitMetrics:
    """In-sample goodness of fit (ASHRAE Guideline 14 definitions, p = parameters)."""

    n: int
    p: int
    cvrmse: float  # sqrt(sum(e^2)/(n-p)) / mean(y)
    nmbe: float  # sum(e) / ((n-p) * mean(y))
    r2: float
    rho_lag1: float  # lag-1 autocorrelation of residuals (for uncertainty)
    mean_y: float


@dataclass
class FitResult:
    """What a fit produced and what it rests on: data period, parameters, metrics, warnings."""

    model: str
    version: str
    frequency: str  # hourly | daily | billing
    period_start: str  # ISO date or datetime, first row used
    period_end: str  # last row used
    params: dict[str, Any]
    metrics: FitMetrics | None
    warnings: list[MVWarning] = field(default_factory=list)
    fit_seconds: float = 0.0

    @property
    def disqualified(self) -> bool:
        return disqualified(self.warnings)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types; NaN metrics become null."""
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["metrics"] = (
            {k: _finite_or_none(v) for k, v in asdict(self.metrics).items()}
            if self.metrics is not None else None
        )
        doc["warnings"] = [w.model_dump(mode="json") for w in self.warnings]
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> FitResult:
        d = dict(doc)
        if d.get("metrics") is not None:
            d["metrics"] = FitMetrics(**{k: (float("nan") if v is None else v)
                                         for k, v in d["metrics"].items()})
        d["warnings"] = [MVWarning(**w) for w in d.get("warnings", [])]
        return cls(**d)


def _finite_or_none(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


class BaselineModel(ABC):
    """A baseline model. Fit once on a baseline period, then predict any period."""

    name: ClassVar[str]
    version: ClassVar[str]
    frequency: ClassVar[str]

    fit_result: FitResult | None = None

    @abstractmethod
    def fit(self, data: pd.DataFrame) -> FitResult:
        """Fit on ``data`` (rows with NaN energy are ignored); keeps and returns the result."""

    @abstractmethod
    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        """``predicted_kwh`` and its ``COMPONENTS`` on ``data``'s index."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """Everything needed to predict again, as plain JSON types."""

    @classmethod
    @abstractmethod
    def from_json(cls, doc: dict[str, Any]) -> Self:
        """Inverse of ``to_json``."""
