"""Readings through the API: one series of one building, and uploads of a building's meter
files through the same import path as ``sobriete import``.

An upload may only write series of the building it is sent to: the file is parsed once to
read its series keys before anything is written, and refused as a whole if one of them is
not a meter or sensor of that building (a commune's manager cannot feed another commune's
meter by naming it in a file).
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from sobriete.domain import columns as C
from sobriete.domain.errors import InputError
from sobriete.services.imports import FORMATS, ImportOutcome, import_file
from sobriete.services.store import Store
from sobriete.services.store.readings import building_series, read_page, read_series

# Formats that carry a building's own readings (weather, Tempo, EcoWatt and the registry are
# shared by every building: they are not uploaded per building).
UPLOAD_FORMATS = ("meter-csv", "enedis")


@dataclass(frozen=True)
class SeriesChoice:
    key: str
    quantity: str


def pick_series(conn: Connection, building_id: int, key: str, quantity: str | None
                ) -> SeriesChoice | None:
    """The building's series ``key`` (of ``quantity`` when it has several); None if the
    building has no such series."""
    found = [s for s in building_series(conn, building_id) if s["key"] == key
             and quantity in (None, s["quantity"])]
    if not found:
        return None
    if len(found) > 1:
        qs = ", ".join(s["quantity"] for s in found)
        raise InputError(f"series {key!r} has several quantities ({qs}): choose one with "
                         "?quantity=", field="quantity", expected=qs)
    return SeriesChoice(key, found[0]["quantity"])


def readings(conn: Connection, choice: SeriesChoice, start: pd.Timestamp | None,
             end: pd.Timestamp | None) -> list[dict]:
    """Every reading of the window (for a file)."""
    return _rows(read_series(conn, choice.key, choice.quantity, start, end), choice)


def readings_page(conn: Connection, choice: SeriesChoice, start: pd.Timestamp | None,
                  end: pd.Timestamp | None, limit: int, offset: int) -> tuple[int, list[dict]]:
    """(total, one page) of the window, read in SQL."""
    total, frame = read_page(conn, choice.key, choice.quantity, start, end, limit, offset)
    return total, _rows(frame, choice)


def _rows(frame: pd.DataFrame, choice: SeriesChoice) -> list[dict]:
    return [{"start": t.isoformat(), "duration_s": int(d), "value": float(v),
             "quantity": choice.quantity}
            for t, d, v in zip(frame[C.START_UTC], frame[C.DURATION_S], frame[C.VALUE],
                               strict=True)]


def parse_options(raw: str | None) -> dict:
    if not raw:
        return {}
    try:
        opts = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"options must be a JSON object: {exc}", field="options") from None
    if not isinstance(opts, dict):
        raise InputError("options must be a JSON object, e.g. {\"layout\": \"wide\"}",
                         field="options")
    return opts


def _safe_name(filename: str | None) -> str:
    base = Path(filename or "upload.csv").name
    return re.sub(r"[^\w.\-]", "_", base)[:120] or "upload.csv"


def upload(store: Store, building_id: int, building_code: str, filename: str | None,
           content: bytes, fmt: str, options: dict) -> ImportOutcome:
    """Import ``content`` for one building; InputError (nothing written) when the format is
    not a building's, an option is unknown, the file is bad, or it names another series."""
    if fmt not in UPLOAD_FORMATS:
        raise InputError(f"format {fmt!r} cannot be uploaded to a building",
                         field="format", expected=", ".join(UPLOAD_FORMATS), found=fmt)
    name = _safe_name(filename)
    with tempfile.TemporaryDirectory(prefix="sobriete-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            return _import(store, building_id, building_code, path, fmt, options)
        except InputError as exc:  # name the file as the person sent it, not the temp copy
            raise InputError(exc.reason, file=name, line=exc.line, field=exc.field,
                             expected=exc.expected, found=exc.found) from None
        except TypeError as exc:  # an option the reader does not know, or of a wrong type
            raise InputError(f"bad reader option: {exc}", file=name, field="options") from None
        except (ValueError, UnicodeError) as exc:
            raise InputError(f"unreadable file: {exc}", file=name) from None


def _import(store: Store, building_id: int, building_code: str, path: Path, fmt: str,
            options: dict) -> ImportOutcome:
    parsed = FORMATS[fmt][0](path, **options)
    with store.read() as conn:
        own = {s["key"] for s in building_series(conn, building_id)}
    keys = sorted(set(parsed.frame[C.SERIES_KEY].astype(str)))
    foreign = [k for k in keys if k not in own]
    if foreign:
        raise InputError(
            f"the file writes series {', '.join(map(repr, foreign))} which are not meters "
            f"or sensors of building {building_code!r} (its series: "
            f"{', '.join(sorted(own)) or 'none'}); nothing was written",
            field=C.SERIES_KEY)
    return import_file(store, path, fmt, **options)
