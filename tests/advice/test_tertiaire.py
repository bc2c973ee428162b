"""Décret tertiaire gap and the cheapest closing set on a case with a known optimum."""

import pytest

from sobriete.advice import cheapest_path, tertiaire_gap

ANNUAL = {"gas": 100_000.0}
SPLIT = {"gas": 100_000.0}


@pytest.fixture
def actions(rec):
    # shares of the 100,000 kWh/yr heating: A 30 %, B 25 %, C 10 %, D 50 %
    return [rec("bacs_class_b", parts=[("gas", "heating", 30_000.0)], cost=1000),
            rec("night_setback", parts=[("gas", "heating", 25_000.0)], cost=400),
            rec("schedule_fix", parts=[("gas", "heating", 10_000.0)], cost=100),
            rec("floor_insulation", parts=[("gas", "heating", 50_000.0)], cost=5000)]


def test_gap_and_cheapest_set(school, actions):
    res = tertiaire_gap(school, reference_kwh=200_000, current_kwh=160_000,
                        recommendations=actions, annual_kwh=ANNUAL, heating_kwh=SPLIT)
    assert res.subject and res.targets_kwh == {2030: 120_000, 2040: 100_000, 2050: 80_000}
    assert res.gap_kwh == 40_000
    # A + C would add to 40,000 but combine to 37,000; the optimum is A + B: 47,500 for 1,400
    assert set(res.chosen) == {"bacs_class_b", "night_setback"}
    assert res.chosen_cost_eur == 1400 and res.chosen_kwh_per_year == pytest.approx(47_500)
    assert res.closes_gap and res.remaining_gap_kwh == 0
    assert "40\u202f000 kWh/an" in res.message_fr and "1\u202f400 € nets" in res.message_fr
    assert "EUR 1,400 net" in res.message_en


def test_cannot_close(school, actions):
    res = tertiaire_gap(school, reference_kwh=200_000, current_kwh=210_000,
                        recommendations=actions, annual_kwh=ANNUAL, heating_kwh=SPLIT)
    assert res.gap_kwh == 90_000 and not res.closes_gap
    # all four: 1 - 0.7 x 0.75 x 0.9 x 0.5 = 0.76375
    assert res.chosen_kwh_per_year == pytest.approx(76_375)
    assert res.remaining_gap_kwh == pytest.approx(13_625)
    assert "il reste 14\u202f000 kWh/an" in res.message_fr


def test_already_met_and_other_years(school, actions):
    res = tertiaire_gap(school, reference_kwh=200_000, current_kwh=110_000,
                        recommendations=actions, annual_kwh=ANNUAL, year=2030)
    assert res.gap_kwh == 0 and res.chosen == () and res.closes_gap
    assert "déjà atteint" in res.message_fr
    res = tertiaire_gap(school, reference_kwh=200_000, current_kwh=110_000,
                        recommendations=actions, annual_kwh=ANNUAL, heating_kwh=SPLIT,
                        year=2040)
    assert res.gap_kwh == 10_000 and res.chosen == ("schedule_fix",)
    with pytest.raises(ValueError, match="year must be one of"):
        tertiaire_gap(school, reference_kwh=1, current_kwh=1, recommendations=[],
                      annual_kwh=ANNUAL, year=2035)


def test_prudent_uses_low_ends_and_bad_input(school, rec):
    with pytest.raises(ValueError, match="reference_kwh"):
        tertiaire_gap(school, reference_kwh=-5, current_kwh=1, recommendations=[],
                      annual_kwh=ANNUAL)
    with pytest.raises(ValueError, match="building 'B1'"):
        tertiaire_gap(school, reference_kwh=5, current_kwh=1, recommendations=[
            rec(building="B9")], annual_kwh=ANNUAL)


def test_exact_search_matches_brute_force(rec):
    import itertools

    from sobriete.advice import combine
    costs = [300, 700, 200, 900, 450, 1200, 80]
    shares = [0.12, 0.3, 0.05, 0.4, 0.2, 0.45, 0.02]
    codes = ["schedule_fix", "night_setback", "holiday_mode", "bacs_class_b",
             "setpoint_19", "floor_insulation", "optimal_start"]
    recs = [rec(c, parts=[("gas", "heating", s * 100_000)], cost=k)
            for c, s, k in zip(codes, shares, costs, strict=True)]
    for gap in (10_000, 35_000, 55_000, 70_000):
        chosen, saved, ok, _ = cheapest_path(recs, gap, ANNUAL, SPLIT)
        best = min((sum(r.net_cost_eur for r in sub) for n in range(1, 8)
                    for sub in itertools.combinations(recs, n)
                    if combine(sub, ANNUAL, SPLIT).total.value >= gap), default=None)
        assert ok and sum(r.net_cost_eur for r in chosen) == best
