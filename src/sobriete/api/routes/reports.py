"""API routes: the monthly report of a building or a commune (HTML or PDF), the Décret
tertiaire trajectories of the visible buildings, and their OPERAT-ready CSV.

A commune's report sums every building of the commune, so the principal must be allowed to
read each of them: a commune none of whose buildings is visible is a 404 (as if it did not
exist), one only partly visible a 403 (``commune_readable``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from sobriete.api.deps import ScopeDenied, access, authorize, get_settings, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, page_of, paged
from sobriete.domain.access import Action, Principal
from sobriete.reporting.monthly_html import render_monthly_html
from sobriete.reporting.operat import operat_csv
from sobriete.services.monthly_report import monthly_report
from sobriete.services.scoped import building_refs
from sobriete.services.store import schema as S
from sobriete.services.tertiaire_trajectory import Trajectory, operat_rows, trajectories

router = APIRouter(tags=["reports"])
Who = Annotated[Principal, Depends(principal)]
Params = Annotated[ListParams, Depends(list_params)]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, local calendar month",
                             examples=["2019-03"])]
Format = Annotated[Literal["html", "pdf"], Query(description="html (page) or pdf (A4)")]
Lang = Annotated[Literal["fr", "en"] | None, Query(description="fr or en (default: service's)")]


def commune_readable(request: Request, who: Principal, commune_code: str) -> list[str]:
    """The codes of the commune's buildings when ``who`` may read every one; else
    out-of-scope like ``authorize``: 404 when none is visible (or no such commune), 403 when
    some are visible but not all readable."""
    b, s, c = S.building.c, S.site.c, S.commune.c
    with get_store(request).read() as conn:
        every = conn.execute(select(b.code).select_from(
            S.building.join(S.site, b.site_id == s.id).join(S.commune, s.commune_id == c.id))
            .where(c.code == commune_code)).scalars().all()
        readable = [r.code for r in building_refs(conn, who, Action.READ, commune=commune_code)]
        seen = readable or building_refs(conn, who, Action.FLEX_READ, commune=commune_code)
    if not every or not seen:
        raise ScopeDenied(404, f"no commune {commune_code!r} (or not in your scope)")
    if len(readable) < len(every):
        raise ScopeDenied(403, f"{who.login!r} may read only {len(readable)} of the "
                               f"{len(every)} buildings of commune {commune_code!r}: ask for a "
                               "building's report, or a grant on the whole commune")
    return readable


def _render(request: Request, fmt: str, lang: str | None, **scope) -> Response:
    report = monthly_report(get_store(request), **scope)
    html = render_monthly_html(report.model_dump(mode="python"),
                               lang=lang or get_settings(request).lang)
    if fmt == "html":
        return HTMLResponse(html)
    from sobriete.reporting.pdf import html_to_pdf

    name = f"rapport_{re.sub(r'[^A-Za-z0-9_-]', '_', report.code)}_{report.month}.pdf"
    return Response(html_to_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


REPORT_RESPONSES = {200: {"content": {"text/html": {}, "application/pdf": {}},
                          "description": "the report, HTML page or A4 PDF"}}


@router.get("/buildings/{building_code}/reports/monthly", response_class=Response,
            responses=REPORT_RESPONSES,
            openapi_extra=access("read", example={"path": {"building_code": "A"},
                                                  "query": {"month": "2019-03"}}),
            summary="Rapport mensuel d'un bâtiment / monthly report of a building")
def building_monthly(building_code: str, month: Month, request: Request, who: Who,
                     format: Format = "html", lang: Lang = None) -> Response:
    authorize(request, who, Action.READ, building_code)
    return _render(request, format, lang, month=month, building=building_code)


@router.get("/communes/{commune_code}/reports/monthly", response_class=Response,
            responses=REPORT_RESPONSES,
            openapi_extra=access("read", example={"path": {"commune_code": "C1"},
                                                  "query": {"month": "2019-03"}}),
            summary="Rapport mensuel d'une commune / monthly report of a commune")
def commune_monthly(commune_code: str, month: Month, request: Request, who: Who,
                    format: Format = "html", lang: Lang = None) -> Response:
    commune_readable(request, who, commune_code)
    return _render(request, format, lang, month=month, commune=commune_code)


class TrajectoryOut(BaseModel):
    """One functional entity (a building) on its Décret tertiaire trajectory; kWh/yr at the
    reference year's climate. ``error`` says why a building has no trajectory."""

    building_code: str
    building_name: str
    commune_code: str
    floor_area_m2: float | None
    subject: bool | None
    reference_year: int | None
    reference_choice: str | None
    reference_kwh: float | None
    reference_kwh_m2: float | None
    target_2030_kwh: float | None
    target_2040_kwh: float | None
    target_2050_kwh: float | None
    latest_year: int | None
    latest_adjusted_kwh: float | None
    reduction_pct: float | None
    expected_kwh: float | None
    status: str
    absolute_status: str | None
    dju_ref: float | None
    dju_method: str | None
    approximations: list[str]
    warnings: list[dict]
    error: str | None


