"""A small slice of the real Cambridge data for the diagnosis and action tests: building b0
(electricity and gas, hourly) with the Bedford weather, 2018-2019, and its registry lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sobriete.services.demo import DATA
from sobriete.services.imports import import_file
from sobriete.services.store import Store, open_store

WIDE = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
        "timestamps": "start"}
BEDFORD = {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
           "columns": {"air_temperature_c": "temp_air_c"}}
FILES = {"elec": "electricity_kwh_hourly", "gas": "gas_kwh_hourly",
         "weather": "weather_bedford_hourly"}


def _read(name: str) -> pd.DataFrame:
    df = pd.read_csv(DATA / "cambridge" / f"{FILES[name]}.csv.gz")
    df["timestamp_utc"] = pd.to_datetime(df["timestamp_utc"])
    col = "air_temperature_c" if name == "weather" else "b0"
    return df[["timestamp_utc", col]]


def _registry(folder: Path) -> Path:
    lines = (DATA / "registry_demo.csv").read_text(encoding="utf-8").splitlines()
    path = folder / "registry.csv"
    path.write_text("\n".join([lines[0]] + [x for x in lines[1:] if ";b0;" in x]) + "\n",
                    encoding="utf-8")
    return path


def _slice(df: pd.DataFrame, lo: str, hi: str) -> pd.DataFrame:
    t = df["timestamp_utc"]
    return df[(t >= lo) & (t < hi)]


def _load(url: str, folder: Path) -> Store:
    store = open_store(url)
    import_file(store, folder / "registry.csv", "registry")
    import_file(store, folder / "elec.csv", "meter-csv", rename={"b0": "b0-elec"}, **WIDE)
    import_file(store, folder / "gas.csv", "meter-csv", rename={"b0": "b0-gas"}, **WIDE)
    import_file(store, folder / "weather.csv", "weather-csv", **BEDFORD)
    return store


@pytest.fixture(scope="session")
def b0_real(tmp_path_factory) -> Path:
    """Real data, 2018-01-01 to 2020-01-01 UTC."""
    folder = tmp_path_factory.mktemp("b0_real")
    _registry(folder)
    for name in FILES:
        _slice(_read(name), "2018-01-01", "2020-01-01").to_csv(folder / f"{name}.csv",
                                                              index=False)
    return folder


# The action of the realised-savings test is done on 2019-01-01 (local). After it, the data
# repeat 2018 exactly 52 weeks later (same weekdays, same weather), electricity cut by STEP:
# the counterfactual is known, so the true saving is too.
DONE = "2018-12-31 23:00"  # 2019-01-01 00:00 Europe/Paris
STEP = 0.15
SHIFT = pd.Timedelta(weeks=52)


@pytest.fixture(scope="session")
def b0_step(tmp_path_factory) -> tuple[Path, float]:
    """2018 real data, then six months of 2018 again with electricity down by ``STEP``;
    returns the folder and the true electricity saving [kWh] over the six months."""
    folder = tmp_path_factory.mktemp("b0_step")
    _registry(folder)
    true_saving = 0.0
    for name in FILES:
        df = _read(name)
        base = _slice(df, "2018-01-01", "2018-12-31 00:00")
        again = _slice(df, "2018-01-01", "2018-07-02").copy()
        again["timestamp_utc"] += SHIFT  # 2018-12-31 to 2019-06-30, same weekdays
        if name == "elec":
            after = again["timestamp_utc"] >= DONE
            true_saving = STEP * float(again.loc[after, "b0"].sum())
            again.loc[after, "b0"] *= 1 - STEP
        pd.concat([base, again]).to_csv(folder / f"{name}.csv", index=False)
    return folder, true_saving


@pytest.fixture
def b0_store(any_store_url: str, b0_real: Path) -> Store:
    """The real slice in a fresh store, on each engine."""
    return _load(any_store_url, b0_real)


@pytest.fixture
def b0_sqlite(sqlite_url: str, b0_real: Path) -> Store:
    """The real slice on the embedded default only (for what does not depend on the engine)."""
    return _load(sqlite_url, b0_real)


@pytest.fixture
def b0_step_store(any_store_url: str, b0_step) -> tuple[Store, float]:
    folder, true_saving = b0_step
    return _load(any_store_url, folder), true_saving
