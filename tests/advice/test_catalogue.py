"""The catalogue has exactly the codes detectors refer to, and settings cover them all."""

import pytest

from sobriete.advice import CATALOGUE, ActionType, AdviceSettings, UnknownActionError, get_action

SETTINGS = ["schedule_fix", "holiday_mode", "night_setback", "setpoint_19",
            "heating_season_dates", "base_load_hunt", "optimal_start", "subscribed_power_review"]
WORKS = ["bacs_class_b", "thermostatic_valves", "floor_insulation", "boiler_replacement",
         "heat_pump", "led_lighting"]


def test_exact_codes_and_types():
    assert list(CATALOGUE) == SETTINGS + WORKS
    assert {c for c, a in CATALOGUE.items() if a.type is ActionType.SETTING} == set(SETTINGS)
    assert ActionType.SETTING == "réglage" and ActionType.WORKS == "travaux"


def test_cee_sheets():
    sheets = {c: a.cee_sheet for c, a in CATALOGUE.items() if a.cee_sheet}
    assert sheets == {"bacs_class_b": "BAT-TH-116", "thermostatic_valves": "BAT-TH-104",
                      "floor_insulation": "BAT-EN-103"}


def test_every_action_is_named_in_both_languages():
    for a in CATALOGUE.values():
        assert a.name_fr and a.name_en and a.description_fr and a.description_en
        assert a.lifetime_years > 0 and a.lifetime_source


def test_unknown_code_names_the_known_ones():
    with pytest.raises(UnknownActionError, match="night_setback"):
        get_action("night_set_back")
    with pytest.raises(ValueError, match="unknown action code .solar."):
        AdviceSettings(excluded_actions=frozenset({"solar"}))


def test_every_action_needs_a_cost():
    costs = dict(AdviceSettings().costs)
    del costs["heat_pump"]
    with pytest.raises(ValueError, match="heat_pump"):
        AdviceSettings(costs=costs)


def test_every_setting_field_states_a_unit():
    for name, f in AdviceSettings.model_fields.items():
        assert "[" in (f.description or ""), f"{name} has no unit in its description"
