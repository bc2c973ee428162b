"""Readings of a series (offsets required, real values back) and per-building uploads through
the import path: a re-upload changes nothing, bad input is a typed 422 naming file, line and
field, and a file naming another building's meter is refused whole — SQLite and PostgreSQL."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from sqlalchemy import select

from sobriete.services.demo import DATA
from sobriete.services.store import schema as S

V1 = "/api/v1"
READ = f"{V1}/buildings/A/series/A-elec/readings"


@pytest.fixture(params=["sqlite", "postgresql"])
def est(request):
    return request.getfixturevalue("api_estate" if request.param == "sqlite"
                                   else "api_estate_pg")


def _source(col: str, lo: str, hi: str) -> list[float]:
    with gzip.open(DATA / "cambridge" / "electricity_kwh_hourly.csv.gz") as f:
        df = pd.read_csv(f)
    t = pd.to_datetime(df["timestamp_utc"])
    return df.loc[(t >= lo) & (t < hi), col].tolist()


def test_readings_of_a_window_given_in_paris_time(est):
    # (not 1 March: the upload examples of the API write 2021 or 2019-03-01 hours of A-elec)
    r = est.client.get(READ, headers=est.auth("viewer@commune"), params={
        "start": "2019-03-04T00:00:00+01:00", "end": "2019-03-04T06:00:00+01:00"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 6
    assert body["items"][0]["start"] == "2019-03-03T23:00:00Z"
    assert {x["duration_s"] for x in body["items"]} == {3600}
    assert [x["value"] for x in body["items"]] == \
        _source("b0", "2019-03-03 23:00", "2019-03-04 05:00")


def test_a_time_without_offset_is_refused_with_a_clear_message(est):
    r = est.client.get(READ, headers=est.auth("admin@portfolio"),
                       params={"start": "2019-03-01T00:00:00"})
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-request")
    assert r.json()["detail"].startswith("query.start: 2019-03-01T00:00:00 has no UTC offset")
    assert "+01:00" in r.json()["detail"]
    r = est.client.get(READ, headers=est.auth("admin@portfolio"), params={
        "start": "2019-03-02T00:00:00Z", "end": "2019-03-01T00:00:00Z"})
    assert r.status_code == 422 and "after" in r.json()["detail"]


def test_a_series_of_another_building_is_not_found_through_this_one(est):
    h = est.auth("admin@portfolio")
    r = est.client.get(f"{V1}/buildings/A/series/B-elec/readings", headers=h)
    assert r.status_code == 404 and not r.json()["type"].endswith("out-of-scope")
    r = est.client.get(f"{V1}/buildings/B/series/B-elec/readings", headers=h,
                       params={"quantity": "temp_zone_c"})
    assert r.status_code == 404
    r = est.client.get(f"{V1}/buildings/B/series/B-elec/readings", headers=h,
                       params={"start": "2019-06-01T00:00:00+02:00", "limit": 2,
                               "format": "csv"})
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "start;duration_s;value;quantity"
    assert len(lines) - 1 == len(_source("b4", "2019-05-31 22:00", "2020-01-01"))


def _upload(est, who: str, name: str, text: str, building: str = "A", **form):
    return est.client.post(f"{V1}/buildings/{building}/readings", headers=est.auth(who),
                           data={"format": "meter-csv", **form},
                           files={"file": (name, text.encode())})


LONG = "meter,timestamp,value\n" + "".join(
    f"A-elec,2020-01-0{d}T{h:02d}:00:00Z,{10 + h / 2}\n" for d in (1, 2) for h in range(24))


def test_upload_goes_through_the_import_path_and_a_re_upload_changes_nothing(est):
    first = _upload(est, "energy_manager@commune", "releves.csv", LONG)
    assert first.status_code == 200, first.text
    again = _upload(est, "energy_manager@commune", "releves.csv", LONG)
    a, b = first.json(), again.json()
    assert (a["rows_in"], a["rows_new"] + a["rows_unchanged"]) == (48, 48)
    assert (b["rows_new"], b["rows_unchanged"], b["rows_revised"]) == (0, 48, 0)
    got = est.client.get(READ, headers=est.auth("viewer@commune"), params={
        "start": "2020-01-02T00:00:00Z", "end": "2020-01-02T03:00:00Z"}).json()
    assert [x["value"] for x in got["items"]] == [10.0, 10.5, 11.0]
    with est.store.engine.connect() as c:
        batches = c.execute(select(S.import_batch.c.id, S.import_batch.c.source)
                            .where(S.import_batch.c.id.in_([a["batch_id"], b["batch_id"]]))
                            ).all()
    # both uploads are import batches like any `sobriete import`, named after the file
    assert len(batches) == 2 and all("releves.csv" in src for _i, src in batches), batches


def test_a_file_naming_another_buildings_meter_is_refused_whole(est):
    text = ("meter,timestamp,value\nA-elec,2020-02-01T00:00:00Z,5\n"
            "A-elec,2020-02-01T01:00:00Z,5\nB-elec,2020-02-01T00:00:00Z,7\n"
            "B-elec,2020-02-01T01:00:00Z,7\n")
    r = _upload(est, "admin@portfolio", "melange.csv", text)
    assert r.status_code == 422, r.text
    p = r.json()
    assert p["type"].endswith("invalid-input") and p["file"] == "melange.csv"
    assert "'B-elec'" in p["detail"] and "nothing was written" in p["detail"]
    got = est.client.get(READ, headers=est.auth("admin@portfolio"), params={
        "start": "2020-02-01T00:00:00Z", "end": "2020-02-02T00:00:00Z"}).json()
    assert got["total"] == 0


def test_bad_input_is_a_422_naming_file_line_and_field(est):
    text = ("meter,timestamp,value\nA-elec,2020-03-01T00:00:00Z,5\n"
            "A-elec,2020-03-01T01:00:00Z,-40\n")
    r = _upload(est, "admin@portfolio", "negatif.csv", text)
    assert r.status_code == 422, r.text
    p = r.json()
    assert p["file"] == "negatif.csv" and p["line"] == 3 and p["field"]
    r = _upload(est, "admin@portfolio", "x.csv", LONG, options='{"nope": 1}')
    assert r.status_code == 422 and r.json()["field"] == "options"
    r = _upload(est, "admin@portfolio", "x.csv", LONG, options="{")
    assert r.status_code == 422 and r.json()["field"] == "options"
    r = _upload(est, "admin@portfolio", "x.csv", LONG, format="registry")
    assert r.status_code == 422


def test_only_writers_of_the_building_may_upload(est):
    r = _upload(est, "viewer@portfolio", "releves.csv", LONG)
    assert r.status_code == 403 and r.json()["type"].endswith("out-of-scope")
    r = _upload(est, "energy_manager@commune", "releves.csv", LONG, building="B")
    assert r.status_code == 404 and r.json()["type"].endswith("out-of-scope")


def test_pages_of_a_window_put_together_are_the_window(est):
    h, window = est.auth("viewer@territory"), {"start": "2019-06-03T00:00:00+02:00",
                                                "end": "2019-06-10T00:00:00+02:00"}
    got, offset = [], 0
    while True:
        page = est.client.get(f"{V1}/buildings/B/series/B-elec/readings", headers=h,
                              params={**window, "limit": 50, "offset": offset}).json()
        assert page["total"] == 7 * 24
        got += page["items"]
        offset += 50
        if offset >= page["total"]:
            break
    assert [x["value"] for x in got] == _source("b4", "2019-06-02 22:00", "2019-06-09 22:00")
    starts = [x["start"] for x in got]
    assert starts == sorted(starts) and len(set(starts)) == 7 * 24
