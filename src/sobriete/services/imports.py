"""The import use case: parse a file, then write it to the store in one transaction.

Nothing is half-written: parsing happens before the transaction opens, and any failure rolls
the whole file back. Re-importing the same file changes nothing (counts say so). A rejected
file still leaves an ``import_batch`` row with the reason, so an energy manager can see what
was refused and why. Every import is measured in the footprint ledger.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, select

from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.io import ecowatt, enedis, meter_csv, registry, tempo, weather
from sobriete.io.base import SourceInfo, sha256_of
from sobriete.services.footprint import Footprint, measured
from sobriete.services.store import Store, WriteCounts, write_readings
from sobriete.services.store import schema as S
from sobriete.services.store.estate import save_portfolio


@dataclass
class ImportOutcome:
    batch_id: int
    path: str
    format: str
    status: str  # ok | rejected
    counts: WriteCounts = field(default_factory=WriteCounts)
    warnings: tuple[str, ...] = ()
    message: str = ""
    footprint: Footprint | None = None


def _write_frame(conn: Connection, frame: pd.DataFrame, batch_id: int, kind: str,
                 rename: dict[str, str] | None) -> WriteCounts:
    if rename:
        frame = frame.assign(**{C.SERIES_KEY: frame[C.SERIES_KEY].map(lambda k: rename.get(k, k))})
    return write_readings(conn, frame, batch_id, kind=kind)


def _write_meters(conn, parsed, batch_id, rename) -> WriteCounts:
    return _write_frame(conn, parsed.frame, batch_id, "meter", rename)


def _write_weather(conn, parsed, batch_id, rename) -> WriteCounts:
    return _write_frame(conn, weather.weather_to_readings(parsed), batch_id, "weather", rename)


def _write_tempo(conn, parsed, batch_id, _rename) -> WriteCounts:
    frame = parsed if isinstance(parsed, pd.DataFrame) else parsed.frame
    return _upsert_days(conn, S.tempo_day, frame, {"color": C.TEMPO_COLOR}, batch_id)


def _write_ecowatt(conn, parsed, batch_id, _rename) -> WriteCounts:
    days, hours = parsed[0], parsed[1]
    counts = _upsert_days(
        conn, S.ecowatt_day, days,
        {"level": C.ECOWATT_DAY_LEVEL, "message": "message", "generated_at": "generated_at"},
        batch_id,
    )
    for (day, hour), level in hours.set_index(["day", "hour"])[C.ECOWATT_HOUR_LEVEL].items():
        conn.execute(S.ecowatt_hour.delete().where(
            S.ecowatt_hour.c.day == day, S.ecowatt_hour.c.hour == int(hour)))
        conn.execute(S.ecowatt_hour.insert().values(day=day, hour=int(hour), level=int(level)))
    return counts


def _upsert_days(conn, table, frame: pd.DataFrame, cols: dict[str, str], batch_id) -> WriteCounts:
    """Day-keyed signals: the newest import wins; counts say what changed."""
    existing = {r.day: r for r in conn.execute(select(table))}
    counts = WriteCounts(rows_in=len(frame))
    for rec in frame.to_dict("records"):
        values = {k: _plain(rec[v]) for k, v in cols.items()}
        old = existing.get(rec["day"])
        if old is None:
            conn.execute(table.insert().values(day=rec["day"], import_id=batch_id, **values))
            counts.rows_new += 1
        elif all(getattr(old, k) == v for k, v in values.items()):
            counts.rows_unchanged += 1
        else:
            conn.execute(table.update().where(table.c.day == rec["day"]).values(
                import_id=batch_id, **values))
            counts.rows_revised += 1
    return counts


def _plain(v):
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def _write_registry(conn, portfolio, _batch_id, _rename) -> WriteCounts:
    n = save_portfolio(conn, portfolio)
    return WriteCounts(rows_in=n.created + n.updated + n.unchanged, rows_new=n.created,
                       rows_unchanged=n.unchanged, rows_revised=n.updated)


Writer = Callable[[Connection, object, int, dict | None], WriteCounts]
# format name -> (reader, writer)
FORMATS: dict[str, tuple[Callable, Writer]] = {
    "enedis": (enedis.read_enedis, _write_meters),
    "meter-csv": (meter_csv.read_meter_csv, _write_meters),
    "synop": (weather.read_synop, _write_weather),
    "epw": (weather.read_epw, _write_weather),
    "weather-csv": (weather.read_weather_csv, _write_weather),
    "tempo": (tempo.read_tempo_csv, _write_tempo),
    "ecowatt": (ecowatt.read_ecowatt_json, _write_ecowatt),
    "registry": (registry.read_registry, _write_registry),
}


def _source_of(parsed, path: Path, fmt: str) -> SourceInfo:
    src = getattr(parsed, "source", None)
    if isinstance(src, SourceInfo):
        return src
    return SourceInfo(str(path), sha256_of(path.read_bytes()), fmt)


def import_file(
    store: Store,
    path: str | Path,
    fmt: str,
    *,
    rename: dict[str, str] | None = None,
    **options,
) -> ImportOutcome:
    """Import one file of format ``fmt`` (see ``FORMATS``). Raises InputError on bad input
    (IntervalOverlapError on a clash with stored intervals) after recording the rejection;
    the store is then exactly as before."""
    if fmt not in FORMATS:
        raise SobrieteError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    reader, writer = FORMATS[fmt]
    path = Path(path)
    started = datetime.now(UTC)
    with measured(f"import:{fmt}", store, source=str(path)) as fp:
        try:
            with warnings.catch_warnings(record=True) as caught:
                # Readers that return bare frames (Tempo) warn through `warnings`: keep those
                # as data on the batch instead of letting them scroll past on stderr.
                warnings.simplefilter("always")
                parsed = reader(path, **options)
            src = _source_of(parsed, path, fmt)
            bid, counts, notes = _write(store, parsed, src, writer, rename, started, caught)
        except SobrieteError as exc:  # bad input, or intervals overlapping stored ones
            fp.details["rejected_batch"] = _record_rejection(store, path, fmt, started, exc)
            raise
        fp.details.update(batch_id=bid, rows_in=counts.rows_in, rows_new=counts.rows_new)
    return ImportOutcome(bid, str(path), fmt, "ok", counts, notes, footprint=fp)


def _write(store, parsed, src: SourceInfo, writer: Writer, rename, started, caught):
    """One transaction: the batch row, the data, the counts — all or nothing."""
    with store.engine.begin() as conn:
        bid = conn.execute(S.import_batch.insert().values(
            source=src.path, source_sha256=src.sha256, format=src.format,
            started_at=started, status="running", rows_in=0,
        )).inserted_primary_key[0]
        counts = writer(conn, parsed, bid, rename)
        notes = _warnings_of(parsed, caught)
        conn.execute(S.import_batch.update().where(S.import_batch.c.id == bid).values(
            finished_at=datetime.now(UTC), status="ok", rows_in=counts.rows_in,
            rows_new=counts.rows_new, rows_unchanged=counts.rows_unchanged,
            rows_revised=counts.rows_revised, message="\n".join(notes) or None,
        ))
    return bid, counts, notes


def _warnings_of(parsed, caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    found = list(getattr(parsed, "warnings", ()) or ())
    found += [str(w.message) for w in caught]
    return tuple(dict.fromkeys(found))  # once each, in order


def _record_rejection(store: Store, path: Path, fmt: str, started, exc: SobrieteError) -> int:
    try:
        digest = sha256_of(path.read_bytes())
    except OSError:
        digest = None
    with store.engine.begin() as conn:
        return conn.execute(S.import_batch.insert().values(
            source=str(path), source_sha256=digest, format=fmt, started_at=started,
            finished_at=datetime.now(UTC), status="rejected", rows_in=0, message=str(exc),
        )).inserted_primary_key[0]
