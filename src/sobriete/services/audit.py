"""The audit log of writes (table ``audit_log``, migration 0008): who, what, when, answer.

Control decisions have their own append-only tables (``control_plan``, ``control_decision``);
this log covers every write that comes through the API or the dashboard, refused ones
included, so that an attempt outside one's scope is on record too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import insert, select

from sobriete.domain.access import Principal
from sobriete.services.store import Store
from sobriete.services.store import schema as S


def record_write(store: Store, who: Principal | None, method: str, path: str, status: int,
                 client: str | None, detail: dict | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(S.audit_log).values(
            at=datetime.now(UTC), account_id=who.account_id if who else None,
            login=who.login if who else None, method=method, path=path[:500],
            status_code=status, client=client,
            detail_json=json.dumps(detail, ensure_ascii=False) if detail else None))


def recent_writes(store: Store, limit: int = 100) -> list[dict]:
    a = S.audit_log.c
    with store.read() as conn:
        rows = conn.execute(select(S.audit_log).order_by(a.id.desc()).limit(limit)).mappings()
        return [dict(r) for r in rows]
