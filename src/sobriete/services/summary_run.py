"""Build the per-building HTML summary from the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from sobriete.analytics.quality import completeness
from sobriete.domain.quality import QualityIssue
from sobriete.reporting.html import render_summary_html
from sobriete.reporting.summary import (
    BuildingSummary,
    completeness_png,
    load_curve_png,
    summarise_meter,
)
from sobriete.services.findings_report import findings_section
from sobriete.services.footprint import ledger, measured
from sobriete.services.mv_report import latest_savings_run, savings_views
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.estate import load_portfolio
from sobriete.services.store.readings import read_series


@dataclass
class SummaryOutcome:
    path: Path
    buildings: list[BuildingSummary]


def _issues(conn) -> dict[str, list[QualityIssue]]:
    q = select(S.series.c.key, S.quality_issue).join(
        S.quality_issue, S.quality_issue.c.series_id == S.series.c.id)
    out: dict[str, list[QualityIssue]] = {}
    for r in conn.execute(q).mappings():
        out.setdefault(r["key"], []).append(QualityIssue(
            series_key=r["key"], kind=r["kind"], severity=r["severity"],
            start_utc=r["start_utc"], end_utc=r["end_utc"], n_points=r["n_points"],
            message_fr=r["message_fr"], message_en=r["message_en"],
            check_version=r["check_version"]))
    return out


def build_summaries(store: Store, *, lang: str = "fr") -> list[BuildingSummary]:
    with store.read() as conn:
        pf = load_portfolio(conn)
        if pf is None:
            return []
        issues = _issues(conn)
        result = []
        for _t, commune, _s, b in pf.buildings():
            frames = {m.code: read_series(conn, m.code, m.quantity) for m in b.meters}
            meters = [summarise_meter(m, frames[m.code], b.floor_area_m2, issues.get(m.code, []))
                      for m in b.meters]
            has_data = any(not f.empty for f in frames.values())
            monthly = pd.concat(
                [completeness(f, "MS", expected_step_s=m.step_s)
                 for m in b.meters if not (f := frames[m.code]).empty]
            ) if has_data else pd.DataFrame()
            result.append(BuildingSummary(
                b.code, b.name, commune.name, b.activity.value, b.floor_area_m2, meters,
                load_curve_png(b, frames, lang) if has_data else None,
                completeness_png(monthly, lang)))
    return result


def write_summary(
    store: Store, path: Path, *, lang: str = "fr", sources: str = "", weather=None
) -> SummaryOutcome:
    """The HTML summary; with the latest savings run's figures when there is one."""
    with measured("summary", store):
        buildings = build_summaries(store, lang=lang)
        run = latest_savings_run(store)
        savings = savings_views(store, run, weather=weather, lang=lang) if run else []
        jobs = ledger(store)
        footprint = jobs.to_dict("records") if not jobs.empty else []
        method = jobs["method"].iloc[-1] if not jobs.empty else ""
        html = render_summary_html(
            buildings, store_label=store.engine.url.render_as_string(hide_password=True),
            sources=sources, footprint=footprint, footprint_method=method, lang=lang,
            savings=savings, savings_run=run,
            findings_section=findings_section(store, lang=lang, weather=weather))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a report
    return SummaryOutcome(path, buildings)
