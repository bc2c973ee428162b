"""A building's or a commune's month, gathered from the store for the monthly report.

Per building: energy per meter over the local calendar month, against the same month of the
year before and against the latest stored baseline replayed on the month's weather (when one
exists), kWh/m², degree-days of the building's station (COSTIC, base 18 °C), CO2 and EUR
with the dated, sourced factors of ``domain.factors``, the findings whose period touches the
month, the actions done in the month and every realised saving measured so far, the heating
plans of the month, and the data-quality issues of the month. Each figure carries where it
comes from (``provenance``): series, readings, coverage, model, factor.

A commune's month is the same for each of its buildings, with totals per carrier.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, select

from sobriete.analytics.calendar import occupancy
from sobriete.analytics.conversions import co2_kg, cost_eur
from sobriete.analytics.diagnostics.base import CARRIER
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import Building, MeterKind
from sobriete.services.actions_run import communes, warning_doc
from sobriete.services.building_energy import energy_meters
from sobriete.services.diagnose_run import buildings_by_code, zone_series
from sobriete.services.mv_inputs import load_frames, meter_refs
from sobriete.services.mv_run import load_model
from sobriete.services.scoped import building_ref
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.actions import load_tracked
from sobriete.services.store.control import plans
from sobriete.services.store.findings import load_findings
from sobriete.services.store.readings import read_series
from sobriete.services.tertiaire_run import (
    DJU_METHOD,
    TertiaireError,
    period_dju,
    station_degree_days,
)

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthError(SobrieteError):
    """A month, building or commune the report cannot be made for."""


def parse_month(text: str) -> tuple[date, date]:
    """``YYYY-MM`` -> local dates [first day, first day of the next month)."""
    m = MONTH.match(text or "")
    if not m:
        raise MonthError(f"month {text!r}: expected YYYY-MM, e.g. 2019-03")
    y, mo = int(m[1]), int(m[2])
    return date(y, mo, 1), date(y + (mo == 12), mo % 12 + 1, 1)


class MeterMonth(BaseModel):
    """One meter's month. kWh over the month, kgCO2e, EUR."""

    model_config = ConfigDict(frozen=True)

    meter_code: str
    carrier: str
    kwh: float | None
    prev_kwh: float | None  # same month, year before
    change_pct: float | None
    baseline_kwh: float | None  # latest stored baseline on this month's weather
    vs_baseline_pct: float | None
    coverage_pct: float
    prev_coverage_pct: float
    co2_kg: float | None
    eur: float | None
    daily_kwh: dict[str, float]  # local day ISO -> kWh
    prev_daily_kwh: dict[str, float]
    provenance: dict  # series, readings, coverage, baseline model, factors


