"""The summary's "Diagnostics and recommendations" section from the store: per building, the
current findings (each with the figure that shows it), the stored recommendations and the
tracked actions with their estimated and realised savings."""

from __future__ import annotations

from sqlalchemy import Connection

from sobriete.analytics.calendar import occupancy
from sobriete.domain.findings import Finding
from sobriete.domain.portfolio import Building
from sobriete.reporting.diagnostic_plots import finding_png
from sobriete.reporting.findings_html import rank_findings, render_findings_section
from sobriete.services.diagnose_run import (
    buildings_by_code,
    latest_diagnosis,
    meter_series,
    zone_series,
)
from sobriete.services.mv_inputs import meter_refs
from sobriete.services.store import Store
from sobriete.services.store.actions import TrackedAction, load_recommendations, load_tracked
from sobriete.services.store.findings import load_findings

FIGURES_PER_BUILDING = 3  # the most expensive findings; the rest keep their evidence table


def _frames(conn: Connection, b: Building, findings: list[Finding], weather) -> dict:
    """The data behind each figure: the meter frame (or zone frame) over the diagnosis window."""
    last = latest_diagnosis(conn, b.code)
    if last is None:
        return {}
    (start, end), out = last[1], {}
    refs = {r.key: r for r in meter_refs(conn, weather, [m.code for m in b.meters])}
    zones = {z.code: z for z in b.zones}
    for f in findings:
        key = f.evidence.series_key
        if key in out:
            continue
        if key in refs:
            out[key] = meter_series(conn, refs[key], b, start, end, history_days=0).frame()
        elif key in zones and (z := zone_series(conn, b, zones[key], start, end)) is not None:
            frame = z.temp_zone_c.to_frame()
            frame["occupied"] = occupancy(b.occupancy(), frame.index).occupied
            out[key] = frame
    return out


def _tracked(t: TrackedAction, lang: str) -> dict:
    r = t.realised or {}
    return {"action_code": t.action_code, "status": t.status, "done_date": t.done_date,
            "estimated_kwh_per_year": (t.estimated or {}).get("kwh_per_year"),
            "realised_kwh_per_year": (r.get("total") or {}).get("kwh_per_year"),
            "months_measured": r.get("months"),
            # The template has no note column: the note (e.g. "demonstration") leads the remarks.
            "warnings": ([t.note] if t.note else []) + [
                w["message_fr" if lang == "fr" else "message_en"] for w in r.get("warnings", [])]}


def findings_section(store: Store, *, lang: str = "fr", weather=None) -> str | None:
    """The HTML section, or None when the store holds no finding, advice or tracked action
    (the summary is then unchanged)."""
    with store.read() as conn:
        findings, recs = load_findings(conn), load_recommendations(conn)
        tracked = load_tracked(conn)
        if not (findings or recs or tracked):
            return None
        buildings = []
        for code, b in sorted(buildings_by_code(conn).items()):
            mine = rank_findings([f.finding for f in findings if f.finding.building_code == code])
            rs = [r.rec.to_json() for r in recs if r.rec.building_code == code]
            ts = [_tracked(t, lang) for t in tracked if t.building_code == code]
            if not (mine or rs or ts):
                continue
            shown = mine[:FIGURES_PER_BUILDING]
            frames = _frames(conn, b, shown, weather)
            figures = {f.key: finding_png(f, frames[f.evidence.series_key], lang=lang)
                       for f in shown if f.evidence.plot and f.evidence.series_key in frames}
            buildings.append({"code": code, "name": b.name, "findings": mine,
                              "figures": figures, "recommendations": rs, "tracked": ts})
    return render_findings_section(buildings, lang=lang)
