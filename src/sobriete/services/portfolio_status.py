"""Per-building figures of the portfolio page (table ``building_status``), computed in one
pass by the daily analysis rather than at each page view.

For each building, over its **last 12 months of data** (365 days ending on the day after its
latest energy reading, UTC days):

- ``energy_kwh``: sum of its energy meters (``series.kind = 'meter'``, ``energy_kwh``);
- ``kwh_per_m2`` (needs ``floor_area_m2``), ``degree_days`` (COSTIC, base 18 °C, on the
  building's ``weather_station``), ``kwh_per_m2_per_dd``;
- ``trend_pct``: the 12 months against the period of the latest successful stored baseline of
  one of its meters, annualised (``trend_basis = 'baseline'``), else against the 12 months
  before (``previous_year``, needs 80 % of that year covered), else ``none``. Raw kWh, not
  climate-corrected: the degree-days are shown next to it so a cold year can be seen;
- ``open_findings``: findings with status ``open``;
- ``tertiaire_status``/``tertiaire_gap_pct`` when a Décret tertiaire reference year is given
  (``on_track``: no gap to the 2030 target; ``late``: a gap, in % of the current
  consumption; ``no_reference``: the path could not be computed, reason in ``detail_json``);
  ``unknown`` otherwise;
- ``data_coverage_pct``: seconds of readings over the window x number of meters.

Status rule (documented in docs/dashboard.md, first match wins):
``no_data`` no energy reading, or coverage below 50 %; ``alert`` trend >= +10 %;
``watch`` trend >= +3 %, or an open finding, or coverage below 90 %; ``ok`` otherwise.
The Décret tertiaire status is shown beside it, not folded in: a 2030 gap is a plan, not an
incident of the day.

Readings are summed per day in SQL (one query per chunk of buildings); Python only sees daily
sums, so 5,000 buildings with hourly data stay a matter of seconds per chunk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, delete, func, insert, select, text

from sobriete.analytics.degree_days import DEFAULT_BASE_C, daily_min_max, degree_days
from sobriete.domain.errors import SobrieteError
from sobriete.services.building_energy import energy_meters
from sobriete.services.diagnose_run import buildings_by_code
from sobriete.services.mv_inputs import TEMP
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.readings import read_series
from sobriete.services.tertiaire_run import DJU_METHOD, tertiaire_building

DAY_S = 86_400
WINDOW_DAYS = 365
CHUNK = 500  # buildings per SQL aggregation: bounds memory on large portfolios
ALERT_TREND_PCT = 10.0
WATCH_TREND_PCT = 3.0
MIN_COVERAGE_PCT = 50.0
WATCH_COVERAGE_PCT = 90.0
MIN_PREVIOUS_COVERAGE = 0.8
STATUSES = ("ok", "watch", "alert", "no_data")

Progress = Callable[[int, int, str], None]


@dataclass
class RefreshCounts:
    buildings: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # building code -> why (tertiaire)


def _daily_sums(conn: Connection, building_ids: list[int]) -> pd.DataFrame:
    """building_id, day (UTC day number), kwh, covered_s: summed in the database."""
    q = text(
        "SELECT s.building_id AS building_id, r.start_s / 86400 AS day, "
        "SUM(r.value) AS kwh, SUM(r.duration_s) AS covered_s "
        "FROM reading r JOIN series s ON s.id = r.series_id "
        "WHERE s.kind = 'meter' AND s.quantity = 'energy_kwh' "
        "AND s.building_id IN :ids GROUP BY s.building_id, r.start_s / 86400"
    ).bindparams(bindparam("ids", expanding=True))
    rows = conn.execute(q, {"ids": building_ids}).all()
    return pd.DataFrame(rows, columns=["building_id", "day", "kwh", "covered_s"]).astype(
        {"building_id": "int64", "day": "int64", "kwh": "float64", "covered_s": "float64"})


def _meter_counts(conn: Connection, building_ids: list[int]) -> dict[int, int]:
    s = S.series.c
    rows = conn.execute(select(s.building_id, func.count()).where(
        s.kind == "meter", s.quantity == "energy_kwh", s.building_id.in_(building_ids))
        .group_by(s.building_id)).all()
    return {int(b): int(n) for b, n in rows}


def _open_findings(conn: Connection, building_ids: list[int]) -> dict[int, int]:
    f = S.finding.c
    rows = conn.execute(select(f.building_id, func.count()).where(
        f.status == "open", f.building_id.in_(building_ids)).group_by(f.building_id)).all()
    return {int(b): int(n) for b, n in rows}


def _baseline_periods(conn: Connection, building_ids: list[int]) -> dict[int, tuple]:
    """building_id -> (start, end, meter key) of its latest successful baseline fit."""
    s, bf = S.series.c, S.baseline_fit.c
    rows = conn.execute(
        select(s.building_id, bf.baseline_start, bf.baseline_end, s.key)
        .join(S.series, s.id == bf.series_id)
        .where(bf.status == "ok", s.building_id.in_(building_ids))
        .order_by(bf.id.desc())).all()
    out: dict[int, tuple] = {}
    for b, lo, hi, key in rows:
        if lo is not None and hi is not None:
            out.setdefault(int(b), (lo, hi, key))
    return out


def station_days(conn: Connection, station: str, lo_s: int | None = None,
                 hi_s: int | None = None) -> pd.DataFrame | None:
    """Daily mean temperature [°C] and heating degree-days [°C·day] (COSTIC, base 18 °C)
    indexed by UTC day number (of the days in [lo_s, hi_s), epoch seconds, when given), or
    None when the station has no temperature."""
    w = read_series(conn, station, TEMP,
                    None if lo_s is None else pd.Timestamp(lo_s, unit="s", tz="UTC"),
                    None if hi_s is None else pd.Timestamp(hi_s, unit="s", tz="UTC"))
    if w.empty:
        return None
    daily = daily_min_max(w.set_index("start_utc")["value"], timezone="UTC")
    dd = degree_days(daily, method=DJU_METHOD)
    day = (dd.index.values.astype("datetime64[D]").astype("int64"))
    return pd.DataFrame({"temp_c": daily["temp_air_c"].values,
                         "hdd": dd[f"hdd_{DEFAULT_BASE_C:g}"].values}, index=day)


def _day_number(d) -> int:
    return int(np.datetime64(d, "D").astype("int64"))


def _to_dt(day: int) -> datetime:
    return datetime.fromtimestamp(day * DAY_S, UTC)


def _status(energy, coverage, trend, findings) -> str:
    if energy is None or coverage is None or coverage < MIN_COVERAGE_PCT:
        return "no_data"
    if trend is not None and trend >= ALERT_TREND_PCT:
        return "alert"
    if ((trend is not None and trend >= WATCH_TREND_PCT) or findings > 0
            or coverage < WATCH_COVERAGE_PCT):
        return "watch"
    return "ok"


def _figures(b: dict, days: pd.DataFrame, n_meters: int, findings: int, baseline,
             weather: pd.DataFrame | None, tertiaire: tuple) -> dict:
    """One building's row (see the module doc)."""
    detail: dict = {"meters": n_meters, "window_days": WINDOW_DAYS, "days": "UTC",
                    "warnings": []}
    row: dict = {"building_id": b["id"], "open_findings": findings, "energy_kwh": None,
                 "kwh_per_m2": None, "degree_days": None, "kwh_per_m2_per_dd": None,
                 "trend_pct": None, "trend_basis": "none", "data_coverage_pct": None,
                 "period_start": None, "period_end": None}
    t_status, t_gap, t_detail = tertiaire
    row["tertiaire_status"], row["tertiaire_gap_pct"] = t_status, t_gap
    if t_detail:
        detail["tertiaire"] = t_detail
    if days.empty or n_meters == 0:
        detail["warnings"].append("no energy reading")
    else:
        end = int(days["day"].max()) + 1
        start = end - WINDOW_DAYS
        cur = days[(days["day"] >= start) & (days["day"] < end)]
        energy = float(cur["kwh"].sum())
        coverage = 100 * float(cur["covered_s"].sum()) / (WINDOW_DAYS * DAY_S * n_meters)
        row.update(energy_kwh=energy, data_coverage_pct=min(coverage, 100.0),
                   period_start=_to_dt(start), period_end=_to_dt(end))
        area = b["floor_area_m2"]
        if area:
            row["kwh_per_m2"] = energy / area
        else:
            detail["warnings"].append("no floor area: kWh/m² not computed")
        if weather is not None:
            w = weather[(weather.index >= start) & (weather.index < end)]["hdd"].dropna()
            if len(w) >= 0.9 * WINDOW_DAYS:
                row["degree_days"] = float(w.mean() * WINDOW_DAYS)
                detail["degree_days"] = {"method": f"{DJU_METHOD.value}, base "
                                         f"{DEFAULT_BASE_C:g} °C", "station":
                                         b["weather_station"], "days_with_data": len(w)}
                if row["kwh_per_m2"] is not None and row["degree_days"] > 0:
                    row["kwh_per_m2_per_dd"] = row["kwh_per_m2"] / row["degree_days"]
            else:
                detail["warnings"].append(f"weather {b['weather_station']}: {len(w)} days "
                                          "of temperatures in the window, degree-days skipped")
        else:
            detail["warnings"].append("no weather station with temperatures")
        row.update(_trend(days, start, end, energy, baseline, detail))
    row["status"] = _status(row["energy_kwh"], row["data_coverage_pct"], row["trend_pct"],
                            findings)
    row["detail_json"] = json.dumps(detail, ensure_ascii=False, default=str)
    return row


