"""Bulk writing of long reading frames, idempotent, with one documented overlap rule.

Overlap rule (documented in docs/store.md): a reading is identified by (series, interval
start). Writing a reading that is already stored with the same value changes nothing; with a
different value, the **newest import wins** and the previous value is kept in
``reading_revision`` together with both import ids, so nothing is lost and every change is
traceable. Counts of new / unchanged / revised rows are returned and saved on the import batch.

Per series, the stored readings of the incoming time range are read once and compared in
numpy: new rows go in by the bulk path (COPY on PostgreSQL, batched executemany on SQLite),
changed rows are revised, identical rows are left alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError

from sobriete.domain import columns as C
from sobriete.domain.errors import IntervalOverlapError
from sobriete.services.store.paging import one_page
from sobriete.services.store.schema import reading, reading_revision
from sobriete.services.store.schema import series as series_t

SQLITE_BATCH = 50_000
# How far back a stored interval may start and still cover an incoming one (bimonthly bills).
LOOKBACK_S = 70 * 86_400
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
    groups = frame.groupby([C.SERIES_KEY, C.QUANTITY], sort=True, observed=True)
    ids = series_ids(conn, list(groups.groups.keys()), kind=kind)
    dbapi_error = conn.dialect.loaded_dbapi.Error
    for pair, part in groups:
        start_s, dur, val = to_arrays(part)
        # The store keeps whole seconds: two readings within one second are one reading.
        _, last = np.unique(start_s[::-1], return_index=True)
        keep = np.sort(len(start_s) - 1 - last)
        try:
            total += _write_series(conn, ids[pair], start_s[keep], dur[keep], val[keep],
                                   import_id)
        except dbapi_error as exc:
            # The bulk paths use the driver directly: give callers SQLAlchemy's error types.
            raise DBAPIError.instance(None, None, exc, dbapi_error) from exc
    return total


class _Stored(NamedTuple):
    start: np.ndarray
    dur: np.ndarray
    val: np.ndarray
    imp: np.ndarray


def _write_series(conn, sid, start_s, dur, val, import_id) -> WriteCounts:
    n = len(start_s)
    order = np.argsort(start_s, kind="stable")
    start_s, dur, val = start_s[order], dur[order], val[order]
    if conn.dialect.name == "postgresql":
        # Serialise writers of one series (a file import beside the MQTT service): the
        # compare-then-insert below must not race. SQLite already has a single writer.
        conn.exec_driver_sql(f"SELECT id FROM series WHERE id = {int(sid)} FOR UPDATE")
    old = _existing(conn, sid, int(start_s[0]) - LOOKBACK_S, int((start_s + dur).max()))
    if len(old.start) == 0:
        _insert_fast(conn, sid, start_s, dur, val, import_id)
        return WriteCounts(rows_in=n, rows_new=n)
    _refuse_overlaps(conn, sid, old, start_s, dur)
    pos = np.minimum(np.searchsorted(old.start, start_s), len(old.start) - 1)
    known = old.start[pos] == start_s
    differs = known & (
        ~np.isclose(old.val[pos], val, rtol=SAME_VALUE_RTOL, atol=1e-12)
        | (old.dur[pos] != dur)
    )
    new = ~known
    if new.any():
        _insert_fast(conn, sid, start_s[new], dur[new], val[new], import_id)
    if differs.any():
        _revise(conn, sid, start_s[differs], dur[differs], val[differs],
                _Stored(*(a[pos][differs] for a in old)), import_id)
    n_revised = int(differs.sum())
    return WriteCounts(rows_in=n, rows_new=int(new.sum()), rows_revised=n_revised,
                       rows_unchanged=int(known.sum()) - n_revised)


def _refuse_overlaps(conn, sid, old: _Stored, start_s, dur) -> None:
    """An interval that partly covers stored intervals of another length would count the same
    energy twice (a 60-min reading over two stored 30-min ones): refuse, naming the first."""
    left = np.searchsorted(old.start, start_s, "left")
    right = np.searchsorted(old.start, start_s + dur, "left")
    exact = (left < len(old.start)) & (old.start[np.minimum(left, len(old.start) - 1)] == start_s)
    inner = (right - left - exact) > 0  # stored starts strictly inside a new interval
    prev = left - 1
    covered = (prev >= 0) & (old.start[prev] + old.dur[prev] > start_s)
    bad = (dur > 0) & (inner | covered)
    if bad.any():
        key = conn.exec_driver_sql(f"SELECT key FROM series WHERE id = {int(sid)}").scalar_one()
        at = pd.Timestamp(int(start_s[bad][0]), unit="s", tz="UTC")
        raise IntervalOverlapError(
            f"series {key!r}: {int(bad.sum())} interval(s) from {at.isoformat()} overlap stored "
            "intervals of another length; delete or re-import the stored range with the same "
            "step instead"
        )


def _existing(conn, sid, lo: int, hi: int) -> _Stored:
    cur = _raw(conn).cursor()
    cur.execute(
        f"SELECT start_s, duration_s, value, import_id FROM reading WHERE series_id ="
        f" {int(sid):d} AND start_s BETWEEN {lo:d} AND {hi:d} ORDER BY start_s"
    )
    rows = cur.fetchall()
    cur.close()
    a = np.array(rows, dtype="float64").reshape(-1, 4)
    return _Stored(a[:, 0].astype("int64"), a[:, 1].astype("int64"), a[:, 2],
                   a[:, 3].astype("int64"))


def _revise(conn, sid, start_s, dur, val, old: _Stored, import_id) -> None:
    """Newest import wins; the replaced value and length are kept in reading_revision."""
    sid, import_id = int(sid), int(import_id)
    revisions = [
        {"series_id": sid, "start_s": s, "old_value": o, "new_value": v,
         "old_duration_s": od, "new_duration_s": d, "old_import_id": oi,
         "new_import_id": import_id}
        for s, o, v, od, d, oi in zip(start_s.tolist(), old.val.tolist(), val.tolist(),
                                      old.dur.tolist(), dur.tolist(), old.imp.tolist(),
                                      strict=True)
    ]
    conn.execute(reading_revision.insert(), revisions)
    conn.execute(
        update(reading)
        .where(reading.c.series_id == bindparam("sid"), reading.c.start_s == bindparam("s"))
        .values(value=bindparam("v"), duration_s=bindparam("d"), import_id=import_id),
        [{"sid": sid, "s": s, "v": v, "d": d}
         for s, v, d in zip(start_s.tolist(), val.tolist(), dur.tolist(), strict=True)],
    )


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


def _insert_fast(conn, sid, start_s, dur, val, import_id) -> None:
    cols = _columns(sid, start_s, dur, val, import_id)
    names = ", ".join(cols)
    if conn.dialect.name == "postgresql":
        _copy(conn, "reading", cols)
        return
    raw = _raw(conn)
    sql = f"INSERT INTO reading ({names}) VALUES (?, ?, ?, ?, ?)"
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


def read_series(
    conn: Connection,
    key: str,
    quantity: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Stored readings of one series as a long frame (empty when unknown), optionally only
    those starting in [start, end) (timezone-aware)."""
    sid = conn.execute(
        select(series_t.c.id).where(series_t.c.key == key, series_t.c.quantity == quantity)
    ).scalar_one_or_none()
    if sid is None:
        return pd.DataFrame(columns=list(C.READING_COLUMNS))
    where = f"series_id = {int(sid):d}"
    if start is not None:
        where += f" AND start_s >= {int(pd.Timestamp(start).timestamp()):d}"
    if end is not None:
        where += f" AND start_s < {int(pd.Timestamp(end).timestamp()):d}"
    cur = _raw(conn).cursor()
    cur.execute(f"SELECT start_s, duration_s, value FROM reading WHERE {where} ORDER BY start_s")
    rows = np.array(cur.fetchall(), dtype="float64").reshape(-1, 3)
    cur.close()
    return pd.DataFrame({
        C.SERIES_KEY: key,
        C.QUANTITY: quantity,
        C.START_UTC: pd.to_datetime(rows[:, 0].astype("int64"), unit="s", utc=True),
        C.DURATION_S: rows[:, 1].astype("int64"),
        C.VALUE: rows[:, 2],
    })


