"""API routes: diagnostic findings of the visible buildings, and dismissing or reopening one
(a person's judgement, kept across re-runs of the diagnosis)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select

from sobriete.api.deps import access, authorize, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, read_page
from sobriete.domain.access import Action, Principal
from sobriete.domain.findings import FindingKind
from sobriete.services.scoped import visible_ids
from sobriete.services.store.findings import (
    FindingDoc,
    UnknownFindingError,
    finding_building,
    load_findings_of,
    set_finding_status,
)

router = APIRouter(tags=["findings"])
Who = Annotated[Principal, Depends(principal)]
Params = Annotated[ListParams, Depends(list_params)]
Status = Literal["open", "dismissed", "all"]


class FindingOut(BaseModel):
    key: str
    building_code: str
    kind: str
    series_key: str
    start: AwareDatetime
    end: AwareDatetime
    score: float  # detector confidence 0-1
    confidence: str
    detector: str
    detector_version: str
    kwh_per_year: float | None
    eur_per_year: float | None
    status: str  # open | dismissed
    seen_last: bool  # found again by the latest diagnosis of its series
    message_fr: str
    message_en: str
    actions: list[str]
    warnings: list[str]
    evidence: dict[str, Any]  # series, window, baseline, figures behind the finding
    waste: dict[str, Any] | None  # kWh, EUR, CO2 with their factors and method


class StatusIn(BaseModel):
    status: Literal["open", "dismissed"]


def _out(d: FindingDoc) -> FindingOut:
    """From the stored document (``Finding.to_json()``, validated by the model when it was
    written): built without validating it again, which was most of the CPU of a page of
    findings under load."""
    doc, w = d.doc, d.doc.get("waste")
    return FindingOut.model_construct(
        key=d.key, building_code=d.building_code, kind=doc["kind"],
        series_key=doc["evidence"]["series_key"],
        start=datetime.fromisoformat(doc["start_utc"]),
        end=datetime.fromisoformat(doc["end_utc"]), score=doc["score"],
        confidence=doc["confidence"], detector=doc["detector"],
        detector_version=doc["detector_version"],
        kwh_per_year=w["kwh_per_year"]["value"] if w else None,
        eur_per_year=w["eur_per_year"]["value"] if w and w.get("eur_per_year") else None,
        status=d.status, seen_last=d.seen_last, message_fr=doc["message_fr"],
        message_en=doc["message_en"], actions=doc["actions"], warnings=doc["warnings"],
        evidence=doc["evidence"], waste=w)


def _list(request: Request, building_ids: Select | None, status: Status, kind: FindingKind | None,
          include_not_seen: bool, params: ListParams, name: str):
    """One page read in SQL (a portfolio holds tens of thousands of findings), or the whole
    list as a file."""
    def read(limit: int | None, offset: int) -> tuple[int, list[FindingOut]]:
        with get_store(request).read() as conn:
            total, found = load_findings_of(
                conn, building_ids, status=None if status == "all" else status,
                kind=kind.value if kind else None, include_not_seen=include_not_seen,
                limit=limit, offset=offset)
        return total, [_out(d) for d in found]

    return read_page(params, read, name)


NotSeen = Annotated[bool, Query(description="inclure ceux que le dernier diagnostic n'a pas "
                                            "retrouvés / include findings not seen again")]


@router.get("/findings", response_model=Page[FindingOut],
            openapi_extra=access("read", example={"query": {"status": "all"}}),
            summary="Anomalies des bâtiments visibles / findings of the visible buildings")
def findings(request: Request, who: Who, params: Params,
             building: Annotated[str | None, Query(max_length=64)] = None,
             commune: Annotated[str | None, Query(max_length=64)] = None,
             status: Status = "open", kind: FindingKind | None = None,
             include_not_seen: NotSeen = False):
    visible = visible_ids(who, Action.READ, commune=commune, building=building)
    return _list(request, visible, status, kind, include_not_seen, params, "anomalies")


@router.get("/buildings/{building_code}/findings", response_model=Page[FindingOut],
            openapi_extra=access("read", example={"path": {"building_code": "A"}}),
            summary="Anomalies d'un bâtiment / findings of a building")
def building_findings(building_code: str, request: Request, who: Who, params: Params,
                      status: Status = "open", kind: FindingKind | None = None,
                      include_not_seen: NotSeen = False):
    authorize(request, who, Action.READ, building_code)
    one = visible_ids(who, Action.READ, building=building_code)
    return _list(request, one, status, kind, include_not_seen, params,
                 f"anomalies-{building_code}")


@router.post("/findings/{key}/status", response_model=FindingOut,
             openapi_extra=access("write", example={"path": {"key": "FINDING_KEY"},
                                                    "body": {"status": "open"}}),
             summary="Écarter ou rouvrir une anomalie / dismiss or reopen a finding")
def finding_status(key: str, body: StatusIn, request: Request, who: Who) -> FindingOut:
    store = get_store(request)
    try:
        with store.read() as conn:
            full, code = finding_building(conn, key)
    except UnknownFindingError as exc:
        raise HTTPException(404, str(exc)) from None
    authorize(request, who, Action.WRITE, code)
    with store.engine.begin() as conn:
        s = set_finding_status(conn, full, body.status)
    return _out(FindingDoc(code, s.key, s.status, s.seen_last, s.finding.to_json()))
