"""``/``: the portfolio the principal may read, one row per building with the figures of
``building_status`` (computed by the daily analysis), filters, sort, map and paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from sobriete.api.web.common import allows, page_principal, render
from sobriete.domain.access import Action, Principal
from sobriete.services.portfolio_status import STATUSES, load_status
from sobriete.services.scoped import building_refs, scope_clause
from sobriete.services.store import schema as S

router = APIRouter()
PAGE_SIZE = 50
# The map's background; offline, the markers still show over an empty background.
TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
SORTS = {
    "code": lambda r: (r["ref"].code,),
    "name": lambda r: (r["ref"].name.lower(),),
    "commune": lambda r: (r["ref"].commune_name, r["ref"].code),
    "kwh_m2": lambda r: _num(r, "kwh_per_m2"),
    "kwh_m2_dd": lambda r: _num(r, "kwh_per_m2_per_dd"),
    "trend": lambda r: _num(r, "trend_pct"),
    "findings": lambda r: _num(r, "open_findings"),
    "status": lambda r: (["alert", "watch", "no_data", "ok"].index(r["st"]["status"])
                         if r["st"] else 4, r["ref"].code),
}


def _num(r: dict, field: str) -> tuple:
    v = r["st"].get(field) if r["st"] else None
    return (v is None, v if v is not None else 0.0, r["ref"].code)


def _options(conn, who: Principal) -> tuple[list[tuple[str, str]], list[str]]:
    """Communes (code, name) and activities among the visible buildings, for the filters."""
    b, c = S.building.c, S.commune.c
    base = (S.building.join(S.site, b.site_id == S.site.c.id)
            .join(S.commune, S.site.c.commune_id == c.id)
            .join(S.territory, c.territory_id == S.territory.c.id))
    clause = scope_clause(who, Action.READ)
    q1 = select(c.code, c.name).select_from(base).distinct().order_by(c.name)
    q2 = select(b.activity).select_from(base).distinct().order_by(b.activity)
    if clause is not None:
        q1, q2 = q1.where(clause), q2.where(clause)
    return [tuple(r) for r in conn.execute(q1)], [r[0] for r in conn.execute(q2)]


@router.get("/")
def portfolio(request: Request, who: Annotated[Principal, Depends(page_principal)],
              commune: str = "", activity: str = "", status: str = "", sort: str = "code",
              desc: int = 0, page: int = 1, q: str = ""):
    if not allows(who, Action.READ):  # aggregators: flexibility only
        return RedirectResponse("/flexibilite", status_code=303)
    store = request.app.state.store
    with store.engine.connect() as conn:
        refs = building_refs(conn, who, Action.READ, commune=commune or None,
                             activity=activity or None, search=q or None)
        status_by_id = load_status(conn, [r.id for r in refs])
        communes, activities = _options(conn, who)
    rows = [{"ref": r, "st": status_by_id.get(r.id)} for r in refs]
    if status in STATUSES:
        rows = [r for r in rows if r["st"] and r["st"]["status"] == status]
    rows.sort(key=SORTS.get(sort, SORTS["code"]), reverse=bool(desc))
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    markers = [[r["ref"].latitude, r["ref"].longitude, r["ref"].code, r["ref"].name,
                r["st"]["status"] if r["st"] else "none"]
               for r in rows if r["ref"].latitude is not None and r["ref"].longitude is not None]
    no_coords = [r["ref"] for r in rows if r["ref"].latitude is None or r["ref"].longitude is None]
    params = {"commune": commune, "activity": activity, "status": status, "sort": sort,
              "desc": desc, "q": q}
    return render(request, "portfolio.html", who, rows=shown, total=total, page=page,
                  pages=pages, markers=markers, no_coords=no_coords, communes=communes,
                  activities=activities, statuses=STATUSES, params=params, tiles=TILES)
