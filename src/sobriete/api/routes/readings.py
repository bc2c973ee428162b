"""API routes: readings of a building's series, and uploads of its meter files.

Times are ISO-8601 with an offset, both ways: a time without one is ambiguous (a French
wall-clock hour occurs twice in October) and is refused with a 422 saying so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel

from sobriete.api.deps import access, authorize, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, page_of, table_file
from sobriete.domain.access import Action, Principal
from sobriete.services import api_readings as R

router = APIRouter(tags=["readings"])
Who = Annotated[Principal, Depends(principal)]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class ReadingOut(BaseModel):
    start: AwareDatetime  # interval start (UTC)
    duration_s: int  # 0 for a sample (temperatures...)
    value: float  # in the unit of the quantity (energy_kwh: kWh, temp_zone_c: °C ...)
    quantity: str


class UploadOut(BaseModel):
    batch_id: int
    file: str
    format: str
    status: str
    rows_in: int
    rows_new: int
    rows_unchanged: int
    rows_revised: int
    warnings: list[str]


def _aware(name: str, value: datetime | None) -> pd.Timestamp | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise RequestValidationError([{
            "loc": ("query", name), "type": "timezone_aware",
            "msg": f"{value.isoformat()} has no UTC offset: write it as {value.isoformat()}"
                   "+01:00 (Paris, winter), +02:00 (summer) or Z (UTC)"}])
    return pd.Timestamp(value)


@router.get("/buildings/{building_code}/series/{series_key}/readings",
            response_model=Page[ReadingOut],
            openapi_extra=access("read", example={
                "path": {"building_code": "A", "series_key": "A-elec"},
                "query": {"start": "2019-03-01T00:00:00+01:00",
                          "end": "2019-03-02T00:00:00+01:00"}}),
            summary="Relevés d'un compteur / readings of a meter")
def series_readings(
    building_code: str, series_key: str, request: Request, who: Who,
    params: Annotated[ListParams, Depends(list_params)],
    quantity: Annotated[str | None, Query(max_length=32,
                                          description="energy_kwh, temp_zone_c ...")] = None,
    start: Annotated[datetime | None, Query(description="ISO-8601 avec décalage / offset")
                     ] = None,
    end: Annotated[datetime | None, Query(description="exclu / exclusive")] = None,
):
    ref = authorize(request, who, Action.READ, building_code)
    lo, hi = _aware("start", start), _aware("end", end)
    if lo is not None and hi is not None and hi <= lo:
        raise HTTPException(422, f"end ({end}) must be after start ({start})")
    with get_store(request).read() as conn:
        choice = R.pick_series(conn, ref.id, series_key, quantity)
        if choice is None:
            raise HTTPException(404, f"building {building_code!r} has no series {series_key!r}"
                                + (f" of quantity {quantity!r}" if quantity else ""))
        if params.format != "json":
            return table_file(R.readings(conn, choice, lo, hi), params.format,
                              f"releves-{series_key}")
        total, rows = R.readings_page(conn, choice, lo, hi, params.limit, params.offset)
    return page_of([ReadingOut(**r) for r in rows], total, params)


@router.post("/buildings/{building_code}/readings", response_model=UploadOut,
             openapi_extra=access("write", example={
                 "path": {"building_code": "A"},
                 "body": {"format": "meter-csv", "options": '{"timezone": "UTC"}'},
                 "files": {"file": ["releves.csv",
                                    "meter,timestamp,value\nA-elec,2021-03-01T00:00:00Z,1.5\n"
                                    "A-elec,2021-03-01T01:00:00Z,1.5\n"]}}),
             summary="Déposer un fichier de relevés / upload a readings file")
async def upload_readings(
    building_code: str, request: Request, who: Who,
    file: Annotated[UploadFile, File(description="le fichier (CSV, gzip accepté)")],
    format: Annotated[Literal["meter-csv", "enedis"], Form(description="format du fichier")],
    options: Annotated[str | None, Form(description="options du lecteur, objet JSON "
                                                    "(comme `sobriete import -o`)")] = None,
) -> UploadOut:
    ref = authorize(request, who, Action.WRITE, building_code)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"file larger than {MAX_UPLOAD_BYTES // 2**20} MB: split it")
    out = await run_in_threadpool(R.upload, get_store(request), ref.id, building_code,
                                  file.filename, content, format, R.parse_options(options))
    c = out.counts
    return UploadOut(batch_id=out.batch_id, file=file.filename or "", format=out.format,
                     status=out.status, rows_in=c.rows_in, rows_new=c.rows_new,
                     rows_unchanged=c.rows_unchanged, rows_revised=c.rows_revised,
                     warnings=list(out.warnings))
