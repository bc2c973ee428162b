"""Estimators of works: CEE standardised amounts, shares of a use, fuel switch. Units: m²,
kWh cumac, kWh/yr."""

from __future__ import annotations

from sobriete.advice.catalogue import ActionSpec
from sobriete.advice.estimate import FOSSIL, Context, Estimate, _part, _q, cee_annual
from sobriete.domain.findings import Quantity
from sobriete.domain.portfolio import HeatingSystem

# BAT-TH-116 uses -> the pool they save on: heating on the heating carriers' weather part,
# hot water on their other part, the electric uses on electricity's other part.
_BACS_POOL = {"heating": "heating", "hot_water": "other", "cooling": "electricity",
              "lighting": "electricity", "auxiliaries": "electricity"}


def _area(ctx: Context) -> float | str:
    a = ctx.building.floor_area_m2
    return a if a else "the building has no floor area: CEE amounts are per m²"


def _spread(ctx: Context, use: str, kwh: float, into: dict[tuple[str, str], float]) -> None:
    """Share ``kwh`` between the heating carriers' ``use`` pools in proportion to their size."""
    sizes = {c: ctx.pool(c, use) for c in ctx.heating_carriers}
    total = sum(sizes.values())
    for c, size in sizes.items():
        if total > 0:
            into[(c, use)] = into.get((c, use), 0.0) + kwh * size / total


def bacs_class_b(spec: ActionSpec, ctx: Context) -> Estimate | str:
    area = _area(ctx)
    if isinstance(area, str):
        return area
    s = ctx.settings
    sector = s.sector(ctx.building.activity.value)
    amounts = s.bat_th_116_class_b[sector]
    zf = s.bat_th_116_zone_factor[ctx.building.climate_zone]
    cumac: dict[tuple[str, str], float] = {}
    per_use = {}
    for use in s.bacs_uses:
        kc = amounts[use] * area * zf
        per_use[use] = kc
        pool = _BACS_POOL[use]
        if pool == "electricity":
            cumac[("electricity", "other")] = cumac.get(("electricity", "other"), 0.0) + kc
        else:
            _spread(ctx, pool, kc, cumac)
    return cee_annual(ctx, spec, cumac, {
        "sheet": "BAT-TH-116", "sector": sector, "climate_zone": ctx.building.climate_zone,
        "zone_factor": zf, "floor_area_m2": area, "kwh_cumac_m2": {u: amounts[u]
                                                                   for u in s.bacs_uses},
        "kwh_cumac_per_use": per_use})


def _heating_sheet(spec: ActionSpec, ctx: Context, area: float,
                   kwh_cumac_m2: dict[str, float], sector_factor: dict[str, float],
                   area_basis: dict[str, float]) -> Estimate | str:
    """A CEE sheet of the form amount[climate zone] x sector factor x area, saved on heating."""
    sector = ctx.settings.sector(ctx.building.activity.value)
    amount = kwh_cumac_m2[ctx.building.climate_zone]
    sf = sector_factor[sector]
    cumac: dict[tuple[str, str], float] = {}
    _spread(ctx, "heating", amount * sf * area, cumac)
    return cee_annual(ctx, spec, cumac, {
        "sheet": spec.cee_sheet, "sector": sector, "climate_zone": ctx.building.climate_zone,
        "kwh_cumac_m2": amount, "sector_factor": sf, **area_basis})


def thermostatic_valves(spec: ActionSpec, ctx: Context) -> Estimate | str:
    if ctx.building.heating_system is HeatingSystem.ELECTRIC_RESISTANCE:
        return "electric resistance heating has no water radiators to fit valves to"
    area = _area(ctx)
    if isinstance(area, str):
        return area
    s = ctx.settings
    return _heating_sheet(spec, ctx, area, s.bat_th_104_kwh_cumac_m2,
                          s.bat_th_104_sector_factor, {"floor_area_m2": area})


def floor_insulation(spec: ActionSpec, ctx: Context) -> Estimate | str:
    area = _area(ctx)
    if isinstance(area, str):
        return area
    s = ctx.settings
    insulated = area * s.floor_insulation_area_share
    return _heating_sheet(spec, ctx, insulated, s.bat_en_103_kwh_cumac_m2,
                          s.bat_en_103_sector_factor,
                          {"insulated_area_m2": insulated, "floor_area_m2": area})


def _fossil(ctx: Context) -> tuple[str, ...]:
    return tuple(c for c in ctx.heating_carriers if c in FOSSIL)


def boiler_replacement(spec: ActionSpec, ctx: Context) -> Estimate | str:
    fuels = _fossil(ctx)
    if not fuels:
        return "no gas or oil boiler to replace"
    s = ctx.settings
    parts = []
    for c in fuels:
        # hot water gains too, but only when the split is known: otherwise both pools are the
        # whole carrier and counting both would double it
        uses = ("heating", "other") if ctx.split_known(c) else ("heating",)
        for u in uses:
            size = ctx.pool(c, u)
            if size > 0:
                parts.append(_part(c, u, _q(s.boiler_replacement_share * size,
                                            s.share_rel_halfwidth, size)))
    if not parts:
        return "no gas or oil consumption measured"
    return Estimate(parts, {"rule": "share of the boiler's fuel (heating and hot water)",
                            "share": s.boiler_replacement_share})


def heat_pump(spec: ActionSpec, ctx: Context) -> Estimate | str:
    fuels = _fossil(ctx)
    if not fuels:
        return "no gas or oil boiler to replace with a heat pump"
    s = ctx.settings
    ratio = s.boiler_efficiency / s.heat_pump_scop  # kWh electricity per kWh fuel removed
    parts = []
    for c in fuels:
        size = ctx.pool(c, "heating")
        if size <= 0:
            continue
        fuel = s.heat_pump_heating_share * size
        parts.append(_part(c, "heating", Quantity(value=fuel, low=fuel, high=fuel,
                                                  unit="kWh/an"),
                           switch_to="electricity", switch_ratio=ratio))
        e, h = fuel * ratio, s.share_rel_halfwidth
        parts.append(_part("electricity", "heating", Quantity(
            value=-e, low=-e * (1 + h), high=-e * (1 - h), unit="kWh/an"), added=True))
    if not parts:
        return "no gas or oil heating consumption measured"
    return Estimate(parts, {"rule": "fuel removed x (1 - efficiency / SCOP) net final energy",
                            "boiler_efficiency": s.boiler_efficiency,
                            "scop": s.heat_pump_scop, "kwh_elec_per_kwh_fuel": ratio,
                            "heating_share": s.heat_pump_heating_share},
                    warnings=["the electricity the heat pump draws is counted as a negative "
                              "saving on electricity"])


def led_lighting(spec: ActionSpec, ctx: Context) -> Estimate | str:
    size = ctx.pool("electricity", "other")
    if size <= 0:
        return "no electricity consumption measured"
    s = ctx.settings
    share = s.lighting_share_of_electricity * s.led_saving_share
    return Estimate([_part("electricity", "other", _q(share * size, s.share_rel_halfwidth,
                                                      size))],
                    {"rule": "electricity (non-heating) x lighting share x LED saving",
                     "lighting_share": s.lighting_share_of_electricity,
                     "led_saving_share": s.led_saving_share})


WORKS = {"bacs_class_b": bacs_class_b, "thermostatic_valves": thermostatic_valves,
         "floor_insulation": floor_insulation, "boiler_replacement": boiler_replacement,
         "heat_pump": heat_pump, "led_lighting": led_lighting}
