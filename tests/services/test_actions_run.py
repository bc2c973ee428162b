"""Recommendations from the store, action tracking, and realised savings that recover a known
step after the done date within their interval."""

from __future__ import annotations

from datetime import date

import pytest

from sobriete.advice import get_action
from sobriete.services.actions_run import (
    ActionError,
    UnknownCommuneError,
    mark_action,
    measure_realised,
    recommend_buildings,
)
from sobriete.services.diagnose_run import UnknownBuildingError, diagnose
from sobriete.services.findings_report import findings_section
from sobriete.services.store.actions import action_history, load_recommendations


def test_realised_savings_recover_a_known_step_within_their_interval(b0_step_store):
    store, true_saving = b0_step_store
    mark_action(store, "b0", "schedule_fix", "in_progress")
    t = mark_action(store, "b0", "schedule_fix", done_date=date(2019, 1, 1), note="horloge GTB")
    mark_action(store, "b0", "schedule_fix", done_date=date(2019, 1, 1))  # again: no change
    assert (t.status, t.done_date, t.estimated) == ("done", date(2019, 1, 1), None)
    t = measure_realised(store, "b0", "schedule_fix")
    r = t.realised
    assert r["baseline"] == ["2018-01-01", "2019-01-01"]
    assert r["reporting"] == ["2019-01-01", "2019-07-01"]
    meters = {m["meter"]: m for m in r["meters"]}
    elec, gas = meters["b0-elec"], meters["b0-gas"]  # no estimate: every meter measured
    # The 15 % cut of electricity is recovered within its 90 % interval...
    assert abs(elec["savings_kwh"] - true_saving) <= elec["uncertainty_kwh"]
    assert elec["significant"] and elec["uncertainty_kwh"] < 0.5 * true_saving
    # ... and gas, left alone, shows no saving beyond its own interval.
    assert abs(gas["savings_kwh"]) <= gas["uncertainty_kwh"]
    codes = {w["code"] for w in r["warnings"]}
    assert "less_than_12_months" in codes and 5.9 < r["months"] < 6.1
    per_year = r["total"]["kwh_per_year"]
    assert per_year["low"] < per_year["value"] < per_year["high"]
    assert r["total"]["eur_per_year"]["value"] > 0
    with store.engine.connect() as c:
        history = action_history(c, "b0", "schedule_fix")
        jobs = c.exec_driver_sql(
            "SELECT COUNT(*) FROM job_footprint WHERE job = 'realised savings'").scalar()
    assert [(e.old_status, e.new_status) for e in history] == [(None, "in_progress"),
                                                               ("in_progress", "done")]
    assert history[-1].note == "horloge GTB" and jobs == 1


def test_recommendations_are_stored_once_and_the_estimate_is_kept(b0_sqlite):
    store = b0_sqlite
    diagnose(store)
    first = recommend_buildings(store)
    recs = first.ranked["b0"]
    assert recs and not first.errors
    ratios = [r.eur_saved_per_eur_spent for r in recs]
    assert ratios == sorted(ratios, reverse=True)
    recommend_buildings(store, commune="CAM")  # again: replaced, not added
    with store.engine.connect() as c:
        stored = load_recommendations(c, building="b0")
    assert [s.rec.action_code for s in stored] == [r.action_code for r in recs]
    assert [s.rank for s in stored] == list(range(1, len(recs) + 1))
    top = recs[0]
    t = mark_action(store, "b0", top.action_code, done_date=date(2019, 12, 20))
    assert t.estimated["kwh_per_year"]["value"] == pytest.approx(top.kwh_per_year.value)
    # The realised view needs months after the done date: none yet.
    with pytest.raises(ActionError, match="less than a month of data after"):
        measure_realised(store, "b0", top.action_code)


def test_bad_input_is_a_typed_error(b0_sqlite):
    store = b0_sqlite
    with pytest.raises(ActionError, match="unknown action code 'nope'"):
        mark_action(store, "b0", "nope", done_date=date(2019, 1, 1))
    with pytest.raises(ActionError, match="needs the date"):
        mark_action(store, "b0", "schedule_fix")
    with pytest.raises(ActionError, match="in the future"):
        mark_action(store, "b0", "schedule_fix", done_date=date(2031, 1, 1),
                    today=date(2030, 1, 1))
    with pytest.raises(ActionError, match="status 'finished'"):
        mark_action(store, "b0", "schedule_fix", "finished")
    with pytest.raises(UnknownBuildingError, match="'zz'"):
        mark_action(store, "zz", "schedule_fix", done_date=date(2019, 1, 1))
    with pytest.raises(ActionError, match="not marked done"):
        measure_realised(store, "b0", "schedule_fix")
    with pytest.raises(UnknownCommuneError, match="'99999'.*CAM"):
        recommend_buildings(store, commune="99999")


def test_the_summary_section_shows_findings_figures_and_tracked_actions(b0_sqlite):
    store = b0_sqlite
    assert findings_section(store) is None  # nothing stored: the summary stays as it was
    diagnose(store, meters=["b0-elec"])
    recs = recommend_buildings(store).ranked["b0"]
    mark_action(store, "b0", recs[0].action_code, done_date=date(2019, 7, 1),
                note="Démonstration")
    html = findings_section(store)
    assert "Diagnostics et recommandations" in html and "data:image/png" in html
    name = get_action(recs[0].action_code).name_fr.replace("'", "&#39;")
    assert name in html and "Démonstration" in html
