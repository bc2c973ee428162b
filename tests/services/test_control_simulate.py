"""`simulate_day` and `sobriete control simulate`: the simulated school, schedule vs controller,
on a Tempo red day and with a demand-response window."""

from __future__ import annotations

import json
from datetime import time

import matplotlib.image as mpimg
import pytest
from click.testing import CliRunner

from sobriete.cli import main
from sobriete.services.control_simulate import simulate_day


@pytest.fixture(scope="module")
def red_day():
    return simulate_day(red_day=True, seed=3)


def test_on_a_red_day_the_controller_costs_less_with_no_more_discomfort(red_day):
    s, c = red_day.schedule, red_day.controller
    assert c.cost_eur < s.cost_eur
    assert c.discomfort_kh <= s.discomfort_kh + 1e-9
    assert c.kwh_red < s.kwh_red  # the energy moved out of the red hours
    assert s.kwh_shed is None and c.kwh_shed is None  # no window asked
    assert red_day.plans_solved == 96 and red_day.fallbacks == 0
    assert 0 < c.peak_kw <= 40.0 + 1e-6
    # The worked example of tests/control/test_loop.py plus 3 kW of occupants' gains, which
    # the model learns from the calendar (regression values, seen once and checked by hand).
    assert s.cost_eur == pytest.approx(63.04, abs=0.01)
    assert c.cost_eur == pytest.approx(51.03, abs=0.01)
    assert 2 <= len(red_day.key_steps) <= 3
    first = red_day.key_steps[0]
    assert "Préchauffage" in first.explanation_fr and "Pre-heating" in first.explanation_en
    assert all(k.explanation_fr and k.explanation_en for k in red_day.key_steps)
    assert len(red_day.steps) == 96 and red_day.steps["red"].sum() == 64  # 06:00-22:00
    doc = json.loads(json.dumps(red_day.to_dict()))
    assert doc["red_window"] == ["06:00", "22:00"] and doc["controller"]["kwh_red"] > 0


def test_bad_shed_windows_are_refused():
    with pytest.raises(ValueError):
        simulate_day(red_day=False, seed=3, shed_window=(time(20), time(18)))


def test_cli_prints_the_french_table_and_writes_the_plot(tmp_path):
    png = tmp_path / "jour.png"
    res = CliRunner().invoke(main, ["control", "simulate", "--shed", "17:00-19:00",
                                    "--plot", str(png)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())  # rich wraps long lines
    for words in ("Simulation (bâtiment simulé)", "jour rouge Tempo", "Programme du bâtiment",
                  "Pilotage (régulateur)", "Coût €", "Pointe kW", "Inconfort K·h",
                  "kWh effacement", "17:00-19:00", "Pourquoi (journal du régulateur)",
                  "Préchauffage de", "Effacement de 17:00 à 19:00",
                  "Aucun bâtiment réel n'est piloté"):
        assert words in out, words
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(png)
    assert img.shape[0] > 400 and img.shape[1] > 800

    bad = CliRunner().invoke(main, ["control", "simulate", "--shed", "19h00"])
    assert bad.exit_code == 2 and "HH:MM-HH:MM" in bad.output


def test_cli_json_without_red_day():
    res = CliRunner().invoke(main, ["--lang", "en", "control", "simulate", "--no-red-day",
                                    "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["red_day"] is False and doc["red_window"] is None
    assert doc["schedule"]["kwh_red"] is None
    assert "simulated building" in doc["simulation"]
    # Flat price: the controller has no price to steer by; it keeps comfort, spends no more.
    assert doc["controller"]["discomfort_kh"] <= doc["schedule"]["discomfort_kh"] + 0.5
    assert doc["controller"]["cost_eur"] <= doc["schedule"]["cost_eur"]
