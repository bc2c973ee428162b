"""The monthly report as one self-contained HTML page (figures inlined), laid out for A4 so
that the same page prints and becomes the PDF (``reporting.pdf``).

Pure: the report as a plain dict (``services.monthly_report.MonthlyReport.model_dump()``) in,
HTML out, so that a stored or re-sent report renders the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from sobriete.advice.catalogue import UnknownActionError, get_action
from sobriete.reporting._plot_common import LOCAL_TZ
from sobriete.reporting.html import _ENV, _fmt
from sobriete.reporting.i18n import LABELS, t
from sobriete.reporting.monthly_plots import daily_png
from sobriete.reporting.summary import png_data_uri

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
MONTHS_FR_LONG = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                  "septembre", "octobre", "novembre", "décembre")

L: dict[str, tuple[str, str]] = {
    "title": ("Rapport mensuel d'énergie", "Monthly energy report"),
    "commune": ("Commune", "Commune"),
    "building": ("Bâtiment", "Building"),
    "buildings": ("Bâtiments", "Buildings"),
    "area": ("Surface", "Floor area"),
    "generated": ("Généré le", "Generated on"),
    "key": ("Chiffres clés du mois", "Key figures of the month"),
    "energy": ("Énergie consommée", "Energy used"),
    "vs_prev": ("vs même mois N−1", "vs same month last year"),
    "kwh_m2": ("kWh/m²", "kWh/m²"),
    "co2": ("CO2 (kg)", "CO2 (kg)"),
    "eur": ("Coût estimé (€)", "Estimated cost (EUR)"),
    "dju": ("Degrés-jours (DJU)", "Degree-days"),
    "by_meter": ("Consommation par compteur", "Consumption per meter"),
    "meter": ("Compteur", "Meter"),
    "carrier": ("Énergie", "Carrier"),
    "month_kwh": ("Mois (kWh)", "Month (kWh)"),
    "prev_kwh": ("N−1 (kWh)", "Last year (kWh)"),
    "change": ("Écart", "Change"),
    "baseline": ("Modèle de réf. (kWh)", "Baseline (kWh)"),
    "vs_baseline": ("vs référence", "vs baseline"),
    "coverage": ("Complétude", "Coverage"),
    "daily": ("Consommation journalière", "Daily consumption"),
    "findings": ("Anomalies détectées sur le mois", "Findings touching the month"),
    "no_findings": ("Aucune anomalie enregistrée sur ce mois.",
                    "No finding stored for this month."),
    "status": ("Statut", "Status"),
    "finding": ("Anomalie", "Finding"),
    "start": ("Début", "Start"),
    "waste": ("Gaspillage estimé (€/an)", "Estimated waste (EUR/yr)"),
    "actions": ("Actions réalisées ce mois", "Actions done this month"),
    "no_actions": ("Aucune action marquée réalisée ce mois.", "No action marked done this month."),
    "realised": ("Économies mesurées des actions réalisées", "Measured savings of done actions"),
    "action": ("Action", "Action"),
    "done_on": ("Réalisée le", "Done on"),
    "estimated": ("Estimé (kWh/an)", "Estimated (kWh/yr)"),
    "measured": ("Mesuré (kWh/an)", "Measured (kWh/yr)"),
    "months": ("Mois mesurés", "Months measured"),
    "plans": ("Pilotage du chauffage", "Heating plans"),
    "no_plans": ("Aucun plan de chauffage ce mois.", "No heating plan this month."),
    "zone": ("Zone", "Zone"),
    "discomfort": ("Inconfort (K·h)", "Discomfort (K·h)"),
    "gain": ("Gain vs horaire (€)", "Gain vs schedule (EUR)"),
    "comfort": ("Confort : températures intérieures", "Comfort: indoor temperatures"),
    "occ_mean": ("Moy. occupé (°C)", "Occupied mean (°C)"),
    "occ_range": ("Min – max occupé (°C)", "Occupied min – max (°C)"),
    "occ_above": ("Heures occupées > 19 °C", "Occupied hours > 19 °C"),
    "unocc_mean": ("Moy. inoccupé (°C)", "Unoccupied mean (°C)"),
    "comfort_note": ("Heures d'occupation du calendrier du bâtiment. Code de l'énergie : "
                     "19 °C en moyenne au plus en occupation (R.241-26), 16 °C en inoccupation "
                     "de 24 à 48 h, 8 °C au-delà (R.241-27).",
                     "Occupied hours from the building's calendar. Code de l'énergie: at most "
                     "19 °C on average when occupied (R.241-26), 16 °C when empty 24-48 h, "
                     "8 °C beyond (R.241-27)."),
    "quality": ("Qualité des données", "Data quality"),
    "no_quality": ("Aucun problème de données relevé sur le mois.",
                   "No data issue found for the month."),
    "severity": ("Gravité", "Severity"),
    "issues": ("Problèmes", "Issues"),
    "example": ("Exemple", "Example"),
    "warnings": ("Limites des chiffres", "Limits of the figures"),
    "method": ("Méthode et sources", "Method and sources"),
    "bacs": ("Décret BACS (R.175-3, fonction 2) : la comparaison aux références et la "
             "détection des dérives ci-dessus sont celles qu'exige le décret.",
             "BACS decree (R.175-3, function 2): the comparison with references and the "
             "detection of efficiency losses above are what the decree requires."),
    "total": ("Total", "Total"),
    "open": ("ouverte", "open"), "dismissed": ("écartée", "dismissed"),
    "not_seen": ("non retrouvée", "not found again"),
    "electricity": ("électricité", "electricity"), "gas": ("gaz", "gas"),
    "heat": ("chaleur", "heat"),
}


def month_label(start: date, lang: str) -> str:
    return (f"{MONTHS_EN[start.month - 1]} {start.year}" if lang == "en"
            else f"{MONTHS_FR_LONG[start.month - 1]} {start.year}")


class _H:
    """Formatting handed to the template in the report's language."""

    def __init__(self, lang: str):
        self.lang = lang
        self.fmt = _fmt(lang)
        self.colon = ": " if lang == "en" else "\u202f: "

    def t(self, key: str) -> str:
        fr, en = L.get(key, (key, key))
        return en if self.lang == "en" else fr

    def n(self, x: Any, digits: int = 0) -> str:
        return self.fmt(x, digits)

    def pct(self, x: float | None) -> str:
        if x is None:
            return "—"
        sign = "+" if x > 0 else ("−" if x < 0 else "")
        return f"{sign}{self.fmt(abs(x), 1)}\u202f%"

    def msg(self, d: dict, base: str = "message") -> str:
        return d.get(f"{base}_en" if self.lang == "en" else f"{base}_fr") or ""

    def day(self, iso: str | None) -> str:
        if not iso:
            return "—"
        # a date stays itself; an instant is shown on the local calendar
        d = (date.fromisoformat(iso) if len(iso) == 10
             else pd.Timestamp(iso).tz_convert(LOCAL_TZ).date())
        return d.isoformat() if self.lang == "en" else d.strftime("%d/%m/%Y")

    def period(self, start_iso: str, end_iso: str) -> str:
        """Local days, the end exclusive: the last day shown is the last one included."""
        lo = pd.Timestamp(start_iso).tz_convert(LOCAL_TZ)
        hi = pd.Timestamp(end_iso).tz_convert(LOCAL_TZ) - pd.Timedelta(seconds=1)
        return f"{self.day(lo.date().isoformat())} → {self.day(hi.date().isoformat())}"

    def kind(self, kind: str) -> str:
        key = f"kind_{kind}"
        return t(key, self.lang) if key in LABELS else kind.replace("_", " ")

    def action(self, code: str) -> str:
        try:
            a = get_action(code)
        except UnknownActionError:
            return code
        return a.name_en if self.lang == "en" else a.name_fr

    def kwh_q(self, q: dict | None) -> str:
        if not q:
            return "—"
        return f"{self.fmt(q['value'], 0)} [{self.fmt(q['low'], 0)} – {self.fmt(q['high'], 0)}]"


