"""From a building, its findings and its consumption to costed, explained recommendations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sobriete.advice.catalogue import CATALOGUE, ActionSpec, ActionType, SavingBasis, get_action
from sobriete.advice.combine import check_consumption
from sobriete.advice.estimate import Context, Estimate, from_findings, setpoint_rule, typical
from sobriete.advice.explain import explain, reasons
from sobriete.advice.model import Recommendation
from sobriete.advice.settings import AdviceSettings
from sobriete.advice.works import WORKS
from sobriete.analytics.conversions import co2_kg, cost_eur
from sobriete.domain.findings import Finding, Quantity
from sobriete.domain.portfolio import Building


def _calls(building: Building, findings: Sequence[Finding],
           ) -> tuple[dict[str, list[Finding]], dict[str, list[Finding]]]:
    """(primary, linked) findings per action code. A finding is linked to every action it
    lists (else the catalogue's actions addressing its kind); its waste counts only for its
    primary action, the first *setting* listed (detectors list the most direct remedy
    first), so one waste is never counted by two settings."""
    primary: dict[str, list[Finding]] = {}
    linked: dict[str, list[Finding]] = {}
    for f in findings:
        if f.building_code != building.code:
            raise ValueError(f"finding {f.key} is for building {f.building_code!r}, "
                             f"not {building.code!r}")
        codes = f.actions or tuple(c for c, a in CATALOGUE.items() if f.kind in a.addresses)
        for code in codes:
            try:
                get_action(code)
            except ValueError as exc:
                raise type(exc)(f"finding {f.key} ({f.kind.value}): {exc}") from None
            linked.setdefault(code, []).append(f)
        first = next((c for c in codes if CATALOGUE[c].type is ActionType.SETTING), None)
        if first is not None:
            primary.setdefault(first, []).append(f)
    return primary, linked


def _estimate(spec: ActionSpec, fs: list[Finding], ctx: Context) -> tuple[Estimate | str, str]:
    """The estimate (or why not) and the basis kind the explanation uses; ``fs``: the
    findings whose primary action this is."""
    if spec.type is ActionType.WORKS:
        est = WORKS[spec.code](spec, ctx)
        return est, {SavingBasis.CEE: "cee", SavingBasis.FUEL_SWITCH: "fuel_switch"}.get(
            spec.basis, "share")
    if not fs and not ctx.settings.propose_typical_settings:
        return "no finding calls for it", ""
    measured = [f for f in fs if f.waste is not None]
    if measured:
        return from_findings(measured, ctx), "findings"
    if spec.basis is SavingBasis.SETPOINT_RULE:
        return setpoint_rule(fs, ctx), "setpoint_rule" if fs else "typical"
    if spec.basis is SavingBasis.CONTRACT:
        if not fs:
            return "no finding calls for it", ""
        return Estimate([], {"rule": "contract: the saving is on the fixed part, not kWh"},
                        warnings=["compare the tariff's power price with the peaks: "
                                  "the EUR depends on the contract"]), "contract"
    return typical(spec, ctx), "typical"


def _sum(qs: list[Quantity], unit: str) -> Quantity:
    return Quantity(value=sum(q.value for q in qs), low=sum(q.low for q in qs),
                    high=sum(q.high for q in qs), unit=unit)


def _convert(est: Estimate, fn, unit: str, what: str, warnings: list[str],
             factors: dict[str, Any]) -> Quantity:
    qs = []
    for p in est.parts:
        key = p.carrier
        if what == "co2" and p.carrier == "electricity" and p.use == "heating":
            key = "electricity_heating"  # DPE by-use factor for electric heating
        conv = fn(1.0, key)
        factors[f"{what}_{key}"] = conv.to_dict()["factor"] or {"note": conv.note}
        if conv.factor is None:
            warnings.append(f"{conv.note}: its {what} is not counted")
            continue
        k, v = p.kwh_per_year, conv.factor.value
        qs.append(Quantity(value=k.value * v, low=k.low * v, high=k.high * v, unit=unit))
    return _sum(qs, unit)


def _reason(kind: str, spec: ActionSpec, est: Estimate, fs: list[Finding]) -> tuple[str, str]:
    b = est.basis
    if kind == "findings":
        top = max((f for f in fs if f.waste), key=lambda f: f.waste.kwh_per_year.value)

        def clause(msg: str) -> str:
            msg = msg.strip().rstrip(".")
            return msg[0].lower() + msg[1:] if len(msg) > 1 and msg[1].islower() else msg
        return clause(top.message_fr), clause(top.message_en)
    if kind == "setpoint_rule":
        return reasons(kind, excess_k=b["excess_k"], share=b["share"])
    if kind == "cee":
        area = b.get("insulated_area_m2", b["floor_area_m2"])
        return reasons(kind, sheet=spec.cee_sheet, area=area, zone=b["climate_zone"],
                       cumac=est.cee_kwh_cumac)
    if kind == "fuel_switch":
        fuel = sum(p.kwh_per_year.value for p in est.parts if p.switch_to)
        elec = -sum(p.kwh_per_year.value for p in est.parts if p.added)
        return reasons(kind, fuel_kwh=fuel, elec_kwh=elec)
    return reasons(kind)


def _build(spec: ActionSpec, est: Estimate, kind: str, fs: list[Finding],
           ctx: Context, counted: list[Finding]) -> Recommendation | str:
    """``fs``: every finding linked to the action (its evidence); ``counted``: those whose
    waste the estimate counts (the sentence quotes the largest)."""
    s = ctx.settings
    kwh = _sum([p.kwh_per_year for p in est.parts], "kWh/an")
    if kwh.value <= 0 and kind != "contract":
        return "nothing to save on the measured consumption"
    warnings = list(est.warnings)
    factors: dict[str, Any] = {}
    eur = _convert(est, cost_eur, "EUR/an", "price", warnings, factors)
    co2 = _convert(est, co2_kg, "kgCO2e/an", "co2", warnings, factors)
    cost = s.costs[spec.code]
    if cost.per == "m2":
        area = ctx.building.floor_area_m2
        if not area:
            return "the building has no floor area for a per-m² cost"
        cq = Quantity(value=cost.value * area, low=cost.low * area, high=cost.high * area,
                      unit="EUR")
    else:
        cq = Quantity(value=cost.value, low=cost.low, high=cost.high, unit="EUR")
    cee_eur = est.cee_kwh_cumac / 1000 * s.cee_price_eur_per_mwh_cumac
    net = max(cq.value - cee_eur, s.min_cost_eur)
    life = spec.lifetime_years
    basis = dict(est.basis) | {
        "estimated_by": kind, "factors": factors, "cost": cost.model_dump(),
        "cee_price_eur_per_mwh_cumac": s.cee_price_eur_per_mwh_cumac,
        "min_cost_eur": s.min_cost_eur, "lifetime_source": spec.lifetime_source,
        "consumption_kwh": dict(ctx.annual), "heating_kwh": dict(ctx.heating or {}),
        "heating_carriers": list(ctx.heating_carriers)}
    rec = Recommendation(
        building_code=ctx.building.code, action_code=spec.code, action_type=spec.type,
        kwh_per_year=kwh, eur_per_year=eur, co2_kg_per_year=co2, cost_eur=cq,
        net_cost_eur=net, lifetime_years=life,
        payback_years=net / eur.value if eur.value > 0 else None,
        eur_saved_per_eur_spent=eur.value * life / net,
        co2_kg_saved_per_eur=co2.value * life / net,
        cee_kwh_cumac=est.cee_kwh_cumac, cee_eur=cee_eur, parts=tuple(est.parts),
        finding_keys=tuple(f.key for f in fs), basis=basis, warnings=tuple(warnings))
    fr, en = _reason(kind, spec, est, counted)
    rec = rec.model_copy(update={"basis": basis | {"reason_fr": fr, "reason_en": en}})
    fr, en = explain(rec)
    return rec.model_copy(update={"message_fr": fr, "message_en": en})


def recommend_with_skipped(
    building: Building, findings: Sequence[Finding], *, annual_kwh: Mapping[str, float],
    heating_kwh: Mapping[str, float] | None = None, settings: AdviceSettings | None = None,
) -> tuple[list[Recommendation], dict[str, str]]:
    """``recommend`` plus, per catalogue action not proposed, the reason why."""
    s = settings or AdviceSettings()
    annual = {c: float(v) for c, v in annual_kwh.items()}
    heating = None if heating_kwh is None else {c: float(v) for c, v in heating_kwh.items()}
    check_consumption(annual, heating)
    primary, linked = _calls(building, findings)
    ctx = Context(building, annual, heating, s)
    recs, skipped = [], {}
    for code, spec in CATALOGUE.items():
        if code in s.excluded_actions:
            skipped[code] = "excluded by the settings"
            continue
        fs = primary.get(code, [])
        if spec.type is ActionType.SETTING and not fs and code in linked:
            others = sorted({c for f in linked[code] for c in primary if f in primary[c]})
            skipped[code] = f"its findings' waste is counted under {', '.join(others)}"
            continue
        est, kind = _estimate(spec, fs, ctx)
        out = est if isinstance(est, str) else _build(spec, est, kind, linked.get(code, []),
                                                        ctx, fs)
        if isinstance(out, str):
            skipped[code] = out
        else:
            recs.append(out)
    return recs, skipped


def recommend(
    building: Building, findings: Sequence[Finding], *, annual_kwh: dict[str, float],
    heating_kwh: dict[str, float] | None = None, settings: AdviceSettings | None = None,
) -> list[Recommendation]:
    """Recommendations for ``building``, in catalogue order (rank them with ``rank``).

    ``annual_kwh``: last-12-month consumption per carrier [kWh/yr] ("electricity", "gas",
    "heat", ...). ``heating_kwh``: the weather-dependent part per carrier [kWh/yr] from the
    building's baseline, when known; it caps heating savings. Settings are proposed when a
    finding calls for them; works when they apply to the building (floor area, heating
    system). Raises ValueError on negative consumption, a finding of another building, or an
    unknown action code (``UnknownActionError``).
    """
    return recommend_with_skipped(building, findings, annual_kwh=annual_kwh,
                                  heating_kwh=heating_kwh, settings=settings)[0]
