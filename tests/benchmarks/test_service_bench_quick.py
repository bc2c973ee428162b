"""The service benchmark's estate is what the real API serves: the generator's buildings are
listed, in scope, with their stored status, findings and a working bearer token per role.
Small (60 buildings in 60 communes of the 11 territories), no timing."""

from __future__ import annotations

from pathlib import Path

from benchmarks.service import estate as E
from benchmarks.service.profile import summarise
from benchmarks.service.report import table
from fastapi.testclient import TestClient
from sqlalchemy import select

from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings
from sobriete.services.store import open_store
from sobriete.services.store import schema as S

N = 60


def test_generated_estate_is_served_in_scope(any_store_url: str, tmp_path: Path) -> None:
    store = open_store(any_store_url)
    est = E.build(store, N, tmp_path, log=lambda _m: None)
    with store.engine.connect() as conn:
        statuses = [r[0] for r in conn.execute(select(S.building_status.c.status))]
    n_status = len(statuses)
    assert n_status == N  # refresh ran on every building
    assert {"ok", "alert", "no_data"} <= set(statuses)  # 2019 changes, missing meters
    assert len(est.communes) == N_COMMUNES_USED(N) and len(est.territories) == 11
    with TestClient(create_app(ServiceSettings(scheduler=False), store=store)) as client:
        _check_api(client, est)
    store.close()


def _check_api(client: TestClient, est: E.Estate) -> None:
    def get(role: str, path: str) -> dict:
        r = client.get(path, headers={"Authorization": f"Bearer {est.tokens[role]}"})
        assert r.status_code == 200, r.text
        return r.json()

    assert get("admin", "/api/v1/buildings?limit=50")["total"] == N
    mine = get("commune", "/api/v1/buildings?limit=50")
    assert mine["total"] == est.counts["commune_buildings"] >= 1
    by_commune = get("admin", f"/api/v1/buildings?commune={est.commune}&limit=500")
    assert {b["building_code"] for b in mine["items"]} == {
        b["building_code"] for b in by_commune["items"]}
    assert est.building in {b["building_code"] for b in mine["items"]}
    assert get("territory", "/api/v1/buildings?limit=50")["total"] == \
        est.counts["territory_buildings"]
    assert get("admin", "/api/v1/findings?limit=50")["total"] == est.counts["findings"] > 0
    # outside the commune manager's scope: not visible
    other = next(c for c in est.communes if c != est.commune)
    assert get("commune", f"/api/v1/buildings?commune={other}")["total"] == 0


def N_COMMUNES_USED(n: int) -> int:  # noqa: N802 - reads as the constant it stands for
    return min(n, E.N_COMMUNES)


def test_registry_coordinates_inside_the_metropolis() -> None:
    reg = E.registry_frame(2000)
    assert reg.building_code.is_unique and len(reg) == 2000
    assert reg.latitude.between(*E.LAT).all() and reg.longitude.between(*E.LON).all()
    assert reg.commune_insee.nunique() == E.N_COMMUNES
    assert reg.territory_code.nunique() == E.N_TERRITORIES
    assert set(reg.activity) <= set(E.ACTIVITIES)


def test_profile_summary_and_table(tmp_path: Path) -> None:
    raw = tmp_path / "p.txt"
    raw.write_text(
        "run (uvicorn/main.py:1);select (selectors.py:468) 90\n"
        "handle (fastapi/routing.py:3);buildings (/x/src/sobriete/api/routes/estate.py:120);"
        "fetchone (sqlalchemy/engine/cursor.py:1284) 30\n"
        "handle (fastapi/routing.py:3);principal (/x/src/sobriete/api/deps.py:93) 10\n",
        encoding="utf-8")
    s = summarise(raw)
    assert s["samples"] == 40  # the idle event loop is left out
    assert s["self"][0] == {"frame": "fetchone (sqlalchemy/engine/cursor.py:1284)", "pct": 75.0}
    assert s["ours_inclusive"][0]["frame"] == "buildings (sobriete/api/routes/estate.py)"
    ep = {"name": "buildings_admin", "path": "/api/v1/buildings", "throughput_rps": 10.0,
          "p50_ms": 50.0, "p95_ms": 150.0, "p99_ms": 250.0, "errors": 0,
          "server_rss_mb_before": 100.0, "server_rss_mb_after": 110.0, "server_cpu_per_s": 0.9}
    md = table({"load": {"endpoints": [{**ep, "name": "health", "p50_ms": 5.0}, ep]},
                "missing": {"dashboard_building": "GET /batiments/B1 answered 404"}})
    assert "| 10.0x |" in md and md.count("| no |") == 1
    assert "missing: GET /batiments/B1 answered 404" in md
