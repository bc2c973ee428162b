"""Savings with known answers: CEE cumac -> annual by hand, findings de-duplicated, caps."""

import pytest

from sobriete.advice import AdviceSettings, UnknownActionError, recommend, recommend_with_skipped
from sobriete.domain.findings import FindingKind as K
from sobriete.domain.portfolio import Building

GAS = {"gas": 200_000.0, "electricity": 60_000.0}
SPLIT = {"gas": 150_000.0}


def by_code(recs):
    return {r.action_code: r for r in recs}


def test_annuity_factor_matches_the_cee_worked_example():
    s = AdviceSettings()
    # 1,000 kWh/yr over 10 years = 8.43 MWh cumac: Σ_{t=0..9} 1.04^-t = 8.4353
    assert s.annuity_factor(10) == pytest.approx(8.4353, abs=1e-4)
    assert s.cumac_to_annual(8435.3, 10) == pytest.approx(1000.0, abs=0.1)
    # the other convention, Σ_{t=1..10} 1.04^-t = (1 - 1.04^-10) / 0.04 = 8.1109
    first = AdviceSettings(cee_first_year_discounted=True)
    assert first.annuity_factor(10) == pytest.approx(8.1109, abs=1e-4)
    assert AdviceSettings(cee_discount_rate=0).annuity_factor(7) == 7


def test_thermostatic_valves_by_hand(school):
    r = by_code(recommend(school, [], annual_kwh=GAS))["thermostatic_valves"]
    # 110 kWh cumac/m² (H1) x 0.8 (education) x 1,200 m² = 105,600 kWh cumac
    assert r.cee_kwh_cumac == pytest.approx(105_600)
    # over 20 years: Σ_{t=0..19} 1.04^-t = 14.1339 -> 7,471.4 kWh/yr
    assert r.kwh_per_year.value == pytest.approx(7471.4, abs=0.1)
    assert r.cee_eur == pytest.approx(105.6 * 8.0)  # 8 EUR/MWh cumac
    assert r.cost_eur.value == 5 * 1200 and r.net_cost_eur == pytest.approx(6000 - 844.8)
    assert r.basis["sheet"] == "BAT-TH-104" and r.basis["annuity_factor_yr"] == pytest.approx(
        14.1339, abs=1e-4)


def test_bacs_by_hand_per_use(school):
    r = by_code(recommend(school, [], annual_kwh=GAS))["bacs_class_b"]
    # education class B heating 100 + hot water 38 + lighting 21 + auxiliaries 3 = 162
    # kWh cumac/m², x 1,200 m² x 1.1 (H1) = 213,840; /11.5631 (15 years) = 18,493 kWh/yr
    assert r.cee_kwh_cumac == pytest.approx(213_840)
    assert r.kwh_per_year.value == pytest.approx(18_493.3, abs=0.5)
    parts = {(p.carrier, p.use): p.kwh_per_year.value for p in r.parts}
    # heating and hot water on the gas boiler; lighting and auxiliaries on electricity
    assert parts[("electricity", "other")] == pytest.approx(24 * 1320 / 11.5631, abs=0.5)


def test_works_are_capped_at_the_buildings_own_heating(school):
    s = AdviceSettings(works_max_share={"thermostatic_valves": 1.0})
    r = by_code(recommend(school, [], annual_kwh=GAS, heating_kwh={"gas": 5000.0},
                          settings=s))["thermostatic_valves"]
    assert r.kwh_per_year.value == r.kwh_per_year.high == 5000.0  # 7,471 uncapped
    assert r.cee_kwh_cumac == pytest.approx(105_600)  # the certificate is the sheet's amount
    assert any("capped" in c for c in r.basis["caps"])
    default = by_code(recommend(school, [], annual_kwh=GAS, heating_kwh={"gas": 5000.0}))
    assert default["thermostatic_valves"].kwh_per_year.high == pytest.approx(750.0)  # 15 %


def test_overlapping_findings_on_one_series_count_once(school, finding):
    fs = [finding(start=1, end=3, kwh=14_000), finding(start=2, end=4, kwh=10_000)]
    r = by_code(recommend(school, fs, annual_kwh=GAS))["night_setback"]
    assert r.kwh_per_year.value == 14_000  # the larger, not 24,000
    assert r.kwh_per_year.low == pytest.approx(14_000 * 0.6)
    assert set(r.finding_keys) == {f.key for f in fs}


def test_disjoint_periods_and_other_series_add_up(school, finding):
    fs = [finding(start=1, end=3, kwh=14_000), finding(start=6, end=8, kwh=10_000),
          finding(start=1, end=3, kwh=5_000, series="PCE2")]
    r = by_code(recommend(school, fs, annual_kwh=GAS))["night_setback"]
    assert r.kwh_per_year.value == 29_000


def test_findings_are_capped_at_the_pool(school, finding):
    fs = [finding(start=1, end=3, kwh=14_000), finding(start=6, end=8, kwh=10_000)]
    r = by_code(recommend(school, fs, annual_kwh=GAS, heating_kwh={"gas": 15_000.0}))
    assert r["night_setback"].kwh_per_year.value == 15_000


def test_setpoint_rule_from_the_measured_excess(school, finding):
    f = finding(K.ZONE_OCCUPIED_ABOVE_19, kwh=None, values={"excess_k": 2.0})
    r = by_code(recommend(school, [f], annual_kwh=GAS, heating_kwh=SPLIT))["setpoint_19"]
    assert r.kwh_per_year.value == pytest.approx(0.07 * 2 * 150_000)  # 21,000
    assert r.basis["excess_from"] == "findings"
    f2 = finding(K.ZONE_OCCUPIED_ABOVE_19, kwh=None, values={"temp_zone_mean_c": 21.5},
                 reference={"limit_c": 19.0})
    r2 = by_code(recommend(school, [f2], annual_kwh=GAS, heating_kwh=SPLIT))["setpoint_19"]
    assert r2.basis["excess_k"] == pytest.approx(2.5)


