"""Heating plans and the controller's decisions of one building.

- ``GET .../plans`` and ``GET .../decisions``: the stored audit trail (``control_plan``,
  ``control_decision``), read access.
- ``POST .../plans``: a plan of the next hours computed now (``services.plan_run.make_plan``,
  advise mode: nothing is sent to the building) and appended to the trail; control access.
  Data too short or missing is a 422 naming the building, zone and series.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from sobriete.api.deps import access, authorize, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, paged
from sobriete.domain.access import Action, Principal
from sobriete.services.plan_inputs import (
    InsufficientDataError,
    PlanError,
    PlanOptions,
    UnknownBuildingError,
    ZoneChoiceError,
)
from sobriete.services.plan_run import make_plan
from sobriete.services.store.control import decisions_between, plans

router = APIRouter(tags=["control"])

_B = {"building_code": "A"}


def _plausible(t: datetime) -> datetime:
    if not 1990 <= t.year <= 2100:
        raise ValueError("give a date between 1990 and 2100")
    return t


# A time with its offset, within the years the platform handles (also used by flex, footprint)
Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


class PlanItem(BaseModel):
    plan_id: int
    zone_code: str
    kind: str = Field(description="plan (sobriete plan) | run (a control run)")
    start_utc: datetime
    horizon_steps: int
    created_at: datetime
    explanation_fr: str | None
    explanation_en: str | None
    cost_eur: float | None
    energy_kwh: float | None
    discomfort_kh: float | None = Field(description="K·h below the comfort band, occupied")
    schedule_cost_eur: float | None
    gain_vs_schedule_eur: float | None
    warnings: list[dict[str, Any]]
    provenance: dict[str, Any]


class DecisionItem(BaseModel):
    decision_id: int
    plan_id: int
    zone_code: str
    time_utc: datetime
    mode: str
    dispatch: str
    driver: str
    proposed_power_kw: float | None
    setpoint_c: float | None
    heating_power_kw: float | None
    fallback: bool
    reason_fr: str
    reason_en: str
    driver_error: str | None


class PlanIn(BaseModel):
    zone_code: str | None = Field(None, description="needed when the building has several "
                                                    "zones with a temperature sensor")
    hours: int = Field(48, ge=1, le=168)
    days: int = Field(14, ge=7, le=90, description="days of history to identify the model")
    heating_series: str | None = Field(None, description="the heating series to use; default: "
                                                         "chosen from the registry")
    max_power_kw: float | None = Field(None, gt=0, description="installed heating power; "
                                                               "default: highest observed")
    at: Moment | None = Field(None, description="plan start; default: the last zone "
                                                       "temperature reading")


class PlanOut(BaseModel):
    plan_id: int | None
    building_code: str
    zone_code: str
    start_utc: datetime
    hours: int
    explanation_fr: str
    explanation_en: str
    cost_eur: float
    energy_kwh: float
    peak_kw: float
    discomfort_kh: float
    schedule_cost_eur: float
    schedule_energy_kwh: float
    schedule_discomfort_kh: float
    gain_vs_schedule_eur: float
    status: str
    forecast: str
    warnings: list[dict[str, Any]]
    key_steps: list[dict[str, Any]]
    provenance: dict[str, Any]


def _plain(x: Any) -> Any:
    """JSON-safe copy (numpy numbers, timestamps) of a service's result."""
    return json.loads(json.dumps(x, ensure_ascii=False, default=str))


def _kw(w: float | None) -> float | None:
    return None if w is None else w / 1000


def _plan_item(r: dict) -> PlanItem:
    s = json.loads(r["summary_json"])
    p = s.get("plan") or {}
    sched = s.get("schedule") or {}
    return PlanItem(
        plan_id=r["id"], zone_code=r["zone_code"], kind=r["kind"], start_utc=r["start_utc"],
        horizon_steps=r["horizon_steps"], created_at=r["created_at"],
        explanation_fr=s.get("explanation_fr"), explanation_en=s.get("explanation_en"),
        cost_eur=p.get("cost_eur"), energy_kwh=p.get("energy_kwh"),
        discomfort_kh=p.get("discomfort_kh"), schedule_cost_eur=sched.get("cost_eur"),
        gain_vs_schedule_eur=s.get("gain_vs_schedule_eur"), warnings=s.get("warnings") or [],
        provenance=json.loads(r["provenance_json"]))


