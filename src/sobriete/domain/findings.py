"""Diagnostic findings: a waste or a fault seen in the data, with everything that shows it.

A finding is what a detector (``analytics.diagnostics``) hands to the advice layer and to
people: which building and series, which period, the numbers behind it (``evidence``), the
estimated yearly waste with an interval, how sure the detector is, and which version of which
detector said so. Nothing in it is free text without numbers: the French and English sentences
are built from ``evidence`` and can be rebuilt from it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FindingKind(StrEnum):
    # whole-building load shape, compared with what the building's calendar says
    BASE_LOAD_HIGH = "base_load_high"  # closed-hours load too close to occupied load
    OUT_OF_HOURS = "out_of_hours"  # consumption outside opening hours above expectation
    WEEKEND_USE = "weekend_use"  # weekend consumption above the closed-day level
    HOLIDAY_USE = "holiday_use"  # public/school holidays or declared closures used as workdays
    NO_SETBACK = "no_setback"  # heating load does not drop at night / weekends
    # heating season
    SUMMER_HEATING = "summer_heating"  # gas/heat above the hot-water base without heating need
    HEATING_SEASON_EARLY = "heating_season_early"
    HEATING_SEASON_LATE = "heating_season_late"
    # changes against the building's own reference
    BASE_LOAD_INCREASE = "base_load_increase"  # closed-hours load up against the reference
    STEP_CHANGE = "step_change"
    DRIFT = "drift"
    # electricity contract
    PEAK_OVER_SUBSCRIBED = "peak_over_subscribed"
    # zone temperatures (code de l'énergie R.241-26 to R.241-30)
    ZONE_OCCUPIED_ABOVE_19 = "zone_occupied_above_19"
    ZONE_UNOCCUPIED_ABOVE_16 = "zone_unoccupied_above_16"
    ZONE_CLOSED_ABOVE_8 = "zone_closed_above_8"
    COOLING_BELOW_26 = "cooling_below_26"
    SIMULTANEOUS_HEAT_COOL = "simultaneous_heat_cool"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def confidence_label(score: float) -> Confidence:
    """Three bands people can read; the score itself stays in the finding."""
    if score >= 0.8:
        return Confidence.HIGH
    if score >= 0.5:
        return Confidence.MEDIUM
    return Confidence.LOW


class _Frozen(BaseModel):
    # No infinity or NaN: JSON cannot hold them, and a number people read must be a number.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Scalar = float | int | str | bool | None


class Evidence(_Frozen):
    """What shows the finding: data used, measured values, the reference they are compared
    with, and the parameters of the rule. ``plot`` names the figure that draws it
    (``reporting.diagnostic_plots``), so a person is one command away from seeing it."""

    series_key: str  # meter or zone code the data came from
    quantity: str  # column vocabulary (energy_kwh, temp_zone_c ...)
    data_start_utc: datetime
    data_end_utc: datetime
    n_points: int = Field(ge=0)
    values: dict[str, Scalar] = Field(default_factory=dict)  # measured, with units in keys
    reference: dict[str, Scalar] = Field(default_factory=dict)  # compared with, units in keys
    parameters: dict[str, Scalar] = Field(default_factory=dict)  # settings used, units in keys
    plot: str | None = None


class Quantity(_Frozen):
    """A value with its interval (same unit), e.g. yearly waste in kWh."""

    value: float
    low: float
    high: float
    unit: str

    @model_validator(mode="after")
    def _ordered(self) -> Quantity:
        if not (self.low <= self.value <= self.high):
            raise ValueError(f"interval [{self.low}, {self.high}] must contain {self.value}")
        return self


class Waste(_Frozen):
    """Estimated waste of a finding. ``kwh_per_year`` is the annualised figure used for ranking;
    ``kwh_observed`` the waste measured over the finding's period. EUR and CO2 carry the factor
    they were computed with (None when no factor exists for the carrier)."""

    carrier: str  # electricity, gas, heat ...
    kwh_observed: float
    kwh_per_year: Quantity
    eur_per_year: Quantity | None = None
    co2_kg_per_year: Quantity | None = None
    factors: dict[str, Scalar] = Field(default_factory=dict)  # price/CO2 value, unit, source
    method: str  # how it was estimated, in one line


class Finding(_Frozen):
    building_code: str
    kind: FindingKind
    start_utc: datetime
    end_utc: datetime
    score: float = Field(ge=0, le=1, description="detector confidence, 0-1")
    detector: str
    detector_version: str
    evidence: Evidence
    waste: Waste | None = None  # None: a rule breach whose energy cost is not estimated
    message_fr: str
    message_en: str
    actions: tuple[str, ...] = ()  # codes of the catalogue actions that remove it
    warnings: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _period(self) -> Finding:
        if self.end_utc <= self.start_utc:
            raise ValueError(f"finding ends ({self.end_utc}) before it starts ({self.start_utc})")
        return self

    @property
    def confidence(self) -> Confidence:
        return confidence_label(self.score)

    @property
    def key(self) -> str:
        """Stable identity: re-running a diagnosis on the same data finds the same key."""
        raw = "|".join((self.building_code, self.evidence.series_key, self.kind.value,
                        self.start_utc.isoformat(), self.end_utc.isoformat()))
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        doc = self.model_dump(mode="json")
        doc["key"] = self.key
        doc["confidence"] = self.confidence.value
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Finding:
        return cls.model_validate({k: v for k, v in doc.items()
                                   if k not in ("key", "confidence")})


def priority(f: Finding) -> tuple:
    """Sort key of what a person should look at first: € of waste per year, then kWh per year
    where no price exists, then rule breaches without an energy estimate, by confidence."""
    w = f.waste
    eur = w.eur_per_year.value if w and w.eur_per_year else None
    kwh = w.kwh_per_year.value if w else None
    return (eur is None, -(eur or 0.0), kwh is None, -(kwh or 0.0), -f.score)
