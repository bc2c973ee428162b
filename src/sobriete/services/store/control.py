"""The controller's audit trail in the store: plans (with their provenance) and decisions.

Append-only by construction: this module inserts and reads, it has no update nor delete.
A plan row is written with the first decision in one transaction (``save_plan``), each step
of a control run in its own transaction (``append_decision``): a run stopped half-way keeps
every step it completed, and nothing half-written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from sobriete.control.audit import AuditRecord
from sobriete.services.store.schema import control_decision, control_plan


@dataclass(frozen=True)
class PlanRow:
    building_code: str
    zone_code: str
    kind: str  # plan | run
    start_utc: datetime
    horizon_steps: int
    model_json: str
    provenance: dict
    summary: dict


def reasons(record: AuditRecord) -> tuple[str, str]:
    """Why (FR, EN): the applied decision's explanation and, when the building kept its
    schedule (advise, pending approval, stale data), the plan's proposal too."""
    fr, en = record.explanation_fr, record.explanation_en
    if record.proposed is not None and record.proposed.reason_fr not in fr:
        fr = f"Proposé : {record.proposed.reason_fr.rstrip('. ')}. Appliqué : {fr}"
        en = f"Proposed: {record.proposed.reason_en.rstrip('. ')}. Applied: {en}"
    return fr, en


def insert_plan(conn: Connection, row: PlanRow) -> int:
    """One plan (or control run) row inside the caller's transaction; returns its id."""
    return conn.execute(control_plan.insert().values(
        building_code=row.building_code, zone_code=row.zone_code, kind=row.kind,
        start_utc=row.start_utc, horizon_steps=row.horizon_steps, model_json=row.model_json,
        provenance_json=json.dumps(row.provenance, ensure_ascii=False, default=str),
        summary_json=json.dumps(row.summary, ensure_ascii=False, default=str),
        created_at=datetime.now(UTC),
    )).inserted_primary_key[0]


def insert_decision(conn: Connection, plan_id: int, record: AuditRecord, zone_code: str, *,
                    driver: str, driver_error: str | None = None) -> int:
    """One audited decision of ``zone_code`` inside the caller's transaction."""
    proposed = None
    if record.proposed is not None:
        z = next((z for z in record.proposed.zones if z.zone_code == zone_code), None)
        proposed = z.heating_power_w if z is not None else None
    applied = next((z for z in record.applied.zones if z.zone_code == zone_code), None)
    reason_fr, reason_en = reasons(record)
    return conn.execute(control_decision.insert().values(
        plan_id=plan_id, building_code=record.building_code, zone_code=zone_code,
        time_utc=record.time_utc, mode=str(record.mode), dispatch=str(record.dispatch),
        driver=driver, proposed_power_w=proposed,
        setpoint_c=applied.setpoint_c if applied is not None else None,
        heating_power_w=applied.heating_power_w if applied is not None else None,
        fallback=record.applied.fallback, reason_fr=reason_fr, reason_en=reason_en,
        driver_error=driver_error,
        record_json=record.model_dump_json(), created_at=datetime.now(UTC),
    )).inserted_primary_key[0]


def decisions(conn: Connection, *, building_code: str | None = None,
              plan_id: int | None = None) -> list[dict]:
    """Stored decisions, oldest first, as plain dicts (``record_json`` left as text)."""
    q = select(control_decision).order_by(control_decision.c.id)
    if building_code is not None:
        q = q.where(control_decision.c.building_code == building_code)
    if plan_id is not None:
        q = q.where(control_decision.c.plan_id == plan_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def plans(conn: Connection, *, building_code: str | None = None) -> list[dict]:
    q = select(control_plan).order_by(control_plan.c.id)
    if building_code is not None:
        q = q.where(control_plan.c.building_code == building_code)
    return [dict(r) for r in conn.execute(q).mappings()]


def decisions_between(conn: Connection, building_code: str, start: datetime | None = None,
                      end: datetime | None = None) -> list[dict]:
    """Decisions of one building whose step starts in [start, end), oldest first; the full
    audit record (``record_json``) is left out: lists carry what was decided and why."""
    d = control_decision.c
    q = (select(d.id, d.plan_id, d.zone_code, d.time_utc, d.mode, d.dispatch, d.driver,
                d.proposed_power_w, d.setpoint_c, d.heating_power_w, d.fallback, d.reason_fr,
                d.reason_en, d.driver_error, d.created_at)
         .where(d.building_code == building_code).order_by(d.time_utc, d.id))
    if start is not None:
        q = q.where(d.time_utc >= start)
    if end is not None:
        q = q.where(d.time_utc < end)
    return [dict(r) for r in conn.execute(q).mappings()]
