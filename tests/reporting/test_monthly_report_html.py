"""The monthly report page and its PDF, from a report gathered on the real b0 data (March
2018 and March 2019, imported through the real import path)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from sobriete.reporting.monthly_html import render_monthly_html
from sobriete.reporting.pdf import html_to_pdf
from sobriete.services.demo import DATA
from sobriete.services.imports import import_file
from sobriete.services.monthly_report import monthly_report
from sobriete.services.store import open_store

WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start"}
SPANS = (("2018-02-25", "2018-04-03"), ("2019-02-25", "2019-04-03"))


def _slice(name: str, col: str, folder: Path) -> Path:
    df = pd.read_csv(DATA / "cambridge" / f"{name}.csv.gz", usecols=["timestamp_utc", col])
    t = pd.to_datetime(df["timestamp_utc"])
    keep = (t >= SPANS[0][0]) & (t < SPANS[0][1]) | (t >= SPANS[1][0]) & (t < SPANS[1][1])
    path = folder / f"{name}.csv"
    df[keep].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("monthly")
    lines = (DATA / "registry_demo.csv").read_text(encoding="utf-8").splitlines()
    (folder / "registry.csv").write_text(
        "\n".join([lines[0]] + [x for x in lines[1:] if ";b0;" in x]) + "\n", encoding="utf-8")
    store = open_store(f"sqlite:///{folder / 's.sqlite'}")
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, _slice("electricity_kwh_hourly", "b0", folder), "meter-csv",
                rename={"b0": "b0-elec"}, **WIDE)
    import_file(store, _slice("gas_kwh_hourly", "b0", folder), "meter-csv",
                rename={"b0": "b0-gas"}, **WIDE)
    import_file(store, _slice("weather_bedford_hourly", "air_temperature_c", folder),
                "weather-csv", time_column="timestamp_utc", timezone="UTC", station="bedford",
                columns={"air_temperature_c": "temp_air_c"})
    out = monthly_report(store, "2019-03", building="b0").model_dump(mode="python")
    store.close()
    return out


def test_page_in_french_and_english(report):
    html = render_monthly_html(report, lang="fr")
    assert "Rapport mensuel d&#39;énergie — mars 2019" in html
    assert "Bâtiment universitaire b0" in html and "Université de Cambridge" in html
    assert html.count("data:image/png;base64,") == 1  # the daily figure, inlined
    assert "mars 2018" in html and "costic" in html and "Décret BACS" in html
    # Empty sections say they are empty.
    assert "Aucune anomalie enregistrée sur ce mois." in html
    en = render_monthly_html(report, lang="en")
    assert "Monthly energy report — March 2019" in en and "March 2018" in en
    assert "Aucune" not in en


def test_every_section_renders(report):
    b = report["buildings"][0]
    b.update(
        findings=[{"key": "k1", "kind": "out_of_hours", "status": "open",
                   "start_utc": "2019-03-02T00:00:00+00:00",
                   "end_utc": "2019-03-20T23:00:00+00:00", "eur_per_year": 1234.0,
                   "kwh_per_year": 6000.0, "message_fr": "La nuit, le talon double.",
                   "message_en": "At night the base load doubles."}],
        actions_done=[{"action_code": "schedule_fix", "done_date": "2019-03-12",
                       "estimated_kwh_per_year": 5000.0, "note": "GTB"}],
        realised=[{"action_code": "schedule_fix", "done_date": "2019-03-12",
                   "kwh_per_year": {"value": 4000.0, "low": 3000.0, "high": 5000.0},
                   "eur_per_year": None, "months_measured": 2.0, "reporting": None,
                   "note": None}],
        plans=[{"zone": "Z1", "start_utc": "2019-03-05T00:00:00+00:00", "discomfort_kh": 0.5,
                "energy_kwh": 100.0, "gain_vs_schedule_eur": 3.2,
                "explanation_fr": "Préchauffage avant 8 h.", "explanation_en": "Preheat."}],
        comfort=[{"zone": "Z1", "name": "Classes", "hours": 336, "occupied_hours": 110,
                  "occupied_mean_c": 18.9, "occupied_min_c": 17.9, "occupied_max_c": 19.05,
                  "unoccupied_mean_c": 16.1, "occupied_hours_above_19_c": 44,
                  "sensors": ["T1"]}],
        quality=[{"kind": "gap", "severity": "warning", "issues": 2, "points": 5,
                  "example_fr": "Trou de 5 h.", "example_en": "5 h gap."}],
        warnings=[{"code": "x", "message_fr": "Mois incomplet.", "message_en": "Partial."}])
    html = render_monthly_html(report, lang="fr")
    for text in ("La nuit, le talon double.", "ouverte", "02/03/2019 → 20/03/2019",
                 "1\u202f234", "GTB", "12/03/2019",
                 "Préchauffage avant 8 h.", "Trou de 5 h.", "Mois incomplet.",
                 "Z1 — Classes", "44 / 110", "R.241-26",
                 "4\u202f000 [3\u202f000 – 5\u202f000]"):
        assert text in html, text


def _pdf_text(pdf: bytes, html: str, tmp_path: Path) -> str:
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(pdf)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    # No poppler here: the text WeasyPrint laid out on the pages of the same document.
    from weasyprint import HTML

    doc = HTML(string=html).render()
    return " ".join(getattr(box, "text", "") for page in doc.pages
                    for box in page._page_box.descendants())


def test_pdf_is_a4_with_the_building_name(report, tmp_path):
    html = render_monthly_html(report, lang="fr")
    pdf = html_to_pdf(html, tmp_path / "out.pdf")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert (tmp_path / "out.pdf").read_bytes() == pdf
    from weasyprint import HTML

    page = HTML(string=html).render().pages[0]
    assert (page.width, page.height) == pytest.approx((210 / 25.4 * 96, 297 / 25.4 * 96))  # A4
    text = _pdf_text(pdf, html, tmp_path)
    assert "Bâtiment universitaire b0" in text and "mars 2019" in text
