"""An estate for the control, flexibility and footprint API tests, written through the real
import path.

=========  =======  =====  ==================================================================
building   commune  terr.  data
=========  =======  =====  ==================================================================
A1         C1       T1     electric heating, 2 kW/K (hourly kWh on real Bedford weather)
A2         C1       T1     heat pump, 1.5 kW/K
B1         C2       T1     electric heating, 1 kW/K
MAIRIE-C   C3       T2     gas heating (its electricity has no heating slope)
ECOLE-SIM  C3       T2     the simulated school of services.control_demo (zone sensor,
                           15-min heating, its own weather), 2024: what a plan is made on
=========  =======  =====  ==================================================================

Loads: a base profile plus slope x max(0, 14 - T) in occupation, half of it below 10 °C
outside, plus noise, July 2018 to January 2019. A savings run (baseline Jul-Oct, reporting
Nov-Dec) gives the footprint something measured to compare with.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from sobriete.analytics.calendar import occupancy
from sobriete.api.app import create_app
from sobriete.api.settings import ServiceSettings
from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.domain.portfolio import ActivityCategory, default_calendar
from sobriete.services import accounts as A
from sobriete.services import control_demo as D
from sobriete.services.demo import DATA
from sobriete.services.executors import InlineExecutor
from sobriete.services.imports import import_file
from sobriete.services.mv_run import FitSettings, fit_portfolio
from sobriete.services.mv_savings_run import SavingsSettings, compute_savings
from sobriete.services.store import Store, open_store

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # test speed only
PW = "correct horse battery"
TZ = "Europe/Paris"
EVENT_START = pd.Timestamp("2019-01-22 09:00", tz=TZ)  # Tuesday, term time, ~2 °C
EVENT_END = pd.Timestamp("2019-01-22 12:00", tz=TZ)
SCHOOL_START = pd.Timestamp("2024-01-08", tz="UTC")
TEMPO = {date(2024, 1, 21): "BLEU", date(2024, 1, 22): "ROUGE", date(2024, 1, 23): "BLANC"}
HEADER = ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
          "commune_name;site_code;site_name;building_code;building_name;activity;floor_area_m2;"
          "heating_system;climate_zone;school_zone;meter_code;meter_kind;meter_step_min;"
          "subscribed_power_kva;zone_code;sensor_code;sensor_kind;weather_station")
# code, commune, territory, activity, heating, occupied slope kW/K
ESTATE = [("A1", "C1", "T1", "school", "electric_resistance", 2.0),
          ("A2", "C1", "T1", "gym", "heat_pump", 1.5),
          ("B1", "C2", "T1", "school", "electric_resistance", 1.0),
          ("MAIRIE-C", "C3", "T2", "town_hall", "gas_boiler", 0.0)]
GRANTS = {
    "root": ("admin", "portfolio", "M"),
    "agg.c1": ("aggregator", "commune", "C1"),
    "agg.c2": ("aggregator", "commune", "C2"),
    "em.t1": ("energy_manager", "territory", "T1"),
    "em.c3": ("energy_manager", "commune", "C3"),
    "viewer.c3": ("viewer", "commune", "C3"),
    "viewer.t2": ("viewer", "territory", "T2"),
    "nobody": None,
}
WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start"}
BEDFORD = {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
           "columns": {"air_temperature_c": "temp_air_c"}}


def _territory_name(t: str) -> str:
    return {"T1": "Territoire 1", "T2": "Territoire 2"}[t]


def write_files(folder: Path) -> dict[str, Path]:
    lines = [HEADER]
    for code, commune, terr, act, heat, _ in ESTATE:
        lines.append(f"M;Métropole;{terr};{_territory_name(terr)};{commune};Commune {commune};"
                     f"S-{code};Site {code};{code};Bâtiment {code};{act};1000;{heat};H1;Zone C;"
                     f"{code}-elec;electricity;60;;;;;bedford")
    (folder / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    w = pd.read_csv(DATA / "cambridge" / "weather_bedford_hourly.csv.gz",
                    parse_dates=["timestamp_utc"])
    w = w[(w["timestamp_utc"] >= "2018-06-30") & (w["timestamp_utc"] < "2019-02-02")]
    w[["timestamp_utc", "air_temperature_c"]].to_csv(folder / "weather.csv", index=False)
    t_h = pd.Series(w["air_temperature_c"].to_numpy(),
                    index=pd.DatetimeIndex(w["timestamp_utc"]).tz_localize("UTC"))
    idx = pd.date_range("2018-07-01", "2019-02-01", freq="h", tz="UTC", inclusive="left")
    t = t_h.reindex(t_h.index.union(idx)).interpolate("time").reindex(idx).to_numpy()
    rng = np.random.default_rng(11)
    out = {"timestamp_utc": idx.strftime("%Y-%m-%d %H:%M:%S")}
    for code, _c, _t, act, _h, slope in ESTATE:
        occ = occupancy(default_calendar(ActivityCategory(act)), idx).occupied
        kw = (np.where(occ, 10.0, 3.0) + np.where(occ, slope * np.maximum(0, 14 - t),
                                                  slope / 2 * np.maximum(0, 10 - t))
              + rng.normal(0, 0.5, len(idx)))
        out[f"{code}-elec"] = np.round(np.maximum(kw, 0.1), 4)  # kWh per hour
    pd.DataFrame(out).to_csv(folder / "elec.csv", index=False)
    school = D.write_files(folder / "school", SCHOOL_START, 14, weather_days=17, tempo=TEMPO)
    # the simulated school joins the metropolis, in commune C3
    school["registry"].write_text(
        D.registry(("M", "Métropole")).replace(
            "SIM-T;Territoire simulé;99999;Commune simulée", "T2;Territoire 2;C3;Commune C3"),
        encoding="utf-8")
    return {"folder": folder, **{f"school_{k}": v for k, v in school.items()}}


@dataclass
class Seeded:
    store: Store
    client: TestClient
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def seed(url: str, files: dict[str, Path], *, savings: bool = False) -> Seeded:
    store = open_store(url)
    folder = files["folder"]
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, folder / "elec.csv", "meter-csv", **WIDE)
    import_file(store, folder / "weather.csv", "weather-csv", **BEDFORD)
    D.import_files(store, {k[len("school_"):]: v for k, v in files.items()
                           if k.startswith("school_")})
    if savings:
        fit = fit_portfolio(store, FitSettings(date(2018, 7, 1), date(2018, 11, 1), "daily"),
                            executor=InlineExecutor())
        compute_savings(store, fit.run_id, SavingsSettings(date(2018, 11, 1), date(2019, 1, 1)),
                        executor=InlineExecutor())
    tokens = {}
    for login, g in GRANTS.items():
        grants = [] if g is None else [Grant(Role(g[0]), Scope(ScopeLevel(g[1]), g[2]))]
        aid = A.create_account(store, login, PW, login, grants, hasher=FAST)
        tokens[login] = A.issue_token(store, aid, "test")
    client = TestClient(create_app(ServiceSettings(scheduler=False), store=store))
    return Seeded(store, client, tokens)


@contextmanager
def store_url(kind: str, request, tmp_path_factory) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database (dropped afterwards) for one test module."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('h1b_store') / 'store.sqlite'}"
        return
    from sqlalchemy import create_engine

    server = request.getfixturevalue("pg_server_url")
    name = f"sobriete_h1b_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def seeded(kind: str, request, tmp_path_factory, *, savings: bool = False) -> Iterator[Seeded]:
    files = write_files(tmp_path_factory.mktemp("h1b_files"))
    with store_url(kind, request, tmp_path_factory) as url:
        s = seed(url, files, savings=savings)
        try:
            with s.client:
                yield s
        finally:
            s.store.close()
