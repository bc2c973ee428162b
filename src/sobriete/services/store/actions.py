"""Stored recommendations and tracked actions.

A building's recommendations are replaced as a whole by each advice run (the latest advice is
what people act on; the findings they rest on keep their own history). A tracked action is one
row per (building, action code) whose every status change is also appended to
``tracked_action_event``: the row says where things stand, the events how they got there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from sobriete.advice import Recommendation
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page

ACTION_STATUSES = ("to_do", "in_progress", "done")


@dataclass(frozen=True)
class StoredRecommendation:
    rec: Recommendation
    rank: int  # within its building, 1 = best
    commune: str  # INSEE code
    diagnosis_run_id: int | None


@dataclass(frozen=True)
class TrackedAction:
    building_code: str
    action_code: str
    status: str
    done_date: date | None
    estimated: dict[str, Any] | None  # Recommendation JSON when it was marked
    realised: dict[str, Any] | None  # see actions_run.measure_realised
    note: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ActionEvent:
    at: datetime
    old_status: str | None
    new_status: str
    done_date: date | None
    note: str | None


def building_id(conn: Connection, code: str) -> int:
    return conn.execute(select(S.building.c.id).where(S.building.c.code == code)).scalar_one()


def replace_recommendations(conn: Connection, code: str, ranked: list[Recommendation],
                            diagnosis_run_id: int | None) -> None:
    """The building's recommendations become ``ranked`` (best first), in the caller's
    transaction: a reader sees the old set or the new one, never a mix."""
    bid = building_id(conn, code)
    conn.execute(delete(S.recommendation).where(S.recommendation.c.building_id == bid))
    now = datetime.now(UTC)
    for i, r in enumerate(ranked, 1):
        conn.execute(S.recommendation.insert().values(
            building_id=bid, action_code=r.action_code, rank=i,
            doc_json=json.dumps(r.model_dump(mode="json"), allow_nan=False),
            diagnosis_run_id=diagnosis_run_id, created_at=now))


def load_recommendations(conn: Connection, *, building: str | None = None,
                         commune: str | None = None) -> list[StoredRecommendation]:
    """Stored recommendations, by building code then rank."""
    q = (select(S.recommendation, S.commune.c.code.label("commune"))
         .join(S.building, S.building.c.id == S.recommendation.c.building_id)
         .join(S.site, S.site.c.id == S.building.c.site_id)
         .join(S.commune, S.commune.c.id == S.site.c.commune_id)
         .order_by(S.building.c.code, S.recommendation.c.rank))
    if building is not None:
        q = q.where(S.building.c.code == building)
    if commune is not None:
        q = q.where(S.commune.c.code == commune)
    return [StoredRecommendation(Recommendation.model_validate_json(r["doc_json"]), r["rank"],
                                 r["commune"], r["diagnosis_run_id"])
            for r in conn.execute(q).mappings()]


def _tracked(r) -> TrackedAction:
    def doc(s: str | None):
        return json.loads(s) if s else None

    return TrackedAction(r["building_code"], r["action_code"], r["status"], r["done_date"],
                         doc(r["estimated_json"]), doc(r["realised_json"]), r["note"],
                         r["updated_at"])


def _tracked_query():
    return (select(S.tracked_action, S.building.c.code.label("building_code"))
            .join(S.building, S.building.c.id == S.tracked_action.c.building_id))


def load_tracked(conn: Connection, *, building: str | None = None,
                 action: str | None = None) -> list[TrackedAction]:
    q = _tracked_query().order_by(S.building.c.code, S.tracked_action.c.action_code)
    if building is not None:
        q = q.where(S.building.c.code == building)
    if action is not None:
        q = q.where(S.tracked_action.c.action_code == action)
    return [_tracked(r) for r in conn.execute(q).mappings()]


def save_status(conn: Connection, code: str, action: str, status: str, *,
                done_date: date | None, note: str | None,
                estimated: dict[str, Any] | None) -> TrackedAction:
    """Set an action's status (creating its row), append the change to its history, in the
    caller's transaction. Marking it again as it is changes nothing (no event, the first
    estimate stays). A new done date makes a stored realised saving stale: it is cleared."""
    bid = building_id(conn, code)
    now = datetime.now(UTC)
    row = conn.execute(select(S.tracked_action).where(
        S.tracked_action.c.building_id == bid, S.tracked_action.c.action_code == action)
    ).mappings().first()
    values: dict[str, Any] = {"status": status, "done_date": done_date, "updated_at": now}
    if estimated is not None:  # else the estimate taken at an earlier marking stays
        values["estimated_json"] = json.dumps(estimated, allow_nan=False)
    if note is not None:
        values["note"] = note
    if row is None:
        action_id = conn.execute(S.tracked_action.insert().values(
            building_id=bid, action_code=action, **values)).inserted_primary_key[0]
        old = None
    else:
        action_id, old = row["id"], row["status"]
        if (old, row["done_date"]) == (status, done_date) and note in (None, row["note"]):
            return load_tracked(conn, building=code, action=action)[0]  # nothing changes
        if row["done_date"] != done_date:
            values["realised_json"] = None
        conn.execute(update(S.tracked_action).where(S.tracked_action.c.id == action_id)
                     .values(**values))
    conn.execute(S.tracked_action_event.insert().values(
        action_id=action_id, at=now, old_status=old, new_status=status, done_date=done_date,
        note=note))
    return load_tracked(conn, building=code, action=action)[0]


def save_realised(conn: Connection, code: str, action: str, realised: dict[str, Any]) -> None:
    bid = building_id(conn, code)
    conn.execute(update(S.tracked_action).where(
        S.tracked_action.c.building_id == bid, S.tracked_action.c.action_code == action
    ).values(realised_json=json.dumps(realised, allow_nan=False), updated_at=datetime.now(UTC)))


def action_history(conn: Connection, code: str, action: str) -> list[ActionEvent]:
    q = (select(S.tracked_action_event)
         .join(S.tracked_action, S.tracked_action.c.id == S.tracked_action_event.c.action_id)
         .join(S.building, S.building.c.id == S.tracked_action.c.building_id)
         .where(S.building.c.code == code, S.tracked_action.c.action_code == action)
         .order_by(S.tracked_action_event.c.id))
    return [ActionEvent(r["at"], r["old_status"], r["new_status"], r["done_date"], r["note"])
            for r in conn.execute(q).mappings()]


def load_tracked_of(conn: Connection, building_ids: Select | None, *,
                    status: str | None = None, limit: int | None = None,
                    offset: int = 0) -> tuple[int, list[TrackedAction]]:
    """(how many, the page) of the tracked actions of the given buildings only (the caller's
    scope, in SQL: a select of building ids; None: every building's), by building then action
    code; optionally of one status; ``limit`` None: all."""
    ta, b = S.tracked_action.c, S.building.c
    where = [] if building_ids is None else [ta.building_id.in_(building_ids)]
    if status is not None:
        where.append(ta.status == status)
    total = conn.execute(select(func.count(ta.id)).where(*where)).scalar_one()
    q = one_page(_tracked_query().where(*where).order_by(b.code, ta.action_code), limit,
                 offset)
    return total, [_tracked(r) for r in conn.execute(q).mappings()]
