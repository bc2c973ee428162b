"""Décret tertiaire: the gap to the 2030 target and the cheapest set of actions closing it.

Targets are reductions of the reference-year consumption (−40 % 2030, −50 % 2040, −60 % 2050,
FRANCE.md), both consumptions climate-adjusted (``analytics.degree_days.climate_adjusted``).
The gap is ``current - reference x (1 - reduction)``, never negative.

The cheapest set is the set of the building's recommendations of least total net cost whose
combined saving (``combine``: multiplicative on each pool, never double-counting) reaches the
gap. Combined saving is not additive, so this is not a linear knapsack: it is solved exactly
by a depth-first search over actions sorted by cost, pruned when the set already costs more
than the best found, and when even adding every remaining action cannot reach the gap (valid
because adding an action never reduces the combined saving). Beyond ``tertiaire_max_exact``
actions it falls back to a greedy choice, and says so. Savings are estimated at the current
year's climate and compared with a climate-adjusted gap: an approximation within the
uncertainty of the estimates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from sobriete.advice.catalogue import CATALOGUE, excluded_by
from sobriete.advice.combine import check_consumption, combine
from sobriete.advice.explain import fmt_amount, fmt_en, fmt_fr
from sobriete.advice.model import Recommendation
from sobriete.advice.settings import AdviceSettings
from sobriete.domain.portfolio import Building


class TertiaireResult(BaseModel):
    """Units: kWh/yr (climate-adjusted final energy) and EUR (net of CEE)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    building_code: str
    subject: bool = Field(description="floor area >= the decree's threshold")
    floor_area_m2: float | None
    reference_kwh: float
    current_kwh: float
    year: int
    targets_kwh: dict[int, float]
    gap_kwh: float = Field(description="current - target of ``year``, >= 0 [kWh/yr]")
    chosen: tuple[str, ...] = Field(description="action codes of the cheapest closing set")
    chosen_cost_eur: float
    chosen_kwh_per_year: float
    closes_gap: bool
    remaining_gap_kwh: float
    method: str
    message_fr: str
    message_en: str


def _saving(recs: Sequence[Recommendation], annual, heating, prudent: bool) -> float:
    if not recs:
        return 0.0
    q = combine(recs, annual, heating).total
    return q.low if prudent else q.value


def cheapest_path(recs: Sequence[Recommendation], gap_kwh: float,
                  annual_kwh: Mapping[str, float], heating_kwh: Mapping[str, float] | None = None,
                  *, prudent: bool = False, max_exact: int = 24,
                  ) -> tuple[list[Recommendation], float, bool, str]:
    """(chosen, combined saving [kWh/yr], closes the gap, method) for one building's ``recs``.
    When no set closes the gap, the largest-saving set (all actions, one per alternative)."""
    items = sorted((r for r in recs if r.kwh_per_year.value > 0),
                   key=lambda r: (r.net_cost_eur, -r.kwh_per_year.value, r.action_code))
    if gap_kwh <= 0:
        return [], 0.0, True, "target already met"
    save = lambda rs: _saving(rs, annual_kwh, heating_kwh, prudent)  # noqa: E731
    if len(items) > max_exact:
        chosen: list[Recommendation] = []
        for r in sorted(items, key=lambda r: -r.kwh_per_year.value / r.net_cost_eur):
            if not excluded_by(r.action_code, {c.action_code for c in chosen}):
                chosen.append(r)
                if (got := save(chosen)) >= gap_kwh:
                    return chosen, got, True, "greedy by kWh per EUR (approximation)"
        return chosen, save(chosen), False, "greedy by kWh per EUR (approximation)"
    best: list = [None, float("inf"), 0.0]  # chosen, cost, saving

    def dfs(i: int, chosen: list[Recommendation], cost: float) -> None:
        if cost >= best[1]:
            return
        if chosen and (got := save(chosen)) >= gap_kwh:
            best[:] = [list(chosen), cost, got]
            return
        codes = {c.action_code for c in chosen}
        rest = [r for r in items[i:] if not excluded_by(r.action_code, codes)]
        if not rest or save(chosen + rest) < gap_kwh:
            return
        for j in range(i, len(items)):
            r = items[j]
            if not excluded_by(r.action_code, codes):
                dfs(j + 1, chosen + [r], cost + r.net_cost_eur)

    dfs(0, [], 0.0)
    if best[0] is not None:
        return best[0], best[2], True, "exact search over combined savings"
    # no set closes the gap: the largest saving, keeping the better of each alternative
    chosen = []
    for r in sorted(items, key=lambda r: -r.kwh_per_year.value):
        if not excluded_by(r.action_code, {c.action_code for c in chosen}):
            chosen.append(r)
    return chosen, save(chosen), False, "exact search: no set closes the gap"


