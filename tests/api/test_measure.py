"""Recommendations, tracked actions and the stored M&V results through the API: the numbers
are the stored ones with their provenance; marking an action goes through ``mark_action``."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from sobriete.services.store import schema as S

V1 = "/api/v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def est(request):
    return request.getfixturevalue("api_estate" if request.param == "sqlite"
                                   else "api_estate_pg")


def test_recommendations_are_the_stored_ranking(est):
    r = est.client.get(f"{V1}/buildings/A/recommendations", headers=est.auth("viewer@commune"))
    items = r.json()["items"]
    assert [x["rank"] for x in items] == list(range(1, len(items) + 1)) and items
    ratios = [x["eur_saved_per_eur_spent"] for x in items]
    assert ratios == sorted(ratios, reverse=True)
    top = items[0]
    assert top["detail"]["kwh_per_year"]["value"] == top["kwh_per_year"]
    assert top["detail"]["basis"] and top["message_fr"]
    assert set(top["finding_keys"]) <= set(est.finding_keys["A"])


def test_tracked_actions_listed_in_scope_and_by_status(est):
    h = est.auth("admin@portfolio")
    every = est.client.get(f"{V1}/actions", headers=h).json()
    assert [(a["building_code"], a["action_code"]) for a in every["items"]] == [
        ("A", "schedule_fix"), ("B", "schedule_fix"), ("C", "schedule_fix")]
    t1 = est.client.get(f"{V1}/actions", headers=est.auth("viewer@territory")).json()
    assert [a["building_code"] for a in t1["items"]] == ["A", "B"]
    assert est.client.get(f"{V1}/actions", headers=h,
                          params={"status": "to_do"}).json()["total"] == 0
    one = est.client.get(f"{V1}/buildings/C/actions", headers=h).json()["items"]
    assert one[0]["note"] == "programmation GTB" and one[0]["updated_at"].endswith("Z")


def test_marking_an_action_done_keeps_its_history(est):
    url = f"{V1}/buildings/B/actions/schedule_fix/status"
    h = est.auth("energy_manager@territory")
    r = est.client.post(url, headers=h, json={"status": "done", "done_date": "2019-11-04",
                                              "note": "horloge reprogrammée"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["done_date"]) == ("done", "2019-11-04")
    done = est.client.get(f"{V1}/actions", headers=h, params={"status": "done"}).json()
    assert [a["building_code"] for a in done["items"]] == ["B"]
    with est.store.engine.connect() as c:
        events = c.execute(
            select(S.tracked_action_event.c.old_status, S.tracked_action_event.c.new_status)
            .join(S.tracked_action, S.tracked_action.c.id == S.tracked_action_event.c.action_id)
            .join(S.building, S.building.c.id == S.tracked_action.c.building_id)
            .where(S.building.c.code == "B").order_by(S.tracked_action_event.c.id)).all()
    assert [tuple(e) for e in events][-2:] == [(None, "in_progress"), ("in_progress", "done")]
    back = est.client.post(url, headers=h, json={"status": "in_progress",
                                                 "note": "programmation GTB"})
    assert back.json()["status"] == "in_progress" and back.json()["done_date"] is None


@pytest.mark.parametrize(("body", "says"), [
    ({"status": "done"}, "needs the date"),
    ({"status": "done", "done_date": str(date.today() + timedelta(days=3))}, "future"),
])
def test_bad_markings_are_a_422_saying_why(est, body, says):
    r = est.client.post(f"{V1}/buildings/A/actions/schedule_fix/status",
                        headers=est.auth("admin@portfolio"), json=body)
    assert r.status_code == 422 and says in r.json()["detail"]


def test_an_unknown_action_code_is_a_422(est):
    r = est.client.post(f"{V1}/buildings/A/actions/nope/status",
                        headers=est.auth("admin@portfolio"), json={"status": "to_do"})
    assert r.status_code == 422 and "nope" in r.json()["detail"]


def test_baselines_and_savings_are_the_stored_ones_with_provenance(api_estate):
    est = api_estate
    h = est.auth("viewer@commune")
    fits = est.client.get(f"{V1}/buildings/A/baselines", headers=h).json()["items"]
    assert sorted(f["series_key"] for f in fits) == ["A-elec", "A-gas"]
    for f in fits:
        assert (f["baseline_start"], f["baseline_end"]) == ("2019-01-01", "2019-07-01")
        assert f["settings"]["frequency"] == "daily" and f["status"] == "ok"
        assert f["model"] and f["result"]["params"] and "metrics" in f["result"]
    savings = est.client.get(f"{V1}/buildings/A/savings", headers=h).json()["items"]
    with est.store.engine.connect() as c:
        stored = {r.key: r for r in c.execute(
            select(S.series.c.key, S.savings_result.c.savings_kwh,
                   S.savings_result.c.uncertainty_kwh, S.savings_result.c.result_json)
            .join(S.series, S.series.c.id == S.savings_result.c.series_id)
            .where(S.series.c.key.in_(["A-elec", "A-gas"])))}
    assert sorted(s["series_key"] for s in savings) == sorted(stored)
    for s in savings:
        row = stored[s["series_key"]]
        assert s["savings_kwh"] == pytest.approx(row.savings_kwh)
        assert s["uncertainty_kwh"] == pytest.approx(row.uncertainty_kwh)
        assert s["result"]["interval_kwh"] == json.loads(row.result_json)["interval_kwh"]
        assert (s["reporting_start"], s["reporting_end"]) == ("2019-07-01", "2019-10-01")
        assert s["settings"]["confidence"] == 0.9 and s["model"] == "changepoint_daily"
    other = est.client.get(f"{V1}/buildings/B/savings", headers=est.auth("admin@portfolio"))
    assert [s["series_key"] for s in other.json()["items"]] == ["B-elec"]
