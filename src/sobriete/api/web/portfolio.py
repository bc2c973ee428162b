"""``/``: the portfolio the principal may read, one row per building with the figures of
``building_status`` (computed by the daily analysis), filters, sort, map and paging."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import case, func, select

from sobriete.api.web.common import allows, page_principal, render
from sobriete.domain.access import Action, Principal
from sobriete.services.portfolio_status import STATUSES, load_status
from sobriete.services.scoped import (
    REF_COLUMNS,
    BuildingRef,
    count_building_refs,
    scope_clause,
    visible_query,
)
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page

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
    """Communes (code, name) of the scope and activities of its buildings, for the filters.
    The communes come from the commune table (a commune of the scope without a building is
    listed too): reading them out of every visible building was a third of the page's time."""
    b, c, t = S.building.c, S.commune.c, S.territory.c
    clause = scope_clause(who, Action.READ)
    q1 = (select(c.code, c.name).select_from(S.commune.join(S.territory, c.territory_id == t.id))
          .order_by(c.name))
    if clause is None:
        q2 = select(b.activity).distinct().order_by(b.activity)
    else:
        q1 = q1.where(clause)
        q2 = visible_query(who, Action.READ, b.activity).distinct().order_by(b.activity)
    return [tuple(r) for r in conn.execute(q1)], list(conn.execute(q2).scalars())


def _shown(who: Principal, commune: str, activity: str, status: str, q: str, *columns):
    """A select of ``columns`` over the visible buildings the filters keep (building status
    joined, absent for a building never computed)."""
    bs = S.building_status.c
    sel = visible_query(who, Action.READ, *columns, commune=commune or None,
                        activity=activity or None, search=q or None,
                        ).outerjoin(S.building_status, bs.building_id == S.building.c.id)
    return sel.where(bs.status == status) if status in STATUSES else sel


@router.get("/")
def portfolio(request: Request, who: Annotated[Principal, Depends(page_principal)],
              commune: str = "", activity: str = "", status: str = "", sort: str = "code",
              desc: int = 0, page: int = 1, q: str = ""):
    if not allows(who, Action.READ):  # aggregators: flexibility only
        return RedirectResponse("/flexibilite", status_code=303)
    b = S.building.c
    filters = (who, commune, activity, status, q)
    # Counted, sorted and paged in SQL; the map reads its markers from /carte.json.
    with request.app.state.store.read() as conn:
        if status in STATUSES:
            total = conn.execute(_shown(*filters, func.count(b.id))).scalar_one()
        else:  # without the status table (and without the estate's joins when unscoped)
            total = count_building_refs(conn, who, Action.READ, commune=commune or None,
                                        activity=activity or None, search=q or None)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(page, 1), pages)
        refs = [BuildingRef(**r) for r in conn.execute(one_page(
            _shown(*filters, *REF_COLUMNS).order_by(*_order(sort, bool(desc))), PAGE_SIZE,
            (page - 1) * PAGE_SIZE)).mappings()]
        status_by_id = load_status(conn, [r.id for r in refs])
        communes, activities = _options(conn, who)
    shown = [{"ref": r, "st": status_by_id.get(r.id)} for r in refs]
    params = {"commune": commune, "activity": activity, "status": status, "sort": sort,
              "desc": desc, "q": q}
    return render(request, "portfolio.html", who, rows=shown, total=total, page=page,
                  pages=pages, communes=communes, activities=activities, statuses=STATUSES,
                  params=params, markers_url=f"/carte.json?{urlencode(params)}", tiles=TILES)


@router.get("/carte.json")
def markers(request: Request, who: Annotated[Principal, Depends(page_principal)],
            commune: str = "", activity: str = "", status: str = "", q: str = "",
            sort: str = "", desc: int = 0):
    """The map of the portfolio page, over every visible building the page's filters keep
    (``sort``/``desc`` are the page's, unused): ``markers``, ``[latitude, longitude, code,
    name, status]`` of those with coordinates, and ``no_coords``, ``[code, name, commune]``
    of the others. A browser keeps it a minute: the figures change once a day."""
    if not allows(who, Action.READ):
        return JSONResponse({"markers": [], "no_coords": []}, status_code=403)
    b, bs = S.building.c, S.building_status.c
    sel = _shown(who, commune, activity, status, q, b.latitude, b.longitude, b.code, b.name,
                 bs.status, S.commune.c.name.label("commune_name"))
    with request.app.state.store.read() as conn:
        rows = conn.execute(sel.order_by(b.code)).all()
    located = [r for r in rows if r.latitude is not None and r.longitude is not None]
    return JSONResponse(
        {"markers": [[r.latitude, r.longitude, r.code, r.name, r.status or "none"]
                     for r in located],
         "no_coords": [[r.code, r.name, r.commune_name] for r in rows
                       if r.latitude is None or r.longitude is None]},
        headers={"Cache-Control": "private, max-age=60"})
