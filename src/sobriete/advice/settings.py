"""Every number the advice layer uses, with its unit and its source, in one frozen model.

Values from docs FRANCE.md (CEE amounts, 4 % discounting, 7 %/K, Décret tertiaire targets) are
marked with their sheet; everything else is an *assumption* marked ``to confirm`` in its
description: a configurable default, not a fact. docs/advice.md lists them (a test checks it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sobriete.advice.catalogue import CATALOGUE, get_action

TO_CONFIRM = "to confirm"


class CostSpec(BaseModel):
    """Cost of one action: fixed EUR, or EUR per m² of the building's floor area."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per: Literal["m2", "fixed"]
    value: float = Field(ge=0, description="EUR per m² of floor area, or EUR [EUR]")
    low: float = Field(ge=0, description="low end of the usual range, same unit")
    high: float = Field(ge=0, description="high end of the usual range, same unit")
    source: str = "assumption: order of magnitude of public tenders, to confirm"
    to_confirm: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> CostSpec:
        if not self.low <= self.value <= self.high:
            raise ValueError(f"cost range [{self.low}, {self.high}] must contain {self.value}")
        return self


def _fixed(v: float, lo: float, hi: float, src: str) -> CostSpec:
    return CostSpec(per="fixed", value=v, low=lo, high=hi, source=f"assumption: {src}")


def _m2(v: float, lo: float, hi: float, src: str) -> CostSpec:
    return CostSpec(per="m2", value=v, low=lo, high=hi, source=f"assumption: {src}")


DEFAULT_COSTS: dict[str, CostSpec] = {
    "schedule_fix": _fixed(500, 200, 1000, "half a day of a technician on the regulator"),
    "holiday_mode": _fixed(300, 100, 600, "calendar entry in the regulator, staff time"),
    "night_setback": _fixed(500, 200, 1000, "reprogramming the regulator, staff time"),
    "setpoint_19": _fixed(300, 100, 600, "setpoint change and a check round"),
    "heating_season_dates": _fixed(200, 100, 500, "an order to the maintenance contractor"),
    "base_load_hunt": _fixed(800, 400, 1500, "a night walk-through and a few switches"),
    "optimal_start": _fixed(1500, 500, 3000, "regulator option and contractor visit"),
    "subscribed_power_review": _fixed(200, 100, 400, "a contract amendment, staff time"),
    "bacs_class_b": _m2(15, 8, 25, "BACS class B retrofit, EUR per m² of floor area"),
    "thermostatic_valves": _m2(5, 3, 8, "~80 EUR per valve fitted, one radiator per ~15 m²"),
    "floor_insulation": _m2(20, 12, 35, "40 EUR per m² insulated over half the floor area"),
    "boiler_replacement": _m2(20, 12, 35, "condensing boiler and works, per m² heated"),
    "heat_pump": _m2(80, 50, 120, "air/water heat pump ~1,300 EUR/kW at ~60 W/m²"),
    "led_lighting": _m2(25, 15, 40, "LED luminaires with presence detection"),
}

_BAT_TH_116_CLASS_B = {
    "offices": {"heating": 240.0, "cooling": 97.0, "hot_water": 7.0, "lighting": 90.0,
                "auxiliaries": 8.0},
    "education": {"heating": 100.0, "cooling": 23.0, "hot_water": 38.0, "lighting": 21.0,
                  "auxiliaries": 3.0},
}

_SECTOR_BY_ACTIVITY = {
    "school": "education", "secondary_school": "education", "nursery": "education",
    "university": "education", "office": "offices", "town_hall": "offices",
    "library": "offices", "gym": "education", "pool": "education", "culture": "education",
    "health": "education", "other": "education",
}

_TYPICAL_SHARES = {
    "schedule_fix": {"heating": 0.05, "other": 0.05},
    "holiday_mode": {"heating": 0.03, "other": 0.03},
    "night_setback": {"heating": 0.10},
    "heating_season_dates": {"heating": 0.03},
    "base_load_hunt": {"electricity_other": 0.05},
    "optimal_start": {"heating": 0.05},
}

_WORKS_MAX_SHARE = {"bacs_class_b": 0.30, "thermostatic_valves": 0.15,
                    "floor_insulation": 0.10}

TypicalUse = Literal["heating", "other", "electricity_other"]


class AdviceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    costs: dict[str, CostSpec] = Field(
        default_factory=lambda: dict(DEFAULT_COSTS),
        description="cost per action [EUR per m² or EUR]; assumptions, to confirm: set the "
                    "commune's own prices")
    min_cost_eur: float = Field(
        100.0, gt=0, description="floor of an action's net cost [EUR] (staff time), so ratios "
                                 "stay finite; assumption, to confirm")
    cee_discount_rate: float = Field(
        0.04, ge=0, lt=1, description="CEE discount rate [1/yr] for cumac <-> annual (FRANCE.md)")
    cee_first_year_discounted: bool = Field(
        False, description="[-] False: cumac = annual x Σ_{t=0..L-1} 1.04^-t, the CEE convention "
                           "(1,000 kWh/yr over 10 yr = 8.43 MWh cumac, aprime.net example, to "
                           "confirm against the arrêté); True: Σ_{t=1..L} (4 % fewer cumac)")
    cee_price_eur_per_mwh_cumac: float = Field(
        8.0, ge=0, description="market price of CEE [EUR/MWh cumac]; 2024 order of magnitude "
                               "(secondary sources), to confirm")
    cee_rel_halfwidth: float = Field(
        0.3, ge=0, lt=1, description="relative half-width [1] of the interval around a CEE "
                                     "standardised saving; assumption, to confirm")
    bat_th_116_class_b: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in _BAT_TH_116_CLASS_B.items()},
        description="BAT-TH-116 class B amounts [kWh cumac/m²] per sector and use (FRANCE.md)")
    bat_th_116_zone_factor: dict[str, float] = Field(
        default_factory=lambda: {"H1": 1.1, "H2": 0.9, "H3": 0.6},
        description="BAT-TH-116 climate-zone factor [1] (FRANCE.md)")
    bacs_uses: tuple[str, ...] = Field(
        ("heating", "hot_water", "lighting", "auxiliaries"),
        description="uses counted for BAT-TH-116 [-]; cooling left out because most communal "
                    "buildings have none (assumption, to confirm per building)")
    bat_th_104_kwh_cumac_m2: dict[str, float] = Field(
        default_factory=lambda: {"H1": 110.0, "H2": 94.0, "H3": 63.0},
        description="BAT-TH-104 amount [kWh cumac/m² heated] per climate zone (FRANCE.md, "
                    "secondary source, to confirm)")
    bat_th_104_sector_factor: dict[str, float] = Field(
        default_factory=lambda: {"offices": 1.2, "education": 0.8},
        description="BAT-TH-104 sector factor [1] (FRANCE.md, secondary source, to confirm)")
    bat_en_103_kwh_cumac_m2: dict[str, float] = Field(
        default_factory=lambda: {"H1": 5200.0, "H2": 4200.0, "H3": 2800.0},
        description="BAT-EN-103 amount [kWh cumac/m² insulated] per climate zone (FRANCE.md, "
                    "secondary source, to confirm)")
    bat_en_103_sector_factor: dict[str, float] = Field(
        default_factory=lambda: {"offices": 1.2, "education": 0.8},
        description="BAT-EN-103 sector factor [1]; FRANCE.md gives none: assumption, the "
                    "BAT-TH-104 factors, to confirm")
    floor_insulation_area_share: float = Field(
        0.5, gt=0, le=1, description="insulated floor area per m² of floor area [1] (a "
                                     "two-storey building); assumption, to confirm")
    cee_sector_by_activity: dict[str, str] = Field(
        default_factory=lambda: dict(_SECTOR_BY_ACTIVITY),
        description="CEE sector [-] per building activity; FRANCE.md has only offices and "
                    "education amounts: other activities take education (the lower heating "
                    "amounts); assumption, to confirm")
    works_max_share: dict[str, float] = Field(
        default_factory=lambda: dict(_WORKS_MAX_SHARE),
        description="most a CEE-estimated action saves of the use it acts on [1], on top of the "
                    "cap at the building's own use; assumption, to confirm")
    heating_share_per_k: float = Field(
        0.07, gt=0, lt=1, description="heating saved per kelvin less [1/K] (FRANCE.md rule of "
                                      "thumb)")
    heating_share_per_k_rel_halfwidth: float = Field(
        0.3, ge=0, lt=1, description="relative half-width [1] around the 7 %/K rule; "
                                     "assumption, to confirm")
    setpoint_default_excess_k: float = Field(
        1.0, gt=0, description="excess over 19 °C [K] assumed when a finding gives none; "
                               "assumption, to confirm")
    setpoint_max_share: float = Field(
        0.35, gt=0, le=1, description="most of the heating the 19 °C setpoint saves [1] "
                                      "(5 K at 7 %/K); assumption, to confirm")
    propose_typical_settings: bool = Field(
        False, description="also propose settings no finding calls for, at typical shares [-]: "
                           "for buildings with no diagnosis (no metered data)")
    typical_shares: dict[str, dict[TypicalUse, float]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in _TYPICAL_SHARES.items()},
        description="saving of a setting without a measured waste [1 of the use]: heating, "
                    "other (non-weather part of every carrier) or electricity_other; "
                    "assumption (ADEME-style orders of magnitude), to confirm")
    typical_rel_halfwidth: float = Field(
        0.5, ge=0, lt=1, description="relative half-width [1] around a typical share; "
                                     "assumption, to confirm")
    boiler_replacement_share: float = Field(
        0.15, gt=0, lt=1, description="fossil heating and hot water saved by a condensing "
                                      "boiler [1]; assumption, to confirm")
    boiler_efficiency: float = Field(
        0.85, gt=0, le=1, description="seasonal efficiency of the replaced boiler [1] (heat "
                                        "out per kWh of fuel); assumption, to confirm")
    heat_pump_scop: float = Field(
        3.0, gt=1, description="seasonal COP of an air/water heat pump [1]; assumption, to "
                               "confirm")
    heat_pump_heating_share: float = Field(
        1.0, gt=0, le=1, description="share of the space-heating use the heat pump takes [1]; "
                                     "hot water stays on the boiler; assumption, to confirm")
    lighting_share_of_electricity: float = Field(
        0.25, gt=0, lt=1, description="lighting in the non-heating electricity [1]; "
                                      "assumption, to confirm")
    led_saving_share: float = Field(
        0.5, gt=0, lt=1, description="lighting energy saved by LED with detection [1]; "
                                     "assumption, to confirm")
    share_rel_halfwidth: float = Field(
        0.3, ge=0, lt=1, description="relative half-width [1] around SHARE and FUEL_SWITCH "
                                     "estimates; assumption, to confirm")
    excluded_actions: frozenset[str] = Field(
        frozenset(), description="action codes not to propose [-] (already done, not wanted)")
    tertiaire_min_area_m2: float = Field(
        1000.0, gt=0, description="Décret tertiaire threshold [m²] (FRANCE.md)")
    tertiaire_targets: dict[int, float] = Field(
        default_factory=lambda: {2030: 0.40, 2040: 0.50, 2050: 0.60},
        description="Décret tertiaire reduction against the reference year [1] (FRANCE.md)")
    tertiaire_max_exact: int = Field(
        24, ge=1, le=40, description="most actions [-] searched exactly for the cheapest set")

    @field_validator("costs", "typical_shares", "works_max_share")
    @classmethod
    def _known_codes(cls, v: dict) -> dict:
        for code in v:
            get_action(code)  # raises UnknownActionError naming the known codes
        return v

    @field_validator("excluded_actions")
    @classmethod
    def _known_excluded(cls, v: frozenset[str]) -> frozenset[str]:
        for code in v:
            get_action(code)
        return v

    @model_validator(mode="after")
    def _every_action_costed(self) -> AdviceSettings:
        missing = sorted(set(CATALOGUE) - set(self.costs))
        if missing:
            raise ValueError(f"costs has no entry for {missing}: every action needs a cost")
        return self

    def annuity_factor(self, lifetime_years: int) -> float:
        """Σ of the discount factors [yr]: kWh cumac = annual kWh x this factor."""
        a = 1.0 + self.cee_discount_rate
        first = 1 if self.cee_first_year_discounted else 0
        return sum(a ** -t for t in range(first, first + lifetime_years))

    def cumac_to_annual(self, kwh_cumac: float, lifetime_years: int) -> float:
        """kWh/yr of a saving worth ``kwh_cumac`` over ``lifetime_years`` [kWh/yr]."""
        return kwh_cumac / self.annuity_factor(lifetime_years)

    def sector(self, activity: str) -> str:
        return self.cee_sector_by_activity.get(activity, "education")
