"""Ranking order and the budgeted portfolio plan."""

import pytest

from sobriete.advice import portfolio_priorities, rank


def test_rank_by_eur_and_by_co2(rec):
    a = rec("night_setback", cost=500, eur=1000, co2=10, life=3)  # 6 EUR/EUR, 0.06 kg/EUR
    b = rec("bacs_class_b", cost=10_000, eur=2000, co2=5000, life=15)  # 3, 7.5
    c = rec("led_lighting", cost=1000, eur=400, co2=20, life=15)  # 6, 0.3
    assert [r.action_code for r in rank([b, c, a])] == ["night_setback", "led_lighting",
                                                        "bacs_class_b"]  # tie: payback
    assert [r.action_code for r in rank([a, b, c], by="co2_per_eur")] == [
        "bacs_class_b", "led_lighting", "night_setback"]
    with pytest.raises(ValueError, match="by must be"):
        rank([a], by="kwh")


def test_budget_is_greedy_by_ratio(rec):
    recs = [rec("night_setback", cost=500, eur=1000, life=3, building="A"),  # 6
            rec("bacs_class_b", cost=10_000, eur=2500, life=15, building="A"),  # 3.75
            rec("led_lighting", cost=1000, eur=400, life=15, building="B")]  # 6
    plan = portfolio_priorities(recs, budget_eur=2000)
    assert [(r.building_code, r.action_code) for r in plan.selected] == [
        ("A", "night_setback"), ("B", "led_lighting")]
    assert plan.spent_eur == 1500 and plan.eur_per_year == 1400
    assert len(plan.not_selected) == 1
    everything = portfolio_priorities(recs)
    assert len(everything.selected) == 3 and everything.budget_eur is None


def test_single_best_guard(rec):
    # greedy takes the small 10-EUR/EUR action and can no longer afford the big one
    small = rec("night_setback", cost=100, eur=1000, life=1)  # 10, lifetime 1,000 EUR
    big = rec("bacs_class_b", cost=1000, eur=600, life=15)  # 9, lifetime 9,000 EUR
    plan = portfolio_priorities([small, big], budget_eur=1000)
    assert [r.action_code for r in plan.selected] == ["bacs_class_b"]
    assert "single most valuable" in plan.method


def test_alternatives_exclude_each_other_on_one_building(rec):
    recs = [rec("boiler_replacement", cost=1000, eur=500), rec("heat_pump", cost=2000, eur=600),
            rec("heat_pump", cost=2000, eur=600, building="B2")]
    plan = portfolio_priorities(recs)
    assert {(r.building_code, r.action_code) for r in plan.selected} == {
        ("B1", "boiler_replacement"), ("B2", "heat_pump")}


def test_nothing_saved_is_never_funded_and_budget_must_be_positive(rec):
    assert portfolio_priorities([rec(eur=0, co2=0)]).selected == ()
    with pytest.raises(ValueError, match="budget_eur"):
        portfolio_priorities([], budget_eur=-1)
