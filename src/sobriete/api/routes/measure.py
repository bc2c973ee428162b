"""API routes: recommendations, tracked actions (à faire / en cours / fait) and the stored
measurement & verification results (baselines and savings) of a building.

Nothing here recomputes a model: baselines and savings are what the M&V runs stored, with
the run settings and model documents they came from; recommendations are the latest advice
run's. Marking an action goes through ``services.actions_run.mark_action`` (the estimate of
the day is kept with it for the realised-vs-estimated comparison).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Select

from sobriete.api.deps import access, authorize, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, paged, read_page
from sobriete.domain.access import Action, Principal
from sobriete.services import api_measure as M
from sobriete.services.actions_run import ActionError, mark_action
from sobriete.services.scoped import visible_ids
from sobriete.services.store.actions import (
    StoredRecommendation,
    TrackedAction,
    load_recommendations,
    load_tracked_of,
)

router = APIRouter(tags=["actions, M&V"])
Who = Annotated[Principal, Depends(principal)]
Params = Annotated[ListParams, Depends(list_params)]
ActionStatus = Literal["to_do", "in_progress", "done"]
EX_B = {"path": {"building_code": "A"}}


class TrackedOut(BaseModel):
    building_code: str
    action_code: str
    status: str  # to_do | in_progress | done
    done_date: date | None
    note: str | None
    updated_at: AwareDatetime
    estimated: dict[str, Any] | None  # the recommendation when the action was marked
    realised: dict[str, Any] | None  # measured savings (IPMVP option C) with uncertainty


class RecommendationOut(BaseModel):
    building_code: str
    rank: int  # 1 = best € saved per € spent within the building
    action_code: str
    action_type: str
    kwh_per_year: float
    eur_per_year: float
    kgco2e_per_year: float
    cost_eur: float
    net_cost_eur: float  # minus the CEE value
    payback_years: float | None
    eur_saved_per_eur_spent: float
    message_fr: str
    message_en: str
    finding_keys: list[str]
    warnings: list[str]
    detail: dict[str, Any]  # intervals, parts, CEE, basis: every number and its source
    diagnosis_run_id: int | None


class ActionStatusIn(BaseModel):
    status: ActionStatus
    note: str | None = Field(default=None, max_length=2000)
    done_date: date | None = Field(default=None, description="obligatoire pour 'done'")


class BaselineOut(BaseModel):
    fit_id: int
    run_id: int
    run_status: str
    series_key: str
    quantity: str
    status: str  # ok | failed
    model: str | None
    model_version: str | None
    frequency: str | None
    baseline_start: date | None
    baseline_end: date | None
    disqualified: bool | None
    error: str | None
    created_at: AwareDatetime
    settings: dict[str, Any]  # the run's settings (baseline window, frequency)
    result: dict[str, Any] | None  # parameters, fit metrics, warnings, timings


class SavingsOut(BaseModel):
    savings_id: int
    run_id: int
    fit_id: int
    series_key: str
    quantity: str
    reporting_start: date
    reporting_end: date
    savings_kwh: float | None
    uncertainty_kwh: float | None
    model: str | None
    baseline_start: date | None
    baseline_end: date | None
    created_at: AwareDatetime
    settings: dict[str, Any]
    result: dict[str, Any]  # avoided energy, interval, events, CO2 and € with their factors


def _tracked(t: TrackedAction) -> TrackedOut:
    return TrackedOut(building_code=t.building_code, action_code=t.action_code,
                      status=t.status, done_date=t.done_date, note=t.note,
                      updated_at=t.updated_at, estimated=M.finite(t.estimated),
                      realised=M.finite(t.realised))


def _rec(code: str, s: StoredRecommendation) -> RecommendationOut:
    r = s.rec
    return RecommendationOut(
        building_code=code, rank=s.rank, action_code=r.action_code,
        action_type=str(getattr(r.action_type, "value", r.action_type)),
        kwh_per_year=r.kwh_per_year.value, eur_per_year=r.eur_per_year.value,
        kgco2e_per_year=r.co2_kg_per_year.value, cost_eur=r.cost_eur.value,
        net_cost_eur=r.net_cost_eur, payback_years=M.finite(r.payback_years),
        eur_saved_per_eur_spent=r.eur_saved_per_eur_spent, message_fr=r.message_fr,
        message_en=r.message_en, finding_keys=list(r.finding_keys), warnings=list(r.warnings),
        detail=M.finite(r.model_dump(mode="json")), diagnosis_run_id=s.diagnosis_run_id)


def _tracked_page(request: Request, building_ids: Select | None, status: str | None,
                  params: ListParams, name: str):
    def read(limit: int | None, offset: int) -> tuple[int, list[TrackedOut]]:
        with get_store(request).read() as conn:
            total, found = load_tracked_of(conn, building_ids, status=status, limit=limit,
                                           offset=offset)
        return total, [_tracked(t) for t in found]

    return read_page(params, read, name)


@router.get("/actions", response_model=Page[TrackedOut],
            openapi_extra=access("read", example={"query": {"status": "in_progress"}}),
            summary="Actions suivies / tracked actions")
def actions(request: Request, who: Who, params: Params,
            status: ActionStatus | None = None,
            commune: Annotated[str | None, Query(max_length=64)] = None,
            building: Annotated[str | None, Query(max_length=64)] = None):
    visible = visible_ids(who, Action.READ, commune=commune, building=building)
    return _tracked_page(request, visible, status, params, "actions")


@router.get("/buildings/{building_code}/actions", response_model=Page[TrackedOut],
            openapi_extra=access("read", example=EX_B),
            summary="Actions suivies d'un bâtiment / tracked actions of a building")
def building_actions(building_code: str, request: Request, who: Who, params: Params,
                     status: ActionStatus | None = None):
    authorize(request, who, Action.READ, building_code)
    one = visible_ids(who, Action.READ, building=building_code)
    return _tracked_page(request, one, status, params, f"actions-{building_code}")


@router.get("/buildings/{building_code}/recommendations",
            response_model=Page[RecommendationOut], openapi_extra=access("read", example=EX_B),
            summary="Actions recommandées / recommended actions (€ économisés par € dépensé)")
def recommendations(building_code: str, request: Request, who: Who, params: Params):
    authorize(request, who, Action.READ, building_code)
    with get_store(request).read() as conn:
        rows = [_rec(building_code, s) for s in load_recommendations(conn,
                                                                     building=building_code)]
    return paged(rows, params, f"recommandations-{building_code}")


@router.post("/buildings/{building_code}/actions/{action_code}/status",
             response_model=TrackedOut,
             openapi_extra=access("write", example={
                 "path": {"building_code": "A", "action_code": "schedule_fix"},
                 "body": {"status": "in_progress", "note": "programmation GTB"}}),
             summary="Changer l'état d'une action / set an action's status")
def action_status(building_code: str, action_code: str, body: ActionStatusIn,
                  request: Request, who: Who) -> TrackedOut:
    authorize(request, who, Action.WRITE, building_code)
    try:
        t = mark_action(get_store(request), building_code, action_code, body.status,
                        done_date=body.done_date, note=body.note)
    except ActionError as exc:
        raise HTTPException(422, str(exc)) from None
    return _tracked(t)


@router.get("/buildings/{building_code}/baselines", response_model=Page[BaselineOut],
            openapi_extra=access("read", example=EX_B),
            summary="Modèles de référence / fitted baselines (M&V)")
def baselines(building_code: str, request: Request, who: Who, params: Params):
    ref = authorize(request, who, Action.READ, building_code)
    with get_store(request).read() as conn:
        rows = [BaselineOut(**b) for b in M.baselines(conn, ref.id)]
    return paged(rows, params, f"references-{building_code}")


@router.get("/buildings/{building_code}/savings", response_model=Page[SavingsOut],
            openapi_extra=access("read", example=EX_B),
            summary="Économies mesurées / measured savings (IPMVP option C)")
def savings(building_code: str, request: Request, who: Who, params: Params):
    ref = authorize(request, who, Action.READ, building_code)
    with get_store(request).read() as conn:
        rows = [SavingsOut(**s) for s in M.savings(conn, ref.id)]
    return paged(rows, params, f"economies-{building_code}")