@router.get("/buildings/{building_code}/plans", response_model=Page[PlanItem],
            openapi_extra=access("read", example={"path": _B}),
            summary="Plans de chauffage enregistrés / stored heating plans")
def list_plans(building_code: str, request: Request,
               who: Annotated[Principal, Depends(principal)],
               params: Annotated[ListParams, Depends(list_params)]):
    authorize(request, who, Action.READ, building_code)
    with get_store(request).read() as conn:
        rows = plans(conn, building_code=building_code)
    return paged([_plan_item(r) for r in reversed(rows)], params, f"plans_{building_code}")


@router.get("/buildings/{building_code}/decisions", response_model=Page[DecisionItem],
            openapi_extra=access("read", example={"path": _B, "query": {
                "start": "2024-01-01T00:00:00+01:00", "end": "2024-02-01T00:00:00+01:00"}}),
            summary="Décisions du pilotage / controller decisions")
def list_decisions(building_code: str, request: Request,
                   who: Annotated[Principal, Depends(principal)],
                   params: Annotated[ListParams, Depends(list_params)],
                   start: Annotated[Moment | None, Query(
                       description="first step (with its offset)")] = None,
                   end: Annotated[Moment | None, Query(
                       description="end, excluded")] = None):
    authorize(request, who, Action.READ, building_code)
    if start is not None and end is not None and end <= start:
        raise HTTPException(422, f"end {end.isoformat()} is not after start "
                                 f"{start.isoformat()}")
    with get_store(request).read() as conn:
        rows = decisions_between(conn, building_code, start, end)
    items = [DecisionItem(
        decision_id=r["id"], plan_id=r["plan_id"], zone_code=r["zone_code"],
        time_utc=r["time_utc"], mode=r["mode"], dispatch=r["dispatch"], driver=r["driver"],
        proposed_power_kw=_kw(r["proposed_power_w"]), setpoint_c=r["setpoint_c"],
        heating_power_kw=_kw(r["heating_power_w"]), fallback=bool(r["fallback"]),
        reason_fr=r["reason_fr"], reason_en=r["reason_en"], driver_error=r["driver_error"])
        for r in rows]
    return paged(items, params, f"decisions_{building_code}")


@router.post("/buildings/{building_code}/plans", response_model=PlanOut, status_code=201,
             openapi_extra=access("control", example={"path": _B, "body": {"hours": 48}}),
             summary="Calculer un plan de chauffage maintenant / compute a heating plan now")
def post_plan(building_code: str, body: PlanIn, request: Request,
              who: Annotated[Principal, Depends(principal)]):
    authorize(request, who, Action.CONTROL, building_code)
    opts = PlanOptions(hours=body.hours, days=body.days, heating_series=body.heating_series,
                       max_power_kw=body.max_power_kw)
    try:
        r = make_plan(get_store(request), building_code, body.zone_code, at=body.at,
                      options=opts)
    except UnknownBuildingError as exc:
        raise HTTPException(404, str(exc)) from None
    except (InsufficientDataError, ZoneChoiceError) as exc:
        detail = str(exc).replace("--zone", "zone_code")  # the CLI option, here a field
        raise HTTPException(422, f"{detail} — données insuffisantes ou zone à préciser / "
                                 "not enough data or zone to choose") from None
    except (PlanError, OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise HTTPException(422, str(exc)) from None
    d = _plain(r.to_dict())
    p = d["plan"]
    return PlanOut(
        plan_id=r.plan_id, building_code=r.building_code, zone_code=r.zone_code,
        start_utc=r.start_utc, hours=r.hours, explanation_fr=d["explanation_fr"],
        explanation_en=d["explanation_en"], cost_eur=p["cost_eur"], energy_kwh=p["energy_kwh"],
        peak_kw=p["peak_kw"], discomfort_kh=p["discomfort_kh"],
        schedule_cost_eur=r.schedule_cost_eur, schedule_energy_kwh=r.schedule_energy_kwh,
        schedule_discomfort_kh=r.schedule_discomfort_kh, gain_vs_schedule_eur=r.gain_eur,
        status=str(p["status"]), forecast=r.forecast_source, warnings=d["warnings"],
        key_steps=d["key_steps"], provenance=d["provenance"])
