"""``/batiments/{building_code}``: one building's curves, findings with their evidence,
actions with estimated and realised savings (and the status form for who may write), heating
plan and comfort, data quality. Outside the principal's scope: the 404 page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from sobriete.advice.catalogue import get_action
from sobriete.api.deps import ScopeDenied, authorize
from sobriete.api.web.common import NotVisible, page_principal, principal_for_form, render
from sobriete.domain.access import Action, Principal, can
from sobriete.domain.errors import SobrieteError
from sobriete.services.actions_run import mark_action, measure_realised
from sobriete.services.building_view import building_view
from sobriete.services.portfolio_status import load_status
from sobriete.services.store.actions import load_recommendations, load_tracked
from sobriete.services.store.findings import load_findings

router = APIRouter()
STATUSES = ("to_do", "in_progress", "done")


def action_name(code: str, lang: str) -> str:
    try:
        spec = get_action(code)
    except SobrieteError:
        return code
    return spec.name_fr if lang == "fr" else spec.name_en


def _ref(request: Request, who: Principal, action: Action, code: str):
    try:
        return authorize(request, who, action, code)
    except ScopeDenied as exc:
        raise NotVisible(exc.status_code) from None


def actions_of(conn, code: str) -> list[dict]:
    """Recommendations (ranked) merged with tracked actions (a tracked action no longer
    recommended stays listed)."""
    recs = {r.rec.action_code: r for r in load_recommendations(conn, building=code)}
    tracked = {t.action_code: t for t in load_tracked(conn, building=code)}
    codes = list(recs) + [c for c in tracked if c not in recs]
    return [{"code": c, "rec": recs[c].rec if c in recs else None, "tracked": tracked.get(c)}
            for c in codes]


@router.get("/batiments/{building_code}")
def building_page(request: Request, building_code: str,
                  who: Annotated[Principal, Depends(page_principal)],
                  start: date | None = None, end: date | None = None, msg: str = ""):
    ref = _ref(request, who, Action.READ, building_code)
    store = request.app.state.store
    error = None
    try:
        view = building_view(store, ref, start=start, end=end)
    except SobrieteError as exc:
        view, error = building_view(store, ref), str(exc)
    with store.read() as conn:
        status = load_status(conn, [ref.id]).get(ref.id)
        findings = load_findings(conn, building=building_code)
        actions = actions_of(conn, building_code)
    year_start = view["window"]["end"] - timedelta(days=364) if view["window"] else None
    return render(request, "building.html", who, ref=ref, view=view, st=status,
                  year_start=year_start,
                  findings=findings, actions=actions, statuses=STATUSES, error=error, msg=msg,
                  can_write=can(who, Action.WRITE, ref.commune_code, ref.territory_code),
                  action_name=action_name, today=date.today())


@router.post("/batiments/{building_code}/actions/{action_code}")
def set_action(request: Request, building_code: str, action_code: str,
               who: Annotated[Principal, Depends(principal_for_form)],
               status: Annotated[str, Form()], done_date: Annotated[str, Form()] = "",
               note: Annotated[str, Form()] = ""):
    _ref(request, who, Action.WRITE, building_code)
    back = request.headers.get("referer", "")
    target = "/actions" if back.endswith("/actions") else f"/batiments/{building_code}"
    store = request.app.state.store
    try:
        mark_action(store, building_code, action_code, status,
                    done_date=date.fromisoformat(done_date) if done_date else None,
                    note=note or None)
    except (SobrieteError, ValueError) as exc:
        return RedirectResponse(f"{target}?msg=err:{_short(exc)}#actions", status_code=303)
    jobs = getattr(request.app.state, "jobs", None)
    if status == "done" and jobs is not None:
        # the realised saving needs a baseline fit: in the background, stored with the action
        # (a failure, e.g. too little data after the date, is the job's message)
        def measure(progress):
            progress(0, 1, f"mesure de {action_code} ({building_code})")
            t = measure_realised(store, building_code, action_code)
            progress(1, 1, "mesure terminée")
            return {"building_code": building_code, "action_code": action_code,
                    "realised": (t.realised or {}).get("total")}
        jobs.submit("realised_savings", who.account_id, measure,
                    label=f"économies réalisées {building_code} {action_code}")
        return RedirectResponse(f"{target}?msg=measuring#actions", status_code=303)
    return RedirectResponse(f"{target}?msg=ok#actions", status_code=303)


def _short(exc: Exception) -> str:
    from urllib.parse import quote
    return quote(str(exc)[:200])
