"""The buildings a principal may see: every API list and dashboard page starts here, so that
scope is applied once, in SQL, and never forgotten by a view.

``building_refs`` filters by the grants that allow the action (see ``domain.access``);
``building_ref`` gives one building with its commune and territory, for ``require``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection, false, or_, select

from sobriete.domain.access import ALLOWED, Action, Principal, ScopeLevel
from sobriete.services.store import schema as S


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
        return asdict(self)


def _base():
    b, s, c, t = S.building.c, S.site.c, S.commune.c, S.territory.c
    return (select(b.id, b.code, b.name, b.activity, b.floor_area_m2, b.heating_system,
                   b.climate_zone, b.weather_station, b.latitude, b.longitude,
                   s.code.label("site_code"), c.code.label("commune_code"),
                   c.name.label("commune_name"), t.code.label("territory_code"),
                   t.name.label("territory_name"))
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


def building_refs(conn: Connection, principal: Principal, action: Action | str = Action.READ,
                  *, commune: str | None = None, territory: str | None = None,
                  activity: str | None = None, search: str | None = None,
                  ) -> list[BuildingRef]:
    """Buildings where ``principal`` may do ``action``, optionally filtered, by code."""
    q = _base()
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
    return [BuildingRef(**r) for r in conn.execute(q.order_by(S.building.c.code)).mappings()]


def building_ref(conn: Connection, code: str) -> BuildingRef | None:
    r = conn.execute(_base().where(S.building.c.code == code)).mappings().first()
    return None if r is None else BuildingRef(**r)
