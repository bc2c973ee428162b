"""Saving and loading the estate (portfolio -> ... -> meters). Codes are the keys: saving the
same registry twice updates rows in place and creates nothing new."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, func, select, update

from sobriete.domain.portfolio import (
    Building,
    Commune,
    Meter,
    OccupancyCalendar,
    Portfolio,
    Sensor,
    Site,
    Territory,
    Zone,
)
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page


@dataclass
class EstateCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _upsert(conn: Connection, table: Table, where: dict, values: dict, counts: EstateCounts):
    cond = [table.c[k] == v for k, v in where.items()]
    row = conn.execute(select(table).where(*cond)).mappings().first()
    if row is None:
        res = conn.execute(table.insert().values(**where, **values))
        counts.created += 1
        return res.inserted_primary_key[0]
    if any(row[k] != v for k, v in values.items()):
        conn.execute(table.update().where(*cond).values(**values))
        counts.updated += 1
    else:
        counts.unchanged += 1
    return row["id"]


def save_portfolio(conn: Connection, pf: Portfolio) -> EstateCounts:
    """Upsert the whole estate by codes inside the caller's transaction."""
    n = EstateCounts()
    pid = _upsert(conn, S.portfolio, {"code": pf.code}, {"name": pf.name}, n)
    for t in pf.territories:
        tid = _upsert(conn, S.territory, {"code": t.code},
                      {"portfolio_id": pid, "name": t.name}, n)
        for c in t.communes:
            cid = _upsert(conn, S.commune, {"code": c.code},
                          {"territory_id": tid, "name": c.name}, n)
            for s in c.sites:
                sid = _upsert(conn, S.site, {"code": s.code},
                              {"commune_id": cid, "name": s.name}, n)
                for b in s.buildings:
                    _save_building(conn, sid, b, n)
    count_buildings(conn)
    return n


def count_buildings(conn: Connection) -> None:
    """Count again the buildings of every commune (``commune.n_buildings``), in the caller's
    transaction: an import may add buildings or move one to another site or commune."""
    c = S.commune.c
    n = (select(func.count()).select_from(S.building.join(S.site,
                                                          S.building.c.site_id == S.site.c.id))
         .where(S.site.c.commune_id == c.id).scalar_subquery())
    conn.execute(update(S.commune).values(n_buildings=n))


def _save_building(conn: Connection, site_id: int, b: Building, n: EstateCounts) -> None:
    values = {
        "site_id": site_id,
        "name": b.name,
        "activity": b.activity.value,
        "floor_area_m2": b.floor_area_m2,
        "heating_system": b.heating_system.value,
        "climate_zone": b.climate_zone,
        "calendar_json": b.calendar.model_dump_json() if b.calendar else None,
        "weather_station": b.weather_station,
        "latitude": b.latitude,
        "longitude": b.longitude,
    }
    bid = _upsert(conn, S.building, {"code": b.code}, values, n)
    for m in b.meters:
        _upsert(
            conn, S.series, {"key": m.code, "quantity": m.quantity},
            {"kind": "meter", "subkind": m.kind.value, "building_id": bid, "zone_code": None,
             "step_s": m.step_s, "subscribed_power_kva": m.subscribed_power_kva}, n,
        )
    for z in b.zones:
        for sensor in z.sensors:
            _upsert(
                conn, S.series, {"key": sensor.code, "quantity": sensor.quantity},
                {"kind": "sensor", "subkind": sensor.kind.value, "building_id": bid,
                 "zone_code": z.code, "step_s": None, "subscribed_power_kva": None}, n,
            )


def load_portfolio(conn: Connection) -> Portfolio | None:
    """The stored estate as domain objects (the first portfolio), or None when empty."""
    pf = conn.execute(select(S.portfolio).order_by(S.portfolio.c.id)).mappings().first()
    if pf is None:
        return None

    def rows(table: Table, parent: str, pid: int):
        q = select(table).where(table.c[parent] == pid).order_by(table.c.code)
        return conn.execute(q).mappings().all()

    series_rows = conn.execute(
        select(S.series).where(S.series.c.building_id.is_not(None)).order_by(S.series.c.key)
    ).mappings().all()
    by_building: dict[int, list] = {}
    for r in series_rows:
        by_building.setdefault(r["building_id"], []).append(r)

    def building(r) -> Building:
        chans = by_building.get(r["id"], [])
        meters = tuple(
            Meter(code=c["key"], kind=c["subkind"], step_s=c["step_s"],
                  subscribed_power_kva=c["subscribed_power_kva"])
            for c in chans if c["kind"] == "meter"
        )
        zones: dict[str, list[Sensor]] = {}
        for c in chans:
            if c["kind"] == "sensor":
                sensor = Sensor(code=c["key"], kind=c["subkind"])
                zones.setdefault(c["zone_code"], []).append(sensor)
        cal = r["calendar_json"]
        return Building(
            code=r["code"], name=r["name"], activity=r["activity"],
            floor_area_m2=r["floor_area_m2"], heating_system=r["heating_system"],
            climate_zone=r["climate_zone"],
            calendar=OccupancyCalendar.model_validate_json(cal) if cal else None,
            weather_station=r["weather_station"],
            latitude=r["latitude"], longitude=r["longitude"],
            meters=meters,
            zones=tuple(Zone(code=k, sensors=tuple(v)) for k, v in sorted(zones.items())),
        )

    return Portfolio(
        code=pf["code"], name=pf["name"],
        territories=tuple(
            Territory(code=t["code"], name=t["name"], communes=tuple(
                Commune(code=c["code"], name=c["name"], sites=tuple(
                    Site(code=s["code"], name=s["name"], buildings=tuple(
                        building(b) for b in rows(S.building, "site_id", s["id"])))
                    for s in rows(S.site, "commune_id", c["id"])))
                for c in rows(S.commune, "territory_id", t["id"])))
            for t in rows(S.territory, "portfolio_id", pf["id"])
        ),
    )


def _communes(columns, where, territory: str | None):
    c, t = S.commune.c, S.territory.c
    q = select(*columns).select_from(S.commune.join(S.territory, c.territory_id == t.id))
    if where is not None:
        q = q.where(where)
    return q if territory is None else q.where(t.code == territory)


def commune_rows(conn: Connection, where=None, *, territory: str | None = None,
                 limit: int | None = None, offset: int = 0) -> list[dict]:
    """Communes with their territory and number of buildings, by code; ``where``: an SQL
    condition on commune and territory codes (the caller's scope), None for all; one page
    when ``limit`` is given."""
    c, t = S.commune.c, S.territory.c
    q = _communes((c.code.label("commune_code"), c.name.label("commune_name"),
                   t.code.label("territory_code"), t.name.label("territory_name"),
                   c.n_buildings), where, territory).order_by(c.code)
    q = one_page(q, limit, offset)
    return [dict(r) for r in conn.execute(q).mappings()]


def count_communes(conn: Connection, where=None, *, territory: str | None = None) -> int:
    """How many communes ``commune_rows`` lists with the same filters (without a page)."""
    return conn.execute(_communes((func.count(S.commune.c.id),), where, territory)
                        ).scalar_one()


def portfolio_row(conn: Connection) -> dict | None:
    """Code and name of the (first) portfolio."""
    r = conn.execute(select(S.portfolio.c.code, S.portfolio.c.name)
                     .order_by(S.portfolio.c.id)).mappings().first()
    return None if r is None else dict(r)
