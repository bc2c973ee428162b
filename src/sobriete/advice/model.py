"""What the advice layer hands out: a recommendation with its numbers, intervals and evidence."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sobriete.advice.catalogue import ActionType
from sobriete.domain.findings import Quantity

Use = Literal["heating", "other"]


class SavingPart(BaseModel):
    """The saving of one action on one pool: a carrier's heating (weather-dependent) use or
    the rest of that carrier. ``kwh_per_year`` is negative for consumption an action adds
    (the electricity a heat pump draws). ``switch_to``/``switch_ratio``: the kWh removed here
    reappear on ``switch_to`` at ``switch_ratio`` kWh per kWh (fuel switch)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    carrier: str
    use: Use
    kwh_per_year: Quantity
    switch_to: str | None = None
    # <= 1: a switch adding more kWh than it removes would make "adding an action never
    # reduces the combined saving" false
    switch_ratio: float = Field(0.0, ge=0, le=1)
    added: bool = False  # the consumption a switch adds elsewhere: recomputed when combined


class Recommendation(BaseModel):
    """One action for one building with its yearly saving, cost and evidence.

    Units: kWh/yr, EUR/yr, kgCO2e/yr, EUR; ``payback_years`` [yr] on the cost net of the CEE
    value; ``eur_saved_per_eur_spent`` and ``co2_kg_saved_per_eur`` [EUR/EUR, kgCO2e/EUR] over
    the action's lifetime (undiscounted) per EUR of net cost. ``basis`` holds every number and
    source used (factors, CEE amounts, findings, caps): the evidence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    building_code: str
    action_code: str
    action_type: ActionType
    kwh_per_year: Quantity
    eur_per_year: Quantity
    co2_kg_per_year: Quantity
    cost_eur: Quantity
    net_cost_eur: float = Field(description="cost minus CEE value, floored [EUR]")
    lifetime_years: int
    payback_years: float | None = Field(description="None when nothing is saved [yr]")
    eur_saved_per_eur_spent: float
    co2_kg_saved_per_eur: float
    cee_kwh_cumac: float = 0.0
    cee_eur: float = 0.0
    parts: tuple[SavingPart, ...] = ()
    finding_keys: tuple[str, ...] = ()
    basis: dict[str, Any] = Field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    message_fr: str = ""
    message_en: str = ""

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
