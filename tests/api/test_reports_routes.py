"""Reports over the API on the shared real estate (tests/api/conftest.py): a building's and a
commune's monthly report as HTML and PDF within scope, 404/403 outside it, the Décret
tertiaire list paged and as CSV, and the OPERAT export holding only visible buildings."""

from __future__ import annotations

import csv
import io

import pytest

MONTH = {"month": "2019-03"}


def test_building_report_in_scope_html_and_pdf(api_estate):
    c, auth = api_estate.client, api_estate.auth("viewer@commune")
    r = c.get("/api/v1/buildings/A/reports/monthly", params=MONTH, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "École A" in html and "mars 2019" in html and "data:image/png;base64," in html
    # A baseline was fitted on 2019-01..06 (conftest): replayed on March, it is in the table.
    assert "Modèle de réf." in html
    en = c.get("/api/v1/buildings/A/reports/monthly", params={**MONTH, "lang": "en"},
               headers=auth)
    assert "March 2019" in en.text
    pdf = c.get("/api/v1/buildings/A/reports/monthly", params={**MONTH, "format": "pdf"},
                headers=auth)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"%%EOF" in pdf.content[-1024:]


def test_building_report_out_of_scope_and_bad_month(api_estate):
    c = api_estate.client
    r = c.get("/api/v1/buildings/B/reports/monthly", params=MONTH,
              headers=api_estate.auth("viewer@commune"))
    assert r.status_code == 404 and r.json()["type"].endswith("/out-of-scope")
    r = c.get("/api/v1/buildings/A/reports/monthly", params={"month": "2019-13"},
              headers=api_estate.auth("viewer@commune"))
    assert r.status_code == 422
    assert c.get("/api/v1/buildings/A/reports/monthly", params=MONTH).status_code == 401


def test_commune_report_needs_every_building_readable(api_estate):
    c = api_estate.client
    r = c.get("/api/v1/communes/C1/reports/monthly", params=MONTH,
              headers=api_estate.auth("energy_manager@territory"))
    assert r.status_code == 200 and "Commune 1" in r.text and "École A" in r.text
    # Not in scope at all: as if the commune did not exist.
    r = c.get("/api/v1/communes/C3/reports/monthly", params=MONTH,
              headers=api_estate.auth("energy_manager@territory"))
    assert r.status_code == 404 and r.json()["type"].endswith("/out-of-scope")
    r = c.get("/api/v1/communes/NOPE/reports/monthly", params=MONTH,
              headers=api_estate.auth("admin@portfolio"))
    assert r.status_code == 404
    # Seen (flexibility) but not readable: refused, and told why.
    r = c.get("/api/v1/communes/C1/reports/monthly", params=MONTH,
              headers=api_estate.auth("aggregator@commune"))
    assert r.status_code == 403 and r.json()["type"].endswith("/out-of-scope")


def test_tertiaire_list_is_scoped_paged_and_exported(api_estate):
    c = api_estate.client
    r = c.get("/api/v1/tertiaire", params={"limit": 1},
              headers=api_estate.auth("viewer@territory"))
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2 and len(page["items"]) == 1
    a = page["items"][0]
    # The estate holds 2019 only: it is the reference (the best complete year of 2010-2019)
    # and there is no later year to judge.
    assert a["building_code"] == "A" and a["reference_year"] == 2019
    assert a["status"] == "no_data" and a["target_2030_kwh"] == pytest.approx(
        a["reference_kwh"] * 0.6)
    assert "costic" in a["dju_method"] and a["approximations"]
    f = c.get("/api/v1/tertiaire", params={"format": "csv"},
              headers=api_estate.auth("viewer@territory"))
    rows = list(csv.DictReader(io.StringIO(f.content.decode("utf-8-sig")), delimiter=";"))
    assert [x["building_code"] for x in rows] == ["A", "B"]
    none = c.get("/api/v1/tertiaire", headers=api_estate.auth("nobody")).json()
    assert none["total"] == 0 and none["items"] == []
    bad = c.get("/api/v1/tertiaire", params={"reference_year": 2021},
                headers=api_estate.auth("viewer@territory"))
    assert bad.status_code == 422 and "2010" in bad.json()["detail"]


def test_operat_export_holds_only_visible_buildings(api_estate):
    r = api_estate.client.get("/api/v1/tertiaire/operat.csv", params={"year": 2019},
                              headers=api_estate.auth("viewer@commune"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert [x["identifiant_efa"] for x in rows] == ["A"]
    a = rows[0]
    assert a["code_commune_insee"] == "C1" and a["assujetti"] == "oui"
    total = int(a["conso_electricite_kwh"]) + int(a["conso_gaz_naturel_kwh"])
    assert abs(total - int(a["conso_totale_kwh"])) <= 1
    assert a["annee_reference"] == "2019"


@pytest.mark.postgres
def test_reports_on_postgresql(estate_files, pg_url):
    # The shared PostgreSQL estate also fits baselines; the reports need only the readings.
    from fastapi.testclient import TestClient

    from sobriete.api.app import create_app
    from sobriete.api.settings import ServiceSettings
    from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
    from sobriete.services import accounts as A
    from sobriete.services.imports import import_file
    from sobriete.services.store import open_store

    store = open_store(pg_url)
    wide = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
            "timestamps": "start"}
    import_file(store, estate_files["registry"], "registry")
    import_file(store, estate_files["elec"], "meter-csv",
                rename={"b0": "A-elec", "b4": "B-elec", "b8": "C-elec"}, **wide)
    import_file(store, estate_files["gas"], "meter-csv", rename={"b0": "A-gas"}, **wide)
    import_file(store, estate_files["weather"], "weather-csv", time_column="timestamp_utc",
                timezone="UTC", station="bedford", columns={"air_temperature_c": "temp_air_c"})
    aid = A.create_account(store, "t1", "correct horse battery", "T1",
                           [Grant(Role.VIEWER, Scope(ScopeLevel.TERRITORY, "T1"))])
    auth = {"Authorization": f"Bearer {A.issue_token(store, aid, 'test')}"}
    with TestClient(create_app(ServiceSettings(scheduler=False), store=store)) as c:
        r = c.get("/api/v1/communes/C2/reports/monthly", params=MONTH, headers=auth)
        assert r.status_code == 200 and "Gymnase B" in r.text
        page = c.get("/api/v1/tertiaire", headers=auth).json()
        assert [x["building_code"] for x in page["items"]] == ["A", "B"]
        assert all(x["error"] is None for x in page["items"])
        op = c.get("/api/v1/tertiaire/operat.csv", params={"year": 2019}, headers=auth)
        assert op.content.decode("utf-8-sig").count("\r\n") == 3  # header + A + B
    store.close()


def test_the_stored_baseline_is_replayed_on_the_month(api_estate):
    # The estate's baselines were fitted on 2019-01..06 (daily): March is inside that period,
    # so the model replayed on March's weather must land close to what was metered.
    from sobriete.services.monthly_report import monthly_report

    b = monthly_report(api_estate.store, "2019-03", building="A").buildings[0]
    for m in b.meters:
        assert m.baseline_kwh is not None, m.meter_code
        assert m.baseline_kwh == pytest.approx(m.kwh, rel=0.25)
        assert m.vs_baseline_pct == pytest.approx(100 * (m.kwh / m.baseline_kwh - 1))
        doc = m.provenance["baseline"]
        assert doc["frequency"] == "daily" and doc["fitted_on"] == ["2019-01-01", "2019-07-01"]
    html = api_estate.client.get("/api/v1/buildings/A/reports/monthly", params=MONTH,
                                 headers=api_estate.auth("viewer@commune")).text
    assert f"{b.meters[0].baseline_kwh:,.0f}".replace(",", "\u202f") in html
