"""A simulated school written to the store through the normal import path: the bench of
`sobriete plan` and `sobriete control run` (tests, documentation example).

The RC simulator (``control.simulator``, the true model of ``services.control_simulate``) runs the
school under its own schedule (19 °C 07:00-18:00 on weekdays, 16 °C otherwise) over synthetic
winter weather; the zone temperature (15 min, 0.05 K sensor noise), the heating energy of its
electric heating (kWh per 15 min) and the weather (hourly temperature and irradiance) are
written as CSV files and imported with ``services.imports.import_file`` like any commune's
files, with a registry line declaring the building, its zone, sensor, meter and weather
station, and optionally Tempo colours. Everything is labelled *simulated*.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.control.simulator import RCSimulator, SimZone, run_schedule, synthetic_weather
from sobriete.services.control_simulate import INTERNAL_GAIN_W, MAX_W, TRUE_MODEL, school_schedule
from sobriete.services.imports import import_file
from sobriete.services.store import Store

BUILDING, ZONE = "ECOLE-SIM", "Z1"
SENSOR, METER, STATION = "ECOLE-SIM-T1", "ECOLE-SIM-CHAUF", "meteo-sim"
SIM_PORTFOLIO = ("SIM", "Bâtiments simulés")


def registry(portfolio: tuple[str, str] = SIM_PORTFOLIO) -> str:
    """The registry lines of the simulated school, in ``portfolio`` (code, name): the store
    holds one estate, so a store that has one already needs its code."""
    head = (f"{portfolio[0]};{portfolio[1]};SIM-T;Territoire simulé;99999;Commune simulée;"
            f"SIM-S;Site simulé;{BUILDING};École simulée (modèle RC);office;electric_resistance;")
    return ("portfolio_code;portfolio_name;territory_code;territory_name;commune_insee;"
            "commune_name;site_code;site_name;building_code;building_name;activity;"
            "heating_system;meter_code;meter_kind;meter_step_min;zone_code;sensor_code;"
            "sensor_kind;weather_station\n"
            f"{head}{METER};electricity;15;;;;{STATION}\n"
            f"{head};;;{ZONE};{SENSOR};temperature;{STATION}\n")


def write_files(folder: Path, start_utc: pd.Timestamp, days: int, *,
                weather_days: int | None = None, seed: int = 3,
                tempo: dict[date, str] | None = None,
                portfolio: tuple[str, str] = SIM_PORTFOLIO) -> dict[str, Path]:
    """Simulate ``days`` days from ``start_utc`` and write the files; the weather file runs
    ``weather_days`` days (default ``days``: no future weather stored)."""
    folder.mkdir(parents=True, exist_ok=True)
    wdays = max(weather_days or days, days)
    weather = synthetic_weather(start_utc, wdays + 1, seed=seed)
    sim = RCSimulator(BUILDING, [SimZone(ZONE, TRUE_MODEL, MAX_W, INTERNAL_GAIN_W,
                                         initial_temp_c=17.0)],
                      weather, start_utc=start_utc.to_pydatetime(), noise_std_c=0.05, seed=1)
    hist = run_schedule(sim, days * 96, school_schedule)
    t = hist.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    paths = {"registry": folder / "registry.csv", "temp": folder / "zone_temp.csv",
             "heat": folder / "heating_kwh.csv", "weather": folder / "weather.csv"}
    paths["registry"].write_text(registry(portfolio), encoding="utf-8")
    pd.DataFrame({"timestamp_utc": t, SENSOR: hist[f"{ZONE}:temp_zone_c"].round(3)}).to_csv(
        paths["temp"], index=False)
    kwh = hist[f"{ZONE}:heating_power_w"].to_numpy() / 1000 * 0.25
    pd.DataFrame({"timestamp_utc": t, METER: np.round(kwh, 4)}).to_csv(paths["heat"], index=False)
    w = weather[weather.index <= start_utc + pd.Timedelta(days=wdays)]
    pd.DataFrame({"timestamp_utc": w.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "temp_air_c": w["temp_out_c"].round(2),
                  "ghi_w_m2": w["solar_w_m2"].round(1)}).to_csv(paths["weather"], index=False)
    if tempo:
        paths["tempo"] = folder / "tempo.csv"
        paths["tempo"].write_text("".join(f"{d:%d/%m/%Y};{c}\n" for d, c in sorted(tempo.items())),
                                  encoding="utf-8")
    return paths


def import_files(store: Store, paths: dict[str, Path]) -> None:
    """Import the files as a commune would (``sobriete import ...``)."""
    import_file(store, paths["registry"], "registry")
    import_file(store, paths["temp"], "meter-csv", layout="wide", quantity="temp_zone_c",
                timezone="UTC")
    import_file(store, paths["heat"], "meter-csv", layout="wide", timezone="UTC",
                timestamps="start")
    import_file(store, paths["weather"], "weather-csv", station=STATION)
    if "tempo" in paths:
        import_file(store, paths["tempo"], "tempo")
