"""``/actions`` (board in three columns), ``/flexibilite`` (events, capacity per commune,
allocations; the only page of aggregators) and ``/empreinte`` (the platform's own computing
footprint against the savings it measured). Every query is limited to the principal's scope
in SQL (``services.scoped.scope_clause``)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from sobriete.api.web.building import action_name
from sobriete.api.web.common import allows, page_principal, render
from sobriete.api.web.i18n import lang_of
from sobriete.domain.access import Action, Principal, can
from sobriete.services.scoped import scope_clause
from sobriete.services.store import schema as S

router = APIRouter()
COLUMN_LIMIT = 200  # cards per column; the count says how many more there are
b, c, t = S.building.c, S.commune.c, S.territory.c


def _estate():
    return (S.building.join(S.site, b.site_id == S.site.c.id)
            .join(S.commune, S.site.c.commune_id == c.id)
            .join(S.territory, c.territory_id == t.id))


def _scoped(q, who: Principal, action: Action):
    clause = scope_clause(who, action)
    return q if clause is None else q.where(clause)


def _realised_kwh(doc: dict | None) -> dict | None:
    return ((doc or {}).get("total") or {}).get("kwh_per_year")


@router.get("/actions")
def board(request: Request, who: Annotated[Principal, Depends(page_principal)]):
    if not allows(who, Action.READ):
        return RedirectResponse("/flexibilite", status_code=303)
    ta, rec = S.tracked_action.c, S.recommendation.c
    lang = lang_of(request)
    with request.app.state.store.read() as conn:
        tracked = conn.execute(_scoped(
            select(ta.action_code, ta.status, ta.done_date, ta.estimated_json, ta.realised_json,
                   ta.note, b.code.label("building_code"), b.name.label("building_name"),
                   c.code.label("commune_code"), t.code.label("territory_code"))
            .select_from(S.tracked_action.join(_estate(), ta.building_id == b.id))
            .order_by(ta.updated_at.desc()), who, Action.READ)).mappings().all()
        seen = {(r["building_code"], r["action_code"]) for r in tracked}
        recs = conn.execute(_scoped(
            select(rec.action_code, rec.doc_json, b.code.label("building_code"),
                   b.name.label("building_name"), c.code.label("commune_code"),
                   t.code.label("territory_code"))
            .select_from(S.recommendation.join(_estate(), rec.building_id == b.id))
            .where(rec.rank <= 3).order_by(rec.rank, b.code).limit(COLUMN_LIMIT * 2),
            who, Action.READ)).mappings().all()
    cols: dict[str, list] = {"to_do": [], "in_progress": [], "done": []}
    for r in tracked:
        est = json.loads(r["estimated_json"]) if r["estimated_json"] else None
        cols[r["status"]].append({**r, "estimated": est,
                                  "realised": _realised_kwh(json.loads(r["realised_json"])
                                                            if r["realised_json"] else None)})
    for r in recs:
        if (r["building_code"], r["action_code"]) not in seen:
            cols["to_do"].append({**r, "status": "to_do", "estimated": json.loads(r["doc_json"]),
                                  "realised": None, "recommended_only": True})
    counts = {k: len(v) for k, v in cols.items()}
    cols = {k: v[:COLUMN_LIMIT] for k, v in cols.items()}
    for v in cols.values():
        for card in v:
            card["name"] = action_name(card["action_code"], lang)
            card["can_write"] = can(who, Action.WRITE, card["commune_code"],
                                    card["territory_code"])
    measured = [x["realised"]["value"] for x in cols["done"] if x["realised"]]
    total_realised = sum(measured) if measured else None
    return render(request, "actions.html", who, cols=cols, counts=counts,
                  total_realised=total_realised, limit=COLUMN_LIMIT)


@router.get("/flexibilite")
def flex(request: Request, who: Annotated[Principal, Depends(page_principal)]):
    if not allows(who, Action.FLEX_READ):
        return RedirectResponse("/", status_code=303)
    fa, fe = S.flex_allocation.c, S.flex_event.c
    with request.app.state.store.read() as conn:
        rows = conn.execute(_scoped(
            select(fe.event_id, fe.start_utc, fe.end_utc, fe.request_kw, fe.served_kw,
                   fe.unmet_kw, fe.jain_before, fe.jain_after, fa.capacity_kw, fa.allocated_kw,
                   fa.shed_kwh, fa.discomfort_kh, fa.rebound_kwh, fa.method, fa.confidence,
                   b.code.label("building_code"), b.name.label("building_name"),
                   c.code.label("commune_code"), c.name.label("commune_name"))
            .select_from(S.flex_allocation.join(S.flex_event, fa.event_id == fe.id)
                         .join(_estate(), fa.building_id == b.id))
            .order_by(fe.start_utc.desc(), b.code).limit(5000), who, Action.FLEX_READ)
        ).mappings().all()
    events: dict[str, dict] = {}
    for r in rows:
        e = events.setdefault(r["event_id"], {k: r[k] for k in (
            "event_id", "start_utc", "end_utc", "request_kw", "served_kw", "unmet_kw",
            "jain_before", "jain_after")} | {"allocations": [], "communes": {}})
        e["allocations"].append(r)
        cm = e["communes"].setdefault(r["commune_code"], {
            "name": r["commune_name"], "capacity_kw": 0.0, "allocated_kw": 0.0,
            "shed_kwh": 0.0, "buildings": 0})
        cm["capacity_kw"] += r["capacity_kw"]
        cm["allocated_kw"] += r["allocated_kw"]
        cm["shed_kwh"] += r["shed_kwh"]
        cm["buildings"] += 1
    return render(request, "flex.html", who, events=list(events.values()))


@router.get("/empreinte")
def footprint(request: Request, who: Annotated[Principal, Depends(page_principal)]):
    if not allows(who, Action.READ):
        return RedirectResponse("/flexibilite", status_code=303)
    jf, sr, s, ta = (S.job_footprint.c, S.savings_result.c, S.series.c, S.tracked_action.c)
    with request.app.state.store.read() as conn:
        jobs = conn.execute(select(jf.job, func.count().label("n"),
                                   func.sum(jf.wall_s).label("wall_s"),
                                   func.sum(jf.cpu_s).label("cpu_s"),
                                   func.sum(jf.energy_wh).label("energy_wh"),
                                   func.sum(jf.co2_g).label("co2_g"),
                                   func.max(jf.method).label("method"))
                            .group_by(jf.job).order_by(func.sum(jf.energy_wh).desc())
                            ).mappings().all()
        mv = conn.execute(_scoped(
            select(func.count().label("n"), func.sum(sr.savings_kwh).label("kwh"))
            .select_from(S.savings_result.join(S.series, sr.series_id == s.id)
                         .join(_estate(), s.building_id == b.id))
            .where(sr.savings_kwh.is_not(None)), who, Action.READ)).mappings().first()
        done = conn.execute(_scoped(
            select(ta.realised_json).select_from(S.tracked_action.join(
                _estate(), ta.building_id == b.id))
            .where(ta.status == "done", ta.realised_json.is_not(None)), who, Action.READ)
        ).scalars().all()
    actions_kwh = (sum((_realised_kwh(json.loads(x)) or {}).get("value", 0.0) for x in done)
                   if done else None)
    energy_wh = sum(j["energy_wh"] or 0.0 for j in jobs)
    return render(request, "footprint.html", who, jobs=jobs, energy_wh=energy_wh,
                  co2_g=sum(j["co2_g"] or 0.0 for j in jobs), mv=mv, n_done=len(done),
                  actions_kwh=actions_kwh)
