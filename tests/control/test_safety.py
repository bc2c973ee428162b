"""The safety envelope: overrides win, bad data falls back to the schedule in the same step,
no plan crosses the bounds, the ramp or the shed limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sobriete.control.interface import (
    STEP_S,
    Decision,
    Mode,
    Observation,
    ZoneDecision,
    ZoneObservation,
)
from sobriete.control.safety import (
    Dispatch,
    Rule,
    SafetyEnvelope,
    SafetySettings,
    SafetyState,
    dispatch_status,
    dispatchable,
    fallback_decision,
    schedule_setpoint_c,
)
from sobriete.domain.portfolio import ActivityCategory, Building, Zone

STEP = timedelta(seconds=STEP_S)
# Monday 15 January 2024, 09:00 UTC = 10:00 in Paris: a school day, in term time (zone C).
MONDAY_9 = datetime(2024, 1, 15, 9, tzinfo=UTC)
SATURDAY_NOON = datetime(2024, 1, 13, 12, tzinfo=UTC)  # Friday 17:00 -> Monday: 62 h closed
MONDAY_EVENING = datetime(2024, 1, 15, 20, tzinfo=UTC)  # closed until Tuesday 07:00 UTC

SCHOOL = Building(code="B1", name="École Jules Ferry", activity=ActivityCategory.SCHOOL,
                  zones=(Zone(code="z1"), Zone(code="z2")))
SETTINGS = SafetySettings(max_change_k_per_step=1.0, max_shed_min=60, min_recovery_min=30)


def envelope(s: SafetySettings = SETTINGS) -> SafetyEnvelope:
    return SafetyEnvelope(SCHOOL, s)


def plan(t: datetime, **setpoints: float) -> Decision:
    return Decision(time_utc=t, building_code="B1", reason_fr="plan", reason_en="plan",
                    zones=tuple(ZoneDecision(zone_code=z, setpoint_c=v)
                                for z, v in setpoints.items()))


def observe(t: datetime, temp: float | None = 19.0, **override: float) -> Observation:
    return Observation(time_utc=t, building_code="B1", temp_out_c=5.0, zones=tuple(
        ZoneObservation(zone_code=z, temp_zone_c=temp, manual_override_c=override.get(z))
        for z in ("z1", "z2")))


def setpoints(d: Decision) -> dict[str, float | None]:
    return {z.zone_code: z.setpoint_c for z in d.zones}


def rules(interventions) -> set[Rule]:
    return {i.rule for i in interventions}


def test_schedule_follows_the_calendar_and_r241():
    assert schedule_setpoint_c(SCHOOL, MONDAY_9) == (19.0, "occupied")
    assert schedule_setpoint_c(SCHOOL, MONDAY_EVENING) == (16.0, "unoccupied")
    assert schedule_setpoint_c(SCHOOL, SATURDAY_NOON) == (8.0, "closed")
    d = fallback_decision(SCHOOL, SATURDAY_NOON)
    assert d.fallback and setpoints(d) == {"z1": 8.0, "z2": 8.0}
    assert "Programme du bâtiment" in d.reason_fr and "Building schedule" in d.reason_en


@pytest.mark.parametrize("plan_c", [-50.0, 8.0, 19.0, 40.0])
def test_manual_override_wins_over_any_plan(plan_c):
    state = SafetyState(last_setpoints_c={"z1": 12.0, "z2": 12.0})
    d, iv = envelope().apply(plan(MONDAY_9, z1=plan_c, z2=plan_c), observe(MONDAY_9, z1=21.0),
                             state)
    # No ramp for a person's setpoint: 12 -> 21 at once.
    assert setpoints(d)["z1"] == 21.0
    assert Rule.MANUAL_OVERRIDE in rules(iv)
    (ov,) = [i for i in iv if i.rule is Rule.MANUAL_OVERRIDE]
    assert ov.zone_code == "z1" and "manuelle" in ov.text_fr and "manual" in ov.text_en


def test_manual_override_still_within_frost_protection_and_bounds():
    d, iv = envelope().apply(plan(MONDAY_9, z1=19, z2=19), observe(MONDAY_9, z1=2.0, z2=35.0),
                             SafetyState())
    assert setpoints(d) == {"z1": 8.0, "z2": 22.0}
    assert {Rule.FROST_PROTECTION, Rule.SETPOINT_BOUNDS} <= rules(iv)


def test_stale_observation_falls_back_to_the_schedule_in_the_same_step():
    state = SafetyState(last_setpoints_c={"z1": 14.0, "z2": 14.0})
    old = observe(MONDAY_9 - 2 * STEP)  # two steps old, limit is one step
    d, iv = envelope().apply(plan(MONDAY_9, z1=15, z2=15), old, state)
    # Straight to 19 °C although the ramp would allow 15: the schedule does not wait.
    assert d.fallback and setpoints(d) == {"z1": 19.0, "z2": 19.0}
    assert rules(iv) == {Rule.FALLBACK}
    assert "1800 s" in d.reason_fr and "1800 s" in d.reason_en
    # One step old is still usable.
    d, _ = envelope().apply(plan(MONDAY_9, z1=15, z2=15), observe(MONDAY_9 - STEP), state)
    assert not d.fallback and setpoints(d) == {"z1": 15.0, "z2": 15.0}


@pytest.mark.parametrize("t, expected", [(MONDAY_9, 19.0), (MONDAY_EVENING, 16.0),
                                         (SATURDAY_NOON, 8.0)])
def test_missing_observation_falls_back(t, expected):
    d, iv = envelope().apply(plan(t, z1=21, z2=21), None, SafetyState())
    assert d.fallback and setpoints(d) == {"z1": expected, "z2": expected}
    assert "aucune observation" in d.reason_fr and "no observation" in d.reason_en


def test_missing_zone_temperature_falls_back_for_that_zone_only():
    obs = Observation(time_utc=MONDAY_9, building_code="B1", zones=(
        ZoneObservation(zone_code="z1", temp_zone_c=None),
        ZoneObservation(zone_code="z2", temp_zone_c=18.5)))
    d, iv = envelope().apply(plan(MONDAY_9, z1=17.5, z2=17.5), obs, SafetyState())
    assert d.fallback and setpoints(d) == {"z1": 19.0, "z2": 17.5}
    (fb,) = [i for i in iv if i.rule is Rule.FALLBACK]
    assert fb.zone_code == "z1" and "température de zone absente" in fb.text_fr


def test_future_and_replayed_observations_are_not_trusted():
    d, _ = envelope().apply(plan(MONDAY_9, z1=18, z2=18), observe(MONDAY_9 + STEP),
                            SafetyState())
    assert d.fallback
    state = SafetyState(last_fresh_obs_utc=MONDAY_9)
    d, _ = envelope().apply(plan(MONDAY_9, z1=18, z2=18), observe(MONDAY_9 - STEP), state)
    assert d.fallback


def test_setpoints_clamped_and_frost_protection():
    d, iv = envelope().apply(plan(MONDAY_9, z1=35.0, z2=-10.0), observe(MONDAY_9),
                             SafetyState())
    assert setpoints(d) == {"z1": 22.0, "z2": 8.0}
    by_zone = {i.zone_code: i for i in iv}
    assert by_zone["z1"].rule is Rule.SETPOINT_BOUNDS and by_zone["z1"].before == 35.0
    assert by_zone["z2"].rule is Rule.FROST_PROTECTION and by_zone["z2"].after == 8.0


def test_frost_protection_above_the_lower_bound_wins():
    s = SafetySettings(setpoint_min_c=5, frost_protection_c=10)
    d, _ = envelope(s).apply(plan(SATURDAY_NOON, z1=6, z2=12), observe(SATURDAY_NOON),
                             SafetyState())
    assert setpoints(d) == {"z1": 10.0, "z2": 12.0}


def test_rate_limit_against_the_last_applied_setpoint():
    env, state = envelope(), SafetyState(last_setpoints_c={"z1": 16.0, "z2": 19.0})
    out = env.step(plan(MONDAY_9, z1=20, z2=18.5), observe(MONDAY_9), state)
    assert setpoints(out.decision) == {"z1": 17.0, "z2": 18.5}
    (rl,) = [i for i in out.interventions if i.rule is Rule.RATE_LIMIT]
    assert (rl.zone_code, rl.before, rl.after) == ("z1", 20.0, 17.0)
    # Step after step, the ramp reaches the plan.
    for k in range(1, 4):
        t = MONDAY_9 + k * STEP
        out = env.step(plan(t, z1=20, z2=18.5), observe(t), out.state)
    assert setpoints(out.decision)["z1"] == 20.0 and out.state.last_setpoints_c["z1"] == 20.0


def test_shed_ended_after_max_duration_then_recovery():
    env, state = envelope(), SafetyState(last_setpoints_c={"z1": 16.0, "z2": 19.0})
    applied = []
    for k in range(8):  # the plan sheds z1 to 16 °C for two hours, occupied
        t = MONDAY_9 + k * STEP
        out = env.step(plan(t, z1=16, z2=19), observe(t), state)
        state = out.state
        applied.append((setpoints(out.decision)["z1"], rules(out.interventions)))
    # 60 min allowed: steps 0-3 shed, step 4 ends it (ramp 1 K/step back to 19 °C).
    assert [a for a, _ in applied[:4]] == [16.0] * 4
    assert Rule.SHED_MAX_DURATION in applied[4][1] and applied[4][0] == 17.0
    # 30 min of recovery from the end (steps 4, 5) refuse a new shed; step 6 may shed again,
    # ramping down from 18 °C.
    assert Rule.SHED_RECOVERY in applied[5][1] and applied[5][0] == 18.0
    assert [a for a, _ in applied[6:]] == [17.0, 16.0]
    assert "z1" in state.shed_start_utc


def test_no_shed_outside_occupancy():
    env, state = envelope(), SafetyState()
    for k in range(12):
        t = MONDAY_EVENING + k * STEP
        out = env.step(plan(t, z1=12, z2=12), observe(t), state)
        state = out.state
        assert setpoints(out.decision) == {"z1": 12.0, "z2": 12.0}
    assert state.shed_start_utc == {}


def test_power_capped_and_frost_guard_for_power_only_zones():
    s = SafetySettings(max_power_w=5000, zone_max_power_w={"z2": 2000})
    d = Decision(time_utc=MONDAY_9, building_code="B1", zones=(
        ZoneDecision(zone_code="z1", heating_power_w=9000),
        ZoneDecision(zone_code="z2", heating_power_w=1000)))
    obs = Observation(time_utc=MONDAY_9, building_code="B1", zones=(
        ZoneObservation(zone_code="z1", temp_zone_c=18.0),
        ZoneObservation(zone_code="z2", temp_zone_c=6.0)))
    out, iv = envelope(s).apply(d, obs, SafetyState())
    assert {z.zone_code: z.heating_power_w for z in out.zones} == {"z1": 5000, "z2": 2000}
    assert rules(iv) == {Rule.POWER_CAP, Rule.FROST_PROTECTION}


def test_modes():
    d = fallback_decision(SCHOOL, MONDAY_9)
    assert not dispatchable(d, Mode.ADVISE, approved=True)
    assert not dispatchable(d, Mode.APPROVE) and dispatchable(d, Mode.APPROVE, approved=True)
    assert dispatchable(d, Mode.AUTOMATIC)
    assert dispatch_status(Mode.APPROVE) is Dispatch.PENDING
    assert dispatch_status(Mode.ADVISE) is Dispatch.NOT_SENT


def test_state_updates_are_immutable():
    s0 = SafetyState()
    s1 = s0.with_setpoints({"z1": 19.0}).with_shed_started("z1", MONDAY_9)
    assert s0 == SafetyState() and s1.last_setpoints_c == {"z1": 19.0}
    s2 = s1.with_shed_ended("z1", MONDAY_9 + STEP)
    assert "z1" in s1.shed_start_utc and "z1" not in s2.shed_start_utc
    assert s2.shed_end_utc == {"z1": MONDAY_9 + STEP}


# --- properties: adversarial plans and observations -------------------------------------

ANY_FLOAT = st.floats(allow_nan=False, allow_infinity=False)  # incl. ±1e308
SETPOINT = st.one_of(st.none(), ANY_FLOAT)
POWER = st.one_of(st.none(), st.floats(min_value=0, allow_infinity=False))  # ge=0 in interface
TIMES = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
                     timezones=st.just(UTC))
SETTINGS_ST = st.builds(
    SafetySettings,
    frost_protection_c=st.floats(0, 12),
    setpoint_min_c=st.floats(0, 12),
    setpoint_max_c=st.floats(18, 28),
    max_change_k_per_step=st.floats(0.1, 5),
    max_shed_min=st.floats(15, 240),
    min_recovery_min=st.floats(0, 120),
    max_power_w=st.floats(0, 1e6),
)


@st.composite
def steps(draw):
    """A sequence of (plan, observation) with adversarial values and observation ages."""
    t0 = draw(TIMES)
    out = []
    for k in range(draw(st.integers(1, 6))):
        t = t0 + k * STEP
        zones = tuple(ZoneDecision(zone_code=z, setpoint_c=draw(SETPOINT),
                                   heating_power_w=draw(POWER)) for z in ("z1", "z2"))
        d = Decision(time_utc=t, building_code="B1", zones=zones)
        age = draw(st.sampled_from([None, 0, 0, 0, STEP_S, 2 * STEP_S, -STEP_S]))
        obs = None if age is None else Observation(
            time_utc=t - timedelta(seconds=age), building_code="B1", zones=tuple(
                ZoneObservation(zone_code=z, temp_zone_c=draw(st.one_of(st.none(), ANY_FLOAT)),
                                manual_override_c=draw(st.one_of(st.none(), st.none(),
                                                                 ANY_FLOAT)))
                for z in ("z1", "z2")))
        out.append((d, obs))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=SETTINGS_ST, seq=steps(),
       last=st.dictionaries(st.sampled_from(["z1", "z2"]), ANY_FLOAT, max_size=2))
def test_envelope_invariants_under_adversarial_inputs(s, seq, last):
    """For every step, whatever the plan, the observation and its age:

    * every applied setpoint is in [max(setpoint_min, frost), setpoint_max];
    * every applied power is in [0, power cap of the zone];
    * |setpoint - last applied| <= max_change_k_per_step for every zone that is neither a
      manual override nor a fallback, whenever the last applied setpoint lies within the
      bounds (always true after the first step; an arbitrary initial state may not be, and
      then the bounds win over the ramp);
    * a fallback zone gets the schedule's setpoint and the decision says fallback.
    """
    env = SafetyEnvelope(SCHOOL, s)
    state = SafetyState(last_setpoints_c=last)
    lo, hi = s.lower_c, s.setpoint_max_c
    for d, obs in seq:
        out = env.step(d, obs, state)
        exempt = {i.zone_code for i in out.interventions
                  if i.rule in (Rule.MANUAL_OVERRIDE, Rule.FALLBACK)}
        fell_back = {i.zone_code for i in out.interventions if i.rule is Rule.FALLBACK}
        assert out.decision.fallback == bool(fell_back)
        for z in out.decision.zones:
            if z.setpoint_c is not None:
                assert lo <= z.setpoint_c <= hi
            if z.heating_power_w is not None:
                assert 0 <= z.heating_power_w <= s.power_cap_w(z.zone_code)
            prev = state.last_setpoints_c.get(z.zone_code)
            if (z.setpoint_c is not None and z.zone_code not in exempt
                    and prev is not None and lo <= prev <= hi):
                assert abs(z.setpoint_c - prev) <= s.max_change_k_per_step + 1e-9
            if z.zone_code in fell_back:
                sched, _ = schedule_setpoint_c(SCHOOL, d.time_utc, s)
                assert z.setpoint_c == s.clamp_c(sched)
        assert {z.zone_code for z in out.decision.zones} == {"z1", "z2"}
        state = out.state
