"""Lists: one page envelope for every list endpoint, and the same list as CSV or Excel.

``GET ...?limit=50&offset=0`` answers ``{"items": [...], "total": N, "limit": .., "offset":
..}``; ``?format=csv`` or ``?format=xlsx`` answers the whole filtered list (not one page) as
a file, with the same column names as the JSON fields (units in the names).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, Literal, TypeVar

import pandas as pd
from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel

T = TypeVar("T")

MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ListParams(BaseModel):
    limit: int = 50
    offset: int = 0
    format: Literal["json", "csv", "xlsx"] = "json"


def list_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
    format: Annotated[Literal["json", "csv", "xlsx"],
                      Query(description="json (one page), csv or xlsx (the whole list)")
                      ] = "json",
) -> ListParams:
    return ListParams(limit=limit, offset=offset, format=format)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_file(rows: Sequence[BaseModel | dict], fmt: str, name: str) -> Response:
    """``rows`` as a CSV (UTF-8 with BOM and ``;``, what French spreadsheets open) or an
    Excel file named ``name``."""
    frame = pd.DataFrame([r.model_dump(mode="json") if isinstance(r, BaseModel) else r
                          for r in rows])
    for col in frame.columns:  # nested values (lists, dicts) as text
        if frame[col].map(lambda v: isinstance(v, list | dict)).any():
            frame[col] = frame[col].map(str)
    if fmt == "csv":
        body = frame.to_csv(index=False, sep=";").encode("utf-8-sig")
        media, ext = "text/csv; charset=utf-8", "csv"
    else:
        buf = io.BytesIO()
        frame.to_excel(buf, index=False, sheet_name=name[:31] or "liste")
        body, media, ext = buf.getvalue(), XLSX, "xlsx"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'})


def page_of(items: Sequence[T], total: int, params: ListParams) -> Response:
    """The envelope of one page read by the caller (in SQL) out of ``total``, written as JSON
    here: returned as a model, FastAPI would validate the page again against the route's
    ``Page[...]`` (for a synchronous route, in a second trip through the thread pool) only to
    write the same bytes. The route's ``response_model`` still documents it."""
    page = Page[T](items=list(items), total=total, limit=params.limit, offset=params.offset)
    return Response(page.model_dump_json(), media_type="application/json")


def read_page(params: ListParams, read: Callable[[int | None, int], tuple[int, Sequence[T]]],
              name: str) -> Response:
    """One page that ``read(limit, offset)`` reads in SQL with the total it counts, or the
    whole list (``read(None, 0)``) as a file."""
    if params.format == "json":
        total, rows = read(params.limit, params.offset)
        return page_of(rows, total, params)
    return table_file(read(None, 0)[1], params.format, name)


def paged(rows: Sequence[T], params: ListParams, name: str) -> Response:
    """One page of ``rows`` (already filtered and ordered), or the whole list as a file."""
    if params.format != "json":
        return table_file(rows, params.format, name)
    return page_of(rows[params.offset:params.offset + params.limit], len(rows), params)
