"""The catalogue of actions a commune can take: settings ("réglages") and works ("travaux").

Each ``ActionSpec`` says what the action is (in French and English), which findings it removes,
how long its effect lasts and how its saving is estimated. Detectors name these codes in
``Finding.actions``; an unknown code is an error, never silently ignored.

Lifetimes of works follow the conventional lifetimes of CEE standardised sheets where one
applies (*to confirm* against the sheet in force); settings get a short lifetime because a
setting drifts back without follow-up (assumption, see ``AdviceSettings``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from sobriete.domain.findings import FindingKind as K


class ActionType(StrEnum):
    SETTING = "réglage"
    WORKS = "travaux"


class SavingBasis(StrEnum):
    """How the yearly kWh saving of an action is estimated (details in docs/advice.md)."""

    FINDINGS = "findings"  # waste measured by the findings that call for the action
    SETPOINT_RULE = "setpoint_rule"  # 7 %/K of heating x measured excess over 19 °C
    CEE = "cee"  # CEE standardised amount x floor area, cumac -> annual, capped by heating
    SHARE = "share"  # a share of a measured use (heating, lighting), no CEE amount at hand
    FUEL_SWITCH = "fuel_switch"  # heating moved from a fossil boiler to a heat pump
    CONTRACT = "contract"  # saves on the electricity contract, not on kWh


class ActionSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1)
    type: ActionType
    name_fr: str
    name_en: str
    description_fr: str
    description_en: str
    addresses: tuple[K, ...] = Field(description="finding kinds the action removes")
    lifetime_years: int = Field(gt=0, description="years the saving lasts [yr]")
    lifetime_source: str
    cee_sheet: str | None = Field(None, description="CEE standardised sheet counted, if any")
    basis: SavingBasis


_SETTING_LIFE = "assumption: a setting drifts back within a few years without follow-up"


def _s(code, fr, en, dfr, den, addresses, basis=SavingBasis.FINDINGS) -> ActionSpec:
    return ActionSpec(code=code, type=ActionType.SETTING, name_fr=fr, name_en=en,
                      description_fr=dfr, description_en=den, addresses=addresses,
                      lifetime_years=3, lifetime_source=_SETTING_LIFE, basis=basis)


def _w(code, fr, en, dfr, den, addresses, life, life_src, basis, cee=None) -> ActionSpec:
    return ActionSpec(code=code, type=ActionType.WORKS, name_fr=fr, name_en=en,
                      description_fr=dfr, description_en=den, addresses=addresses,
                      lifetime_years=life, lifetime_source=life_src, cee_sheet=cee, basis=basis)


_ACTIONS = (
    _s("schedule_fix", "Caler les horaires sur l'occupation", "Align schedules with opening hours",
       "Régler les horaires de chauffage, ventilation et éclairage sur les heures d'ouverture.",
       "Set heating, ventilation and lighting schedules to the opening hours.",
       (K.OUT_OF_HOURS, K.WEEKEND_USE, K.BASE_LOAD_HIGH)),
    _s("holiday_mode", "Mode vacances", "Holiday mode",
       "Programmer le mode vacances (hors-gel) pendant les congés et fermetures.",
       "Program the holiday (frost-protection) mode for holidays and closures.",
       (K.HOLIDAY_USE, K.ZONE_CLOSED_ABOVE_8)),
    _s("night_setback", "Abaissement de nuit et de week-end", "Night and weekend set-back",
       "Abaisser la consigne la nuit et le week-end (16 °C, 8 °C au-delà de 48 h).",
       "Lower the setpoint at night and on weekends (16 °C, 8 °C beyond 48 h).",
       (K.NO_SETBACK, K.ZONE_UNOCCUPIED_ABOVE_16)),
    _s("setpoint_19", "Consigne à 19 °C", "19 °C setpoint",
       "Ramener la température des locaux occupés à 19 °C au plus (R.241-26).",
       "Bring occupied rooms down to 19 °C at most (R.241-26).",
       (K.ZONE_OCCUPIED_ABOVE_19,), SavingBasis.SETPOINT_RULE),
    _s("heating_season_dates", "Dates de saison de chauffe", "Heating season dates",
       "Démarrer et arrêter le chauffage avec la saison (et couper l'été).",
       "Start and stop heating with the season (and switch it off in summer).",
       (K.HEATING_SEASON_EARLY, K.HEATING_SEASON_LATE, K.SUMMER_HEATING)),
    _s("base_load_hunt", "Chasse aux consommations de veille", "Base-load hunt",
       "Trouver et couper ce qui consomme bâtiment fermé (veilles, ventilation, serveurs).",
       "Find and switch off what runs while the building is closed.",
       (K.BASE_LOAD_HIGH, K.BASE_LOAD_INCREASE, K.OUT_OF_HOURS, K.STEP_CHANGE, K.DRIFT)),
    _s("optimal_start", "Relance optimisée", "Optimised start/stop",
       "Activer l'optimisation des relances et des arrêts selon la météo et l'inertie.",
       "Enable optimised start/stop from the weather and the building's inertia.",
       (K.NO_SETBACK, K.SIMULTANEOUS_HEAT_COOL)),
    _s("subscribed_power_review", "Revoir la puissance souscrite", "Review subscribed power",
       "Ajuster la puissance souscrite du contrat d'électricité aux pointes réelles.",
       "Fit the electricity contract's subscribed power to the actual peaks.",
       (K.PEAK_OVER_SUBSCRIBED,), SavingBasis.CONTRACT),
    _w("bacs_class_b", "GTB classe B", "Building automation class B",
       "Installer une gestion technique du bâtiment de classe B (ISO 52120-1).",
       "Install building automation and control of class B (ISO 52120-1).",
       (K.NO_SETBACK, K.OUT_OF_HOURS, K.WEEKEND_USE, K.HOLIDAY_USE, K.SIMULTANEOUS_HEAT_COOL),
       15, "CEE BAT-TH-116 conventional lifetime (to confirm)", SavingBasis.CEE, "BAT-TH-116"),
    _w("thermostatic_valves", "Robinets thermostatiques", "Thermostatic radiator valves",
       "Poser des robinets thermostatiques sur les radiateurs.",
       "Fit thermostatic valves to the radiators.",
       (K.ZONE_OCCUPIED_ABOVE_19,),
       20, "CEE BAT-TH-104 conventional lifetime (to confirm)", SavingBasis.CEE, "BAT-TH-104"),
    _w("floor_insulation", "Isolation du plancher bas", "Floor insulation",
       "Isoler le plancher bas (sur vide sanitaire, sous-sol ou passage).",
       "Insulate the lowest floor (over a crawl space, basement or passage).",
       (), 30, "CEE BAT-EN-103 conventional lifetime (to confirm)", SavingBasis.CEE,
       "BAT-EN-103"),
    _w("boiler_replacement", "Chaudière à condensation", "Condensing boiler",
       "Remplacer la chaudière par une chaudière à condensation.",
       "Replace the boiler with a condensing boiler.",
       (), 20, "assumption: boiler service life, to confirm", SavingBasis.SHARE),
    _w("heat_pump", "Pompe à chaleur air/eau", "Air-to-water heat pump",
       "Remplacer la chaudière fioul ou gaz par une pompe à chaleur air/eau.",
       "Replace the oil or gas boiler with an air-to-water heat pump.",
       (), 17, "assumption: heat-pump service life as in residential CEE sheets, to confirm",
       SavingBasis.FUEL_SWITCH),
    _w("led_lighting", "Éclairage LED", "LED lighting",
       "Remplacer l'éclairage par des luminaires LED (avec détection de présence).",
       "Replace lighting with LED luminaires (with presence detection).",
       (K.BASE_LOAD_HIGH,), 15, "assumption: LED luminaire life at ~2,500 h/yr, to confirm",
       SavingBasis.SHARE),
)

CATALOGUE: dict[str, ActionSpec] = {a.code: a for a in _ACTIONS}

# Actions that replace one another on one building: a plan takes at most one of each group.
ALTERNATIVES: tuple[frozenset[str], ...] = (frozenset({"boiler_replacement", "heat_pump"}),)


def excluded_by(code: str, chosen: set[str] | frozenset[str]) -> bool:
    """True when an alternative of ``code`` is already in ``chosen`` (one building)."""
    return any(code in g and (g - {code}) & chosen for g in ALTERNATIVES)


class UnknownActionError(ValueError):
    """An action code that is not in the catalogue (a detector or a setting names it)."""


def get_action(code: str) -> ActionSpec:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise UnknownActionError(
            f"unknown action code {code!r}; the catalogue has: {', '.join(CATALOGUE)}"
        ) from None
