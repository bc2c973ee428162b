"""Shed capacity from a stored building's thermal model (the simulated school stored through
the import path), and the fall back to its meter when the model cannot be had."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sobriete.services import control_demo as D
from sobriete.services.flex_portfolio import portfolio_capacity
from sobriete.services.store import open_store

START = pd.Timestamp("2024-01-08", tz="UTC")  # a Monday; 14 days -> data until Monday 22/01
TEMPO = {date(2024, 1, 22): "ROUGE", date(2024, 1, 23): "BLANC"}
PARIS = "Europe/Paris"


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    return D.write_files(tmp_path_factory.mktemp("school"), START, 14, weather_days=17,
                         tempo=TEMPO)


def _window(day: str, a: str, b: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return (pd.Timestamp(f"{day} {a}", tz=PARIS), pd.Timestamp(f"{day} {b}", tz=PARIS))


def test_a_measured_zone_gets_the_models_capacity_with_comfort_kept(any_store_url, school):
    store = open_store(any_store_url)
    D.import_files(store, school)
    # Tuesday 10:00-12:00, occupied: the school is heating, so some of it can be shed.
    report = portfolio_capacity(store, *_window("2024-01-23", "10:00", "12:00"))
    (cap,) = report.capacities
    assert cap.method == "model" and cap.confidence == pytest.approx(0.8)
    assert 0 < cap.shed_kw <= cap.baseline_kw <= 40.0
    assert cap.violation_total_kh <= 0.5 + 1e-6  # the comfort tolerance of shed_capacity
    assert cap.provenance["sources"]["temp_key"] == D.SENSOR
    assert cap.provenance["planned_from_utc"] and cap.provenance["rebound_hours"] == 12
    assert report.total.shed_kw == pytest.approx(cap.shed_kw)


def test_a_window_far_from_the_zone_data_falls_back_to_the_meter_and_says_why(any_store_url,
                                                                              school):
    store = open_store(any_store_url)
    D.import_files(store, school)
    # Five days after the last zone reading: the model's state would be a guess.
    report = portfolio_capacity(store, *_window("2024-01-27", "10:00", "12:00"),
                                forecast_temp_c=2.0)
    (cap,) = report.capacities
    assert cap.method == "meter-only"
    first = cap.warnings[0]
    assert first.code == "model_unavailable" and "48 h" in first.message_en
    assert "compteur" in first.message_fr