def test_eur_and_co2_carry_their_factors(school, finding):
    r = by_code(recommend(school, [finding(kwh=14_000)], annual_kwh=GAS))["night_setback"]
    assert r.eur_per_year.value == pytest.approx(1400.0)  # 0.10 EUR/kWh gas (to confirm)
    assert r.co2_kg_per_year.value == pytest.approx(14_000 * 0.227)
    assert r.basis["factors"]["price_gas"]["unit"] == "EUR/kWh"
    assert r.basis["factors"]["co2_gas"]["source"].startswith("ADEME")
    # 500 EUR of staff time, 3 years: 1,400 x 3 / 500
    assert r.eur_saved_per_eur_spent == pytest.approx(8.4)
    assert r.payback_years == pytest.approx(500 / 1400)


def test_heat_pump_is_net_final_energy(school):
    r = by_code(recommend(school, [], annual_kwh=GAS, heating_kwh=SPLIT))["heat_pump"]
    elec = 150_000 * 0.85 / 3.0  # 42,500 kWh/yr drawn
    assert r.kwh_per_year.value == pytest.approx(150_000 - elec)
    assert r.eur_per_year.value == pytest.approx(15_000 - elec * 0.20)
    assert r.co2_kg_per_year.value == pytest.approx(150_000 * 0.227 - elec * 0.079)


def test_applicability_and_reasons(finding):
    b = Building(code="B1", name="Gymnase", activity="gym", heating_system="electric_resistance")
    recs, skipped = recommend_with_skipped(b, [], annual_kwh={"electricity": 80_000.0})
    assert recs == []  # every works cost is per m²: no floor area, no estimate
    assert "floor area" in skipped["led_lighting"]
    assert "floor area" in skipped["bacs_class_b"]
    assert "radiators" in skipped["thermostatic_valves"]
    assert "boiler" in skipped["heat_pump"]
    assert skipped["night_setback"] == "no finding calls for it"


def test_typical_settings_when_asked(school):
    s = AdviceSettings(propose_typical_settings=True)
    r = by_code(recommend(school, [], annual_kwh=GAS, heating_kwh=SPLIT, settings=s))
    assert r["night_setback"].kwh_per_year.value == pytest.approx(0.10 * 150_000)
    assert r["night_setback"].basis["estimated_by"] == "typical"
    assert "subscribed_power_review" not in r


def test_excluded_actions(school):
    s = AdviceSettings(excluded_actions=frozenset({"heat_pump", "led_lighting"}))
    codes = {r.action_code for r in recommend(school, [], annual_kwh=GAS, settings=s)}
    assert not codes & {"heat_pump", "led_lighting"} and "bacs_class_b" in codes


def test_contract_finding_without_kwh(school, finding):
    f = finding(K.PEAK_OVER_SUBSCRIBED, kwh=None, carrier="electricity")
    r = by_code(recommend(school, [f], annual_kwh=GAS))["subscribed_power_review"]
    assert r.kwh_per_year.value == 0 and r.payback_years is None
    assert "pas de gain en kWh" in r.message_fr


@pytest.mark.parametrize("annual, heating, match", [
    ({"gas": -1.0}, None, r"annual_kwh\['gas'\] must be a finite kWh/yr >= 0"),
    ({"gas": float("nan")}, None, "finite"),
    ({"gas": 100.0}, {"gas": 200.0}, "exceeds the carrier's annual consumption"),
    ({"gas": 100.0}, {"heat": 50.0}, "without annual_kwh"),
])
def test_bad_consumption_is_a_clear_error(school, annual, heating, match):
    with pytest.raises(ValueError, match=match):
        recommend(school, [], annual_kwh=annual, heating_kwh=heating)


def test_unknown_action_in_a_finding_names_it(school, finding):
    f = finding(actions=("night_setback", "switch_it_off"))
    with pytest.raises(UnknownActionError, match=rf"finding {f.key}.*'switch_it_off'"):
        recommend(school, [f], annual_kwh=GAS)


def test_finding_of_another_building(school, finding):
    with pytest.raises(ValueError, match="is for building 'B2'"):
        recommend(school, [finding(building="B2")], annual_kwh=GAS)


def test_a_waste_counts_once_under_its_primary_setting(school, finding):
    # detectors list the most direct remedy first; the others only link the finding
    f = finding(K.OUT_OF_HOURS, kwh=8000, actions=("schedule_fix", "night_setback",
                                                   "bacs_class_b"))
    g = finding(K.NO_SETBACK, kwh=5000, actions=("night_setback",), start=6, end=8)
    recs, skipped = recommend_with_skipped(school, [f, g], annual_kwh=GAS)
    r = by_code(recs)
    assert r["schedule_fix"].kwh_per_year.value == 8000
    assert r["night_setback"].kwh_per_year.value == 5000  # not 13,000
    assert set(r["night_setback"].finding_keys) == {f.key, g.key}
    assert f.key in r["bacs_class_b"].finding_keys
    only_secondary = finding(K.OUT_OF_HOURS, kwh=8000, actions=("schedule_fix",
                                                                "base_load_hunt"))
    _, skipped = recommend_with_skipped(school, [only_secondary], annual_kwh=GAS)
    assert skipped["base_load_hunt"] == "its findings' waste is counted under schedule_fix"
