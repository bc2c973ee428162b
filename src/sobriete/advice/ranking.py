"""Ranking recommendations, and choosing what to fund across a portfolio under a budget.

Both ratios are over the action's lifetime per EUR of net cost (cost minus the CEE value,
floored at ``AdviceSettings.min_cost_eur``): ``eur_saved_per_eur_spent`` [EUR/EUR] and
``co2_kg_saved_per_eur`` [kgCO2e/EUR].

With a budget, the choice is a knapsack problem. ``portfolio_priorities`` solves it greedily
by ratio, then keeps the single most valuable action that fits if it alone beats the greedy
set: the classic guard that makes greedy at least half the optimum. It is an approximation
(an exact 0/1 knapsack could fund a slightly better set); it is transparent, which matters
for a plan people must defend in a council meeting. Totals add each action's own estimate:
two actions on one building overlap (see ``combine``), so building totals are upper bounds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sobriete.advice.catalogue import excluded_by
from sobriete.advice.model import Recommendation

RankBy = Literal["eur_per_eur", "co2_per_eur"]


def ratio(rec: Recommendation, by: RankBy) -> float:
    return rec.eur_saved_per_eur_spent if by == "eur_per_eur" else rec.co2_kg_saved_per_eur


def lifetime_value(rec: Recommendation, by: RankBy) -> float:
    """EUR or kgCO2e saved over the action's lifetime."""
    per_year = rec.eur_per_year.value if by == "eur_per_eur" else rec.co2_kg_per_year.value
    return per_year * rec.lifetime_years


def rank(recs: Iterable[Recommendation], by: RankBy = "eur_per_eur") -> list[Recommendation]:
    """Best first by ``by``; ties by shorter payback, then building and action code."""
    if by not in ("eur_per_eur", "co2_per_eur"):
        raise ValueError(f"by must be 'eur_per_eur' or 'co2_per_eur', got {by!r}")
    return sorted(recs, key=lambda r: (-ratio(r, by), r.payback_years or float("inf"),
                                       r.building_code, r.action_code))


class PortfolioPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    by: str
    budget_eur: float | None = Field(description="net budget [EUR], None: no cap")
    selected: tuple[Recommendation, ...]
    not_selected: tuple[Recommendation, ...]
    spent_eur: float = Field(description="net cost of the selected actions [EUR]")
    kwh_per_year: float = Field(description="sum of the selected actions' savings [kWh/yr]")
    eur_per_year: float
    co2_kg_per_year: float
    method: str


def portfolio_priorities(recs: Iterable[Recommendation], *, budget_eur: float | None = None,
                         by: RankBy = "eur_per_eur") -> PortfolioPlan:
    """Actions of many buildings ranked by ``by``; with ``budget_eur`` [EUR, net of CEE] the
    greedy choice described in the module doc. Actions saving nothing are never funded, and
    one building gets at most one of two alternatives (boiler or heat pump)."""
    if budget_eur is not None and budget_eur < 0:
        raise ValueError(f"budget_eur must be >= 0 EUR, got {budget_eur}")
    ranked = rank(recs, by)
    useful = [r for r in ranked if ratio(r, by) > 0]
    cap = float("inf") if budget_eur is None else budget_eur

    def greedy(items: list[Recommendation]) -> list[Recommendation]:
        chosen, spent, per_building = [], 0.0, {}
        for r in items:
            done = per_building.setdefault(r.building_code, set())
            if spent + r.net_cost_eur <= cap and not excluded_by(r.action_code, done):
                chosen.append(r)
                spent += r.net_cost_eur
                done.add(r.action_code)
        return chosen

    chosen = greedy(useful)
    method = "greedy by ratio" + ("" if budget_eur is None else " under the budget")
    fits = [r for r in useful if r.net_cost_eur <= cap]
    if fits and budget_eur is not None:
        best = max(fits, key=lambda r: lifetime_value(r, by))
        if lifetime_value(best, by) > sum(lifetime_value(r, by) for r in chosen):
            chosen = [best]
            method += "; the single most valuable action beats the greedy set"
    ids = {id(r) for r in chosen}
    chosen = [r for r in ranked if id(r) in ids]
    return PortfolioPlan(
        by=by, budget_eur=budget_eur, selected=tuple(chosen),
        not_selected=tuple(r for r in ranked if id(r) not in ids),
        spent_eur=sum(r.net_cost_eur for r in chosen),
        kwh_per_year=sum(r.kwh_per_year.value for r in chosen),
        eur_per_year=sum(r.eur_per_year.value for r in chosen),
        co2_kg_per_year=sum(r.co2_kg_per_year.value for r in chosen), method=method)