def _trend(days: pd.DataFrame, start: int, end: int, energy: float, baseline,
           detail: dict) -> dict:
    if baseline is not None:
        lo, hi = _day_number(baseline[0]), _day_number(baseline[1])
        ref = days[(days["day"] >= lo) & (days["day"] < hi)]
        if hi > lo and not ref.empty and ref["kwh"].sum() > 0:
            annual = float(ref["kwh"].sum()) * WINDOW_DAYS / (hi - lo)
            detail["trend"] = {"basis": "baseline", "baseline_meter": baseline[2],
                               "baseline_start": str(baseline[0]),
                               "baseline_end": str(baseline[1]), "reference_kwh": annual}
            return {"trend_pct": 100 * (energy / annual - 1), "trend_basis": "baseline"}
    prev = days[(days["day"] >= start - WINDOW_DAYS) & (days["day"] < start)]
    n_meters = detail["meters"]
    covered = float(prev["covered_s"].sum()) / (WINDOW_DAYS * DAY_S * n_meters)
    if covered >= MIN_PREVIOUS_COVERAGE and prev["kwh"].sum() > 0:
        ref_kwh = float(prev["kwh"].sum())
        detail["trend"] = {"basis": "previous_year", "reference_kwh": ref_kwh,
                           "reference_start": str(_to_dt(start - WINDOW_DAYS).date()),
                           "reference_coverage_pct": round(100 * covered, 1)}
        return {"trend_pct": 100 * (energy / ref_kwh - 1), "trend_basis": "previous_year"}
    detail["warnings"].append("no baseline and the previous 12 months are not covered: "
                              "no trend")
    return {}


