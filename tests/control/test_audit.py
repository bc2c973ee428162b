"""The audit trail: every step kept, written append-only, read back identical."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sobriete.control.audit import AuditLog, AuditRecord
from sobriete.control.interface import (
    STEP_S,
    Decision,
    Mode,
    Observation,
    ZoneDecision,
    ZoneObservation,
)
from sobriete.control.safety import Dispatch, Rule, SafetyEnvelope, SafetyState
from sobriete.domain.portfolio import ActivityCategory, Building, Zone

T0 = datetime(2024, 1, 15, 9, tzinfo=UTC)  # Monday, school in session
SCHOOL = Building(code="B1", name="École", activity=ActivityCategory.SCHOOL,
                  zones=(Zone(code="z1"),))


def run(n: int, mode: Mode, approved: bool = False) -> list[AuditRecord]:
    env, state, out = SafetyEnvelope(SCHOOL), SafetyState(), []
    for k in range(n):
        t = T0 + k * timedelta(seconds=STEP_S)
        proposed = Decision(time_utc=t, building_code="B1", reason_fr="plan : 24 °C",
                            reason_en="plan: 24 °C",
                            zones=(ZoneDecision(zone_code="z1", setpoint_c=24.0),))
        # Every third step the sensor is silent, every fifth a person overrides.
        obs = Observation(time_utc=t, building_code="B1", temp_out_c=3.5, zones=(
            ZoneObservation(zone_code="z1", temp_zone_c=None if k % 3 == 2 else 18.2,
                            manual_override_c=20.5 if k % 5 == 4 else None),))
        step = env.step(proposed, obs, state)
        state = step.state
        out.append(AuditRecord.from_step(mode, proposed, step.decision, step.interventions,
                                         obs, approved))
    return out


def test_record_explains_in_both_languages():
    (r,) = run(1, Mode.APPROVE)
    assert r.dispatch is Dispatch.PENDING and r.building_code == "B1" and r.time_utc == T0
    assert [i.rule for i in r.interventions] == [Rule.SETPOINT_BOUNDS]
    assert "24 °C" in r.explanation_fr and "[8, 22]" in r.explanation_fr
    assert "brought within" in r.explanation_en
    assert r.inputs["z1.temp_zone_c"] == 18.2 and r.inputs["temp_out_c"] == 3.5
    assert r.applied.zones[0].setpoint_c == 22.0 and r.proposed.zones[0].setpoint_c == 24.0
    assert run(1, Mode.ADVISE)[0].dispatch is Dispatch.NOT_SENT
    assert run(1, Mode.APPROVE, approved=True)[0].dispatch is Dispatch.SENT


def test_jsonl_round_trip(tmp_path):
    log = AuditLog()
    for r in run(6, Mode.AUTOMATIC):
        log.append(r)
    path = tmp_path / "audit" / "B1.jsonl"
    assert log.to_jsonl(path) == 6
    back = AuditLog.from_jsonl(path)
    assert back.records == log.records
    assert any(r.applied.fallback for r in back)  # the silent-sensor steps survived
    assert {i.rule for r in back for i in r.interventions} >= {
        Rule.FALLBACK, Rule.MANUAL_OVERRIDE, Rule.SETPOINT_BOUNDS}


def test_jsonl_is_append_only(tmp_path):
    records = run(9, Mode.AUTOMATIC)
    path = tmp_path / "B1.jsonl"
    log = AuditLog()
    for r in records[:4]:
        log.append(r)
    log.to_jsonl(path)
    first = path.read_bytes()
    assert log.to_jsonl(path) == 0 and path.read_bytes() == first  # nothing new, no rewrite
    for r in records[4:6]:
        log.append(r)
    assert log.to_jsonl(path) == 2
    second = path.read_bytes()
    assert second.startswith(first)
    # A log read back from the file appends after what is there, never before.
    again = AuditLog.from_jsonl(path)
    for r in records[6:]:
        again.append(r)
    assert again.to_jsonl(path) == 3
    assert path.read_bytes().startswith(second)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 9
    assert AuditLog.from_jsonl(path).records == tuple(records)


def test_records_cannot_be_edited_through_the_log():
    log = AuditLog(run(2, Mode.ADVISE))
    snapshot = log.records
    assert isinstance(snapshot, tuple) and len(log) == 2
    assert AuditLog.from_jsonl("/nonexistent/audit.jsonl").records == ()
