"""Fixtures of the dashboard tests. A small real estate: Cambridge buildings b0 and b4 (hourly
electricity and gas, real MIT data, 2018-2019) with the Bedford weather, placed in two
fictitious French communes (C1: b0, with coordinates; C2: b4, without), and one account per
role that matters to the pages."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import insert

from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings
from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.services import accounts as A
from sobriete.services.actions_run import recommend_buildings
from sobriete.services.demo import DATA
from sobriete.services.diagnose_run import diagnose
from sobriete.services.imports import import_file
from sobriete.services.mv_inputs import meter_refs
from sobriete.services.mv_run import FitSettings, fit_one, settings_doc
from sobriete.services.portfolio_status import refresh
from sobriete.services.store import Store, open_store
from sobriete.services.store import schema as S

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test speed only
PW = "correct horse battery"
HEAD = ("portfolio_code;territory_code;commune_insee;commune_name;site_code;building_code;"
        "building_name;activity;floor_area_m2;heating_system;climate_zone;meter_code;"
        "meter_kind;meter_step_min;weather_station;latitude;longitude")
ROWS = (
    "M;T1;C1;Villeneuve;S1;b0;École Jules Ferry;school;3296.5;gas_boiler;H1;b0-elec;"
    "electricity;60;bedford;48.85;2.35",
    "M;T1;C1;Villeneuve;S1;b0;École Jules Ferry;school;3296.5;gas_boiler;H1;b0-gas;gas;60;"
    "bedford;48.85;2.35",
    "M;T1;C2;Montclair;S2;b4;Gymnase Coubertin;gym;2744.5;gas_boiler;H1;b4-elec;"
    "electricity;60;bedford;;",
    "M;T1;C2;Montclair;S2;b4;Gymnase Coubertin;gym;2744.5;gas_boiler;H1;b4-gas;gas;60;"
    "bedford;;",
)
WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start"}
BEDFORD = {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
           "columns": {"air_temperature_c": "temp_air_c"}}
FILES = {"elec": "electricity_kwh_hourly", "gas": "gas_kwh_hourly",
         "weather": "weather_bedford_hourly"}
START, END = "2018-01-01", "2020-01-01"


def write_files(folder: Path) -> Path:
    (folder / "registry.csv").write_text("\n".join((HEAD, *ROWS)) + "\n", encoding="utf-8")
    for name, stem in FILES.items():
        df = pd.read_csv(DATA / "cambridge" / f"{stem}.csv.gz")
        cols = ["air_temperature_c"] if name == "weather" else ["b0", "b4"]
        t = pd.to_datetime(df["timestamp_utc"])
        df[(t >= START) & (t < END)][["timestamp_utc", *cols]].to_csv(
            folder / f"{name}.csv", index=False)
    return folder


def load(url: str, folder: Path) -> Store:
    store = open_store(url)
    import_file(store, folder / "registry.csv", "registry")
    for kind in ("elec", "gas"):
        import_file(store, folder / f"{kind}.csv", "meter-csv",
                    rename={"b0": f"b0-{kind}", "b4": f"b4-{kind}"}, **WIDE)
    import_file(store, folder / "weather.csv", "weather-csv", **BEDFORD)
    return store


def grant(role: str, level: str, code: str) -> Grant:
    return Grant(Role(role), Scope(ScopeLevel(level), code))


ACCOUNTS = {
    "root": [grant("admin", "portfolio", "M")],
    "em.c1": [grant("energy_manager", "commune", "C1")],
    "em.c2": [grant("energy_manager", "commune", "C2")],
    "viewer.c1": [grant("viewer", "commune", "C1")],
    "agg": [grant("aggregator", "portfolio", "M")],
}


def add_accounts(store: Store) -> None:
    for login, grants in ACCOUNTS.items():
        A.create_account(store, login, PW, login.upper(), grants, hasher=FAST)


@pytest.fixture(scope="session")
def web_files(tmp_path_factory) -> Path:
    return write_files(tmp_path_factory.mktemp("web_estate"))


def fit_baselines(store: Store, settings: FitSettings, keys: list[str]) -> None:
    """The stored baselines of ``keys``, fitted by ``mv_run.fit_one`` in this process.
    (Not ``fit_portfolio``: on PostgreSQL its run counter adds a boolean to an integer,
    ``n_failed + (status == 'failed')``, which psycopg refuses; reported.)"""
    now = datetime.now(UTC)
    url = store.engine.url.render_as_string(hide_password=False)
    with store.engine.begin() as conn:
        run_id = conn.execute(insert(S.mv_run).values(
            kind="fit", started_at=now, finished_at=now, status="done",
            settings_json=json.dumps(settings_doc(settings)), n_tasks=len(keys),
            n_done=len(keys), n_failed=0)).inserted_primary_key[0]
        refs = meter_refs(conn, None, keys)
    for ref in refs:
        res = fit_one(url, settings, run_id, ref)
        assert res["status"] == "ok", res["error"]
        row = {k: res[k] for k in ("series_id", "status", "model", "model_version", "frequency",
                                   "model_json", "result_json", "disqualified", "error")}
        with store.engine.begin() as conn:
            conn.execute(insert(S.baseline_fit).values(
                run_id=run_id, baseline_start=settings.baseline_start,
                baseline_end=settings.baseline_end, created_at=now, **row))


def analysed(url: str, folder: Path) -> Store:
    """The estate loaded, a 2018 baseline fitted for b0's meters, b4 diagnosed and advised,
    and the portfolio status computed."""
    store = load(url, folder)
    fit_baselines(store, FitSettings(date(2018, 1, 1), date(2019, 1, 1)),
                  ["b0-elec", "b0-gas"])
    diagnose(store, meters=["b4-elec", "b4-gas"], start=date(2019, 1, 1), end=date(2020, 1, 1))
    recommend_buildings(store)
    refresh(store, tertiaire_reference=2018)
    add_accounts(store)
    return store


@pytest.fixture
def web_store(any_store_url: str, web_files: Path) -> Store:
    store = analysed(any_store_url, web_files)
    yield store
    store.close()


@pytest.fixture(scope="session")
def _web_sqlite_file(tmp_path_factory, web_files: Path) -> Path:
    path = tmp_path_factory.mktemp("web_sqlite") / "store.sqlite"
    analysed(f"sqlite:///{path}", web_files).close()
    return path


@pytest.fixture
def web_sqlite(tmp_path: Path, _web_sqlite_file: Path) -> Store:
    """The analysed estate on SQLite: built once, copied for each test (tests write)."""
    path = tmp_path / "web.sqlite"
    for suffix in ("", "-wal", "-shm"):  # WAL mode: the last writes may be in the -wal file
        src = _web_sqlite_file.with_name(_web_sqlite_file.name + suffix)
        if src.exists():
            shutil.copyfile(src, path.with_name(path.name + suffix))
    store = open_store(f"sqlite:///{path}")
    yield store
    store.close()


def _client(store: Store) -> TestClient:
    return TestClient(create_app(ServiceSettings(scheduler=False, cookie_secure=False),
                                 store=store))


def _logged_in(c: TestClient, login: str) -> str:
    """Log in through the form; returns the CSRF token the pages carry."""
    r = c.post("/login", data={"login": login, "password": PW, "next": "/"},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return c.cookies.get("sobriete_csrf")


@pytest.fixture
def client():
    """``client(store)``: a TestClient of the whole app on ``store``."""
    return _client


@pytest.fixture
def logged_in():
    """``logged_in(client, login)``: logs in through the form, returns the CSRF token."""
    return _logged_in
