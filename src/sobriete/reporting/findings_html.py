"""The "Diagnostics and recommendations" section: per building, the findings ranked by their
waste in EUR per year, each with its evidence and figure one click away (``<details>``), then
the recommended actions and the follow-up of the actions under way.

Pure: findings, figures (``diagnostic_plots.finding_png``), recommendations and tracked actions
in, HTML out. Recommendations and tracked actions are plain dicts (``Recommendation.to_json()``,
store rows) so that a report can be rebuilt from stored documents.

``buildings``: one dict per building::

    {"code": "B1", "name": "École Jaurès",
     "findings": [Finding, ...],
     "figures": {finding.key: png bytes},           # optional
     "recommendations": [Recommendation dict, ...],  # in the advice layer's rank order
     "tracked": [{"action_code", "status" (to_do | in_progress | done), "done_date",
                  "estimated_kwh_per_year", "realised_kwh_per_year" (a number or a
                  {value, low, high} dict, None until measured), "months_measured",
                  "warnings": [...]}, ...]}
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from markupsafe import Markup

from sobriete.advice.catalogue import UnknownActionError, get_action
from sobriete.domain.findings import Finding, Quantity, priority
from sobriete.reporting.html import _ENV, _fmt
from sobriete.reporting.i18n import LABELS, t
from sobriete.reporting.summary import LOCAL_TZ, png_data_uri

__all__ = ["rank_findings", "render_findings_page", "render_findings_section"]

ACTION_TYPE = {"réglage": "fd_setting", "travaux": "fd_works", "setting": "fd_setting",
               "works": "fd_works"}
# Keys the template reads; a dict missing some (an older stored document) renders dashes.
RECO_KEYS = ("action_code", "action_type", "kwh_per_year", "eur_per_year", "cost_eur",
             "payback_years", "eur_saved_per_eur_spent", "message_fr", "message_en")
TRACKED_KEYS = ("action_code", "status", "done_date", "estimated_kwh_per_year",
                "realised_kwh_per_year", "months_measured")
STATUS = {"to_do": ("à faire", "to do"), "in_progress": ("en cours", "in progress"),
          "done": ("réalisée", "done")}


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """Most expensive first (``domain.findings.priority``)."""
    return sorted(findings, key=priority)


class _Helpers:
    """Formatting handed to the template, in the page's language."""

    def __init__(self, lang: str):
        self.lang = lang
        self.fmt = _fmt(lang)

    def t(self, key: str) -> str:
        return t(key, self.lang)

    def q(self, x: Any, digits: int = 0) -> Markup:
        """A value with its interval, "1 200 [800 – 1 600]"; a number alone; None: a dash."""
        if x is None:
            return Markup("—")
        if isinstance(x, Quantity):
            x = x.model_dump()
        if not isinstance(x, dict):
            return Markup(self.fmt(x, digits))
        text = Markup.escape(self.fmt(x["value"], digits))
        if x.get("low") is not None and x.get("high") is not None and x["low"] != x["high"]:
            text += Markup(' <span class="iv">[{} – {}]</span>').format(
                self.fmt(x["low"], digits), self.fmt(x["high"], digits))
        return text

    def value(self, x: Any) -> str:
        """An evidence value: numbers in the page's style, booleans as words."""
        if x is None:
            return "—"
        if isinstance(x, bool):
            return self.t("yes" if x else "no")
        if isinstance(x, int | float):
            if isinstance(x, float) and not math.isfinite(x):
                return "—"
            return self.fmt(x, 0 if float(x).is_integer() or abs(x) >= 100 else 2)
        return str(x)

    def day(self, x: Any) -> str:
        if x is None or x == "":
            return "—"
        if isinstance(x, date) and not isinstance(x, datetime):
            return x.strftime("%d/%m/%Y")
        ts = pd.Timestamp(x)
        ts = ts.tz_convert(LOCAL_TZ) if ts.tzinfo is not None else ts
        return ts.strftime("%d/%m/%Y")

    def period(self, f: Finding) -> str:
        # The end is exclusive: the last day shown is the last one included.
        last = pd.Timestamp(f.end_utc) - pd.Timedelta(seconds=1)
        return f"{self.day(f.start_utc)} → {self.day(last)}"

    def kind(self, f: Finding) -> str:
        key = f"kind_{f.kind.value}"
        return self.t(key) if key in LABELS else f.kind.value

    def action(self, code: str) -> str:
        try:
            spec = get_action(code)
        except UnknownActionError:
            return code
        return spec.name_en if self.lang == "en" else spec.name_fr

    def action_type(self, value: str | None) -> str:
        key = ACTION_TYPE.get(value or "")
        return self.t(key) if key else (value or "—")

    def status(self, value: str | None) -> str:
        fr, en = STATUS.get(value or "", (value or "—", value or "—"))
        return en if self.lang == "en" else fr

    def message(self, obj: Any) -> str:
        get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
        return (get("message_en") if self.lang == "en" else get("message_fr")) or ""

    def evidence_rows(self, f: Finding) -> list[tuple[str, Any, Any]]:
        """(key, measured, reference): a key found in both sits on one row."""
        ev = f.evidence
        keys = list(ev.values) + [k for k in ev.reference if k not in ev.values]
        return [(k, ev.values.get(k), ev.reference.get(k)) for k in keys]


def _view(b: dict[str, Any]) -> dict[str, Any]:
    findings = rank_findings(list(b.get("findings") or []))
    figures = b.get("figures") or {}
    return {"code": b.get("code", ""), "name": b.get("name", ""), "findings": findings,
            "figures": {k: png_data_uri(v) for k, v in figures.items() if v},
            "anchors": {f.key: i for i, f in enumerate(findings, 1)},
            "recommendations": [{**dict.fromkeys(RECO_KEYS), "finding_keys": [], **r}
                                for r in b.get("recommendations") or []],
            "tracked": [{**dict.fromkeys(TRACKED_KEYS), "warnings": [], **a}
                        for a in b.get("tracked") or []]}


def _context(buildings: list[dict[str, Any]], lang: str, standalone: bool) -> dict[str, Any]:
    # standalone: the page's own title heads the section, which then drops its heading.
    return {"buildings": [_view(b) for b in buildings], "lang": lang, "h": _Helpers(lang),
            "standalone": standalone}


def render_findings_section(buildings: list[dict[str, Any]], *, lang: str = "fr") -> str:
    """The section alone (with its own scoped styles), to insert in another page."""
    return _ENV.get_template("findings_section.html.j2").render(
        **_context(buildings, lang, standalone=False))


def render_findings_page(buildings: list[dict[str, Any]], *, lang: str = "fr",
                         title: str | None = None) -> str:
    """A whole self-contained HTML page holding the section."""
    return _ENV.get_template("findings.html.j2").render(
        **_context(buildings, lang, standalone=True), title=title or t("fd_title", lang),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
