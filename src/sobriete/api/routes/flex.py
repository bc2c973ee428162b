"""Flexibility (demand response): capacity, events, dispatch and settlement, restricted to the
buildings in the caller's ``flex_read`` scope (``flex_write`` to dispatch). An aggregator
sees only this part of the platform.

An event whose allocations are not all in view shows only the buildings in view and their
sums: the portfolio-wide request, service and explanation are given to a principal who sees
every building of the event (``complete_view``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from sobriete.api.deps import ScopeDenied, access, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, paged
from sobriete.api.routes.control import Moment
from sobriete.domain.access import Action, Principal
from sobriete.services import api_flex as F
from sobriete.services.flex_portfolio import FlexError
from sobriete.services.flex_run import SettlementError
from sobriete.services.scoped import scope_clause
from sobriete.services.store import flex as Q

router = APIRouter(tags=["flex"])

_WINDOW = {"start": "2019-01-22T09:00:00+01:00", "end": "2019-01-22T12:00:00+01:00"}


class FlexEvent(BaseModel):
    event_id: str
    start_utc: datetime
    end_utc: datetime
    signal: str | None
    n_allocations_visible: int
    visible_allocated_kw: float = Field(description="kW asked of the buildings in view")
    visible_shed_kwh: float
    complete_view: bool = Field(description="every building of the event is in view")
    request_kw: float | None = Field(description="null unless complete_view")
    served_kw: float | None
    unmet_kw: float | None
    jain_after: float | None
    explanation_fr: str | None
    explanation_en: str | None
    created_at: datetime
    updated_at: datetime


class FlexAllocation(BaseModel):
    building_code: str
    building_name: str
    commune_code: str
    commune_name: str
    capacity_kw: float
    allocated_kw: float
    shed_kwh: float
    discomfort_kh: float
    rebound_kwh: float
    method: str
    confidence: float


class FlexEventDetail(FlexEvent):
    allocations: list[FlexAllocation]


class CapacityOut(BaseModel):
    window_start_utc: datetime
    window_end_utc: datetime
    communes_in_view: list[str]
    n_buildings: int
    shed_kw: float
    shed_kwh: float
    rebound_kwh: float
    discomfort_kh: float
    buildings: list[dict[str, Any]]
    communes: dict[str, dict[str, Any]]
    provenance: dict[str, Any]


class DispatchIn(BaseModel):
    event_id: str = Field(min_length=1, max_length=64, description="re-posting an id replaces "
                                                                   "that event")
    start: Moment
    end: Moment
    target_kw: float = Field(gt=0, description="kW to shed, mean over the window")
    signal: str | None = Field(None, max_length=64,
                               description="what asks for it: ecowatt_red, tempo_red, "
                                           "aggregator, ...")
    forecast_temp_c: float | None = Field(None, description="outdoor temperature of the window "
                                                            "where no weather is stored")
    dry_run: bool = False


class DispatchAllocation(BaseModel):
    building_code: str
    commune_code: str
    capacity_kw: float
    allocated_kw: float
    share: float = Field(description="allocated / capacity")
    shed_kwh: float
    discomfort_kh: float = Field(description="expected K·h of indoor drop in occupation")
    max_drop_k: float
    rebound_kwh: float
    method: str
    confidence: float
    burden_before_h: float
    burden_after_h: float


class DispatchOut(BaseModel):
    event_id: str
    dry_run: bool
    replaced: bool = Field(description="an event of this id was stored and is replaced")
    signal: str | None
    communes_in_view: list[str]
    window_start_utc: datetime
    window_end_utc: datetime
    request_kw: float
    served_kw: float
    unmet_kw: float
    jain_before: float
    jain_after: float
    half_life_days: float | None
    history_records: int = Field(description="past allocations read as burden history")
    explanation_fr: str
    explanation_en: str
    allocations: list[DispatchAllocation]
    capacity: dict[str, Any]


class SettlementOut(BaseModel):
    event_id: str
    method: str
    asked_kw: float
    delivered_kw: float | None = Field(description="sum over the meters settled")
    excluded_days: list[str] = Field(description="days of other events left out of baselines")
    meters: list[dict[str, Any]]


def _event(e: dict) -> dict:
    doc = json.loads(e["doc_json"])
    full = e["n_visible"] == e["n_allocations"]
    return {"event_id": e["event_id"], "start_utc": e["start_utc"], "end_utc": e["end_utc"],
            "signal": doc.get("signal"), "n_allocations_visible": e["n_visible"],
            "visible_allocated_kw": e["visible_allocated_kw"],
            "visible_shed_kwh": e["visible_shed_kwh"], "complete_view": full,
            "request_kw": e["request_kw"] if full else None,
            "served_kw": e["served_kw"] if full else None,
            "unmet_kw": e["unmet_kw"] if full else None,
            "jain_after": e["jain_after"] if full else None,
            "explanation_fr": doc.get("explanation_fr") if full else None,
            "explanation_en": doc.get("explanation_en") if full else None,
            "created_at": e["created_at"], "updated_at": e["updated_at"]}


def _visible_event(request: Request, who: Principal, event_id: str) -> dict:
    clause = scope_clause(who, Action.FLEX_READ)
    with get_store(request).read() as conn:
        rows = Q.visible_events(conn, clause, event_id=event_id)
        found = rows[0] if rows else None
        exists = found is not None or Q.load_event(conn, event_id) is not None
    if found is None:
        if exists:
            raise ScopeDenied(404, f"no event {event_id!r} (or none of its buildings in your "
                                   "scope)")
        raise HTTPException(404, f"no event {event_id!r}: see GET /api/v1/flex/events")
    return found


def _json(x: Any) -> Any:
    return json.loads(json.dumps(x, ensure_ascii=False, default=str))


@router.get("/flex/events", response_model=Page[FlexEvent],
            openapi_extra=access("flex_read", example={"query": _WINDOW}),
            summary="Événements d'effacement / demand-response events")
def list_events(request: Request, who: Annotated[Principal, Depends(principal)],
                params: Annotated[ListParams, Depends(list_params)],
                start: Annotated[Moment | None, Query()] = None,
                end: Annotated[Moment | None, Query()] = None):
    clause = scope_clause(who, Action.FLEX_READ)
    with get_store(request).read() as conn:
        rows = Q.visible_events(conn, clause, start=start, end=end)
    return paged([FlexEvent(**_event(e)) for e in rows], params, "evenements_flex")


@router.get("/flex/events/{event_id}", response_model=FlexEventDetail,
            openapi_extra=access("flex_read", example={"path": {"event_id": "E1"}}),
            summary="Un événement et ses allocations / one event and its allocations")
def get_event(event_id: str, request: Request, who: Annotated[Principal, Depends(principal)]):
    e = _visible_event(request, who, event_id)
    with get_store(request).read() as conn:
        allocs = Q.visible_allocations(conn, scope_clause(who, Action.FLEX_READ), e["id"])
    return FlexEventDetail(**_event(e), allocations=[FlexAllocation(**a) for a in allocs])


@router.get("/flex/capacity", response_model=CapacityOut,
            openapi_extra=access("flex_read", example={"query": {**_WINDOW,
                                                                 "commune": "C1"}}),
            summary="Capacité d'effacement / shed capacity")
def capacity(request: Request, who: Annotated[Principal, Depends(principal)],
             start: Annotated[Moment, Query(description="window start, with offset")],
             end: Annotated[Moment, Query(description="window end, with offset")],
             commune: Annotated[str | None, Query(description="one commune (INSEE)")] = None,
             forecast_temp_c: Annotated[float | None, Query(
                 description="outdoor °C of the window where no weather is stored")] = None):
    try:
        view = F.capacity_in_view(get_store(request), who, Action.FLEX_READ, start, end,
                                  commune=commune, forecast_temp_c=forecast_temp_c)
    except FlexError as exc:
        raise HTTPException(422, str(exc)) from None
    if commune is not None and not view.communes:
        if view.portfolio_wide:
            raise HTTPException(404, f"no commune {commune!r} with buildings")
        raise ScopeDenied(404, f"no commune {commune!r} with buildings in your scope")
    j = _json(view.report.to_json())
    t = j["total"]
    return CapacityOut(
        window_start_utc=view.report.window_start_utc, window_end_utc=view.report.window_end_utc,
        communes_in_view=view.communes, n_buildings=t["n_buildings"], shed_kw=t["shed_kw"],
        shed_kwh=t["shed_kwh"], rebound_kwh=t["rebound_kwh"], discomfort_kh=t["discomfort_kh"],
        buildings=j["buildings"], communes=j["communes"],
        provenance={"fit_days": j["fit_days"], "settings": j["settings"],
                    "method": "services.flex_portfolio.portfolio_capacity per commune in view"})


@router.post("/flex/events", response_model=DispatchOut,
             openapi_extra=access("flex_write", example={"body": {
                 "event_id": "E1", **_WINDOW, "target_kw": 20, "signal": "ecowatt_red"}}),
             summary="Répartir un effacement / dispatch a demand-response event")
def post_event(body: DispatchIn, request: Request,
               who: Annotated[Principal, Depends(principal)]):
    try:
        rep, view = F.dispatch_in_view(get_store(request), who, body.event_id, body.start,
                                       body.end, body.target_kw, signal=body.signal,
                                       forecast_temp_c=body.forecast_temp_c,
                                       dry_run=body.dry_run)
    except F.NothingInScopeError as exc:
        raise ScopeDenied(403, str(exc)) from None
    except F.EventConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    except FlexError as exc:
        raise HTTPException(422, str(exc)) from None
    return DispatchOut(**_json(rep.to_json()), signal=body.signal,
                       communes_in_view=view.communes)


@router.get("/flex/events/{event_id}/settlement", response_model=SettlementOut,
            openapi_extra=access("flex_read", example={"path": {"event_id": "E1"}}),
            summary="Effacement réalisé, par compteur / settlement of an event per meter")
def settlement(event_id: str, request: Request, who: Annotated[Principal, Depends(principal)],
               method: Annotated[Literal["x_of_y", "mv"], Query(
                   description="x_of_y (X-of-Y days reference) or mv (hourly model)")
               ] = "x_of_y"):
    _visible_event(request, who, event_id)
    try:
        res = F.settle_in_view(get_store(request), who, event_id, method=method)
    except SettlementError as exc:
        raise HTTPException(422, str(exc)) from None
    if res is None:  # removed meanwhile
        raise HTTPException(404, f"no event {event_id!r}")
    return SettlementOut(event_id=event_id, method=method, asked_kw=res["asked_kw"],
                         delivered_kw=res["delivered_kw"], excluded_days=res["excluded_days"],
                         meters=_json(res["rows"]))