def building_series(conn: Connection, building_id: int) -> list[dict]:
    """The meters and sensors of one building (key, quantity, kind, subkind, zone_code,
    step_s, subscribed_power_kva), by kind then key."""
    s = series_t.c
    q = (select(s.key, s.quantity, s.kind, s.subkind, s.zone_code, s.step_s,
                s.subscribed_power_kva)
         .where(s.building_id == building_id).order_by(s.kind, s.key, s.quantity))
    return [dict(r) for r in conn.execute(q).mappings()]


def series_span(conn: Connection, key: str, quantity: str) -> tuple[int, int, int] | None:
    """(count, first start_s, last start_s) of a stored series, None when it has no reading."""
    sid = conn.execute(select(series_t.c.id).where(
        series_t.c.key == key, series_t.c.quantity == quantity)).scalar_one_or_none()
    if sid is None:
        return None
    r = conn.execute(select(func.count(), func.min(reading.c.start_s),
                            func.max(reading.c.start_s)).where(reading.c.series_id == sid)).one()
    return None if not r[0] else (int(r[0]), int(r[1]), int(r[2]))


def read_page(conn: Connection, key: str, quantity: str, start: pd.Timestamp | None,
              end: pd.Timestamp | None, limit: int, offset: int) -> tuple[int, pd.DataFrame]:
    """(number of readings starting in [start, end), one page of them by start) of a series:
    an API page of a ten-year 10-minute series reads one page, not the series."""
    sid = conn.execute(select(series_t.c.id).where(
        series_t.c.key == key, series_t.c.quantity == quantity)).scalar_one_or_none()
    cond = [reading.c.series_id == (sid if sid is not None else -1)]
    if start is not None:
        cond.append(reading.c.start_s >= int(pd.Timestamp(start).timestamp()))
    if end is not None:
        cond.append(reading.c.start_s < int(pd.Timestamp(end).timestamp()))
    total = conn.execute(select(func.count()).select_from(reading).where(*cond)).scalar_one()
    rows = conn.execute(one_page(select(reading.c.start_s, reading.c.duration_s, reading.c.value)
                                 .where(*cond).order_by(reading.c.start_s), limit, offset)
                        ).all()
    arr = np.array(rows, dtype="float64").reshape(-1, 3)
    return int(total), pd.DataFrame({
        C.SERIES_KEY: key, C.QUANTITY: quantity,
        C.START_UTC: pd.to_datetime(arr[:, 0].astype("int64"), unit="s", utc=True),
        C.DURATION_S: arr[:, 1].astype("int64"), C.VALUE: arr[:, 2]})