def _tertiaire(store: Store, b, reference_year: int | None) -> tuple:
    """(status, gap %, detail) of the Décret tertiaire path of the registry building ``b``,
    or unknown without a year (or without energy meters)."""
    if reference_year is None or b is None or not energy_meters(b):
        return "unknown", None, None
    try:
        run = tertiaire_building(store, b, reference_year)
    except (SobrieteError, ValueError) as exc:
        return "no_reference", None, {"reference_year": reference_year, "error": str(exc)}
    r = run.result
    gap = 100 * r.gap_kwh / r.current_kwh if r.current_kwh > 0 else None
    return ("late" if r.gap_kwh > 0 else "on_track"), gap, {
        "reference_year": reference_year, "target_year": r.year, "gap_kwh": r.gap_kwh,
        "current_kwh": r.current_kwh, "reference_kwh": r.reference_kwh, "method": r.method}


def refresh(store: Store, *, buildings: Iterable[str] | None = None,
            progress: Progress | None = None, tertiaire_reference: int | None = None,
            now: datetime | None = None) -> RefreshCounts:
    """Compute and store ``building_status`` for every building (or those codes)."""
    b = S.building.c
    q = select(b.id, b.code, b.floor_area_m2, b.weather_station).order_by(b.code)
    if buildings is not None:
        q = q.where(b.code.in_(list(buildings)))
    with store.read() as conn:
        todo = [dict(r) for r in conn.execute(q).mappings()]
    counts = RefreshCounts()
    computed_at = now or datetime.now(UTC)
    stations: dict[str, pd.DataFrame | None] = {}
    registry = {}
    if tertiaire_reference is not None:  # the registry's buildings, loaded once
        with store.read() as conn:
            registry = buildings_by_code(conn)
    for i in range(0, len(todo), CHUNK):
        chunk = todo[i:i + CHUNK]
        ids = [x["id"] for x in chunk]
        with store.read() as conn:
            daily = _daily_sums(conn, ids)
            meters, findings = _meter_counts(conn, ids), _open_findings(conn, ids)
            baselines = _baseline_periods(conn, ids)
            for st in {x["weather_station"] for x in chunk} - set(stations) - {None}:
                stations[st] = station_days(conn, st)
        by_building = dict(tuple(daily.groupby("building_id"))) if not daily.empty else {}
        rows = []
        for x in chunk:
            t = _tertiaire(store, registry.get(x["code"]), tertiaire_reference)
            if t[0] == "no_reference":
                counts.errors[x["code"]] = t[2]["error"]
            row = _figures(x, by_building.get(x["id"], daily.iloc[0:0]),
                           meters.get(x["id"], 0), findings.get(x["id"], 0),
                           baselines.get(x["id"]), stations.get(x["weather_station"]), t)
            row["computed_at"] = computed_at
            rows.append(row)
            counts.by_status[row["status"]] = counts.by_status.get(row["status"], 0) + 1
        with store.engine.begin() as conn:
            conn.execute(delete(S.building_status).where(
                S.building_status.c.building_id.in_(ids)))
            conn.execute(insert(S.building_status), rows)
        counts.buildings += len(chunk)
        if progress:
            progress(counts.buildings, len(todo), f"{counts.buildings}/{len(todo)} bâtiments")
    return counts


def load_status(conn: Connection, building_ids: Iterable[int]) -> dict[int, dict]:
    """building_id -> its stored status row (with ``detail`` parsed); absent if never
    computed."""
    ids = list(building_ids)
    out: dict[int, dict] = {}
    bs = S.building_status
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        for r in conn.execute(select(bs).where(bs.c.building_id.in_(ids[i:i + 900]))
                              ).mappings():
            d = dict(r)
            d["detail"] = json.loads(d.pop("detail_json") or "{}")
            out[int(d["building_id"])] = d
    return out
