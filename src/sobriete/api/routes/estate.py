"""API routes: the estate a principal may see (portfolio, territories, communes, buildings,
meters). Scope is applied in SQL (``services.scoped``); a building outside it is a 404 as if
it did not exist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from sobriete.api.deps import access, authorize, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, page_of, paged, read_page
from sobriete.domain.access import Action, Principal
from sobriete.services import api_estate as E
from sobriete.services.scoped import count_building_refs

router = APIRouter(tags=["estate"])
Who = Annotated[Principal, Depends(principal)]
Params = Annotated[ListParams, Depends(list_params)]


class PortfolioOut(BaseModel):
    code: str | None
    name: str | None
    n_territories: int
    n_communes: int
    n_buildings: int


class TerritoryOut(BaseModel):
    territory_code: str
    territory_name: str
    n_communes: int
    n_buildings: int


class CommuneOut(BaseModel):
    commune_code: str
    commune_name: str
    territory_code: str
    territory_name: str
    n_buildings: int


class BuildingOut(BaseModel):
    building_code: str
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


class SeriesOut(BaseModel):
    series_key: str
    quantity: str
    kind: str  # meter | sensor
    subkind: str | None  # electricity, gas, temperature ...
    zone_code: str | None
    step_s: int | None
    subscribed_power_kva: float | None
    n_readings: int
    first_start: str | None  # ISO-8601 UTC
    last_start: str | None


class BuildingDetail(BuildingOut):
    meters: list[SeriesOut]
    sensors: list[SeriesOut]


EX_B = {"path": {"building_code": "A"}}


@router.get("/portfolio", response_model=PortfolioOut, openapi_extra=access("read"),
            summary="Patrimoine visible / visible estate (counts)")
def portfolio(request: Request, who: Who) -> PortfolioOut:
    with get_store(request).read() as conn:
        return PortfolioOut(**E.portfolio_summary(conn, who))


@router.get("/territories", response_model=Page[TerritoryOut], openapi_extra=access("read"),
            summary="Territoires visibles / visible territories")
def territories(request: Request, who: Who, params: Params):
    with get_store(request).read() as conn:
        rows = [TerritoryOut(**t) for t in E.territories(conn, who)]
    return paged(rows, params, "territoires")


@router.get("/communes", response_model=Page[CommuneOut], openapi_extra=access("read"),
            summary="Communes visibles / visible communes")
def communes(request: Request, who: Who, params: Params,
             territory: Annotated[str | None, Query(max_length=64)] = None):
    def read(limit: int | None, offset: int) -> tuple[int, list[CommuneOut]]:
        with get_store(request).read() as conn:
            total, rows = E.communes(conn, who, territory=territory, limit=limit,
                                     offset=offset)
        return total, [CommuneOut(**c) for c in rows]

    return read_page(params, read, "communes")


@router.get("/buildings", response_model=Page[BuildingOut],
            openapi_extra=access("read", example={"query": {"commune": "C1"}}),
            summary="Bâtiments visibles / visible buildings (filtres, pages, CSV/Excel)")
def buildings(request: Request, who: Who, params: Params,
              commune: Annotated[str | None, Query(max_length=64)] = None,
              territory: Annotated[str | None, Query(max_length=64)] = None,
              activity: Annotated[str | None, Query(max_length=32)] = None,
              q: Annotated[str | None, Query(max_length=200,
                                             description="texte cherché dans code ou nom")
                           ] = None):
    filters = dict(commune=commune, territory=territory, activity=activity, search=q)
    with get_store(request).read() as conn:
        if params.format != "json":  # the whole list as a file
            refs = E.visible_buildings(conn, who, Action.READ, **filters)
            return paged([BuildingOut(**E.building_doc(r)) for r in refs], params, "batiments")
        # One page read in SQL: a metropolis-wide list has thousands of buildings.
        total = count_building_refs(conn, who, Action.READ, **filters)
        refs = E.visible_buildings(conn, who, Action.READ, limit=params.limit,
                                   offset=params.offset, **filters)
    return page_of([BuildingOut(**E.building_doc(r)) for r in refs], total, params)


@router.get("/buildings/{building_code}", response_model=BuildingDetail,
            openapi_extra=access("read", example=EX_B),
            summary="Un bâtiment, ses compteurs et capteurs / a building, meters and sensors")
def building(building_code: str, request: Request, who: Who) -> BuildingDetail:
    ref = authorize(request, who, Action.READ, building_code)
    with get_store(request).read() as conn:
        chans = [SeriesOut(**s) for s in E.series_of(conn, ref.id)]
    return BuildingDetail(**E.building_doc(ref),
                          meters=[s for s in chans if s.kind == "meter"],
                          sensors=[s for s in chans if s.kind == "sensor"])


@router.get("/buildings/{building_code}/meters", response_model=Page[SeriesOut],
            openapi_extra=access("read", example=EX_B),
            summary="Compteurs d'un bâtiment / meters of a building")
def meters(building_code: str, request: Request, who: Who, params: Params):
    ref = authorize(request, who, Action.READ, building_code)
    with get_store(request).read() as conn:
        rows = [SeriesOut(**s) for s in E.series_of(conn, ref.id) if s["kind"] == "meter"]
    return paged(rows, params, f"compteurs-{building_code}")
