"""Bulk writing of long reading frames, idempotent, with one documented overlap rule.

Overlap rule (documented in docs/store.md): a reading is identified by (series, interval
start). Writing a reading that is already stored with the same value changes nothing; with a
different value, the **newest import wins** and the previous value is kept in
``reading_revision`` together with both import ids, so nothing is lost and every change is
traceable. Counts of new / unchanged / revised rows are returned and saved on the import batch.

Two paths per series: when the store holds nothing in the incoming time range, rows go
straight in (COPY on PostgreSQL, batched executemany on SQLite); otherwise they are staged in
a temporary table and merged with set-based SQL.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, select

from sobriete.domain import columns as C
from sobriete.services.store.schema import series as series_t

SQLITE_BATCH = 50_000
COPY_CHUNK = 500_000
# Values closer than this (relative) are "the same" across re-imports (float round-trips).
SAME_VALUE_RTOL = 1e-9


@dataclass
class WriteCounts:
    rows_in: int = 0
    rows_new: int = 0
    rows_unchanged: int = 0
    rows_revised: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.rows_in += other.rows_in
        self.rows_new += other.rows_new
        self.rows_unchanged += other.rows_unchanged
        self.rows_revised += other.rows_revised
        return self


def series_ids(
    conn: Connection, pairs: list[tuple[str, str]], *, kind: str = "meter"
) -> dict[tuple[str, str], int]:
    """Ids of (key, quantity) series, creating the missing ones (unattached to a building)."""
    wanted = set(pairs)
    found: dict[tuple[str, str], int] = {}
    keys = sorted({k for k, _ in wanted})
    for i in range(0, len(keys), 500):
        rows = conn.execute(
            select(series_t.c.id, series_t.c.key, series_t.c.quantity).where(
                series_t.c.key.in_(keys[i : i + 500])
            )
        )
        for sid, key, qty in rows:
            if (key, qty) in wanted:
                found[(key, qty)] = sid
    for key, qty in sorted(wanted - found.keys()):
        res = conn.execute(series_t.insert().values(key=key, quantity=qty, kind=kind))
        found[(key, qty)] = res.inserted_primary_key[0]
    return found


def to_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start_s int64, duration_s int64, value float64) from a long frame."""
    start = frame[C.START_UTC]
    if not isinstance(start.dtype, pd.DatetimeTZDtype):
        raise TypeError(f"{C.START_UTC} must be timezone-aware UTC, got {start.dtype}")
    start_s = start.dt.tz_convert("UTC").astype("datetime64[s, UTC]").astype("int64").to_numpy()
    return (
        start_s,
        frame[C.DURATION_S].to_numpy(dtype="int64"),
        frame[C.VALUE].to_numpy(dtype="float64"),
    )


def write_readings(
    conn: Connection, frame: pd.DataFrame, import_id: int, *, kind: str = "meter"
) -> WriteCounts:
    """Write a long reading frame inside the caller's transaction. Returns the counts."""
    total = WriteCounts()
    if frame.empty:
        return total
    missing = [c for c in C.READING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"reading frame lacks columns {missing}")
    frame = frame.drop_duplicates([C.SERIES_KEY, C.QUANTITY, C.START_UTC], keep="last")
    groups = frame.groupby([C.SERIES_KEY, C.QUANTITY], sort=True, observed=True)
    ids = series_ids(conn, list(groups.groups.keys()), kind=kind)
    for pair, part in groups:
        start_s, dur, val = to_arrays(part)
        total += _write_series(conn, ids[pair], start_s, dur, val, import_id)
    return total


def _write_series(conn, sid, start_s, dur, val, import_id) -> WriteCounts:
    n = len(start_s)
    lo, hi = int(start_s.min()), int(start_s.max())
    existing = conn.exec_driver_sql(
        "SELECT count(*) FROM reading WHERE series_id = %s AND start_s BETWEEN %s AND %s"
        % (int(sid), lo, hi)
    ).scalar_one()
    if existing == 0:
        _insert_fast(conn, sid, start_s, dur, val, import_id)
        return WriteCounts(rows_in=n, rows_new=n)
    return _merge(conn, sid, start_s, dur, val, import_id)


def _raw(conn: Connection):
    return conn.connection.driver_connection


