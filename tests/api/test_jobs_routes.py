"""Jobs through the API: an import checked against the building's scope before anything is
written, the analysis reserved to portfolio administrators, and a job seen by its owner only.
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

FILE = ("releves.csv", b"meter,timestamp,value\nA-elec,2019-03-01T00:00:00Z,1.5\n"
                       b"A-elec,2019-03-01T01:00:00Z,1.5\n")
EM = "energy_manager@commune"  # C1: building A only


@pytest.fixture(params=["sqlite", "postgresql"])
def est(request):
    return request.getfixturevalue("api_estate" if request.param == "sqlite"
                                   else "api_estate_pg")


def _post_import(est, who: str, building: str, file=FILE):
    return est.client.post("/api/v1/jobs/imports", headers=est.auth(who),
                           data={"building_code": building, "format": "meter-csv"},
                           files={"file": file})


def _wait(est, job_id: str):
    return est.client.app.state.jobs.wait(job_id, timeout_s=120)


def test_import_job_runs_for_its_owner_only(est):
    r = _post_import(est, EM, "A")
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "import" and job["state"] in ("queued", "running", "done")
    assert _wait(est, job["id"]).state == "done"
    mine = est.client.get(job["url"], headers=est.auth(EM))
    assert mine.status_code == 200
    body = mine.json()
    assert body["state"] == "done" and body["progress_pct"] == 100.0
    assert body["result"]["building_code"] == "A" and body["result"]["rows_in"] == 2
    assert body["result"]["status"] == "ok"
    assert job["id"] in [j["id"] for j in est.client.get(
        "/api/v1/jobs", headers=est.auth(EM)).json()["items"]]
    # Anybody else: as if the job did not exist.
    for other in ("admin@portfolio", "viewer@commune"):
        assert est.client.get(job["url"], headers=est.auth(other)).status_code == 404
        assert job["id"] not in [j["id"] for j in est.client.get(
            "/api/v1/jobs", headers=est.auth(other)).json()["items"]]


def test_import_job_is_refused_out_of_scope_before_writing(est):
    assert _post_import(est, EM, "B").status_code == 404  # another commune: not visible
    r = _post_import(est, "viewer@commune", "A")
    assert r.status_code == 403 and r.json()["type"].endswith("out-of-scope")
    assert _post_import(est, "aggregator@portfolio", "A").status_code == 403  # sees, no write
    # A file writing another building's meter fails as a whole, and says which.
    foreign = ("b.csv", b"meter,timestamp,value\nB-elec,2019-03-01T00:00:00Z,9.9\n"
                        b"B-elec,2019-03-01T01:00:00Z,9.9\n")
    job = _wait(est, _post_import(est, EM, "A", foreign).json()["id"])
    assert job.state == "failed" and "'B-elec'" in job.error and "nothing was written" in \
        job.error
    bad = est.client.post("/api/v1/jobs/imports", headers=est.auth(EM),
                          data={"building_code": "A", "format": "meter-csv",
                                "options": "{pas du json"}, files={"file": FILE})
    assert bad.status_code == 422


def test_analysis_is_for_portfolio_administrators(est):
    for who in (EM, "admin@territory", "viewer@portfolio"):
        r = est.client.post("/api/v1/jobs/analysis", headers=est.auth(who),
                            json={"steps": ["alerts"]})
        assert r.status_code == 403, (who, r.text)
    r = est.client.post("/api/v1/jobs/analysis", headers=est.auth("admin@portfolio"),
                        json={"steps": ["status", "alerts"]})
    assert r.status_code == 202, r.text
    job = _wait(est, r.json()["id"])
    assert job.state == "done", job.error
    assert job.result["steps"] == ["status", "alerts"]
    assert job.result["status"]["buildings"] == 3 and "diagnosis" not in job.result
    assert est.client.post("/api/v1/jobs/analysis", json={}).status_code == 401


def test_job_list_is_the_principals_own_filtered_and_paged_in_sql(est):
    jobs = est.client.app.state.jobs
    scheduled = [jobs.submit("analysis", None, lambda progress: None, "nightly")
                 for _ in range(3)]
    mine = _post_import(est, EM, "A").json()["id"]
    for j in [*scheduled, mine]:
        _wait(est, j)

    def listed(who, **params):
        body = est.client.get("/api/v1/jobs", headers=est.auth(who), params=params).json()
        return [j["id"] for j in body["items"]], body["total"]

    # the scheduler's jobs (no owner) for the portfolio's administrators only (the estate is
    # shared with the other tests: their own jobs are listed too)
    everything, total = listed("admin@portfolio")
    assert set(scheduled) <= set(everything) and mine not in everything
    assert total == len(everything)
    ids, total = listed(EM)
    assert mine in ids and not set(scheduled) & set(ids) and total == len(ids)
    ids, total = listed("admin@territory")
    assert not {mine, *scheduled} & set(ids) and total == len(ids)
    assert listed("admin@portfolio", limit=2, offset=1) == (everything[1:3], len(everything))
