"""Estate endpoints: what each principal sees, filters, pages, CSV and Excel, a building's
meters — on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import openpyxl
import pytest

V1 = "/api/v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def est(request):
    return request.getfixturevalue("api_estate" if request.param == "sqlite"
                                   else "api_estate_pg")


@pytest.mark.parametrize(("who", "counts"), [
    ("admin@portfolio", (2, 3, 3)), ("viewer@territory", (1, 2, 2)),
    ("energy_manager@commune", (1, 1, 1)), ("aggregator@portfolio", (0, 0, 0)),
    ("nobody", (0, 0, 0))])
def test_portfolio_counts_what_the_principal_may_read(est, who, counts):
    r = est.client.get(f"{V1}/portfolio", headers=est.auth(who))
    assert r.status_code == 200
    body = r.json()
    assert (body["code"], body["name"]) == ("M", "Métropole test")
    assert (body["n_territories"], body["n_communes"], body["n_buildings"]) == counts


def test_territories_and_communes_are_the_visible_ones(est):
    c, h = est.client, est.auth("viewer@territory")
    terr = c.get(f"{V1}/territories", headers=h).json()
    assert [(t["territory_code"], t["n_communes"], t["n_buildings"]) for t in terr["items"]] \
        == [("T1", 2, 2)]
    communes = c.get(f"{V1}/communes", headers=est.auth("admin@portfolio"),
                     params={"territory": "T1"}).json()
    assert [x["commune_code"] for x in communes["items"]] == ["C1", "C2"]
    assert communes["total"] == 2


def test_communes_are_paged_in_sql_with_their_counts(est):
    c = est.client
    page = c.get(f"{V1}/communes", headers=est.auth("admin@portfolio"),
                 params={"limit": 2, "offset": 1}).json()
    assert ([(x["commune_code"], x["n_buildings"]) for x in page["items"]], page["total"]) \
        == ([("C2", 1), ("C3", 1)], 3)
    # the territory filter and the scope are applied before the page and the count
    mine = c.get(f"{V1}/communes", headers=est.auth("viewer@territory"),
                 params={"territory": "T2", "limit": 1}).json()
    assert (mine["items"], mine["total"]) == ([], 0)
    csv = c.get(f"{V1}/communes", headers=est.auth("viewer@territory"),
                params={"format": "csv", "limit": 1}).content.decode("utf-8-sig")
    assert [line.split(";")[0] for line in csv.splitlines()] == ["commune_code", "C1", "C2"]


def _codes(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [b["building_code"] for b in r.json()["items"]]


def test_building_filters_search_and_pages(est):
    c, h = est.client, est.auth("admin@portfolio")
    assert _codes(c.get(f"{V1}/buildings", headers=h)) == ["A", "B", "C"]
    assert _codes(c.get(f"{V1}/buildings", headers=h, params={"commune": "C2"})) == ["B"]
    assert _codes(c.get(f"{V1}/buildings", headers=h, params={"territory": "T2"})) == ["C"]
    assert _codes(c.get(f"{V1}/buildings", headers=h, params={"activity": "school"})) == ["A"]
    assert _codes(c.get(f"{V1}/buildings", headers=h, params={"q": "GYMN"})) == ["B"]
    page = c.get(f"{V1}/buildings", headers=h, params={"limit": 1, "offset": 1}).json()
    assert ([b["building_code"] for b in page["items"]], page["total"], page["limit"],
            page["offset"]) == (["B"], 3, 1, 1)
    # A filter never widens the scope: C1's manager asking for C2 gets nothing.
    assert _codes(c.get(f"{V1}/buildings", headers=est.auth("energy_manager@commune"),
                        params={"commune": "C2"})) == []


def test_buildings_as_csv_and_excel(api_estate):
    c, h = api_estate.client, api_estate.auth("viewer@territory")
    r = c.get(f"{V1}/buildings", headers=h, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:3] == ["building_code", "name", "activity"]
    assert [x.split(";")[0] for x in lines[1:]] == ["A", "B"]
    r = c.get(f"{V1}/buildings", headers=h, params={"format": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "building_code" and [x[0] for x in rows[1:]] == ["A", "B"]
    assert "floor_area_m2" in rows[0] and rows[1][rows[0].index("floor_area_m2")] == 3296.5


def test_a_building_with_its_meters(est):
    r = est.client.get(f"{V1}/buildings/A", headers=est.auth("viewer@commune"))
    assert r.status_code == 200
    b = r.json()
    assert (b["building_code"], b["commune_code"], b["territory_code"], b["activity"]) == \
        ("A", "C1", "T1", "school")
    meters = {m["series_key"]: m for m in b["meters"]}
    assert sorted(meters) == ["A-elec", "A-gas"] and b["sensors"] == []
    elec = meters["A-elec"]
    assert (elec["subkind"], elec["step_s"], elec["quantity"]) == ("electricity", 3600,
                                                                   "energy_kwh")
    assert elec["n_readings"] >= 8760  # 2019, hourly (uploads may add 2020 hours)
    assert elec["first_start"] == "2019-01-01T00:00:00+00:00"
    listed = est.client.get(f"{V1}/buildings/A/meters", headers=est.auth("viewer@commune"))
    assert [m["series_key"] for m in listed.json()["items"]] == ["A-elec", "A-gas"]


def test_a_building_outside_the_scope_does_not_exist(est):
    r = est.client.get(f"{V1}/buildings/B", headers=est.auth("viewer@commune"))
    assert r.status_code == 404 and r.json()["type"].endswith("out-of-scope")
    assert r.headers["content-type"].startswith("application/problem+json")
    r = est.client.get(f"{V1}/buildings/NOPE", headers=est.auth("admin@portfolio"))
    assert r.status_code == 404
    r = est.client.get(f"{V1}/buildings/A", headers=est.auth("aggregator@commune"))
    assert r.status_code == 403 and r.json()["type"].endswith("out-of-scope")
