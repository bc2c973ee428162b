"""The estate as the API shows it: what a principal may see, counted and listed with the
scope applied in SQL (``services.scoped``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from sobriete.domain.access import Action, Principal
from sobriete.services.scoped import BuildingRef, building_refs, scope_clause
from sobriete.services.store.estate import commune_rows, count_communes, portfolio_row
from sobriete.services.store.readings import building_series, series_span


def visible_buildings(conn: Connection, who: Principal, action: Action | str = Action.READ,
                      **filters) -> list[BuildingRef]:
    return building_refs(conn, who, action, **filters)


def communes(conn: Connection, who: Principal, action: Action | str = Action.READ, *,
             territory: str | None = None, limit: int | None = None, offset: int = 0
             ) -> tuple[int, list[dict]]:
    """The visible communes (of one territory), one page of them when ``limit`` is given,
    with how many there are in all."""
    where = scope_clause(who, action)
    rows = commune_rows(conn, where, territory=territory, limit=limit, offset=offset)
    total = len(rows) if limit is None else count_communes(conn, where, territory=territory)
    return total, rows


def territories(conn: Connection, who: Principal, action: Action | str = Action.READ
                ) -> list[dict]:
    """Territories with at least one visible commune; counts are of the visible part only
    (a commune-level grant sees one commune of its territory, not the others)."""
    out: dict[str, dict] = {}
    _, visible = communes(conn, who, action)
    for c in visible:
        t = out.setdefault(c["territory_code"], {
            "territory_code": c["territory_code"], "territory_name": c["territory_name"],
            "n_communes": 0, "n_buildings": 0})
        t["n_communes"] += 1
        t["n_buildings"] += c["n_buildings"]
    return [out[k] for k in sorted(out)]


def portfolio_summary(conn: Connection, who: Principal) -> dict:
    pf = portfolio_row(conn) or {"code": None, "name": None}
    _, cs = communes(conn, who)
    return {**pf, "n_territories": len({c["territory_code"] for c in cs}),
            "n_communes": len(cs), "n_buildings": sum(c["n_buildings"] for c in cs)}


def building_doc(ref: BuildingRef) -> dict:
    doc = ref.as_dict()
    doc["building_code"] = doc.pop("code")
    doc.pop("id")
    return doc


def _iso(s: int | None) -> str | None:
    return None if s is None else datetime.fromtimestamp(s, UTC).isoformat()


def series_of(conn: Connection, building_id: int) -> list[dict]:
    """Meters and sensors of a building with how many readings they hold and over when."""
    out = []
    for s in building_series(conn, building_id):
        key = s.pop("key")
        span = series_span(conn, key, s["quantity"])
        out.append({**s, "series_key": key, "n_readings": span[0] if span else 0,
                    "first_start": _iso(span[1]) if span else None,
                    "last_start": _iso(span[2]) if span else None})
    return out
