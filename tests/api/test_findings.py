"""Findings of the real diagnosis through the API: scoped lists, filters, ranking, and
dismiss/reopen checked against the finding's building — SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from sobriete.services.audit import recent_writes
from sobriete.services.store.findings import load_findings

V1 = "/api/v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def est(request):
    return request.getfixturevalue("api_estate" if request.param == "sqlite"
                                   else "api_estate_pg")


def test_findings_are_those_of_the_visible_buildings_ranked_by_waste(est):
    c = est.client
    mine = c.get(f"{V1}/findings", headers=est.auth("viewer@commune"),
                 params={"status": "all"}).json()
    assert mine["total"] == len(est.finding_keys["A"]) > 0
    assert {f["building_code"] for f in mine["items"]} == {"A"}
    eur = [f["eur_per_year"] for f in mine["items"] if f["eur_per_year"] is not None]
    assert eur == sorted(eur, reverse=True) and eur
    top = mine["items"][0]
    assert top["evidence"]["series_key"] == top["series_key"]
    assert top["waste"]["method"] and top["message_fr"] and top["message_en"]
    assert top["start"].endswith("Z")
    none = c.get(f"{V1}/findings", headers=est.auth("nobody")).json()
    assert none["total"] == 0 and none["items"] == []
    # Aggregators see flexibility, not diagnostics.
    assert c.get(f"{V1}/findings", headers=est.auth("aggregator@portfolio")).json()["total"] == 0


def test_filters_by_kind_and_building(est):
    h = est.auth("admin@portfolio")
    every = est.client.get(f"{V1}/findings", headers=h, params={"status": "all"}).json()
    kind = every["items"][0]["kind"]
    some = est.client.get(f"{V1}/findings", headers=h,
                          params={"kind": kind, "status": "all"}).json()
    assert some["total"] >= 1 and {f["kind"] for f in some["items"]} == {kind}
    assert est.client.get(f"{V1}/findings", headers=h,
                          params={"building": "B"}).json()["total"] == 0
    per = est.client.get(f"{V1}/buildings/A/findings", headers=h,
                         params={"status": "all"}).json()
    assert [f["key"] for f in per["items"]] == [f["key"] for f in every["items"]
                                                 if f["building_code"] == "A"]
    r = est.client.get(f"{V1}/findings", headers=h, params={"kind": "not_a_kind"})
    assert r.status_code == 422


def test_dismiss_and_reopen_with_the_findings_building_checked(est):
    c = est.client
    key = est.finding_keys["A"][0]
    url = f"{V1}/findings/{key}/status"
    r = c.post(url, headers=est.auth("energy_manager@commune"), json={"status": "dismissed"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    h = est.auth("viewer@commune")
    assert key not in [f["key"] for f in c.get(f"{V1}/findings", headers=h).json()["items"]]
    dismissed = c.get(f"{V1}/findings", headers=h, params={"status": "dismissed"}).json()
    assert [f["key"] for f in dismissed["items"]] == [key]
    # A prefix of at least 6 characters names it too.
    r = c.post(f"{V1}/findings/{key[:8]}/status", headers=est.auth("admin@territory"),
               json={"status": "open"})
    assert r.status_code == 200 and r.json()["status"] == "open"
    row = recent_writes(est.store, 1)[0]
    assert (row["login"], row["path"], row["status_code"]) == (
        "admin@territory", f"{V1}/findings/{key[:8]}/status", 200)


@pytest.mark.parametrize(("who", "status"), [
    ("viewer@portfolio", 403), ("aggregator@commune", 403), ("nobody", 404)])
def test_those_who_may_not_write_the_building_cannot_dismiss(est, who, status):
    key = est.finding_keys["A"][0]
    r = est.client.post(f"{V1}/findings/{key}/status", headers=est.auth(who),
                        json={"status": "dismissed"})
    assert r.status_code == status and r.json()["type"].endswith("out-of-scope")
    one = est.client.get(f"{V1}/buildings/A/findings", headers=est.auth("admin@portfolio"),
                         params={"status": "all"}).json()
    assert {f["key"]: f["status"] for f in one["items"]}[key] == "open"


def test_an_unknown_finding_is_a_plain_404(est):
    r = est.client.post(f"{V1}/findings/0123456789abcdef/status",
                        headers=est.auth("admin@portfolio"), json={"status": "dismissed"})
    assert r.status_code == 404 and not r.json()["type"].endswith("out-of-scope")
    r = est.client.post(f"{V1}/findings/{est.finding_keys['A'][0]}/status",
                        headers=est.auth("admin@portfolio"), json={"status": "gone"})
    assert r.status_code == 422


def test_pages_are_read_in_sql_in_the_ranking_of_the_store(est):
    """SQL ordering and paging give the same ranking as ``rank_key`` over every finding."""
    with est.store.engine.connect() as conn:
        ranked = [s.key for s in load_findings(conn, include_dismissed=True)]
    h = est.auth("admin@portfolio")
    got = []
    for offset in range(0, len(ranked), 3):
        page = est.client.get(f"{V1}/findings", headers=h, params={
            "status": "all", "limit": 3, "offset": offset}).json()
        assert page["total"] == len(ranked)
        got += [f["key"] for f in page["items"]]
    assert got == ranked
    r = est.client.get(f"{V1}/findings", headers=h, params={"status": "all", "format": "csv",
                                                            "limit": 1})
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key;building_code;kind")
    assert [x.split(";")[0] for x in lines[1:]] == ranked  # the whole list, not one page


def test_a_page_is_read_in_the_rank_index_not_sorted(api_estate):
    """The ranking written by ``load_findings_of`` is the one of the index ix_finding_rank:
    SQLite walks the index and sorts nothing (change one and not the other, and a page of a
    metropolis sorts every finding again)."""
    from sqlalchemy import event

    from sobriete.services.store.findings import load_findings_of

    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    engine = api_estate.store.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        with engine.connect() as conn:
            total, page = load_findings_of(conn, None, limit=2)
            event.remove(engine, "before_cursor_execute", keep)
            plans = [conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
                     for sql, params in seen if "ORDER BY" in sql]
    finally:
        if event.contains(engine, "before_cursor_execute", keep):
            event.remove(engine, "before_cursor_execute", keep)
    assert total > 2 and len(page) == 2
    details = " | ".join(str(row[-1]) for plan in plans for row in plan)
    assert "USING COVERING INDEX ix_finding_rank" in details
    # one sort: the page's rows, read by id; the ranking itself is the index's order
    assert details.count("TEMP B-TREE FOR ORDER BY") == 1
