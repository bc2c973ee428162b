"""Dispatched flexibility events and their per-building allocations (tables ``flex_event``,
``flex_allocation``, migration 0006): what ``dispatch`` reads back as burden history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, case, delete, func, insert, select, true, update

from sobriete.control.flex import ShedRecord
from sobriete.services.store import schema as S


@dataclass(frozen=True)
class AllocationRow:
    building_code: str
    capacity_kw: float
    allocated_kw: float
    shed_kwh: float
    discomfort_kh: float
    rebound_kwh: float
    method: str
    confidence: float


@dataclass(frozen=True)
class StoredEvent:
    event_id: str
    start_utc: pd.Timestamp
    end_utc: pd.Timestamp
    request_kw: float
    served_kw: float
    unmet_kw: float
    jain_before: float
    jain_after: float
    scope: dict[str, Any]
    doc: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    allocations: tuple[AllocationRow, ...]


def _building_ids(conn: Connection, codes: list[str]) -> dict[str, int]:
    rows = conn.execute(select(S.building.c.code, S.building.c.id)
                        .where(S.building.c.code.in_(codes))).all()
    return {r[0]: r[1] for r in rows}


def save_event(conn: Connection, event: dict[str, Any], allocations: list[AllocationRow],
               ) -> bool:
    """Insert or replace the event ``event["event_id"]`` and all its allocations (call inside
    one transaction). Returns True when an event of that id existed (replaced)."""
    now = datetime.now(UTC)
    row = {k: event[k] for k in ("start_utc", "end_utc", "request_kw", "served_kw",
                                 "unmet_kw", "jain_before", "jain_after")}
    row["start_utc"] = pd.Timestamp(row["start_utc"]).to_pydatetime()
    row["end_utc"] = pd.Timestamp(row["end_utc"]).to_pydatetime()
    row["scope_json"] = json.dumps(event["scope"], ensure_ascii=False, sort_keys=True)
    row["doc_json"] = json.dumps(event["doc"], ensure_ascii=False, default=str)
    row["updated_at"] = now
    existing = conn.execute(select(S.flex_event.c.id).where(
        S.flex_event.c.event_id == event["event_id"])).scalar_one_or_none()
    if existing is None:
        eid = conn.execute(insert(S.flex_event).values(
            event_id=event["event_id"], created_at=now, **row)).inserted_primary_key[0]
    else:
        eid = existing
        conn.execute(update(S.flex_event).where(S.flex_event.c.id == eid).values(**row))
        conn.execute(delete(S.flex_allocation).where(S.flex_allocation.c.event_id == eid))
    ids = _building_ids(conn, [a.building_code for a in allocations])
    rows = [{"event_id": eid, "building_id": ids[a.building_code],
             "capacity_kw": a.capacity_kw, "allocated_kw": a.allocated_kw,
             "shed_kwh": a.shed_kwh, "discomfort_kh": a.discomfort_kh,
             "rebound_kwh": a.rebound_kwh, "method": a.method, "confidence": a.confidence}
            for a in allocations]
    if rows:
        conn.execute(insert(S.flex_allocation), rows)
    return existing is not None


def shed_history(conn: Connection, before_utc: pd.Timestamp, *,
                 exclude_event: str | None = None) -> list[ShedRecord]:
    """Allocations of the events that start before ``before_utc`` (other than
    ``exclude_event``), as ``dispatch`` history: kWh asked and expected discomfort."""
    q = (select(S.building.c.code, S.flex_event.c.start_utc, S.flex_allocation.c.shed_kwh,
                S.flex_allocation.c.discomfort_kh)
         .select_from(S.flex_allocation
                      .join(S.flex_event, S.flex_allocation.c.event_id == S.flex_event.c.id)
                      .join(S.building, S.flex_allocation.c.building_id == S.building.c.id))
         .where(S.flex_event.c.start_utc < pd.Timestamp(before_utc).to_pydatetime(),
                S.flex_allocation.c.allocated_kw > 0)
         .order_by(S.flex_event.c.start_utc, S.building.c.code))
    if exclude_event is not None:
        q = q.where(S.flex_event.c.event_id != exclude_event)
    return [ShedRecord(r[0], r[1], float(r[2]), float(r[3])) for r in conn.execute(q)]


def load_event(conn: Connection, event_id: str) -> StoredEvent | None:
    r = conn.execute(select(S.flex_event).where(S.flex_event.c.event_id == event_id)
                     ).mappings().first()
    if r is None:
        return None
    allocs = conn.execute(
        select(S.building.c.code, S.flex_allocation)
        .select_from(S.flex_allocation.join(
            S.building, S.flex_allocation.c.building_id == S.building.c.id))
        .where(S.flex_allocation.c.event_id == r["id"]).order_by(S.building.c.code)
    ).mappings().all()
    return StoredEvent(
        event_id=r["event_id"], start_utc=pd.Timestamp(r["start_utc"]),
        end_utc=pd.Timestamp(r["end_utc"]), request_kw=r["request_kw"],
        served_kw=r["served_kw"], unmet_kw=r["unmet_kw"], jain_before=r["jain_before"],
        jain_after=r["jain_after"], scope=json.loads(r["scope_json"]),
        doc=json.loads(r["doc_json"]), created_at=r["created_at"], updated_at=r["updated_at"],
        allocations=tuple(AllocationRow(
            a["code"], a["capacity_kw"], a["allocated_kw"], a["shed_kwh"],
            a["discomfort_kh"], a["rebound_kwh"], a["method"], a["confidence"])
            for a in allocs))


# -- scoped reads for the API: ``clause`` is ``services.scoped.scope_clause`` (None: all) ----

def _alloc_join():
    a, b = S.flex_allocation.c, S.building.c
    return (S.flex_allocation.join(S.building, a.building_id == b.id)
            .join(S.site, b.site_id == S.site.c.id)
            .join(S.commune, S.site.c.commune_id == S.commune.c.id)
            .join(S.territory, S.commune.c.territory_id == S.territory.c.id))


def visible_events(conn: Connection, clause, *, start: datetime | None = None,
                   end: datetime | None = None, event_id: str | None = None) -> list[dict]:
    """Events with at least one allocation in a building ``clause`` admits (every event when
    ``clause`` is None), newest first, with the number of allocations in all and in view,
    and the kW and kWh asked of the buildings in view."""
    e, a = S.flex_event.c, S.flex_allocation.c
    seen = true() if clause is None else clause
    j = S.flex_event.outerjoin(_alloc_join(), a.event_id == e.id)
    q = (select(e.id, e.event_id, e.start_utc, e.end_utc, e.request_kw, e.served_kw,
                e.unmet_kw, e.jain_before, e.jain_after, e.scope_json, e.doc_json,
                e.created_at, e.updated_at,
                func.count(a.id).label("n_allocations"),
                func.coalesce(func.sum(case((seen, 1), else_=0)), 0).label("n_visible"),
                func.coalesce(func.sum(case((seen, a.allocated_kw), else_=0.0)), 0.0)
                .label("visible_allocated_kw"),
                func.coalesce(func.sum(case((seen, a.shed_kwh), else_=0.0)), 0.0)
                .label("visible_shed_kwh"))
         .select_from(j).group_by(e.id).order_by(e.start_utc.desc(), e.event_id))
    if clause is not None:
        q = q.having(func.sum(case((seen, 1), else_=0)) > 0)
    if start is not None:
        q = q.where(e.end_utc > start)
    if end is not None:
        q = q.where(e.start_utc < end)
    if event_id is not None:
        q = q.where(e.event_id == event_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def visible_allocations(conn: Connection, clause, event_pk: int) -> list[dict]:
    """Allocations of one event (by its row id) in buildings ``clause`` admits, by code."""
    a, b = S.flex_allocation.c, S.building.c
    q = (select(b.code.label("building_code"), b.name.label("building_name"),
                S.commune.c.code.label("commune_code"), S.commune.c.name.label("commune_name"),
                a.capacity_kw, a.allocated_kw, a.shed_kwh, a.discomfort_kh, a.rebound_kwh,
                a.method, a.confidence)
         .select_from(_alloc_join()).where(a.event_id == event_pk).order_by(b.code))
    if clause is not None:
        q = q.where(clause)
    return [dict(r) for r in conn.execute(q).mappings()]


def electricity_meters(conn: Connection, building_codes: list[str]) -> dict[str, list[str]]:
    """Keys of the electricity meters of each building (those a shed is settled on)."""
    s, b = S.series.c, S.building.c
    rows = conn.execute(
        select(b.code, s.key).select_from(S.series.join(S.building, s.building_id == b.id))
        .where(b.code.in_(building_codes), s.kind == "meter", s.subkind == "electricity")
        .distinct().order_by(b.code, s.key)).all()
    out: dict[str, list[str]] = {}
    for code, key in rows:
        out.setdefault(code, []).append(key)
    return out


def event_windows(conn: Connection, *, exclude_event: str | None = None,
                  ) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(start, end) of every stored event but ``exclude_event``."""
    e = S.flex_event.c
    q = select(e.start_utc, e.end_utc)
    if exclude_event is not None:
        q = q.where(e.event_id != exclude_event)
    return [(pd.Timestamp(r[0]), pd.Timestamp(r[1])) for r in conn.execute(q)]
