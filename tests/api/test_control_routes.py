"""Plans and decisions over the API, on the simulated school (services.control_demo) stored
in commune C3, on SQLite and PostgreSQL: a plan computed by POST keeps comfort, is explained
and audited, then listed; data too short is a 422 naming the series; scope and role refused
with the out-of-scope problem (404 not visible, 403 visible but not allowed)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from ._seed_control import SCHOOL_START, seeded

OUT_OF_SCOPE = "https://sobriete.example/problems/out-of-scope"
SCHOOL = "/api/v1/buildings/ECOLE-SIM"


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def est(request, tmp_path_factory):
    with seeded(request.param, request, tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def posted(est):
    """A plan made by the energy manager of C3 (the store's only plan)."""
    r = est.client.post(f"{SCHOOL}/plans", json={"hours": 48}, headers=est.auth("em.c3"))
    assert r.status_code == 201, r.text
    return r.json()


def test_posted_plan_keeps_comfort_is_explained_and_has_provenance(posted):
    p = posted
    assert p["building_code"] == "ECOLE-SIM" and p["zone_code"] == "Z1" and p["hours"] == 48
    assert p["plan_id"] is not None and p["status"] == "Optimal"
    # the red Tempo Monday 22/01: heat stored before 06:00, comfort kept, cheaper than the
    # building's own schedule
    assert "Préchauffage" in p["explanation_fr"] and "jour rouge Tempo" in p["explanation_fr"]
    assert "Pre-heating" in p["explanation_en"]
    assert p["discomfort_kh"] < 0.05 < p["schedule_discomfort_kh"]
    assert p["cost_eur"] < p["schedule_cost_eur"]
    assert p["gain_vs_schedule_eur"] == pytest.approx(p["schedule_cost_eur"] - p["cost_eur"])
    assert 0 < p["energy_kwh"] and p["peak_kw"] > 0
    assert pd.Timestamp(p["start_utc"]).tz is not None
    prov = p["provenance"]
    assert prov["sources"]["temp_key"] == "ECOLE-SIM-T1"
    assert prov["sources"]["heating_key"] == "ECOLE-SIM-CHAUF"
    assert prov["forecast"] == "stored" and prov["model"]
    assert "max_power_observed" in [w["code"] for w in p["warnings"]]
    assert p["key_steps"] and {"start_local", "mean_power_kw", "price_eur_per_kwh"} <= set(
        p["key_steps"][0])


def test_stored_plans_and_decisions_are_listed_to_readers(est, posted):
    r = est.client.get(f"{SCHOOL}/plans", headers=est.auth("viewer.c3"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert item["plan_id"] == posted["plan_id"] and item["kind"] == "plan"
    assert item["explanation_fr"] == posted["explanation_fr"]
    assert item["cost_eur"] == pytest.approx(posted["cost_eur"])
    assert item["horizon_steps"] == 192 and item["provenance"]["sources"]["zone_code"] == "Z1"
    r = est.client.get(f"{SCHOOL}/decisions", headers=est.auth("viewer.t2"))
    assert r.status_code == 200, r.text
    (d,) = r.json()["items"]
    # advise: nothing sent, the building keeps its schedule; the proposal is in the reason
    assert d["plan_id"] == posted["plan_id"] and d["mode"] == "advise"
    assert d["dispatch"] == "not_sent" and d["fallback"] is True
    assert d["reason_fr"].startswith("Proposé : Préchauffage")
    assert pd.Timestamp(d["time_utc"]) == pd.Timestamp(posted["start_utc"])
    # the window filters on the decided step, end excluded
    t = pd.Timestamp(d["time_utc"])
    q = {"start": t.isoformat(), "end": (t + pd.Timedelta(minutes=15)).isoformat()}
    assert est.client.get(f"{SCHOOL}/decisions", params=q,
                          headers=est.auth("viewer.c3")).json()["total"] == 1
    q = {"start": (t + pd.Timedelta(minutes=15)).isoformat()}
    assert est.client.get(f"{SCHOOL}/decisions", params=q,
                          headers=est.auth("viewer.c3")).json()["total"] == 0
    r = est.client.get(f"{SCHOOL}/decisions", params={"format": "csv"},
                       headers=est.auth("viewer.c3"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")), sep=";")
    assert list(frame["decision_id"]) == [d["decision_id"]]
    assert "proposed_power_kw" in frame.columns
    r = est.client.get(f"{SCHOOL}/decisions", headers=est.auth("viewer.c3"),
                       params={"start": "2024-01-22T00:00:00+01:00",
                               "end": "2024-01-21T00:00:00+01:00"})
    assert r.status_code == 422 and "not after start" in r.json()["detail"]
    r = est.client.get(f"{SCHOOL}/decisions", headers=est.auth("viewer.c3"),
                       params={"start": "2024-01-22T00:00:00"})
    assert r.status_code == 422  # a time without its offset is ambiguous


def test_scope_and_roles(est, posted):
    def get(who, code="ECOLE-SIM", what="plans"):
        return est.client.get(f"/api/v1/buildings/{code}/{what}", headers=est.auth(who))

    # an aggregator sees flexibility only: its own commune's building is visible (403),
    # another commune's is not (404); both out-of-scope, neither gives a plan
    for code, status in (("A1", 403), ("ECOLE-SIM", 404)):
        for what in ("plans", "decisions"):
            r = get("agg.c1", code, what)
            assert r.status_code == status and r.json()["type"] == OUT_OF_SCOPE, (code, what)
    r = get("em.t1")  # manager of T1: C3 is outside
    assert r.status_code == 404 and r.json()["type"] == OUT_OF_SCOPE
    assert "ECOLE-SIM" in r.json()["detail"]
    assert get("nobody").status_code == 404
    assert est.client.get(f"{SCHOOL}/plans").status_code == 401
    assert get("root").json()["total"] == 1
    # computing a plan is the control action: a viewer of the commune may not
    r = est.client.post(f"{SCHOOL}/plans", json={}, headers=est.auth("viewer.c3"))
    assert r.status_code == 403 and r.json()["type"] == OUT_OF_SCOPE
    r = est.client.post(f"{SCHOOL}/plans", json={}, headers=est.auth("agg.c1"))
    assert r.status_code == 404
    # nothing was computed nor stored by the refused requests
    assert get("viewer.c3").json()["total"] == 1


def test_missing_or_short_data_is_a_422_naming_the_series(est, posted):
    # A1 has no zone temperature sensor: nothing to plan from
    r = est.client.post("/api/v1/buildings/A1/plans", json={}, headers=est.auth("em.t1"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "'A1'" in detail and "temperature sensor" in detail
    # three days of the school's data: too few to identify its model
    at = (SCHOOL_START + pd.Timedelta(days=3)).isoformat()
    r = est.client.post(f"{SCHOOL}/plans", json={"at": at, "days": 7},
                        headers=est.auth("em.c3"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "ECOLE-SIM-T1" in detail and "ECOLE-SIM-CHAUF" in detail and "meteo-sim" in detail
    assert "at least 7 days" in detail
    r = est.client.post(f"{SCHOOL}/plans", json={"zone_code": "Z9"}, headers=est.auth("em.c3"))
    assert r.status_code == 422 and "unknown zone" in r.json()["detail"]
    r = est.client.post(f"{SCHOOL}/plans", json={"hours": 0}, headers=est.auth("em.c3"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.hours"
    r = est.client.post(f"{SCHOOL}/plans", json={"at": "0001-01-01T00:00:00+00:00"},
                        headers=est.auth("em.c3"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.at"
    # refused requests store nothing
    r = est.client.get(f"{SCHOOL}/plans", headers=est.auth("em.c3"))
    assert r.json()["total"] == 1
