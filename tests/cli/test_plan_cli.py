"""`sobriete plan` on a stored building fed with simulator data: the French explanation, the
tables, the plot, JSON, and typed errors (exit code 2)."""

from __future__ import annotations

import json
from datetime import date

import matplotlib.image as mpimg
import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services import control_demo as D
from sobriete.services.store import open_store

START = pd.Timestamp("2024-01-08", tz="UTC")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("plan_cli")
    files = D.write_files(folder, START, 14, weather_days=17,
                          tempo={date(2024, 1, 22): "ROUGE", date(2024, 1, 23): "BLANC"})
    url = f"sqlite:///{folder / 'store.sqlite'}"
    store = open_store(url)
    D.import_files(store, files)
    store.close()
    return url


def test_plan_prints_the_french_explanation_and_writes_the_plot(db, tmp_path):
    png = tmp_path / "plan.png"
    res = CliRunner().invoke(main, ["plan", "--db", db, "--building", D.BUILDING,
                                    "--plot", str(png)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    for words in ("Plan de chauffage — ECOLE-SIM / zone Z1", "Préchauffage de 22/01",
                  "jour rouge Tempo", "19 °C tenus en occupation", "économie prévue",
                  "Étapes du plan", "Programme du bâtiment", "Plan (régulateur)",
                  "Inconfort K·h", "Modèle R2C2 identifié sur 14,0 jours",
                  "erreur de prévision à 24 h", "chauffage ECOLE-SIM-CHAUF",
                  "prévision : météo stockée", "tarif réglementé Tempo",
                  "ajouté au journal (mode conseil : rien n'est envoyé"):
        assert words in out, words
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(png)
    assert img.shape[0] > 600 and img.shape[1] > 1000


def test_plan_json_in_english_and_a_shorter_horizon(db):
    res = CliRunner().invoke(main, ["plan", "--db", db, "--building", D.BUILDING, "--zone",
                                    D.ZONE, "--hours", "24", "--lang", "en", "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["hours"] == 24 and doc["zone"] == D.ZONE
    assert "Pre-heating" in doc["explanation_en"] and "Préchauffage" in doc["explanation_fr"]
    assert doc["plan"]["discomfort_kh"] < 0.05
    assert doc["plan"]["cost_eur"] < doc["schedule"]["cost_eur"]
    assert doc["provenance"]["sources"]["heating_key"] == D.METER
    assert doc["provenance"]["tempo_days"]["2024-01-22"] == "ROUGE"


def test_plan_errors_are_typed_and_exit_2(db):
    res = CliRunner().invoke(main, ["plan", "--db", db, "--building", "NOPE"])
    assert res.exit_code == 2 and "unknown building 'NOPE'" in res.output
    res = CliRunner().invoke(main, ["plan", "--db", db, "--building", D.BUILDING,
                                    "--zone", "Z9"])
    assert res.exit_code == 2 and "unknown zone" in res.output and "Z1" in res.output
    res = CliRunner().invoke(main, ["plan", "--db", db, "--building", D.BUILDING,
                                    "--at", "2024-01-12T08:00"])
    assert res.exit_code == 2 and "at least 7 days" in res.output
