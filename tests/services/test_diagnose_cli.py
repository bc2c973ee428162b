"""`sobriete diagnose` and `sobriete actions` from the command line: French tables with the
numbers of the store, English on request, JSON for tools, typed errors with exit code 2."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services.store.findings import load_findings


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_diagnose_lists_findings_in_french_and_shows_the_evidence(b0_sqlite):
    db = b0_sqlite.engine.url.render_as_string()
    res = _run("diagnose", "--building", "b0", "--db", db)
    assert res.exit_code == 0, res.output
    with b0_sqlite.engine.connect() as c:
        top = load_findings(c)[0]
    eur = top.finding.waste.eur_per_year.value
    for words in ("Constats (classés par € de gaspillage par an)", "Confiance", "b0-elec",
                  "Diagnostic n°1", "2019-01-01→2020-01-01", top.key[:8],
                  f"{eur:,.0f}".replace(",", "\u202f")):
        assert words in res.output, words
    shown = _run("diagnose", "show", top.key[:8], "--db", db)
    assert shown.exit_code == 0
    assert top.key in shown.output and "Détecteur" in shown.output
    assert f"{top.finding.detector} v{top.finding.detector_version}" in shown.output

    en = _run("--lang", "en", "diagnose", "--json", "--db", db)
    docs = json.loads(en.stdout)  # the progress bar went to stderr
    assert {d["key"] for d in docs} >= {top.key} and docs[0]["status"] == "open"
    again = _run("--lang", "en", "diagnose", "--db", db)
    assert "Findings (ranked by EUR wasted per year)" in again.output and "(0 new)" in again.output

    assert _run("diagnose", "dismiss", top.key, "--db", db).exit_code == 0
    listed = _run("diagnose", "--building", "b0", "--db", db).output
    assert "1 constat(s) écarté(s) non affiché(s)." in listed


def test_actions_list_done_and_realised(b0_sqlite):
    db = b0_sqlite.engine.url.render_as_string()
    _run("diagnose", "--db", db)
    listed = _run("actions", "list", "--db", db)
    assert listed.exit_code == 0
    assert "b0 : actions recommandées" in listed.output
    assert "€/€ : € gagnés sur la durée de vie de l'action par € dépensé" in listed.output
    ranked = _run("actions", "rank", "--commune", "CAM", "--db", db)
    assert "Actions classées (CAM)" in ranked.output
    done = _run("actions", "done", "b0", "schedule_fix", "--date", "2019-07-01", "--db", db)
    assert done.exit_code == 0 and "réalisée le 2019-07-01" in done.output
    shown = _run("actions", "realised", "--db", db)
    assert shown.exit_code == 0
    for words in ("réalisée le 2019-07-01", "6,0 mois mesurés", "Estimé", "Mesuré",
                  "kWh/an", "€/an", "kg CO2e/an", "Moins de 12 mois mesurés",
                  "Référence 2018-07-01 → 2019-07-01"):
        assert words in shown.output, words
    assert "réalisée" in _run("actions", "list", "--db", db).output  # the follow-up column


def test_bad_input_exits_2_with_the_reason(b0_sqlite):
    db = b0_sqlite.engine.url.render_as_string()
    cases = [
        (["diagnose", "--building", "zz"], "unknown building 'zz'"),
        (["diagnose", "--start", "2019-13-01"], "is not a date YYYY-MM-DD"),
        (["diagnose", "--closure", "b0:2019-08-01"], "BUILDING:YYYY-MM-DD:YYYY-MM-DD"),
        (["diagnose", "show", "0123456789"], "no stored finding"),
        (["actions", "done", "b0", "nope", "--date", "2019-01-01"], "unknown action code"),
        (["actions", "done", "b0", "schedule_fix", "--date", "1er juin"], "not a date"),
        (["actions", "rank", "--commune", "99999"], "unknown commune '99999'"),
    ]
    for args, message in cases:
        res = CliRunner().invoke(main, [*args, "--db", db])
        assert res.exit_code == 2, args
        assert message in res.output, (args, res.output)
