"""Flexibility, footprint and imports pages, and a 5,000-building portfolio paged server-side."""

from __future__ import annotations

import re

import pandas as pd
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.services import accounts as A
from sobriete.services.demo import DATA
from sobriete.services.portfolio_status import refresh
from sobriete.services.store import open_store
from sobriete.services.store import schema as S
from sobriete.services.store.flex import AllocationRow, save_event


def _event(store) -> None:
    # the stored shape of a dispatched event (the dispatch itself is tested in services)
    with store.engine.begin() as conn:
        save_event(conn, {
            "event_id": "EJP-2019-12-10", "start_utc": pd.Timestamp("2019-12-10 16:00Z"),
            "end_utc": pd.Timestamp("2019-12-10 18:00Z"), "request_kw": 30.0,
            "served_kw": 25.0, "unmet_kw": 5.0, "jain_before": 1.0, "jain_after": 0.9,
            "scope": {"level": "portfolio"}, "doc": {}}, [
            AllocationRow("b0", 15.0, 12.0, 24.0, 1.5, 6.0, "meter-only", 0.5),
            AllocationRow("b4", 14.0, 13.0, 26.0, 0.5, 7.0, "meter-only", 0.4)])


def test_flex_page_is_scoped(web_sqlite, client, logged_in):
    _event(web_sqlite)
    with client(web_sqlite) as c:
        logged_in(c, "agg")
        page = c.get("/flexibilite").text
        assert "EJP-2019-12-10" in page and "Villeneuve" in page and "Montclair" in page
        assert "12,0\u202fkW" in page and "13,0\u202fkW" in page
        logged_in(c, "em.c1")
        page = c.get("/flexibilite").text
        assert "b0 — École Jules Ferry" in page and "Gymnase" not in page
        assert "Montclair" not in page


def test_footprint_page_counts_jobs_and_scoped_savings(web_sqlite, client, logged_in):
    with web_sqlite.engine.connect() as conn:
        n_jobs = conn.execute(select(func.count()).select_from(S.job_footprint)).scalar()
    assert n_jobs > 0  # imports, diagnosis, recommendations were measured
    with client(web_sqlite) as c:
        logged_in(c, "em.c1")
        page = c.get("/empreinte").text
        assert "import:meter-csv" in page and "gCO₂e" in page
        # nothing measured in C1 yet: a dash, not a zero that would read as "no saving"
        assert "<div><b>–</b><span>Économie mesurée (actions)" in page


def test_imports_page_imports_a_file_for_portfolio_writers_only(web_sqlite, client, logged_in):
    with client(web_sqlite) as c:
        logged_in(c, "viewer.c1")
        assert c.get("/imports").status_code == 403
        logged_in(c, "em.c1")  # its buildings' readings, not the reference files
        page = c.get("/imports").text
        assert 'value="b0"' in page and 'value="b4"' not in page and 'name="fmt"' not in page
        csrf = c.cookies.get("sobriete_csrf")
        assert c.post("/imports", data={"fmt": "tempo", "csrf_token": csrf},
                      files={"file": ("t.csv", b"x", "text/csv")}).status_code == 403
        csrf = logged_in(c, "root")
        assert "multipart/form-data" in c.get("/imports").text
        body = (DATA / "france" / "tempo_calendar_2014_2023.csv").read_bytes()
        r = c.post("/imports", data={"fmt": "tempo", "csrf_token": csrf},
                   files={"file": ("tempo.csv", body, "text/csv")}, follow_redirects=False)
        assert r.status_code == 303
        target = r.headers["location"]
        assert target.startswith("/imports?")
        if "job=" not in target:  # no job registry in this app: imported in the request
            assert "msg=ok:" in target
            with web_sqlite.engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(S.tempo_day)).scalar() > 3000