def _columns(sid, start_s, dur, val, import_id):
    n = len(start_s)
    return {
        "series_id": np.full(n, sid, dtype="int64"),
        "start_s": start_s,
        "duration_s": dur,
        "value": val,
        "import_id": np.full(n, import_id, dtype="int64"),
    }


def _insert_fast(conn, sid, start_s, dur, val, import_id, table: str = "reading") -> None:
    cols = _columns(sid, start_s, dur, val, import_id)
    names = ", ".join(cols)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, cols)
        return
    raw = _raw(conn)
    sql = f"INSERT INTO {table} ({names}) VALUES (?, ?, ?, ?, ?)"
    arrays = [a.tolist() for a in cols.values()]
    n = len(start_s)
    for i in range(0, n, SQLITE_BATCH):
        raw.executemany(sql, zip(*(a[i : i + SQLITE_BATCH] for a in arrays), strict=True))


def _copy(conn, table: str, cols: dict[str, np.ndarray]) -> None:
    names = ", ".join(cols)
    n = len(next(iter(cols.values())))
    raw = _raw(conn)
    opts = pacsv.WriteOptions(include_header=False)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as cp:
        for i in range(0, n, COPY_CHUNK):
            tbl = pa.table({k: v[i : i + COPY_CHUNK] for k, v in cols.items()})
            buf = io.BytesIO()
            pacsv.write_csv(tbl, buf, opts)
            cp.write(buf.getbuffer())


def _merge(conn, sid, start_s, dur, val, import_id) -> WriteCounts:
    n = len(start_s)
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS staged_reading (series_id BIGINT, start_s BIGINT, "
        "duration_s BIGINT, value DOUBLE PRECISION, import_id BIGINT)"
    )
    conn.exec_driver_sql("DELETE FROM staged_reading")
    _insert_fast(conn, sid, start_s, dur, val, import_id, table="staged_reading")
    differs = (
        "abs(r.value - s.value) > %r * (abs(r.value) + abs(s.value)) + 1e-12" % SAME_VALUE_RTOL
    )
    joined = "staged_reading s JOIN reading r ON r.series_id = s.series_id AND r.start_s = s.start_s"
    n_existing = conn.exec_driver_sql(f"SELECT count(*) FROM {joined}").scalar_one()
    conn.exec_driver_sql(
        "INSERT INTO reading_revision (series_id, start_s, old_value, new_value, old_import_id,"
        f" new_import_id) SELECT r.series_id, r.start_s, r.value, s.value, r.import_id,"
        f" s.import_id FROM {joined} WHERE {differs}"
    )
    revised = conn.exec_driver_sql(
        "UPDATE reading AS r SET value = s.value, duration_s = s.duration_s, import_id ="
        " s.import_id FROM staged_reading s WHERE r.series_id = s.series_id AND"
        f" r.start_s = s.start_s AND {differs}"
    ).rowcount
    new = conn.exec_driver_sql(
        "INSERT INTO reading (series_id, start_s, duration_s, value, import_id)"
        # "WHERE true" lifts SQLite's parsing ambiguity between a join and ON CONFLICT.
        " SELECT series_id, start_s, duration_s, value, import_id FROM staged_reading"
        " WHERE true ON CONFLICT (series_id, start_s) DO NOTHING"
    ).rowcount
    conn.exec_driver_sql("DELETE FROM staged_reading")
    return WriteCounts(
        rows_in=n, rows_new=new, rows_revised=revised, rows_unchanged=n_existing - revised
    )


def read_series(conn: Connection, key: str, quantity: str) -> pd.DataFrame:
    """Stored readings of one series as a long frame (empty when unknown)."""
    sid = conn.execute(
        select(series_t.c.id).where(series_t.c.key == key, series_t.c.quantity == quantity)
    ).scalar_one_or_none()
    if sid is None:
        return pd.DataFrame(columns=list(C.READING_COLUMNS))
    df = pd.read_sql_query(
        f"SELECT start_s, duration_s, value FROM reading WHERE series_id = {int(sid)}"
        " ORDER BY start_s",
        conn,
    )
    df[C.START_UTC] = pd.to_datetime(df.pop("start_s"), unit="s", utc=True)
    df[C.SERIES_KEY] = key
    df[C.QUANTITY] = quantity
    return df[list(C.READING_COLUMNS)]
