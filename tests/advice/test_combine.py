"""Combined savings: multiplicative on a pool, fuel switches last, never above consumption."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.advice import combine

ANNUAL = {"gas": 100_000.0, "electricity": 50_000.0}
SPLIT = {"gas": 80_000.0, "electricity": 10_000.0}


def test_same_use_combines_multiplicatively(rec):
    a = rec("night_setback", parts=[("gas", "heating", 16_000.0)])  # 20 % of 80,000
    b = rec("setpoint_19", parts=[("gas", "heating", 40_000.0)])  # 50 %
    c = combine([a, b], ANNUAL, SPLIT)
    assert c.total.value == pytest.approx(80_000 * (1 - 0.8 * 0.5))  # 48,000, not 56,000


def test_different_pools_add(rec):
    a = rec("night_setback", parts=[("gas", "heating", 16_000.0)])
    b = rec("led_lighting", parts=[("electricity", "other", 4_000.0)])
    assert combine([a, b], ANNUAL, SPLIT).total.value == pytest.approx(20_000)


def test_unknown_split_is_one_pool(rec):
    a = rec("night_setback", parts=[("gas", "heating", 60_000.0)])
    b = rec("base_load_hunt", parts=[("gas", "other", 60_000.0)])
    c = combine([a, b], ANNUAL)  # 0.6 and 0.6 of 100,000: 1 - 0.4 x 0.4
    assert c.by_carrier["gas"].value == pytest.approx(84_000)


def test_fuel_switch_acts_on_what_efficiency_left(rec):
    eff = rec("night_setback", parts=[("gas", "heating", 16_000.0)])
    hp = rec("heat_pump", parts=[("gas", "heating", 80_000.0, 0.25)])
    c = combine([hp, eff], ANNUAL, SPLIT)
    assert c.by_carrier["gas"].value == pytest.approx(80_000)
    assert c.by_carrier["electricity"].value == pytest.approx(-64_000 * 0.25)
    assert c.total.value == pytest.approx(80_000 - 16_000)


def test_one_building_only(rec):
    with pytest.raises(ValueError, match="one building"):
        combine([rec(building="B1"), rec(building="B2")], ANNUAL)


CODES = ["schedule_fix", "night_setback", "setpoint_19", "bacs_class_b", "led_lighting",
         "thermostatic_valves", "heat_pump"]
part = st.tuples(st.sampled_from(["gas", "electricity", "heat"]),
                 st.sampled_from(["heating", "other"]),
                 st.floats(0, 1), st.one_of(st.none(), st.floats(0, 1)))


def _recs(rec, spec, annual, split):
    out = []
    for i, (carrier, use, share, switch) in enumerate(spec):
        pool = annual[carrier] if carrier not in split else (
            split[carrier] if use == "heating" else annual[carrier] - split[carrier])
        p = (carrier, use, share * pool) + (() if switch is None or carrier == "electricity"
                                            else (switch,))
        out.append(rec(CODES[i % len(CODES)], parts=[p]))
    return out


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # rec is a pure factory
@given(spec=st.lists(part, min_size=0, max_size=6), extra=part,
       gas=st.floats(0, 1e6), elec=st.floats(0, 1e6), heat=st.floats(0, 1e6),
       hshare=st.floats(0, 1), known=st.booleans())
def test_adding_an_action_never_reduces_the_saving(rec, spec, extra, gas, elec, heat, hshare,
                                                   known):
    annual = {"gas": gas, "electricity": elec, "heat": heat}
    split = {"gas": gas * hshare, "heat": heat * hshare} if known else {}
    before = _recs(rec, spec, annual, split)
    after = _recs(rec, spec + [extra], annual, split)
    c0 = combine(before, annual, split or None).total
    c1 = combine(after, annual, split or None).total
    assert c1.value >= c0.value - 1e-6 * (1 + sum(annual.values()))
    assert c1.value <= sum(annual.values()) * (1 + 1e-9) + 1e-9
    assert c1.low <= c1.value <= c1.high


@settings(max_examples=60, deadline=None)
@given(gas=st.floats(1, 1e6), elec=st.floats(1, 1e6), hshare=st.floats(0, 1),
       known=st.booleans(), area=st.floats(100, 20_000),
       system=st.sampled_from(["gas_boiler", "district_heat", "unknown", "heat_pump"]))
def test_real_estimates_combine_within_consumption(gas, elec, hshare, known, area, system):
    from sobriete.advice import AdviceSettings, recommend
    from sobriete.domain.portfolio import Building
    b = Building(code="B1", name="x", activity="office", floor_area_m2=area,
                 heating_system=system)
    carrier = {"district_heat": "heat", "heat_pump": "electricity"}.get(system, "gas")
    annual = {carrier: gas, "electricity": elec} if carrier != "electricity" else {
        "electricity": gas + elec}
    split = {carrier: annual[carrier] * hshare} if known else None
    recs = recommend(b, [], annual_kwh=annual, heating_kwh=split,
                     settings=AdviceSettings(propose_typical_settings=True))
    prev = 0.0
    for i in range(1, len(recs) + 1):
        total = combine(recs[:i], annual, split).total.value
        assert total >= prev - 1e-6 * sum(annual.values())
        assert total <= sum(annual.values()) * (1 + 1e-9)
        prev = total
