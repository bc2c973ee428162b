"""`sobriete control run` on a stored building: dry run and advise by default, progress per
step, the audit trail in the store and in JSONL, real drivers refused without automatic mode
and --apply."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services import control_demo as D
from sobriete.services.store import open_store
from sobriete.services.store.control import decisions

START = pd.Timestamp("2024-01-08", tz="UTC")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("run_cli")
    files = D.write_files(folder, START, 14, weather_days=16)
    url = f"sqlite:///{folder / 'store.sqlite'}"
    store = open_store(url)
    D.import_files(store, files)
    store.close()
    return url


def test_dry_run_by_default_prints_progress_and_audits(db, tmp_path):
    jsonl = tmp_path / "journal.jsonl"
    res = CliRunner().invoke(main, ["control", "run", "--db", db, "--building", D.BUILDING,
                                    "--at", "2024-01-22T00:00", "--steps", "4",
                                    "--jsonl", str(jsonl)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    for words in ("Pilotage — ECOLE-SIM : mode conseil, pilote dry-run (rien ne quitte le "
                  "programme), rejeu des données stockées", "[1/4] 22/01 00:00", "[4/4]",
                  "non envoyé", "Proposé :", "4 pas : 4 plans résolus",
                  "0 décision(s) remise(s) au pilote dry-run"):
        assert words in out, words
    assert len(jsonl.read_text(encoding="utf-8").splitlines()) == 4
    store = open_store(db)
    with store.engine.connect() as conn:
        assert len(decisions(conn, building_code=D.BUILDING)) == 4
    store.close()


def test_json_and_stale_fallback_in_english(db, tmp_path):
    res = CliRunner().invoke(main, ["--lang", "en", "control", "run", "--db", db,
                                    "--building", D.BUILDING, "--mode", "automatic",
                                    "--at", "2024-01-22T00:45", "--steps", "3", "--json",
                                    "--jsonl", str(tmp_path / "a.jsonl")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["driver"] == "dry-run" and doc["steps"] == 3 and doc["sent"] == 3
    assert [d["fallback"] for d in doc["decisions"]] == [False, False, True]
    assert "observation 1800 s old" in doc["decisions"][2]["explanation_en"]


def test_real_drivers_need_automatic_and_apply(db):
    res = CliRunner().invoke(main, ["control", "run", "--db", db, "--building", D.BUILDING,
                                    "--driver", "mqtt", "--target", "127.0.0.1:1883"])
    assert res.exit_code == 2 and "--mode automatic and --apply" in res.output
    res = CliRunner().invoke(main, ["control", "run", "--db", db, "--building", D.BUILDING,
                                    "--driver", "modbus", "--mode", "automatic", "--apply",
                                    "--target", "127.0.0.1:5020"])
    assert res.exit_code == 2 and "--map" in res.output