def _figure(b: dict, start: date, lang: str) -> str:
    carriers: dict[str, tuple[dict, dict]] = {}
    for m in b["meters"]:
        now, prev = carriers.setdefault(m["carrier"], ({}, {}))
        for src, dst in ((m["daily_kwh"], now), (m["prev_daily_kwh"], prev)):
            for d, v in src.items():
                dst[d] = dst.get(d, 0.0) + v
    prev_start = start.replace(year=start.year - 1)
    png = daily_png(carriers, month_label=month_label(start, lang),
                    prev_label=month_label(prev_start, lang), lang=lang)
    return png_data_uri(png)


def _merged(report: dict) -> dict:
    """A commune's buildings summed into one pseudo-building for its figure."""
    meters: dict[str, dict] = {}
    for b in report["buildings"]:
        for m in b["meters"]:
            acc = meters.setdefault(m["carrier"], {"carrier": m["carrier"], "daily_kwh": {},
                                                   "prev_daily_kwh": {}})
            for k in ("daily_kwh", "prev_daily_kwh"):
                for d, v in m[k].items():
                    acc[k][d] = acc[k].get(d, 0.0) + v
    return {"meters": list(meters.values())}


def render_monthly_html(report: dict, *, lang: str = "fr") -> str:
    """``report``: ``MonthlyReport.model_dump()`` (dates as ``date`` or ISO text)."""
    start = report["start"]
    start = date.fromisoformat(start) if isinstance(start, str) else start
    h = _H(lang)
    area = sum(b["floor_area_m2"] or 0 for b in report["buildings"])
    total = report["total_kwh"]
    figures = ({report["buildings"][0]["code"]: _figure(report["buildings"][0], start, lang)}
               if report["scope"] == "building" else {"*": _figure(_merged(report), start, lang)})
    dju = [b["dju"] for b in report["buildings"] if b["dju"] is not None]
    prev_dju = [b["prev_dju"] for b in report["buildings"] if b["prev_dju"] is not None]
    key = {
        "total_kwh": total, "prev_total_kwh": report["prev_total_kwh"],
        "change_pct": (100 * (total - report["prev_total_kwh"]) / report["prev_total_kwh"]
                       if total is not None and report["prev_total_kwh"] else None),
        "kwh_m2": total / area if total is not None and area else None,
        "co2_kg": report["co2_kg"], "eur": report["eur"],
        # one station per commune in practice; several: their mean, said in the method
        "dju": sum(dju) / len(dju) if dju else None,
        "prev_dju": sum(prev_dju) / len(prev_dju) if prev_dju else None,
    }
    return _ENV.get_template("monthly_report.html").render(
        r=report, h=h, lang=lang, key=key, figures=figures, area=area,
        month=month_label(start, lang),
        prev_month=month_label(start.replace(year=start.year - 1), lang),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
