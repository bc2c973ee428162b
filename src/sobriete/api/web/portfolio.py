"""``/``: the portfolio the principal may read, one row per building with the figures of
``building_status`` (computed by the daily analysis), filters, sort, map and paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import case, func, select

from sobriete.api.web.common import allows, page_principal, render
from sobriete.domain.access import Action, Principal
from sobriete.services.portfolio_status import STATUSES, load_status
from sobriete.services.scoped import building_refs, scope_clause, visible_query
from sobriete.services.store import schema as S

router = APIRouter()
PAGE_SIZE = 50
# The map's background; offline, the markers still show over an empty background.
TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
STATUS_ORDER = ("alert", "watch", "no_data", "ok")  # then buildings never computed


def _order(sort: str, desc: bool) -> list:
    """SQL ordering of the list: numbers with the buildings lacking one last (first when
    descending), ties by code."""
    b, c, bs = S.building.c, S.commune.c, S.building_status.c
    numbers = {"kwh_m2": bs.kwh_per_m2, "kwh_m2_dd": bs.kwh_per_m2_per_dd,
               "trend": bs.trend_pct, "findings": bs.open_findings}
    if sort in numbers:
        keys = [numbers[sort].is_(None), numbers[sort], b.code]
    elif sort == "name":
        keys = [func.lower(b.name), b.code]
    elif sort == "commune":
        keys = [c.name, b.code]
    elif sort == "status":
        keys = [case({s: i for i, s in enumerate(STATUS_ORDER)}, value=bs.status,
                     else_=len(STATUS_ORDER)), b.code]
    else:
        keys = [b.code]
    return [k.desc() for k in keys] if desc else keys


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
    b, bs = S.building.c, S.building_status.c
    store = request.app.state.store
    # Filtered, sorted and paged in SQL; the map gets every visible building, few columns.
    light = visible_query(
        who, Action.READ, b.id, b.code, b.name, b.latitude, b.longitude,
        S.commune.c.name.label("commune_name"), bs.status, commune=commune or None,
        activity=activity or None, search=q or None,
    ).outerjoin(S.building_status, bs.building_id == b.id)
    if status in STATUSES:
        light = light.where(bs.status == status)
    with store.engine.connect() as conn:
        listed = conn.execute(light.order_by(*_order(sort, bool(desc)))).all()
        total = len(listed)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 1), pages)
        ids = [r.id for r in listed[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
        refs = {r.id: r for r in building_refs(conn, who, Action.READ, ids=ids)}
        status_by_id = load_status(conn, ids)
        communes, activities = _options(conn, who)
    shown = [{"ref": refs[i], "st": status_by_id.get(i)} for i in ids]
    markers = [[r.latitude, r.longitude, r.code, r.name, r.status or "none"]
               for r in listed if r.latitude is not None and r.longitude is not None]
    no_coords = [r for r in listed if r.latitude is None or r.longitude is None]
    params = {"commune": commune, "activity": activity, "status": status, "sort": sort,
              "desc": desc, "q": q}
    return render(request, "portfolio.html", who, rows=shown, total=total, page=page,
                  pages=pages, markers=markers, no_coords=no_coords, communes=communes,
                  activities=activities, statuses=STATUSES, params=params, tiles=TILES)
