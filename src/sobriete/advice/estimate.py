"""Yearly kWh saving of one action on one building, as parts on the building's pools.

Each estimator returns an ``Estimate`` or a reason (str) why the action does not apply. Units:
kWh/yr everywhere, kWh cumac for CEE amounts, m² for areas. The rules are in docs/advice.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sobriete.advice.catalogue import ActionSpec
from sobriete.advice.combine import pool_size
from sobriete.advice.model import SavingPart
from sobriete.advice.settings import AdviceSettings
from sobriete.domain.findings import Finding, FindingKind, Quantity
from sobriete.domain.portfolio import Building, HeatingSystem

SYSTEM_CARRIER = {
    HeatingSystem.GAS_BOILER: "gas", HeatingSystem.OIL_BOILER: "heating_oil",
    HeatingSystem.DISTRICT_HEAT: "heat", HeatingSystem.HEAT_PUMP: "electricity",
    HeatingSystem.ELECTRIC_RESISTANCE: "electricity", HeatingSystem.WOOD_BOILER: "wood",
}
FOSSIL = ("gas", "heating_oil")
# Findings about the heating regulation itself: their waste is weather-dependent heating.
HEATING_KINDS = frozenset({
    FindingKind.NO_SETBACK, FindingKind.HEATING_SEASON_EARLY, FindingKind.HEATING_SEASON_LATE,
    FindingKind.ZONE_OCCUPIED_ABOVE_19, FindingKind.ZONE_UNOCCUPIED_ABOVE_16,
    FindingKind.ZONE_CLOSED_ABOVE_8, FindingKind.SIMULTANEOUS_HEAT_COOL})
# Findings about the non-weather part (hot water, standing losses, appliances).
BASE_KINDS = frozenset({FindingKind.SUMMER_HEATING, FindingKind.BASE_LOAD_HIGH,
                        FindingKind.BASE_LOAD_INCREASE})


@dataclass(frozen=True)
class Context:
    building: Building
    annual: Mapping[str, float]
    heating: Mapping[str, float] | None
    settings: AdviceSettings

    @property
    def heating_carriers(self) -> tuple[str, ...]:
        """Carriers the building heats with: its heating system, else the measured split,
        else the first fuel present (gas, heat, oil, wood), else electricity."""
        sys = self.building.heating_system
        if sys in SYSTEM_CARRIER:
            return (SYSTEM_CARRIER[sys],)
        if self.heating:
            known = tuple(c for c, v in self.heating.items() if v > 0)
            if known:
                return known
        for c in ("gas", "heat", "heating_oil", "wood", "electricity"):
            if self.annual.get(c, 0) > 0:
                return (c,)
        return ()

    def pool(self, carrier: str, use: str) -> float:
        return pool_size(carrier, use, self.annual, self.heating)

    def split_known(self, carrier: str) -> bool:
        return self.heating is not None and carrier in self.heating


@dataclass
class Estimate:
    parts: list[SavingPart]
    basis: dict[str, Any] = field(default_factory=dict)
    cee_kwh_cumac: float = 0.0
    warnings: list[str] = field(default_factory=list)


def _q(value: float, rel: float, cap: float | None = None) -> Quantity:
    lo, hi = max(value * (1 - rel), 0.0), value * (1 + rel)
    if cap is not None:
        value, lo, hi = min(value, cap), min(lo, cap), min(hi, cap)
    return Quantity(value=value, low=lo, high=hi, unit="kWh/an")


def _part(carrier: str, use: str, q: Quantity, **kw) -> SavingPart:
    return SavingPart(carrier=carrier, use=use, kwh_per_year=q, **kw)


def finding_use(f: Finding, ctx: Context) -> str:
    """Pool a finding's waste belongs to (heating or other), by kind and carrier."""
    carrier = f.waste.carrier if f.waste else ""
    if carrier not in ctx.heating_carriers or f.kind in BASE_KINDS:
        return "other"
    if f.kind in HEATING_KINDS or carrier != "electricity":
        return "heating"  # a fuel burnt out of hours is heating
    return "other"


