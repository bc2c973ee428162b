"""A small real estate for the API tests, built once per session through the real import path.

Estate (registry CSV written here, meter data from the bundled Cambridge archive, 2019):

=========  =========  =======  ====================================
building   commune    territ.  meters (Cambridge building)
=========  =========  =======  ====================================
A          C1         T1       A-elec (b0 electricity), A-gas (b0 gas)
B          C2         T1       B-elec (b4 electricity)
C          C3         T2       C-elec (b8 electricity)
=========  =========  =======  ====================================

The real diagnosis, recommendations, a baseline fit and a savings run are stored, and one
action is tracked per building. Principals: every role x scope (portfolio, territory T1,
commune C1) plus an account with no grant, each with a bearer token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings
from sobriete.domain.access import Grant, Principal, Role, Scope, ScopeLevel
from sobriete.services import accounts as A
from sobriete.services.actions_run import mark_action, recommend_buildings
from sobriete.services.demo import DATA
from sobriete.services.diagnose_run import diagnose
from sobriete.services.executors import InlineExecutor
from sobriete.services.imports import import_file
from sobriete.services.mv_run import FitSettings, fit_portfolio
from sobriete.services.mv_savings_run import SavingsSettings, compute_savings
from sobriete.services.store import Store, open_store

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test speed only
PW = "correct horse battery"
HEAD = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
        "commune_name;site_code;building_code;building_name;activity;floor_area_m2;"
        "heating_system;meter_code;meter_kind;meter_step_min;weather_station")
ROWS = (
    "M;Métropole test;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
    "A-elec;electricity;60;bedford",
    "M;Métropole test;T1;Territoire 1;C1;Commune 1;S1;A;École A;school;3296.5;gas_boiler;"
    "A-gas;gas;60;bedford",
    "M;Métropole test;T1;Territoire 1;C2;Commune 2;S2;B;Gymnase B;gym;2744.5;gas_boiler;"
    "B-elec;electricity;60;bedford",
    "M;Métropole test;T2;Territoire 2;C3;Commune 3;S3;C;Mairie C;town_hall;1200;gas_boiler;"
    "C-elec;electricity;60;bedford",
)
BUILDINGS = {"A": ("C1", "T1"), "B": ("C2", "T1"), "C": ("C3", "T2")}
SCOPES = {"portfolio": "M", "territory": "T1", "commune": "C1"}
WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start"}
BEDFORD = {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
           "columns": {"air_temperature_c": "temp_air_c"}}
START, END = "2019-01-01", "2020-01-01"


def _slice(name: str, cols: list[str], folder: Path) -> Path:
    df = pd.read_csv(DATA / "cambridge" / f"{name}.csv.gz")
    t = pd.to_datetime(df["timestamp_utc"])
    path = folder / f"{name}.csv"
    df.loc[(t >= START) & (t < END), ["timestamp_utc", *cols]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def estate_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("api_estate")
    reg = folder / "registry.csv"
    reg.write_text("\n".join((HEAD, *ROWS)) + "\n", encoding="utf-8")
    return {"registry": reg,
            "elec": _slice("electricity_kwh_hourly", ["b0", "b4", "b8"], folder),
            "gas": _slice("gas_kwh_hourly", ["b0"], folder),
            "weather": _slice("weather_bedford_hourly", ["air_temperature_c"], folder)}


def principal_ids() -> list[str]:
    ids = [f"{r.value}@{lvl}" for r in Role for lvl in SCOPES]
    return [*ids, "nobody"]


@dataclass
class ApiEstate:
    store: Store
    client: TestClient
    tokens: dict[str, str]  # principal id ("role@level" or "nobody") -> bearer token
    principals: dict[str, Principal]
    buildings: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(BUILDINGS))
    finding_keys: dict[str, list[str]] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _build(url: str, files: dict[str, Path], *, mv: bool = True) -> ApiEstate:
    store = open_store(url)
    import_file(store, files["registry"], "registry")
    import_file(store, files["elec"], "meter-csv",
                rename={"b0": "A-elec", "b4": "B-elec", "b8": "C-elec"}, **WIDE)
    import_file(store, files["gas"], "meter-csv", rename={"b0": "A-gas"}, **WIDE)
    import_file(store, files["weather"], "weather-csv", **BEDFORD)
    diagnose(store)
    recommend_buildings(store)
    if mv:
        fit = fit_portfolio(store, FitSettings(date(2019, 1, 1), date(2019, 7, 1), "daily"),
                            executor=InlineExecutor())
        compute_savings(store, fit.run_id,
                        SavingsSettings(date(2019, 7, 1), date(2019, 10, 1)),
                        executor=InlineExecutor())
    for code in BUILDINGS:
        mark_action(store, code, "schedule_fix", "in_progress", note="programmation GTB")
    tokens, principals = {}, {}
    for pid in principal_ids():
        grants = [] if pid == "nobody" else [
            Grant(Role(pid.split("@")[0]),
                  Scope(ScopeLevel(pid.split("@")[1]), SCOPES[pid.split("@")[1]]))]
        aid = A.create_account(store, pid, PW, pid, grants, hasher=FAST)
        tokens[pid] = A.issue_token(store, aid, "test")
        principals[pid] = A.principal_for_account(store, aid)
    client = TestClient(create_app(ServiceSettings(scheduler=False), store=store))
    est = ApiEstate(store, client, tokens, principals)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT b.code, f.key FROM finding f JOIN building b ON b.id = f.building_id "
            "ORDER BY b.code, f.key").all()
    for code, key in rows:
        est.finding_keys.setdefault(code, []).append(key)
    return est


@pytest.fixture(scope="session")
def api_estate(estate_files, tmp_path_factory):
    """The estate on SQLite with a running app (session-wide: build once)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('api_store') / 'store.sqlite'}"
    est = _build(url, estate_files)
    with est.client:
        yield est
    est.store.close()


@pytest.fixture(scope="session")
def api_estate_pg(estate_files, pg_server_url):
    """The same estate on a fresh PostgreSQL database (dropped at the end of the session),
    without M&V runs: ``mv_run._save_fit`` adds a boolean to an integer column, which
    PostgreSQL refuses (reported; the baseline and savings routes are tested on SQLite)."""
    from sqlalchemy import create_engine

    name = f"sobriete_api_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    est = _build(f"{pg_server_url.rsplit('/', 1)[0]}/{name}", estate_files, mv=False)
    with est.client:
        yield est
    est.store.close()
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def build_estate(estate_files):
    """``build(url) -> ApiEstate``: the estate on another store (the caller closes it)."""
    return lambda url: _build(url, estate_files)
