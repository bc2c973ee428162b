"""Diagnostics and recommendations section: findings ranked by EUR per year with their numbers,
French labels and evidence, recommendations and tracked actions, escaping, empty buildings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sobriete.domain.findings import Evidence, Finding, FindingKind, Quantity, Waste
from sobriete.reporting.findings_html import (
    rank_findings,
    render_findings_page,
    render_findings_section,
)
from sobriete.reporting.i18n import LABELS

PARIS = ZoneInfo("Europe/Paris")
NNBSP = "\u202f"  # the summary's French thousands separator


def q(v: float, unit: str, rel: float = 0.3) -> Quantity:
    return Quantity(value=v, low=v * (1 - rel), high=v * (1 + rel), unit=unit)


def make_finding(kind: FindingKind, kwh: float | None, eur: float | None = None,
                 score: float = 0.9, start: str = "2024-03-01", end: str = "2024-04-01",
                 message: str = "Le talon de nuit atteint 62 % de la puissance de jour.",
                 plot: str = "weekly_profile") -> Finding:
    # local midnights, as the detectors cut periods
    a, b = (datetime.fromisoformat(x).replace(tzinfo=PARIS) for x in (start, end))
    ev = Evidence(series_key="PRM-1", quantity="energy_kwh", data_start_utc=a,
                  data_end_utc=b, n_points=744, plot=plot,
                  values={"closed_ratio": 0.62, "closed_kw": 12.4},
                  reference={"closed_ratio": 0.25, "typical_closed_ratio": 0.25},
                  parameters={"closed_ratio_margin": 0.1, "night_hours_local": "1-5"})
    waste = None if kwh is None else Waste(
        carrier="electricity", kwh_observed=kwh / 12, kwh_per_year=q(kwh, "kWh/an"),
        eur_per_year=None if eur is None else q(eur, "EUR/an"),
        co2_kg_per_year=q(kwh * 0.052, "kgCO2e/an"),
        factors={"price_value": 0.2, "price_unit": "EUR/kWh"}, method="excès × 8760 h")
    return Finding(building_code="B1", kind=kind, start_utc=a, end_utc=b, score=score,
                   detector="schedule", detector_version="1", evidence=ev, waste=waste,
                   message_fr=message, message_en="The night base load is 62 % of the day's.",
                   actions=("night_setback",), warnings=("2 jours sans relevé",))


def recommendation(finding_keys: tuple[str, ...]) -> dict:
    """What ``Recommendation.to_json()`` gives (plain dicts: no import of the advice model)."""
    return {"building_code": "B1", "action_code": "night_setback", "action_type": "réglage",
            "kwh_per_year": q(8000, "kWh/an").model_dump(),
            "eur_per_year": q(1600, "EUR/an").model_dump(),
            "co2_kg_per_year": q(416, "kgCO2e/an").model_dump(),
            "cost_eur": Quantity(value=0, low=0, high=0, unit="EUR").model_dump(),
            "payback_years": 0.0, "eur_saved_per_eur_spent": 12.5,
            "finding_keys": list(finding_keys), "message_fr": "Programmer un réduit de nuit.",
            "message_en": "Program a night set-back."}


def buildings(name: str = "École Jean Jaurès") -> list[dict]:
    small = make_finding(FindingKind.WEEKEND_USE, 2000, 400, score=0.6)
    big = make_finding(FindingKind.BASE_LOAD_HIGH, 12000, 2400)
    breach = make_finding(FindingKind.ZONE_OCCUPIED_ABOVE_19, None, score=0.3,
                          plot="zone_temperature")
    tracked = {"action_code": "night_setback", "status": "done", "done_date": "2024-05-02",
               "estimated_kwh_per_year": 8000.0,
               "realised_kwh_per_year": {"value": 6100.0, "low": 4200.0, "high": 8000.0},
               "months_measured": 7, "warnings": ["moins de 12 mois mesurés"]}
    return [{"code": "B1", "name": name, "findings": [small, breach, big],
             "figures": {big.key: b"\x89PNG\r\n\x1a\nfake"},
             "recommendations": [recommendation((big.key, "0123456789abcdef"))],
             "tracked": [tracked]},
            {"code": "B2", "name": "Gymnase", "findings": []}]


def test_findings_ranked_by_eur_then_kwh_then_confidence() -> None:
    fs = [make_finding(FindingKind.DRIFT, None, score=0.4),
          make_finding(FindingKind.STEP_CHANGE, 5000),
          make_finding(FindingKind.WEEKEND_USE, 100, 900),
          make_finding(FindingKind.OUT_OF_HOURS, 9000, 1800)]
    assert [f.kind for f in rank_findings(fs)] == [
        FindingKind.OUT_OF_HOURS, FindingKind.WEEKEND_USE, FindingKind.STEP_CHANGE,
        FindingKind.DRIFT]


def test_section_has_numbers_labels_and_evidence() -> None:
    html = render_findings_section(buildings())
    # ranked: base load (2 400 €/an) before weekend use (400 €/an) before the 19 °C breach
    i_big = html.index("Talon de consommation trop élevé")
    assert i_big < html.index("Consommation le week-end") < html.index(
        "Plus de 19 °C en occupation")
    for text in (f"12{NNBSP}000", f"2{NNBSP}400", f"8{NNBSP}400", f"15{NNBSP}600",  # ±30 %
                 "élevée", "moyenne", "faible", "non estimé",
                 "01/03/2024 → 31/03/2024", "schedule v1", "744",
                 "Le talon de nuit atteint 62 % de la puissance de jour.",
                 "<details open>", "<summary>Preuves</summary>", "closed_ratio_margin",
                 "data:image/png;base64,", "2 jours sans relevé", "fonction (2) du décret BACS",
                 "Aucune anomalie détectée."):
        assert text in html, text
    # measured vs reference on one row
    assert '<td>closed_ratio</td><td class="n">0,62</td><td class="n">0,25</td>' in html


def test_recommendations_and_tracked_actions() -> None:
    html = render_findings_section(buildings())
    big = rank_findings(buildings()[0]["findings"])[0]
    for text in ("Recommandations", "réglage", f"8{NNBSP}000", f"1{NNBSP}600", "12,5",
                 f'href="#f-{big.key}"', f'id="f-{big.key}"', "Programmer un réduit de nuit.",
                 "Suivi des actions engagées", "réalisée", "02/05/2024", f"6{NNBSP}100",
                 f"4{NNBSP}200", "moins de 12 mois mesurés"):
        assert text in html, text


def test_english() -> None:
    html = render_findings_page(buildings(), lang="en")
    for text in ("Diagnostics and recommendations", "Base load too high", "high", "12,000",
                 "The night base load is 62 % of the day&#39;s.", "No anomaly detected.",
                 "setting", "function (2) of the French BACS decree"):
        assert text in html, text


def test_text_is_escaped() -> None:
    html = render_findings_page(buildings(name="<script>alert(1)</script>"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_findings_and_sparse_dicts() -> None:
    html = render_findings_page([{"code": "B9", "name": "Mairie",
                                  "recommendations": [{"action_code": "unknown_code"}],
                                  "tracked": [{"action_code": "x", "status": "to_do"}]}])
    assert "Aucune anomalie détectée." in html and "unknown_code" in html and "à faire" in html
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")


def test_every_kind_has_a_label() -> None:
    assert all(f"kind_{k.value}" in LABELS for k in FindingKind)


def test_summary_page_takes_the_section() -> None:
    from sobriete.reporting.html import render_summary_html
    from sobriete.reporting.summary import BuildingSummary

    bs = [BuildingSummary("B1", "École", "Lyon", "school", 1200.0, [])]
    plain = render_summary_html(bs, store_label="store", sources="src")
    assert 'class="findings"' not in plain
    html = render_summary_html(bs, store_label="store", sources="src",
                               findings_section=render_findings_section(buildings()))
    assert html.count('<section class="findings">') == 1
    assert "Diagnostics et recommandations" in html and "&lt;section" not in html
