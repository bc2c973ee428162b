"""API routes: my alert preferences and e-mail address, and the alerts I was sent.

Preferences are one mode per kind (``immediate``, ``digest`` or ``off``); a kind never set
keeps its default (``services.alerts.DEFAULT_MODES``). Alerts listed are those recorded for
me, still restricted to buildings my grants let me see today.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field

from sobriete.api.deps import access, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, paged
from sobriete.domain.access import AccessError, Principal
from sobriete.services import accounts as A
from sobriete.services import alerts as AL
from sobriete.services.store.accounts import account_by_id

router = APIRouter(tags=["alerts"])
Who = Annotated[Principal, Depends(principal)]
Mode = Literal["immediate", "digest", "off"]
Kind = Literal["finding", "comfort", "flex_event", "data_outage"]
Lang = Literal["fr", "en"]


class AlertPrefsOut(BaseModel):
    email: str | None = Field(description="adresse où partent les alertes (None : aucune)")
    lang: Lang = Field(description="langue des e-mails / language of the e-mails")
    preferences: dict[Kind, Mode]
    defaults: dict[Kind, Mode]
    smtp_configured: bool  # False: nothing is e-mailed, alerts are only listed here


class AlertPrefsIn(BaseModel):
    email: str | None = Field(None, description="nouvelle adresse (null : ne plus rien "
                                                "recevoir) ; absent : inchangée")
    lang: Lang | None = Field(None, description="fr ou en ; absent : inchangée")
    preferences: dict[Kind, Mode] = Field(default_factory=dict)


class AlertOut(BaseModel):
    kind: Kind
    event_key: str
    building_code: str
    building_name: str
    sent_at: AwareDatetime
    channel: str  # immediate | digest | dashboard (no SMTP server configured)


def _prefs(request: Request, who: Principal) -> AlertPrefsOut:
    store = get_store(request)
    with store.read() as conn:
        acc = account_by_id(conn, who.account_id)
    return AlertPrefsOut(email=acc.email if acc else None, lang=acc.lang if acc else "fr",
                         preferences=AL.preferences(store, who.account_id),
                         defaults=AL.DEFAULT_MODES,
                         smtp_configured=bool(request.app.state.settings.smtp_host))


@router.get("/me/alerts", response_model=AlertPrefsOut, openapi_extra=access("read"),
            summary="Mes préférences d'alerte / my alert preferences")
def get_my_alerts(request: Request, who: Who) -> AlertPrefsOut:
    return _prefs(request, who)


@router.put("/me/alerts", response_model=AlertPrefsOut, openapi_extra=access("read", example={
                "body": {"lang": "en",
                         "preferences": {"finding": "digest", "comfort": "immediate"}}}),
            summary="Changer mes préférences d'alerte / change my alert preferences")
def put_my_alerts(body: AlertPrefsIn, request: Request, who: Who) -> AlertPrefsOut:
    store = get_store(request)
    if "email" in body.model_fields_set:
        try:
            A.set_email(store, who.account_id, body.email)
        except AccessError as exc:
            raise HTTPException(422, f"{exc}: give an address such as "
                                     "prenom.nom@mairie.fr, or null for none") from None
    if body.lang is not None:
        A.set_lang(store, who.account_id, body.lang)
    AL.set_preferences(store, who.account_id, dict(body.preferences))
    return _prefs(request, who)


@router.get("/alerts/recent", response_model=Page[AlertOut],
            openapi_extra=access("flex_read", example={"query": {"limit": 20}}),
            summary="Alertes qui m'ont été envoyées / alerts sent to me")
async def recent_alerts(request: Request, who: Who,
                        params: Annotated[ListParams, Depends(list_params)]):
    rows = await run_in_threadpool(AL.recent, get_store(request), who, limit=1000)
    return paged([AlertOut(**r) for r in rows], params, "alertes")