def from_findings(findings: Sequence[Finding], ctx: Context) -> Estimate:
    """Sum of the findings' yearly waste, de-duplicated: findings on the same series and pool
    whose periods overlap are one waste (the largest counts, end by end); disjoint periods or
    different series add up. Each pool is capped at its size."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        assert f.waste is not None
        groups.setdefault((f.waste.carrier, f.evidence.series_key, finding_use(f, ctx)),
                          []).append(f)
    totals: dict[tuple[str, str], list[float]] = {}
    clusters = []
    for (carrier, series, use), fs in groups.items():
        fs = sorted(fs, key=lambda f: f.start_utc)
        cluster: list[Finding] = []
        end = None
        for f in fs + [None]:
            if f is not None and end is not None and f.start_utc < end:
                cluster.append(f)
                end = max(end, f.end_utc)
                continue
            if cluster:
                q = [max(float(getattr(c.waste.kwh_per_year, e)) for c in cluster)
                     for e in ("low", "value", "high")]
                t = totals.setdefault((carrier, use), [0.0, 0.0, 0.0])
                for i in range(3):
                    t[i] += q[i]
                clusters.append({"carrier": carrier, "series": series, "use": use,
                                 "findings": [c.key for c in cluster], "kwh_per_year": q[1]})
            if f is not None:
                cluster, end = [f], f.end_utc
    parts, capped = [], []
    for (carrier, use), (lo, val, hi) in totals.items():
        size = ctx.pool(carrier, use)
        if hi > size:
            capped.append(f"{carrier}/{use} capped at {size:.0f} kWh/yr")
        parts.append(_part(carrier, use, Quantity(value=min(val, size), low=min(lo, size),
                                                  high=min(hi, size), unit="kWh/an")))
    return Estimate(parts, {"rule": "findings: max over overlapping periods of one series, "
                                    "sum otherwise, capped at the pool",
                            "clusters": clusters, "caps": capped})


def _excess_k(f: Finding) -> float | None:
    """Excess over the limit [K] if the finding's evidence gives it."""
    ev = f.evidence
    for k, v in ev.values.items():
        if "excess" in k and isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
    mean = next((v for k, v in ev.values.items() if "mean" in k and k.endswith("_c")), None)
    limit = next((v for d in (ev.reference, ev.parameters) for k, v in d.items()
                  if any(w in k for w in ("limit", "setpoint", "threshold")) and k.endswith("_c")),
                 None)
    if isinstance(mean, int | float) and isinstance(limit, int | float):
        return max(float(mean) - float(limit), 0.0)
    return None


def heating_share(ctx: Context, share: Quantity, basis: dict[str, Any]) -> Estimate:
    """A share (with interval) of the heating use of each heating carrier."""
    parts = []
    for c in ctx.heating_carriers:
        size = ctx.pool(c, "heating")
        if size > 0:
            parts.append(_part(c, "heating", Quantity(
                value=share.value * size, low=share.low * size, high=share.high * size,
                unit="kWh/an")))
    return Estimate(parts, basis)


def setpoint_rule(findings: Sequence[Finding], ctx: Context) -> Estimate:
    """7 %/K of heating x the largest excess over 19 °C the findings show [K]."""
    s = ctx.settings
    seen = [x for x in (_excess_k(f) for f in findings) if x is not None]
    excess = max(seen) if seen else s.setpoint_default_excess_k
    share = min(s.heating_share_per_k * excess, s.setpoint_max_share)
    h = s.heating_share_per_k_rel_halfwidth
    q = Quantity(value=share, low=share * (1 - h), high=min(share * (1 + h), 1.0), unit="1")
    return heating_share(ctx, q, {
        "rule": "heating x share_per_K x excess_K", "share_per_k": s.heating_share_per_k,
        "excess_k": excess, "excess_from": "findings" if seen else "default (to confirm)",
        "share": share})


def typical(spec: ActionSpec, ctx: Context) -> Estimate | str:
    """A typical share of a use, for a setting no finding measured (to confirm)."""
    s = ctx.settings
    shares = s.typical_shares.get(spec.code)
    if not shares:
        return "no measured waste and no typical share for this action"
    parts = []
    for use, share in shares.items():
        if use == "heating":
            targets = [(c, "heating") for c in ctx.heating_carriers]
        elif use == "electricity_other":
            targets = [("electricity", "other")]
        else:
            targets = [(c, "other") for c in ctx.annual]
        for c, u in targets:
            # with an unknown split both pools are the whole carrier: "other" on a heating
            # carrier would then count its consumption twice
            if u == "other" and c in ctx.heating_carriers and not ctx.split_known(c):
                continue
            size = ctx.pool(c, u)
            if size > 0:
                parts.append(_part(c, u, _q(share * size, s.typical_rel_halfwidth, size)))
    return Estimate(parts, {"rule": "typical share of the use (to confirm)",
                            "typical_shares": dict(shares)},
                    warnings=["no finding measured this waste: typical figure, to confirm"])


def cee_annual(ctx: Context, spec: ActionSpec, cumac: Mapping[tuple[str, str], float],
               basis: dict[str, Any]) -> Estimate | str:
    """CEE kWh cumac per pool -> kWh/yr, capped by the pool and the action's max share."""
    s = ctx.settings
    af = s.annuity_factor(spec.lifetime_years)
    max_share = s.works_max_share.get(spec.code, 1.0)
    parts, caps = [], []
    for (carrier, use), kc in cumac.items():
        size = ctx.pool(carrier, use)
        if size <= 0:
            caps.append(f"{carrier}/{use}: no consumption, not counted")
            continue
        annual = kc / af
        cap = min(size, max_share * size)
        if annual * (1 + s.cee_rel_halfwidth) > cap:
            caps.append(f"{carrier}/{use} capped at {cap:.0f} kWh/yr "
                        f"({max_share:.0%} of {size:.0f})")
        parts.append(_part(carrier, use, _q(annual, s.cee_rel_halfwidth, cap)))
    if not parts:
        return "the uses this sheet saves on are not in the measured consumption"
    basis.update({"annuity_factor_yr": af, "discount_rate": s.cee_discount_rate,
                  "first_year_discounted": s.cee_first_year_discounted,
                  "lifetime_years": spec.lifetime_years, "max_share_of_use": max_share,
                  "caps": caps})
    return Estimate(parts, basis, cee_kwh_cumac=sum(cumac.values()))