def _big_estate(store, n: int = 5000) -> None:
    """``n`` buildings in 40 communes, one in seven without coordinates, written straight to
    the tables (the registry reader takes ~20 s for 5,000 lines, tested elsewhere)."""
    with store.engine.begin() as conn:
        pf = conn.execute(insert(S.portfolio).values(code="M", name="Métropole")
                          ).inserted_primary_key[0]
        ter = conn.execute(insert(S.territory).values(portfolio_id=pf, code="T1", name="T1")
                           ).inserted_primary_key[0]
        communes = [conn.execute(insert(S.commune).values(
            territory_id=ter, code=f"C{k:02d}", name=f"Commune {k:02d}")).inserted_primary_key[0]
            for k in range(40)]
        conn.execute(insert(S.site), [{"id": i + 1, "commune_id": communes[i % 40],
                                       "code": f"S{i:04d}", "name": f"Site {i}"}
                                      for i in range(n)])
        conn.execute(insert(S.building), [{
            "site_id": i + 1, "code": f"B{i:04d}", "name": f"Bâtiment {i}",
            "activity": "school", "floor_area_m2": 500.0 + i % 900,
            "heating_system": "gas_boiler", "climate_zone": "H1",
            "latitude": 45 + (i % 100) / 50 if i % 7 else None,
            "longitude": 2 + (i // 100) / 25 if i % 7 else None} for i in range(n)])


def test_five_thousand_buildings_are_paged_by_fifty(sqlite_url, client, logged_in):
    store = open_store(sqlite_url)
    _big_estate(store)
    counts = refresh(store)
    assert counts.buildings == 5000 and counts.by_status == {"no_data": 5000}
    A.create_account(store, "root", "correct horse battery", "Root",
                     [Grant(Role.ADMIN, Scope(ScopeLevel.PORTFOLIO, "M"))],
                     hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with client(store) as c:
        logged_in(c, "root")
        page = c.get("/").text
        assert page.count("<tr data-code=") == 50 and "Page 1 / 100" in page
        last = c.get("/?page=100&sort=code&desc=1").text
        assert last.count("<tr data-code=") == 50 and 'data-code="B0049"' in last
        c07 = c.get("/?commune=C07").text
        assert c07.count("<tr data-code=") == 50 and "Page 1 / 3" in c07
        everyone = c.get("/carte.json").json()
        assert (len(everyone["markers"]), len(everyone["no_coords"])) == (5000 - 715, 715)
        c07 = c.get("/carte.json?commune=C07").json()
        assert len(c07["markers"]) + len(c07["no_coords"]) == 125
    store.close()


def test_marking_done_measures_the_realised_saving_in_the_background(web_sqlite, client,
                                                                     logged_in):
    from sobriete.services.jobs import JobRegistry
    c = client(web_sqlite)
    c.app.state.jobs = jobs = JobRegistry(web_sqlite, workers=1)
    with c:
        if c.app.state.jobs is not jobs:  # the service started its own registry
            jobs = c.app.state.jobs
        csrf = logged_in(c, "em.c1")
        page = c.get("/batiments/b0").text
        code = re.findall(r'action="/batiments/b0/actions/([a-z0-9_]+)"', page)[0]
        r = c.post(f"/batiments/b0/actions/{code}", data={
            "status": "done", "done_date": "2019-07-01", "csrf_token": csrf},
            follow_redirects=False)
        assert r.headers["location"].endswith("msg=measuring#actions")
        (job,) = jobs.list()
        done = jobs.wait(job.id, timeout_s=120)
        assert done.state == "done", done.error
        total = done.result["realised"]["kwh_per_year"]
        assert total["low"] <= total["value"] <= total["high"]
        row = c.get("/batiments/b0").text.split(f'data-action="{code}"')[1].split("</tr>")[0]
        assert "kWh/an" in row.split("</td>")[2]  # the measured column is filled


def test_sorting_by_a_figure_puts_buildings_without_it_last(web_sqlite, client, logged_in):
    bs = S.building_status
    with web_sqlite.engine.begin() as conn:  # one building without the figure (no floor area)
        conn.execute(bs.update().where(bs.c.building_id == select(func.min(bs.c.building_id))
                                       .scalar_subquery()).values(kwh_per_m2=None))
        figures = {code: v for code, v in conn.execute(
            select(S.building.c.code, S.building_status.c.kwh_per_m2)
            .join(S.building_status, S.building_status.c.building_id == S.building.c.id))}
    assert any(v is None for v in figures.values()) and any(v for v in figures.values())
    ascending = sorted(figures, key=lambda k: (figures[k] is None, figures[k] or 0, k))
    with client(web_sqlite) as c:
        logged_in(c, "root")
        up = re.findall(r'<tr data-code="([^"]+)"', c.get("/?sort=kwh_m2").text)
        down = re.findall(r'<tr data-code="([^"]+)"', c.get("/?sort=kwh_m2&desc=1").text)
    assert up == [k for k in ascending if k in up] and set(up) == set(figures)
    assert down == up[::-1]