def tertiaire_gap(building: Building, *, reference_kwh: float, current_kwh: float,
                  recommendations: Sequence[Recommendation], annual_kwh: Mapping[str, float],
                  heating_kwh: Mapping[str, float] | None = None, year: int = 2030,
                  prudent: bool = False, settings: AdviceSettings | None = None,
                  ) -> TertiaireResult:
    """Gap to the ``year`` target [kWh/yr] and the cheapest actions that close it.

    ``reference_kwh``, ``current_kwh``: climate-adjusted yearly final energy [kWh/yr] of the
    reference year and of the last 12 months. ``prudent``: cover the gap with the low ends of
    the savings. A building under the area threshold is computed too (voluntary trajectory)
    with ``subject=False``."""
    s = settings or AdviceSettings()
    for name, v in (("reference_kwh", reference_kwh), ("current_kwh", current_kwh)):
        if not v >= 0:
            raise ValueError(f"{name} must be a kWh/yr >= 0, got {v}")
    if year not in s.tertiaire_targets:
        raise ValueError(f"year must be one of {sorted(s.tertiaire_targets)}, got {year}")
    check_consumption(annual_kwh, heating_kwh)
    recs = [r for r in recommendations if r.building_code == building.code]
    if len(recs) != len(recommendations):
        raise ValueError(f"recommendations must all be for building {building.code!r}")
    targets = {y: reference_kwh * (1 - red) for y, red in s.tertiaire_targets.items()}
    gap = max(current_kwh - targets[year], 0.0)
    chosen, saved, closes, method = cheapest_path(recs, gap, annual_kwh, heating_kwh,
                                                  prudent=prudent, max_exact=s.tertiaire_max_exact)
    cost = sum(r.net_cost_eur for r in chosen)
    remaining = max(gap - saved, 0.0)
    area = building.floor_area_m2
    fr, en = _sentences(year, s.tertiaire_targets[year], reference_kwh, current_kwh,
                        targets[year], gap, chosen, cost, saved, remaining)
    return TertiaireResult(
        building_code=building.code, subject=bool(area and area >= s.tertiaire_min_area_m2),
        floor_area_m2=area, reference_kwh=reference_kwh, current_kwh=current_kwh, year=year,
        targets_kwh=targets, gap_kwh=gap, chosen=tuple(r.action_code for r in chosen),
        chosen_cost_eur=cost, chosen_kwh_per_year=saved, closes_gap=closes,
        remaining_gap_kwh=remaining, method=method + ("; low ends" if prudent else ""),
        message_fr=fr, message_en=en)


def _sentences(year, red, ref, cur, target, gap, chosen, cost, saved, remaining):
    n = fmt_amount
    head_fr = (f"Décret tertiaire : objectif {year} de {n(target, fmt_fr)} kWh/an "
               f"(−{red:.0%} sur {n(ref, fmt_fr)}) ; consommation corrigée du climat "
               f"{n(cur, fmt_fr)} kWh/an").replace("%", "\u202f%")
    head_en = (f"Décret tertiaire: {year} target {n(target, fmt_en)} kWh/yr (−{red:.0%} of "
               f"{n(ref, fmt_en)}); climate-adjusted consumption {n(cur, fmt_en)} kWh/yr")
    if gap <= 0:
        return head_fr + " : objectif déjà atteint.", head_en + ": target already met."
    names_fr = " + ".join(CATALOGUE[r.action_code].name_fr for r in chosen)
    names_en = " + ".join(CATALOGUE[r.action_code].name_en for r in chosen)
    head_fr += f", écart {n(gap, fmt_fr)} kWh/an"
    head_en += f", gap {n(gap, fmt_en)} kWh/yr"
    if remaining <= 0:
        return (f"{head_fr} ; le moins cher pour le combler : {names_fr}, "
                f"{n(cost, fmt_fr)} € nets pour {n(saved, fmt_fr)} kWh/an.",
                f"{head_en}; cheapest way to close it: {names_en}, "
                f"EUR {n(cost, fmt_en)} net for {n(saved, fmt_en)} kWh/yr.")
    if not chosen:
        return (f"{head_fr} ; aucune action chiffrée : il reste tout l'écart.",
                f"{head_en}; no costed action: the whole gap remains.")
    return (f"{head_fr} ; même toutes les actions ({names_fr}, {n(cost, fmt_fr)} € nets, "
            f"{n(saved, fmt_fr)} kWh/an) ne le comblent pas : il reste "
            f"{n(remaining, fmt_fr)} kWh/an.",
            f"{head_en}; even all actions ({names_en}, EUR {n(cost, fmt_en)} net, "
            f"{n(saved, fmt_en)} kWh/yr) do not close it: {n(remaining, fmt_en)} kWh/yr remain.")
