"""Rendering the summary to one self-contained HTML file (images inlined)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from sobriete.domain.numbers import fmt_en, fmt_fr
from sobriete.reporting.i18n import t
from sobriete.reporting.summary import BuildingSummary, png_data_uri

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _fmt(lang: str):
    def fmt(x, digits: int = 1) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "—"
        return (fmt_fr if lang == "fr" else fmt_en)(x, digits)
    return fmt


def _day(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None else ts.tz_convert("Europe/Paris").strftime("%d/%m/%Y")


def render_summary_html(
    buildings: list[BuildingSummary],
    *,
    store_label: str,
    sources: str,
    footprint: list | None = None,
    footprint_method: str = "",
    lang: str = "fr",
    savings: list | None = None,
    savings_run: int | None = None,
    findings_section: str | None = None,
) -> str:
    """``findings_section``: ``findings_html.render_findings_section(...)``, inserted after the
    buildings when given (already escaped HTML)."""
    tpl = _ENV.get_template("summary.html.j2")
    return tpl.render(
        buildings=buildings, lang=lang, t=lambda k: t(k, lang), fmt=_fmt(lang), day=_day,
        uri=png_data_uri, generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        store=store_label, sources=sources, footprint=footprint or [],
        footprint_method=footprint_method, savings=savings or [], savings_run=savings_run,
        findings_section=Markup(findings_section) if findings_section else None,
    )
