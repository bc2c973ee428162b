"""What the building page shows, computed from the store: load curve (with the stored
baseline's prediction and band), energy signature, this year against last year by month,
data quality issues, and the latest heating plan and comfort decisions.

Sums over readings are done in SQL (per hour or per day); only the baseline prediction reads
a meter's readings, and only over the window shown. Times are UTC epoch seconds in the
series (the page's JavaScript shows them in local time).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, func, select, text

from sobriete.domain.errors import SobrieteError
from sobriete.services.mv_inputs import load_frames, meter_refs
from sobriete.services.mv_run import load_model
from sobriete.services.portfolio_status import station_days
from sobriete.services.scoped import BuildingRef
from sobriete.services.store import Store
from sobriete.services.store import schema as S

DAY_S, HOUR_S = 86_400, 3_600
DEFAULT_DAYS = 28
MAX_HOURLY_DAYS = 62  # beyond, the curve is daily (a browser need not draw 10^4 points)
BAND_Z = 1.96  # ~95 % if residuals were normal and independent: an indication, said so


def _meters(conn: Connection, building_id: int) -> list[dict]:
    s = S.series.c
    return [dict(r) for r in conn.execute(
        select(s.id, s.key, s.subkind, s.step_s).where(
            s.building_id == building_id, s.kind == "meter", s.quantity == "energy_kwh")
        .order_by(s.key)).mappings()]


def last_reading_s(conn: Connection, series_ids: list[int]) -> int | None:
    if not series_ids:
        return None
    r = S.reading.c
    return conn.execute(select(func.max(r.start_s + r.duration_s)).where(
        r.series_id.in_(series_ids))).scalar()


def _sums(conn: Connection, series_ids: list[int], lo: int, hi: int, step: int) -> pd.DataFrame:
    """series_id, bucket (epoch s), kwh summed by the database."""
    q = text(
        f"SELECT series_id, (start_s / {step:d}) * {step:d} AS t, SUM(value) AS kwh "
        "FROM reading WHERE series_id IN :ids AND start_s >= :lo AND start_s < :hi "
        f"GROUP BY series_id, start_s / {step:d} ORDER BY t"
    ).bindparams(bindparam("ids", expanding=True))
    rows = conn.execute(q, {"ids": series_ids, "lo": lo, "hi": hi}).all()
    return pd.DataFrame(rows, columns=["series_id", "t", "kwh"])


def window(conn: Connection, building_id: int, start: date | None, end: date | None
           ) -> tuple[int, int, int] | None:
    """(lo, hi, step) in epoch seconds: days ``start`` to ``end`` included, by default the
    last DEFAULT_DAYS of data."""
    ids = [m["id"] for m in _meters(conn, building_id)]
    last = last_reading_s(conn, ids)
    if last is None:
        return None
    hi = (int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()) + DAY_S if end
          else -(-last // DAY_S) * DAY_S)  # ``end`` is the last day shown
    lo = (int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) if start
          else hi - DEFAULT_DAYS * DAY_S)
    if hi <= lo:
        raise SobrieteError(f"window {start} → {end}: the end must come after the start")
    return lo, hi, HOUR_S if hi - lo <= MAX_HOURLY_DAYS * DAY_S else DAY_S


def load_curve(conn: Connection, building_id: int, lo: int, hi: int, step: int) -> list[dict]:
    """One series per energy meter: t (epoch s), kWh per step."""
    meters = _meters(conn, building_id)
    if not meters:
        return []
    sums = _sums(conn, [m["id"] for m in meters], lo, hi, step)
    grid = np.arange(lo, hi, step)
    out = []
    for m in meters:
        one = sums[sums["series_id"] == m["id"]].set_index("t")["kwh"]
        vals = one.reindex(grid)
        out.append({"key": m["key"], "subkind": m["subkind"], "t": grid.tolist(),
                    "kwh": [None if np.isnan(v) else round(float(v), 3) for v in vals]})
    return out


def baseline_band(conn: Connection, building_id: int, lo: int, hi: int, step: int) -> list[dict]:
    """Per meter with a successful stored baseline: predicted kWh per step and a band of
    ±1.96 x CV(RMSE) x mean at the model's own step, summed to the page's step (an indication
    of the model's spread, not a confidence interval of the sum). Meters without one are
    listed with why."""
    meters = _meters(conn, building_id)
    if not meters:
        return []
    bf = S.baseline_fit.c
    fits = {}
    for r in conn.execute(select(bf.series_id, bf.id, bf.model, bf.model_json, bf.result_json,
                                 bf.baseline_start, bf.baseline_end)
                          .where(bf.series_id.in_([m["id"] for m in meters]), bf.status == "ok")
                          .order_by(bf.id.desc())).mappings():
        fits.setdefault(r["series_id"], r)
    refs = {r.series_id: r for r in meter_refs(conn, None, [m["key"] for m in meters])}
    grid = np.arange(lo, hi, step)
    out = []
    start = datetime.fromtimestamp(lo, UTC).date()
    end = datetime.fromtimestamp(hi, UTC).date()
    for m in meters:
        fit = fits.get(m["id"])
        if fit is None:
            out.append({"key": m["key"], "available": False,
                        "reason_fr": "aucune référence (baseline) enregistrée pour ce compteur",
                        "reason_en": "no stored baseline for this meter"})
            continue
        try:
            model = load_model(fit["model_json"], fit["result_json"])
            frame, _ = load_frames(conn, refs[m["id"]], start, end, model.frequency)
            pred = model.predict(frame)["predicted_kwh"]
        except (SobrieteError, ValueError, KeyError) as exc:
            out.append({"key": m["key"], "available": False,
                        "reason_fr": f"prédiction impossible : {exc}",
                        "reason_en": f"prediction failed: {exc}"})
            continue
        model_step = HOUR_S if model.frequency == "hourly" else DAY_S
        if model_step > step:
            out.append({"key": m["key"], "available": False, "model_step_s": model_step,
                        "reason_fr": "référence journalière : visible en vue journalière",
                        "reason_en": "daily baseline: shown on the daily view"})
            continue
        metrics = model.fit_result.metrics if model.fit_result else None
        half = (BAND_Z * metrics.cvrmse * metrics.mean_y
                if metrics and np.isfinite(metrics.cvrmse) else 0.0)
        idx = pd.DatetimeIndex(pred.index)  # daily models: local dates, taken as UTC days
        idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
        secs = idx.as_unit("s").asi8
        bucket = pd.Series(pred.values, index=(secs // step) * step)
        summed = bucket.groupby(level=0).sum()
        n = bucket.groupby(level=0).size()
        p = summed.reindex(grid)
        band = (n * half).reindex(grid)
        out.append({
            "key": m["key"], "available": True, "t": grid.tolist(),
            "predicted_kwh": _clean(p), "low_kwh": _clean((p - band).clip(lower=0)),
            "high_kwh": _clean(p + band),
            "provenance": {"fit_id": fit["id"], "model": fit["model"],
                           "baseline_start": str(fit["baseline_start"]),
                           "baseline_end": str(fit["baseline_end"]),
                           "cvrmse": None if metrics is None else _num(metrics.cvrmse),
                           "band": f"±{BAND_Z} x CV(RMSE) x mean per model step"}})
    return out


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _clean(s: pd.Series) -> list:
    return [None if not np.isfinite(v) else round(float(v), 3) for v in s.astype(float)]


def signature(conn: Connection, building_id: int, station: str | None, hi: int,
              days: int = 365) -> dict:
    """Daily kWh (all energy meters) against the day's mean outdoor temperature, over the
    ``days`` before ``hi``."""
    if not station:
        return {"points": [], "reason_en": "no weather station", "reason_fr":
                "pas de station météo pour ce bâtiment"}
    lo = hi - days * DAY_S
    # the window (and a day each side, whole days) only, not the station's whole history
    w = station_days(conn, station, lo - DAY_S, hi + DAY_S)
    meters = _meters(conn, building_id)
    if w is None or not meters:
        return {"points": [], "reason_en": "no temperature or no meter",
                "reason_fr": "pas de température ou pas de compteur"}
    sums = _sums(conn, [m["id"] for m in meters], lo, hi, DAY_S)
    daily = sums.groupby("t")["kwh"].sum()
    daily.index = daily.index // DAY_S
    j = pd.concat([w["temp_c"], daily.rename("kwh")], axis=1, join="inner").dropna()
    return {"points": [[round(float(a), 2), round(float(b), 1)]
                       for a, b in zip(j["temp_c"], j["kwh"], strict=True)],
            "station": station, "days": len(j)}


def monthly(conn: Connection, building_id: int, hi: int) -> dict:
    """kWh per calendar month (UTC) for the 12 months ending with ``hi``'s month, and the
    same months a year before."""
    meters = _meters(conn, building_id)
    end = datetime.fromtimestamp(hi - 1, UTC).date().replace(day=1)
    months = [(end.year - (end.month - 1 - k < 0), (end.month - 1 - k) % 12 + 1)
              for k in range(11, -1, -1)]
    first = date(months[0][0] - 1, months[0][1], 1)
    lo = int(datetime(first.year, first.month, 1, tzinfo=UTC).timestamp())
    if not meters:
        return {"months": [], "n_kwh": [], "n1_kwh": []}
    sums = _sums(conn, [m["id"] for m in meters], lo, hi, DAY_S)
    days = pd.to_datetime(sums["t"], unit="s", utc=True)
    per = sums.groupby([days.dt.year, days.dt.month])["kwh"].sum()
    return {"months": [f"{y}-{m:02d}" for y, m in months],
            "n_kwh": [_get(per, y, m) for y, m in months],
            "n1_kwh": [_get(per, y - 1, m) for y, m in months]}


def _get(per: pd.Series, y: int, m: int) -> float | None:
    v = per.get((y, m))
    return None if v is None else round(float(v), 1)


def quality_issues(conn: Connection, building_id: int, limit: int = 50) -> list[dict]:
    q, s = S.quality_issue.c, S.series.c
    rows = conn.execute(select(s.key, q.kind, q.severity, q.start_utc, q.end_utc, q.n_points,
                               q.message_fr, q.message_en, q.check_version)
                        .join(S.series, s.id == q.series_id)
                        .where(s.building_id == building_id)
                        .order_by(q.start_utc.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def control_state(conn: Connection, code: str, n_decisions: int = 24) -> dict:
    """The latest plan (summary and provenance) and the last decisions (comfort: applied
    set-points, fall-backs, reasons)."""
    p, d = S.control_plan.c, S.control_decision.c
    plan = conn.execute(select(S.control_plan).where(p.building_code == code)
                        .order_by(p.id.desc()).limit(1)).mappings().first()
    decisions = conn.execute(select(d.time_utc, d.zone_code, d.mode, d.setpoint_c,
                                    d.heating_power_w, d.fallback, d.reason_fr, d.reason_en)
                             .where(d.building_code == code).order_by(d.id.desc())
                             .limit(n_decisions)).mappings().all()
    out: dict = {"plan": None, "decisions": [dict(r) for r in decisions]}
    if plan is not None:
        out["plan"] = {"id": plan["id"], "zone_code": plan["zone_code"], "kind": plan["kind"],
                       "start_utc": plan["start_utc"], "horizon_steps": plan["horizon_steps"],
                       "created_at": plan["created_at"],
                       "summary": json.loads(plan["summary_json"]),
                       "provenance": json.loads(plan["provenance_json"])}
    return out


def building_view(store: Store, ref: BuildingRef, *, start: date | None = None,
                  end: date | None = None) -> dict:
    """Everything the page draws for one building (already authorised by the caller)."""
    with store.read() as conn:
        win = window(conn, ref.id, start, end)
        view: dict = {"window": None, "curve": [], "baseline": [], "signature": {"points": []},
                      "monthly": {"months": []}, "quality": quality_issues(conn, ref.id),
                      "control": control_state(conn, ref.code)}
        if win is None:
            return view
        lo, hi, step = win
        view["window"] = {"start_s": lo, "end_s": hi, "step_s": step,
                          "start": datetime.fromtimestamp(lo, UTC).date(),
                          "end": (datetime.fromtimestamp(hi, UTC) - timedelta(days=1)).date()}
        view["curve"] = load_curve(conn, ref.id, lo, hi, step)
        view["baseline"] = baseline_band(conn, ref.id, lo, hi, step)
        view["signature"] = signature(conn, ref.id, ref.weather_station, hi)
        view["monthly"] = monthly(conn, ref.id, hi)
    return view
