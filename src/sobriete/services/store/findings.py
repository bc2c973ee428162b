"""Stored diagnostic findings: one row per (building, ``Finding.key``), upserted.

Re-running a diagnosis on the same data finds the same keys, so it updates rows in place and
creates nothing. A finding the latest diagnosis of its series did not find again is kept and
flagged ``seen_last = false``: it may have been fixed, or the window moved; either way it is
history a person may want to see, not something to delete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, Select, func, select, true, update

from sobriete.domain.errors import SobrieteError
from sobriete.domain.findings import Finding, priority
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page

STATUSES = ("open", "dismissed")
MIN_KEY_PREFIX = 6


class UnknownFindingError(SobrieteError):
    """No stored finding has that key (or the prefix matches several)."""


@dataclass(frozen=True)
class FindingCounts:
    new: int = 0
    updated: int = 0
    not_seen: int = 0  # stored findings of the diagnosed series not found again


@dataclass(frozen=True)
class StoredFinding:
    finding: Finding
    key: str
    status: str  # open | dismissed
    seen_last: bool
    first_run_id: int
    last_run_id: int


def _row(f: Finding) -> dict:
    w = f.waste
    return {
        "kind": f.kind.value, "series_key": f.evidence.series_key, "start_utc": f.start_utc,
        "end_utc": f.end_utc, "score": f.score, "detector": f.detector,
        "detector_version": f.detector_version,
        "eur_per_year": w.eur_per_year.value if w and w.eur_per_year else None,
        "kwh_per_year": w.kwh_per_year.value if w else None,
        "doc_json": json.dumps(f.to_json(), allow_nan=False),
    }


def save_findings(conn: Connection, run_id: int, building_id: int, series_keys: set[str],
                  findings: list[Finding]) -> FindingCounts:
    """Upsert ``findings`` of one building inside the caller's transaction; stored findings of
    ``series_keys`` (the series this run diagnosed) that were not found again are flagged."""
    # One row per key: two detectors never share a kind, but a detector returning the same
    # period twice must not break the unique constraint; the surest one is kept.
    by_key: dict[str, Finding] = {}
    for f in findings:
        if f.key not in by_key or f.score > by_key[f.key].score:
            by_key[f.key] = f
    stored = {r["key"]: r for r in conn.execute(
        select(S.finding.c.key, S.finding.c.id).where(S.finding.c.building_id == building_id)
    ).mappings()}
    new = updated = 0
    for key, f in by_key.items():
        values = {**_row(f), "last_run_id": run_id, "seen_last": True}
        if key in stored:
            # status is the person's decision (dismissed stays dismissed); first_run stays.
            conn.execute(update(S.finding).where(S.finding.c.id == stored[key]["id"])
                         .values(**values))
            updated += 1
        else:
            conn.execute(S.finding.insert().values(
                building_id=building_id, key=key, first_run_id=run_id, status="open", **values))
            new += 1
    gone = [k for k in stored if k not in by_key]
    not_seen = 0
    if gone and series_keys:
        not_seen = conn.execute(update(S.finding).where(
            S.finding.c.building_id == building_id, S.finding.c.key.in_(gone),
            S.finding.c.series_key.in_(sorted(series_keys)), S.finding.c.seen_last.is_(True),
        ).values(seen_last=False)).rowcount
    return FindingCounts(new, updated, not_seen)


def _stored(r) -> StoredFinding:
    return StoredFinding(Finding.from_json(json.loads(r["doc_json"])), r["key"], r["status"],
                         bool(r["seen_last"]), r["first_run_id"], r["last_run_id"])


def rank_key(f: StoredFinding) -> tuple:
    """``domain.findings.priority``, then the key so that the order is stable."""
    return (*priority(f.finding), f.key)


def load_findings(conn: Connection, *, building: str | None = None,
                  include_dismissed: bool = False,
                  include_not_seen: bool = False) -> list[StoredFinding]:
    """Stored findings, ranked by € of waste (``rank_key``). By default only what is still
    current: open and found again by the latest diagnosis of its series."""
    q = (select(S.finding).join(S.building, S.building.c.id == S.finding.c.building_id))
    if building is not None:
        q = q.where(S.building.c.code == building)
    if not include_dismissed:
        q = q.where(S.finding.c.status == "open")
    if not include_not_seen:
        q = q.where(S.finding.c.seen_last.is_(True))
    return sorted((_stored(r) for r in conn.execute(q).mappings()), key=rank_key)


def _find_row(conn: Connection, key: str):
    if len(key) < MIN_KEY_PREFIX:
        raise UnknownFindingError(
            f"finding key {key!r} is too short: give at least {MIN_KEY_PREFIX} characters")
    rows = conn.execute(select(S.finding).where(S.finding.c.key.startswith(key.lower()))
                        .limit(2)).mappings().all()
    if not rows:
        raise UnknownFindingError(f"no stored finding has the key {key!r} "
                                  "(keys are listed by `sobriete diagnose`)")
    if len(rows) > 1:
        raise UnknownFindingError(f"the key prefix {key!r} matches several findings: "
                                  "give more characters")
    return rows[0]


def get_finding(conn: Connection, key: str) -> StoredFinding:
    """One stored finding by its key or an unambiguous prefix of it (at least 6 characters)."""
    return _stored(_find_row(conn, key))


def set_finding_status(conn: Connection, key: str, status: str) -> StoredFinding:
    """Dismiss a finding (a person judged it not worth acting on) or reopen it."""
    if status not in STATUSES:
        raise SobrieteError(f"finding status {status!r}: expected one of {', '.join(STATUSES)}")
    row = _find_row(conn, key)
    conn.execute(update(S.finding).where(S.finding.c.id == row["id"]).values(status=status))
    return get_finding(conn, row["key"])


def _of_where(building_ids: Select | None, status: str | None, kind: str | None,
              include_not_seen: bool) -> list:
    """Conditions on the finding table alone (no join: counting needs none)."""
    f = S.finding.c
    where = [] if building_ids is None else [f.building_id.in_(building_ids)]
    if status is not None:
        where.append(f.status == status)
    if kind is not None:
        where.append(f.kind == kind)
    if not include_not_seen:
        where.append(f.seen_last == true())  # an equality: usable by the index
    return where


class FindingDoc(NamedTuple):
    """A stored finding as its document (``Finding.to_json()``), not parsed into the model:
    what a list shows needs no validation of what the store wrote."""

    building_code: str
    key: str
    status: str
    seen_last: bool
    doc: dict


def load_findings_of(conn: Connection, building_ids: Select | None, *,
                     status: str | None = "open", kind: str | None = None,
                     include_not_seen: bool = False, limit: int | None = None,
                     offset: int = 0) -> tuple[int, list[FindingDoc]]:
    """(how many, the page) of the given buildings only (the caller's scope, in SQL), ranked
    like ``rank_key`` by SQL so that only the page is read; ``status`` None: open and
    dismissed; ``limit`` None: all. ``building_ids``: a select of building ids (a scope of
    thousands of buildings stays in SQL); None: every building's (matching the findings
    against the ids of a whole metropolis made SQLite walk the buildings, not the findings)."""
    f, b = S.finding.c, S.building.c
    where = _of_where(building_ids, status, kind, include_not_seen)
    total = conn.execute(select(func.count(f.id)).where(*where)).scalar_one()
    # The page is ranked on ids alone, then its documents are read: ranking whole rows made
    # the database sort a kilobyte of JSON per finding of the scope.
    page = one_page(select(f.id).where(*where).order_by(*S.FINDING_RANK), limit, offset)
    q = (select(f.key, f.status, f.seen_last, f.doc_json, b.code.label("building_code"))
         .select_from(S.finding).join(S.building, b.id == f.building_id)
         .where(f.id.in_(page)).order_by(*S.FINDING_RANK))
    # orjson: parsing the page's documents was the largest cost left in a page of findings
    return total, [FindingDoc(r.building_code, r.key, r.status, bool(r.seen_last),
                              orjson.loads(r.doc_json)) for r in conn.execute(q)]


def finding_building(conn: Connection, key: str) -> tuple[str, str]:
    """(full key, building code) of a stored finding given its key or an unambiguous prefix;
    ``UnknownFindingError`` otherwise."""
    row = _find_row(conn, key)
    code = conn.execute(select(S.building.c.code).where(
        S.building.c.id == row["building_id"])).scalar_one()
    return row["key"], code