class BuildingMonth(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    commune_code: str | None
    commune_name: str | None
    activity: str
    floor_area_m2: float | None
    meters: list[MeterMonth]
    kwh_by_carrier: dict[str, float]
    total_kwh: float | None
    prev_total_kwh: float | None
    change_pct: float | None
    kwh_m2: float | None
    co2_kg: float | None
    eur: float | None
    dju: float | None
    prev_dju: float | None
    dju_method: str | None
    findings: list[dict]  # key, kind, status (open|dismissed|not_seen), eur_per_year, message
    actions_done: list[dict]  # done in the month
    realised: list[dict]  # every done action with a measured saving
    plans: list[dict]  # heating plans starting in the month
    comfort: list[dict]  # per zone: indoor temperature, occupied and not (R.241-26/27)
    quality: list[dict]  # kind, severity, n, message
    warnings: list[dict]


class MonthlyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    scope: Literal["building", "commune"]
    code: str
    name: str
    month: str  # YYYY-MM
    start: date  # local, inclusive
    end: date  # local, exclusive
    buildings: list[BuildingMonth]
    kwh_by_carrier: dict[str, float]
    prev_kwh_by_carrier: dict[str, float]
    total_kwh: float | None
    prev_total_kwh: float | None
    co2_kg: float | None
    eur: float | None
    generated_at: datetime
    provenance: list[dict]  # message_fr, message_en


def _pct(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else 100 * (a - b) / b


def _prev(d: date) -> date:
    return d.replace(year=d.year - 1)


def _daily(frame: pd.DataFrame, tz: str) -> tuple[float | None, dict[str, float], int]:
    if frame.empty:
        return None, {}, 0
    s = frame.set_index("start_utc")["value"]
    s.index = s.index.tz_convert(tz)
    days = s.groupby(s.index.date).sum()
    return float(s.sum()), {d.isoformat(): float(v) for d, v in days.items()}, int(frame[
        "duration_s"].sum())


def _latest_fits(conn: Connection, series_ids: list[int]) -> dict[int, dict]:
    rows = conn.execute(select(S.baseline_fit).where(
        S.baseline_fit.c.series_id.in_(series_ids), S.baseline_fit.c.status == "ok")
        .order_by(S.baseline_fit.c.id.desc())).mappings().all()
    out: dict[int, dict] = {}
    for r in rows:
        out.setdefault(r["series_id"], dict(r))
    return out


def _baseline(conn, ref, fit: dict | None, start: date, end: date, warnings: list
              ) -> tuple[float | None, dict | None]:
    if fit is None:
        return None, None
    try:
        frame, _ = load_frames(conn, ref, start, end, fit["frequency"])
        pred = load_model(fit["model_json"], fit["result_json"]).predict(frame)
    except SobrieteError as exc:
        warnings.append(warning_doc("baseline_not_replayed",
                                    f"{ref.key} : modèle de référence non rejoué ({exc}).",
                                    f"{ref.key}: baseline not replayed ({exc})."))
        return None, None
    return float(pred["predicted_kwh"].sum()), {
        "fit_id": fit["id"], "model": fit["model"], "frequency": fit["frequency"],
        "fitted_on": [str(fit["baseline_start"]), str(fit["baseline_end"])]}


def _meter(conn, b: Building, m, ref, fit, start, end, warnings) -> MeterMonth:
    tz = b.occupancy().timezone
    carrier = CARRIER[MeterKind(m.kind)]
    span = lambda lo, hi: (pd.Timestamp(lo, tz=tz).tz_convert("UTC"),  # noqa: E731
                           pd.Timestamp(hi, tz=tz).tz_convert("UTC"))
    lo, hi = span(start, end)
    plo, phi = span(_prev(start), _prev(end))
    kwh, daily, secs = _daily(read_series(conn, m.code, m.quantity, lo, hi), tz)
    pkwh, pdaily, psecs = _daily(read_series(conn, m.code, m.quantity, plo, phi), tz)
    cov = 100 * min(secs / (hi - lo).total_seconds(), 1.0)
    pcov = 100 * min(psecs / (phi - plo).total_seconds(), 1.0)
    if kwh is not None and cov < 95:
        warnings.append(warning_doc(
            "month_incomplete",
            f"{m.code} : relevés sur {cov:.0f}\u202f% du mois, total sous-estimé.",
            f"{m.code}: readings on {cov:.0f} % of the month, total underestimated."))
    base, base_doc = (None, None) if kwh is None else _baseline(conn, ref, fit, start, end,
                                                                warnings)
    co2 = co2_kg(kwh or 0.0, carrier)
    eur = cost_eur(kwh or 0.0, carrier)
    return MeterMonth(
        meter_code=m.code, carrier=carrier, kwh=kwh, prev_kwh=pkwh, change_pct=_pct(kwh, pkwh),
        baseline_kwh=base, vs_baseline_pct=_pct(kwh, base), coverage_pct=cov,
        prev_coverage_pct=pcov, co2_kg=co2.value if kwh is not None else None,
        eur=eur.value if kwh is not None else None, daily_kwh=daily, prev_daily_kwh=pdaily,
        provenance={"series": m.code, "quantity": m.quantity, "readings_s": secs,
                    "period_utc": [lo.isoformat(), hi.isoformat()],
                    "previous_period_utc": [plo.isoformat(), phi.isoformat()],
                    "baseline": base_doc, "co2": co2.to_dict(), "eur": eur.to_dict()})


def _dju(conn, b: Building, station: str | None, start, end, warnings, prev_data: bool
         ) -> tuple[float | None, float | None, str | None]:
    """Degree-days of the month and of the same month a year earlier (that one only said
    missing when there is consumption to compare it with)."""
    if not station:
        warnings.append(warning_doc("no_station", "Pas de station météo : pas de DJU.",
                                    "No weather station: no degree-days."))
        return None, None, None
    try:
        days = station_degree_days(conn, station, b.occupancy().timezone)
    except TertiaireError as exc:
        warnings.append(warning_doc("no_dju", f"DJU indisponibles : {exc}",
                                    f"No degree-days: {exc}"))
        return None, None, None
    out = []
    for lo, hi in ((start, end), (_prev(start), _prev(end))):
        try:
            out.append(period_dju(days, lo, hi, station))
        except TertiaireError as exc:
            out.append(None)
            if lo.year != start.year and not prev_data:
                continue
            warnings.append(warning_doc("no_dju", f"DJU {lo:%Y-%m} : {exc}",
                                        f"Degree-days {lo:%Y-%m}: {exc}"))
    return out[0], out[1], f"{DJU_METHOD.value}, base 18 °C, station {station}"


def _overlaps(a0, a1, lo: datetime, hi: datetime) -> bool:
    return a0 < hi and a1 > lo


def _findings(conn, code: str, lo: datetime, hi: datetime) -> list[dict]:
    out = []
    for sf in load_findings(conn, building=code, include_dismissed=True, include_not_seen=True):
        f = sf.finding
        if not _overlaps(f.start_utc, f.end_utc, lo, hi):
            continue
        status = sf.status if sf.status == "dismissed" or sf.seen_last else "not_seen"
        w = f.waste
        out.append({"key": sf.key, "kind": f.kind.value, "status": status,
                    "start_utc": f.start_utc.isoformat(), "end_utc": f.end_utc.isoformat(),
                    "eur_per_year": w.eur_per_year.value if w and w.eur_per_year else None,
                    "kwh_per_year": w.kwh_per_year.value if w else None,
                    "message_fr": f.message_fr, "message_en": f.message_en})
    return out


def _actions(conn, code: str, start: date, end: date) -> tuple[list[dict], list[dict]]:
    done, realised = [], []
    for t in load_tracked(conn, building=code):
        if t.status == "done" and t.done_date and start <= t.done_date < end:
            est = (t.estimated or {}).get("kwh_per_year") or {}
            done.append({"action_code": t.action_code, "done_date": t.done_date.isoformat(),
                         "estimated_kwh_per_year": est.get("value"), "note": t.note})
        total = (t.realised or {}).get("total") or {}
        if t.status == "done" and total.get("kwh_per_year"):
            realised.append({"action_code": t.action_code,
                             "done_date": t.done_date.isoformat() if t.done_date else None,
                             "kwh_per_year": total["kwh_per_year"],
                             "eur_per_year": total.get("eur_per_year"),
                             "months_measured": t.realised.get("months"),
                             "reporting": t.realised.get("reporting"), "note": t.note})
    return done, realised


def _plans(conn, code: str, lo: datetime, hi: datetime) -> list[dict]:
    out = []
    for p in plans(conn, building_code=code):
        if not lo <= p["start_utc"] < hi:
            continue
        s = json.loads(p["summary_json"])
        out.append({"zone": p["zone_code"], "start_utc": p["start_utc"].isoformat(),
                    "discomfort_kh": (s.get("plan") or {}).get("discomfort_kh"),
                    "energy_kwh": (s.get("plan") or {}).get("energy_kwh"),
                    "gain_vs_schedule_eur": s.get("gain_vs_schedule_eur"),
                    "explanation_fr": s.get("explanation_fr"),
                    "explanation_en": s.get("explanation_en")})
    return out


def _comfort(conn, b: Building, start: date, end: date) -> list[dict]:
    """Per zone with temperature sensors: hourly indoor temperature split by the building's
    calendar, next to the code de l'énergie's 19 °C (occupied, heating) and 16 °C (empty)."""
    out = []
    for zone in b.zones:
        z = zone_series(conn, b, zone, start, end)
        if z is None or z.temp_zone_c.dropna().empty:
            continue
        t = z.temp_zone_c.dropna()
        occ = occupancy(b.occupancy(), pd.DatetimeIndex(t.index)).occupied
        on, off = t[occ], t[~occ]

        def mean(x: pd.Series) -> float | None:
            return float(x.mean()) if len(x) else None
        out.append({"zone": zone.code, "name": zone.name, "hours": int(len(t)),
                    "occupied_hours": int(len(on)), "occupied_mean_c": mean(on),
                    "occupied_min_c": float(on.min()) if len(on) else None,
                    "occupied_max_c": float(on.max()) if len(on) else None,
                    "unoccupied_mean_c": mean(off),
                    "occupied_hours_above_19_c": int((on > 19.0).sum()),
                    "sensors": [s.code for s in zone.sensors]})
    return out


def _quality(conn, b: Building, lo: datetime, hi: datetime) -> list[dict]:
    q = S.quality_issue.c
    rows = conn.execute(
        select(q.kind, q.severity, func.count(), func.sum(q.n_points), func.min(q.message_fr),
               func.min(q.message_en))
        .join(S.series, S.series.c.id == q.series_id)
        .join(S.building, S.building.c.id == S.series.c.building_id)
        .where(S.building.c.code == b.code, q.start_utc < hi, q.end_utc > lo)
        .group_by(q.kind, q.severity).order_by(q.severity, q.kind)).all()
    return [{"kind": k, "severity": s, "issues": int(n), "points": int(p or 0),
             "example_fr": fr, "example_en": en} for k, s, n, p, fr, en in rows]


def _sum(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return sum(xs) if xs else None


def building_month(conn: Connection, b: Building, start: date, end: date,
                   weather=None) -> BuildingMonth:
    tz = b.occupancy().timezone
    lo = pd.Timestamp(start, tz=tz).tz_convert("UTC").to_pydatetime()
    hi = pd.Timestamp(end, tz=tz).tz_convert("UTC").to_pydatetime()
    warnings: list[dict] = []
    ms = energy_meters(b)
    refs = {r.key: r for r in meter_refs(conn, weather, [m.code for m in ms])} if ms else {}
    fits = _latest_fits(conn, [r.series_id for r in refs.values()])
    meters = [_meter(conn, b, m, refs.get(m.code), fits.get(refs[m.code].series_id)
                     if m.code in refs else None, start, end, warnings)
              for m in ms]
    by_carrier: dict[str, float] = {}
    for mm in meters:
        if mm.kwh is not None:
            by_carrier[mm.carrier] = by_carrier.get(mm.carrier, 0.0) + mm.kwh
    total = _sum(mm.kwh for mm in meters)
    prev_total = _sum(mm.prev_kwh for mm in meters)
    station = next((r.weather_key for r in refs.values() if r.weather_key), b.weather_station)
    dju, prev_dju, dju_method = _dju(conn, b, station, start, end, warnings,
                                     prev_total is not None)
    done, realised = _actions(conn, b.code, start, end)
    ref = building_ref(conn, b.code)
    area = b.floor_area_m2
    return BuildingMonth(
        code=b.code, name=b.name, commune_code=ref.commune_code if ref else None,
        commune_name=ref.commune_name if ref else None, activity=str(b.activity),
        floor_area_m2=area, meters=meters, kwh_by_carrier=by_carrier, total_kwh=total,
        prev_total_kwh=prev_total, change_pct=_pct(total, prev_total),
        kwh_m2=total / area if total is not None and area else None,
        co2_kg=_sum(mm.co2_kg for mm in meters), eur=_sum(mm.eur for mm in meters),
        dju=dju, prev_dju=prev_dju, dju_method=dju_method,
        findings=_findings(conn, b.code, lo, hi), actions_done=done, realised=realised,
        plans=_plans(conn, b.code, lo, hi), comfort=_comfort(conn, b, start, end),
        quality=_quality(conn, b, lo, hi),
        warnings=warnings)


PROVENANCE = [
    {"message_fr": "kWh : somme des relevés enregistrés commençant dans le mois civil local "
                   "(Europe/Paris sauf calendrier du bâtiment) ; N−1 : le même mois un an plus "
                   "tôt.",
     "message_en": "kWh: sum of the stored readings starting in the local calendar month "
                   "(Europe/Paris unless the building's calendar says otherwise); last year: "
                   "the same month one year earlier."},
    {"message_fr": "Référence modélisée : dernier modèle de référence réussi du compteur "
                   "(sobriete baseline), rejoué sur la météo du mois ; absente sans modèle.",
     "message_en": "Baseline: the meter's latest successful stored baseline (sobriete "
                   "baseline), replayed on the month's weather; absent when none was fitted."},
    {"message_fr": "Degrés-jours : méthode COSTIC, base 18 °C, températures horaires de la "
                   "station du bâtiment.",
     "message_en": "Degree-days: COSTIC method, base 18 °C, from the station's hourly "
                   "temperatures."},
    {"message_fr": "CO2 et € : facteurs datés et sourcés (domain/factors.py) ; prix par défaut "
                   "à remplacer par ceux des contrats de la commune.",
     "message_en": "CO2 and EUR: dated, sourced factors (domain/factors.py); default prices to "
                   "be replaced by the commune's contract prices."},
    {"message_fr": "Anomalies : celles enregistrées dont la période touche le mois (ouvertes, "
                   "écartées, ou non retrouvées par le dernier diagnostic).",
     "message_en": "Findings: stored findings whose period touches the month (open, "
                   "dismissed, or not found again by the latest diagnosis)."},
]


def monthly_report(store: Store, month: str, *, building: str | None = None,
                   commune: str | None = None, weather=None) -> MonthlyReport:
    """The month of one building or of every building of one commune (module doc)."""
    if (building is None) == (commune is None):
        raise MonthError("give a building or a commune, not both")
    start, end = parse_month(month)
    with store.read() as conn:
        known = buildings_by_code(conn)
        if building is not None:
            if building not in known:
                raise MonthError(f"unknown building {building!r}")
            chosen, scope, code = [known[building]], "building", building
            name = known[building].name
        else:
            where = communes(conn)
            codes = sorted(c for c in known if where.get(c) == commune)
            if not codes:
                raise MonthError(f"unknown commune {commune!r} (or no building in it)")
            chosen, scope, code = [known[c] for c in codes], "commune", commune
            name = building_ref(conn, codes[0]).commune_name
        months = [building_month(conn, b, start, end, weather) for b in chosen]
    carriers: dict[str, float] = {}
    prev: dict[str, float] = {}
    for bm in months:
        for mm in bm.meters:
            if mm.kwh is not None:
                carriers[mm.carrier] = carriers.get(mm.carrier, 0.0) + mm.kwh
            if mm.prev_kwh is not None:
                prev[mm.carrier] = prev.get(mm.carrier, 0.0) + mm.prev_kwh
    return MonthlyReport(
        scope=scope, code=code, name=name, month=month, start=start, end=end,
        buildings=months, kwh_by_carrier=carriers, prev_kwh_by_carrier=prev,
        total_kwh=_sum(bm.total_kwh for bm in months),
        prev_total_kwh=_sum(bm.prev_total_kwh for bm in months),
        co2_kg=_sum(bm.co2_kg for bm in months), eur=_sum(bm.eur for bm in months),
        generated_at=datetime.now(UTC), provenance=PROVENANCE)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path | None


def monthly_report_file(store: Store, month: str, out_dir: Path, *,
                        building: str | None = None, commune: str | None = None,
                        pdf: bool = True, lang: str = "fr") -> ReportFiles:
    """The month's report written as ``rapport_<code>_<month>.html`` (and ``.pdf``) in
    ``out_dir``: what ``make demo`` calls."""
    from sobriete.reporting.monthly_html import render_monthly_html
    from sobriete.reporting.pdf import html_to_pdf

    report = monthly_report(store, month, building=building, commune=commune)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"rapport_{re.sub(r'[^A-Za-z0-9_-]', '_', report.code)}_{month}"
    html = render_monthly_html(report.model_dump(mode="python"), lang=lang)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = out_dir / f"{stem}.pdf"
        pdf_path.write_bytes(html_to_pdf(html))
    return ReportFiles(html_path, pdf_path)


__all__ = ["MonthError", "MonthlyReport", "ReportFiles", "building_month", "monthly_report",
           "monthly_report_file", "parse_month"]