def _row(ref, t: Trajectory | None, error: str | None) -> TrajectoryOut:
    base = {"building_code": ref.code, "building_name": ref.name,
            "commune_code": ref.commune_code, "floor_area_m2": ref.floor_area_m2}
    if t is None:
        return TrajectoryOut(**base, subject=None, reference_year=None, reference_choice=None,
                             reference_kwh=None, reference_kwh_m2=None, target_2030_kwh=None,
                             target_2040_kwh=None, target_2050_kwh=None, latest_year=None,
                             latest_adjusted_kwh=None, reduction_pct=None, expected_kwh=None,
                             status="no_data", absolute_status=None, dju_ref=None,
                             dju_method=None, approximations=[], warnings=[],
                             error=error or "no energy meter")
    g = t.targets_kwh.get
    return TrajectoryOut(
        **base, subject=t.subject, reference_year=t.reference_year,
        reference_choice=t.reference_choice, reference_kwh=t.reference_kwh,
        reference_kwh_m2=t.reference_kwh_m2, target_2030_kwh=g(2030),
        target_2040_kwh=g(2040), target_2050_kwh=g(2050), latest_year=t.latest_year,
        latest_adjusted_kwh=t.latest_adjusted_kwh, reduction_pct=t.reduction_pct,
        expected_kwh=t.expected_kwh, status=t.status, absolute_status=t.absolute_status,
        dju_ref=t.dju_ref, dju_method=t.dju_method, approximations=t.approximations,
        warnings=t.warnings, error=None)


def _reference(year: int | None) -> int | None:
    if year is not None and not 2010 <= year <= 2019:
        raise HTTPException(422, f"reference_year {year}: the Décret tertiaire reference is a "
                                 "year between 2010 and 2019")
    return year


@router.get("/tertiaire", response_model=Page[TrajectoryOut],
            openapi_extra=access("read", example={"query": {"commune": "C1"}}),
            summary="Trajectoires Décret tertiaire / Décret tertiaire trajectories")
def list_trajectories(request: Request, who: Who, params: Params,
                      commune: str | None = None,
                      reference_year: Annotated[int | None, Query(
                          description="2010-2019; default: best complete year")] = None,
                      until_year: Annotated[int | None, Query(
                          description="last year shown and judged (later data left aside)"
                      )] = None):
    ref_year = _reference(reference_year)
    with get_store(request).read() as conn:
        refs = building_refs(conn, who, Action.READ, commune=commune)
    # JSON: only the page is computed (each trajectory reads years of readings); files: all.
    todo = refs if params.format != "json" else refs[params.offset:params.offset + params.limit]
    out = trajectories(get_store(request), buildings=[r.code for r in todo],
                       reference_year=ref_year, until_year=until_year)
    rows = [_row(r, out.trajectories.get(r.code), out.errors.get(r.code)) for r in todo]
    if params.format != "json":
        return paged(rows, params, "tertiaire")
    return page_of(rows, len(refs), params)


@router.get("/tertiaire/operat.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}},
                             "description": "OPERAT-ready CSV (docs/reports.md)"}},
            openapi_extra=access("read", example={"query": {"year": 2019}}),
            summary="Export CSV pour OPERAT / OPERAT-ready CSV export")
def operat_export(request: Request, who: Who,
                  year: Annotated[int, Query(ge=2010, le=2100,
                                             description="consumption year declared")],
                  commune: str | None = None,
                  reference_year: int | None = None) -> Response:
    ref_year = _reference(reference_year)
    with get_store(request).read() as conn:
        codes = [r.code for r in building_refs(conn, who, Action.READ, commune=commune)]
    rows, errors = operat_rows(get_store(request), year, buildings=codes,
                               reference_year=ref_year) if codes else ([], {})
    return Response(operat_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="operat_{year}.csv"',
        # the buildings left out, so that a missing line is never silent
        "X-Sobriete-Left-Out": ",".join(sorted(errors)) or "none"})
