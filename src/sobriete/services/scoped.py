"""The buildings a principal may see: every API list and dashboard page starts here, so that
scope is applied once, in SQL, and never forgotten by a view.

``building_refs`` filters by the grants that allow the action (see ``domain.access``);
``building_ref`` gives one building with its commune and territory, for ``require``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, false, func, or_, select

from sobriete.domain.access import ALLOWED, Action, Principal, ScopeLevel
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page


@dataclass(frozen=True)
class BuildingRef:
    id: int
    code: str
    name: str
    activity: str
    floor_area_m2: float | None
    heating_system: str
    climate_zone: str
    weather_station: str | None
    latitude: float | None
    longitude: float | None
    site_code: str
    commune_code: str
    commune_name: str
    territory_code: str
    territory_name: str

    def as_dict(self) -> dict:
        # Flat fields: a shallow copy (``dataclasses.asdict`` deep-copies every value, which
        # a list of thousands of buildings pays for).
        return dict(self.__dict__)


_b, _s, _c, _t = S.building.c, S.site.c, S.commune.c, S.territory.c
# The columns of a ``BuildingRef``, for ``visible_query`` callers that page their own way.
REF_COLUMNS = (_b.id, _b.code, _b.name, _b.activity, _b.floor_area_m2, _b.heating_system,
               _b.climate_zone, _b.weather_station, _b.latitude, _b.longitude,
               _s.code.label("site_code"), _c.code.label("commune_code"),
               _c.name.label("commune_name"), _t.code.label("territory_code"),
               _t.name.label("territory_name"))


def _base():
    b, s, c, t = S.building.c, S.site.c, S.commune.c, S.territory.c
    return (select(*REF_COLUMNS)
            .select_from(S.building.join(S.site, b.site_id == s.id)
                         .join(S.commune, s.commune_id == c.id)
                         .join(S.territory, c.territory_id == t.id)))


def scope_clause(principal: Principal, action: Action | str):
    """SQL condition (on commune and territory codes) of the buildings where ``principal`` may
    do ``action``; ``false()`` when none."""
    act = Action(action)
    c, t = S.commune.c, S.territory.c
    terms = []
    for g in principal.grants:
        if act not in ALLOWED[g.role]:
            continue
        if g.scope.level is ScopeLevel.PORTFOLIO:
            return None  # everything
        terms.append(t.code == g.scope.code if g.scope.level is ScopeLevel.TERRITORY
                     else c.code == g.scope.code)
    return or_(*terms) if terms else false()


def _filtered(principal: Principal, action: Action | str, q, *, commune: str | None = None,
              territory: str | None = None, activity: str | None = None,
              search: str | None = None, ids: list[int] | None = None):
    clause = scope_clause(principal, action)
    if clause is not None:
        q = q.where(clause)
    if commune:
        q = q.where(S.commune.c.code == commune)
    if territory:
        q = q.where(S.territory.c.code == territory)
    if activity:
        q = q.where(S.building.c.activity == activity)
    if search:
        like = f"%{search.lower()}%"
        q = q.where(or_(S.building.c.code.ilike(like), S.building.c.name.ilike(like)))
    if ids is not None:
        q = q.where(S.building.c.id.in_(ids))
    return q


def visible_query(principal: Principal, action: Action | str, *columns, **filters):
    """A select of ``columns`` (of building, site, commune, territory) over the buildings
    where ``principal`` may do ``action``, with ``building_refs``' filters: for views that
    join, sort and page in SQL."""
    return _filtered(principal, action, _base().with_only_columns(*columns), **filters)


def sees_everything(principal: Principal, action: Action | str) -> bool:
    """True when a grant lets ``principal`` do ``action`` on every building: the caller may
    leave out the scope's joins (a metropolis-wide list then reads one table)."""
    return scope_clause(principal, action) is None


def visible_ids(principal: Principal, action: Action | str, *, commune: str | None = None,
                building: str | None = None):
    """A select of the ids of the buildings where ``principal`` may do ``action`` (of one
    commune, of one building code), to match rows of other tables against; None when that
    is every building: matching a table against the ids of a whole metropolis made SQLite
    walk the buildings instead of the table."""
    if sees_everything(principal, action) and commune is None and building is None:
        return None
    ids = visible_query(principal, action, S.building.c.id, commune=commune)
    return ids if building is None else ids.where(S.building.c.code == building)


def building_refs(conn: Connection, principal: Principal, action: Action | str = Action.READ,
                  *, limit: int | None = None, offset: int = 0, **filters) -> list[BuildingRef]:
    """Buildings where ``principal`` may do ``action``, optionally filtered (``commune``,
    ``territory``, ``activity``, ``search``, ``ids``), by code; ``limit``/``offset``: one page."""
    q = one_page(_filtered(principal, action, _base(), **filters).order_by(S.building.c.code),
                 limit, offset)
    return [BuildingRef(**r) for r in conn.execute(q).mappings()]


def count_building_refs(conn: Connection, principal: Principal,
                        action: Action | str = Action.READ, **filters) -> int:
    """How many buildings ``building_refs`` lists with the same filters (without a page)."""
    if (sees_everything(principal, action) and not filters.get("commune")
            and not filters.get("territory")):
        # Nothing to filter on site, commune or territory: the building table alone. The
        # joins cannot change the count (every foreign key on the way is NOT NULL), and
        # counting 5,000 joined rows was a millisecond of each page of a metropolis list.
        base = select(func.count(S.building.c.id)).select_from(S.building)
    else:
        base = _base().with_only_columns(func.count(S.building.c.id))
    return conn.execute(_filtered(principal, action, base, **filters)).scalar_one()


def building_ref(conn: Connection, code: str) -> BuildingRef | None:
    r = conn.execute(_base().where(S.building.c.code == code)).mappings().first()
    return None if r is None else BuildingRef(**r)
