"""Flexibility over the API, on SQLite and PostgreSQL: capacity, events and dispatch restricted
to the caller's flex scope (an aggregator of C1 sees and moves C1 only, cannot overwrite an
event of another scope), and the settlement of an event on the meters in view, recovering a
shed injected into the stored readings by a revised import."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from sobriete.services.imports import import_file
from sobriete.services.store.readings import read_series

from ._seed_control import EVENT_END, EVENT_START, WIDE, seeded

OUT_OF_SCOPE = "https://sobriete.example/problems/out-of-scope"
WINDOW = {"start": EVENT_START.isoformat(), "end": EVENT_END.isoformat()}
WEEK_BEFORE = {"start": (EVENT_START - pd.Timedelta(days=7)).isoformat(),
               "end": (EVENT_END - pd.Timedelta(days=7)).isoformat()}
SHED_KWH_PER_H = 10.0


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def est(request, tmp_path_factory):
    with seeded(request.param, request, tmp_path_factory) as s:
        yield s


@pytest.fixture(scope="module")
def c1_event(est):
    """EV-C1, a week before the main event, dispatched by the aggregator of C1."""
    r = est.client.post("/api/v1/flex/events", headers=est.auth("agg.c1"), json={
        "event_id": "EV-C1", **WEEK_BEFORE, "target_kw": 5, "signal": "aggregator"})
    assert r.status_code == 200, r.text
    return r.json()


def _cap(est, who, **q):
    return est.client.get("/api/v1/flex/capacity", params={**WINDOW, **q},
                          headers=est.auth(who))


def test_capacity_is_restricted_to_the_flex_scope(est):
    agg = _cap(est, "agg.c1").json()
    assert agg["communes_in_view"] == ["C1"] and list(agg["communes"]) == ["C1"]
    caps = {b["building"]: b["shed_kw"] for b in agg["buildings"]}
    assert set(caps) == {"A1", "A2"} and all(v > 0 for v in caps.values())
    assert agg["shed_kw"] == pytest.approx(sum(caps.values()))
    assert agg["n_buildings"] == 2 and agg["provenance"]["fit_days"] == 365
    root = _cap(est, "root").json()
    assert {b["building"] for b in root["buildings"]} == {"A1", "A2", "B1", "MAIRIE-C",
                                                           "ECOLE-SIM"}
    assert root["communes"]["C1"]["shed_kw"] == pytest.approx(agg["shed_kw"])
    gas = next(b for b in root["buildings"] if b["building"] == "MAIRIE-C")
    assert gas["shed_kw"] == 0  # gas heating: no electric heating to shed
    assert root["shed_kw"] == pytest.approx(sum(b["shed_kw"] for b in root["buildings"]))
    assert _cap(est, "em.t1").json()["communes_in_view"] == ["C1", "C2"]
    only_b = _cap(est, "root", commune="C2").json()
    assert [b["building"] for b in only_b["buildings"]] == ["B1"]
    r = _cap(est, "agg.c1", commune="C2")
    assert r.status_code == 404 and r.json()["type"] == OUT_OF_SCOPE
    r = _cap(est, "root", commune="C9")
    assert r.status_code == 404 and r.json()["type"].endswith("/http-404")
    nobody = _cap(est, "nobody").json()
    assert nobody["n_buildings"] == 0 and nobody["buildings"] == []
    r = est.client.get("/api/v1/flex/capacity", headers=est.auth("agg.c1"),
                       params={"start": "2019-01-22T09:00:00", "end": WINDOW["end"]})
    assert r.status_code == 422
    r = est.client.get("/api/v1/flex/capacity", headers=est.auth("agg.c1"),
                       params={"start": WINDOW["end"], "end": WINDOW["start"]})
    assert r.status_code == 422 and "not after its start" in r.json()["detail"]
    r = est.client.get("/api/v1/flex/capacity", headers=est.auth("agg.c1"), params={
        "start": WINDOW["start"], "end": (EVENT_START + pd.Timedelta(days=8)).isoformat()})
    assert r.status_code == 422 and "longer than 7 days" in r.json()["detail"]
    r = est.client.get("/api/v1/flex/capacity", headers=est.auth("agg.c1"), params={
        "start": "0001-01-01T00:00:00+00:00", "end": "0001-01-01T03:00:00+00:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.start"


def test_dispatch_moves_only_buildings_with_flex_write(est, c1_event):
    ev = c1_event
    assert {a["building_code"] for a in ev["allocations"]} == {"A1", "A2"}
    assert ev["served_kw"] == pytest.approx(5) and ev["unmet_kw"] == pytest.approx(0)
    assert ev["signal"] == "aggregator" and ev["replaced"] is False
    assert ev["communes_in_view"] == ["C1"] and ev["explanation_fr"]
    # a viewer may look but not dispatch
    r = est.client.post("/api/v1/flex/events", headers=est.auth("viewer.c3"), json={
        "event_id": "EV-V", **WINDOW, "target_kw": 5})
    assert r.status_code == 403 and r.json()["type"] == OUT_OF_SCOPE
    # the aggregator of C2 does not see it, nor can take its id
    listed = est.client.get("/api/v1/flex/events", headers=est.auth("agg.c2")).json()
    assert "EV-C1" not in [e["event_id"] for e in listed["items"]]
    for path in ("/api/v1/flex/events/EV-C1", "/api/v1/flex/events/EV-C1/settlement"):
        r = est.client.get(path, headers=est.auth("agg.c2"))
        assert r.status_code == 404 and r.json()["type"] == OUT_OF_SCOPE
    r = est.client.post("/api/v1/flex/events", headers=est.auth("agg.c2"), json={
        "event_id": "EV-C1", **WEEK_BEFORE, "target_kw": 1})
    assert r.status_code == 409 and "another event id" in r.json()["detail"]
    mine = est.client.get("/api/v1/flex/events/EV-C1", headers=est.auth("agg.c1")).json()
    assert mine["complete_view"] and mine["request_kw"] == pytest.approx(5)
    assert {a["building_code"] for a in mine["allocations"]} == {"A1", "A2"}
    # its own aggregator replaces it; a dry run stores nothing
    r = est.client.post("/api/v1/flex/events", headers=est.auth("agg.c1"), json={
        "event_id": "EV-C1", **WEEK_BEFORE, "target_kw": 4, "signal": "aggregator"})
    assert r.status_code == 200 and r.json()["replaced"] is True
    mine = est.client.get("/api/v1/flex/events/EV-C1", headers=est.auth("agg.c1")).json()
    assert mine["request_kw"] == pytest.approx(4) and mine["signal"] == "aggregator"
    assert mine["visible_allocated_kw"] == pytest.approx(4)
    r = est.client.post("/api/v1/flex/events", headers=est.auth("agg.c1"), json={
        "event_id": "EV-DRY", **WINDOW, "target_kw": 2, "dry_run": True})
    assert r.status_code == 200 and r.json()["dry_run"] is True
    r = est.client.get("/api/v1/flex/events/EV-DRY", headers=est.auth("agg.c1"))
    assert r.status_code == 404 and r.json()["type"].endswith("/http-404")
    r = est.client.post("/api/v1/flex/events", headers=est.auth("agg.c1"), json={
        "event_id": "EV-NEG", **WINDOW, "target_kw": -1})
    assert r.status_code == 422
    # nothing to shed in C3 (gas heating; the school has no data in 2019): the event is
    # stored unmet, and stays its dispatcher's to see and replace
    for n in (1, 2):
        r = est.client.post("/api/v1/flex/events", headers=est.auth("em.c3"), json={
            "event_id": "EV-C3", **WEEK_BEFORE, "target_kw": 3})
        assert r.status_code == 200 and r.json()["replaced"] is (n == 2)
        assert r.json()["served_kw"] == 0 and r.json()["unmet_kw"] == pytest.approx(3)
    r = est.client.get("/api/v1/flex/events/EV-C3", headers=est.auth("viewer.c3")).json()
    assert r["complete_view"] and r["unmet_kw"] == pytest.approx(3)
    assert {a["building_code"] for a in r["allocations"]} == {"ECOLE-SIM", "MAIRIE-C"}


def _inject_shed(est, folder) -> None:
    """A1's event hours re-imported with SHED_KWH_PER_H less, as a corrected file would."""
    a, b = EVENT_START.tz_convert("UTC"), EVENT_END.tz_convert("UTC")
    with est.store.engine.connect() as conn:
        r = read_series(conn, "A1-elec", "energy_kwh", a, b)
    assert len(r) == 3 and (r["value"] > SHED_KWH_PER_H + 5).all()
    path = folder / "shed.csv"
    pd.DataFrame({"timestamp_utc": r["start_utc"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                  "A1-elec": r["value"] - SHED_KWH_PER_H}).to_csv(path, index=False)
    import_file(est.store, path, "meter-csv", **WIDE)


def test_portfolio_event_seen_in_part_and_settled_in_scope(est, c1_event, tmp_path):
    r = est.client.post("/api/v1/flex/events", headers=est.auth("root"), json={
        "event_id": "EV-ALL", **WINDOW, "target_kw": 15, "signal": "ecowatt_red"})
    assert r.status_code == 200, r.text
    allocated = {a["building_code"]: a["allocated_kw"] for a in r.json()["allocations"]}
    # buildings with nothing to shed (gas heating, no data in the window) are not asked
    assert set(allocated) == {"A1", "A2", "B1"} and min(allocated.values()) > 0
    # buildings with nothing to shed are stored at 0 kW (considered, not asked)
    stored = est.client.get("/api/v1/flex/events/EV-ALL", headers=est.auth("viewer.c3")).json()
    assert {a["building_code"]: a["allocated_kw"] for a in stored["allocations"]} == {
        "ECOLE-SIM": 0, "MAIRIE-C": 0}
    assert stored["n_allocations_visible"] == 2 and stored["visible_allocated_kw"] == 0
    # the aggregator of C1 sees its buildings' part, not the portfolio's figures
    ev = est.client.get("/api/v1/flex/events/EV-ALL", headers=est.auth("agg.c1")).json()
    assert not ev["complete_view"] and ev["request_kw"] is None and ev["explanation_fr"] is None
    assert [a["building_code"] for a in ev["allocations"]] == ["A1", "A2"]
    assert ev["visible_allocated_kw"] == pytest.approx(allocated["A1"] + allocated["A2"])
    assert ev["signal"] == "ecowatt_red"
    full = est.client.get("/api/v1/flex/events/EV-ALL", headers=est.auth("root")).json()
    assert full["complete_view"] and full["request_kw"] == pytest.approx(15)
    assert len(full["allocations"]) == 5
    r = est.client.post("/api/v1/flex/events", headers=est.auth("agg.c1"), json={
        "event_id": "EV-ALL", **WINDOW, "target_kw": 1})
    assert r.status_code == 409
    listed = est.client.get("/api/v1/flex/events", headers=est.auth("agg.c1")).json()
    assert [e["event_id"] for e in listed["items"]] == ["EV-ALL", "EV-C1"]  # latest first
    assert est.client.get("/api/v1/flex/events", params=WINDOW,
                          headers=est.auth("agg.c1")).json()["total"] == 1
    r = est.client.get("/api/v1/flex/events", params={"format": "csv"},
                       headers=est.auth("root"))
    frame = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")), sep=";")
    assert set(frame["event_id"]) == {"EV-ALL", "EV-C1", "EV-C3"}

    def settle(who):
        r = est.client.get("/api/v1/flex/events/EV-ALL/settlement", headers=est.auth(who))
        assert r.status_code == 200, r.text
        return r.json()

    before = settle("agg.c1")
    _inject_shed(est, tmp_path)
    after = settle("agg.c1")
    assert [m["meter"] for m in after["meters"]] == ["A1-elec", "A2-elec"]
    a1 = after["meters"][0]
    lo, hi = a1["interval_kw"]
    assert lo <= SHED_KWH_PER_H <= hi and a1["significant"], a1["sentence_en"]
    assert a1["delivered_kw"] - before["meters"][0]["delivered_kw"] == pytest.approx(
        SHED_KWH_PER_H)
    assert a1["sentence_fr"].startswith("Effacement du 22/01")
    # the day of EV-C1 is kept out of the reference days
    assert after["excluded_days"] == ["2019-01-15"]
    assert "2019-01-15" not in a1["parameters"]["reference_days"]
    assert after["asked_kw"] == pytest.approx(allocated["A1"] + allocated["A2"])
    other = settle("agg.c2")
    assert [m["meter"] for m in other["meters"]] == ["B1-elec"]
    assert {m["building_code"] for m in settle("root")["meters"]} == {"A1", "A2", "B1"}
