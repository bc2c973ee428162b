"""The benchmark's world: buildings, calendars, Tempo prices, EcoWatt events, forecasts.

Everything a policy may know is built here, with *when* it becomes known:

- Tempo colours: the real RTE calendar of January 2019 (``/work/shared/data/france``), mapped
  onto the simulated January 2019 (same dates, same weekdays). A Tempo day runs 06:00-06:00;
  peak hours (HP) 06:00-22:00. The colour of day D is published on D-1 around 11:00: before
  that the controller assumes blue. Prices: EDF Tarif Bleu option Tempo, 1 February 2024,
  all taxes included, energy part only (subscription left out); values to confirm.
- Demand-response events (EcoWatt red / a DR call): windows with a cap of 0 kW on heating,
  notified the day before at 17:00.
- Weather forecast of the controller: the true weather of the EPW plus a seeded error issued
  every hour: on temperature an AR(1) error (correlation time 6 h) whose standard deviation
  grows from 0.3 K now to 1.5 K at 24 h (typical day-ahead temperature error), on irradiance a
  multiplicative log-normal error (sigma 0.35). The oracle gets the true weather.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.domain.factors import CO2_KG_PER_KWH
from sobriete.domain.portfolio import (
    ActivityCategory,
    Building,
    OccupancyCalendar,
    OpeningHours,
)

PARIS = "Europe/Paris"
TEMPO_CSV = Path("/work/shared/data/france/tempo_calendar_2014_2023.csv")
# EUR/kWh TTC, EDF Tarif Bleu option Tempo as of 2024-02-01 (HC = 22:00-06:00).
TEMPO_EUR_PER_KWH = {
    "BLEU": {"HC": 0.1296, "HP": 0.1609},
    "BLANC": {"HC": 0.1486, "HP": 0.1894},
    "ROUGE": {"HC": 0.1568, "HP": 0.7562},
}
TEMPO_SOURCE = ("EDF Tarif Bleu option Tempo, prices of 2024-02-01 incl. taxes, energy only, "
                "to confirm against the CRE deliberation "
                "(BLEU 0.1296/0.1609, BLANC 0.1486/0.1894, ROUGE 0.1568/0.7562 EUR/kWh HC/HP)")
CO2 = CO2_KG_PER_KWH["electricity_heating"]
COLOUR_PUBLISHED = time(11)  # D-1, local
EVENT_NOTIFIED = time(17)  # D-1, local


def tempo_colours(year: int, month: int) -> dict[date, str]:
    rows = pd.read_csv(TEMPO_CSV, sep=";", header=None, names=["day", "colour"])
    days = pd.to_datetime(rows["day"], format="%d/%m/%Y").dt.date
    colours = dict(zip(days, rows["colour"].str.strip().str.upper(), strict=True))
    first = date(year, month, 1)
    out = {}
    for k in range(-2, 34):
        d = first + timedelta(days=k)
        out[d] = colours.get(d, "BLEU")
    return out


@dataclass(frozen=True)
class Event:
    start_local: datetime
    end_local: datetime

    @property
    def start_utc(self) -> pd.Timestamp:
        return pd.Timestamp(self.start_local, tz=PARIS).tz_convert("UTC")

    @property
    def end_utc(self) -> pd.Timestamp:
        return pd.Timestamp(self.end_local, tz=PARIS).tz_convert("UTC")

    @property
    def notified_utc(self) -> pd.Timestamp:
        day_before = self.start_local.date() - timedelta(days=1)
        return pd.Timestamp(datetime.combine(day_before, EVENT_NOTIFIED), tz=PARIS).tz_convert(
            "UTC")

    def label(self) -> str:
        return f"{self.start_local:%Y-%m-%d %H:%M}-{self.end_local:%H:%M}"


def _cal(start: time, end: time) -> OccupancyCalendar:
    return OccupancyCalendar(weekly={d: (OpeningHours(start=start, end=end),)
                                     for d in range(1, 6)}, closed_on_public_holidays=True)


@dataclass(frozen=True)
class BuildingSpec:
    code: str
    prototype: str  # IDF file name in pyenergyplus/data/model
    building: Building  # sobriete's view: the comfort calendar
    groups: dict[str, str]  # group -> regex on zone names (first match wins); {} = per zone
    note: str


# Comfort hours = the prototype's own occupied-setpoint hours after its pre-heat: the rule
# and the controller must keep 19 °C over the same hours.
OFFICE = BuildingSpec(
    code="BUREAUX", prototype="ASHRAE901_OfficeSmall_STD2019_Denver.idf",
    building=Building(code="BUREAUX", name="Small office (DOE/ASHRAE prototype)",
                      activity=ActivityCategory.OFFICE, calendar=_cal(time(7), time(19))),
    groups={}, note="5 thermostatted zones, one RC model and one plan per zone")
SCHOOL = BuildingSpec(
    code="ECOLE", prototype="ASHRAE901_SchoolPrimary_STD2019_Denver.idf",
    building=Building(code="ECOLE", name="Primary school (DOE/ASHRAE prototype)",
                      activity=ActivityCategory.SCHOOL, calendar=_cal(time(8), time(21))),
    groups={"classrooms": "Class", "gym": "Gym", "kitchen_cafeteria": "Kitchen|Cafeteria",
            "offices_library": "Offices|Library", "circulation": "."},
    note="25 thermostatted zones aggregated into 5 groups (one RC model and one plan per "
         "group, floor-area-weighted temperature, summed power); every zone keeps its own "
         "thermostat and is scored on its own")


class Prices:
    """Tempo prices and event caps, as known at a given time (or perfectly)."""

    def __init__(self, colours: dict[date, str], events: list[Event]) -> None:
        self.colours, self.events = colours, events

    @staticmethod
    def tempo_day(local: pd.DatetimeIndex) -> np.ndarray:
        return (local - pd.Timedelta(hours=6)).date

    def frame(self, index: pd.DatetimeIndex, known_at: pd.Timestamp | None = None
              ) -> pd.DataFrame:
        """Price frame on ``index`` as known at ``known_at`` (None: everything known)."""
        local = index.tz_convert(PARIS)
        days = self.tempo_day(local)
        hp = (local.hour >= 6) & (local.hour < 22)
        colours = []
        for d in days:
            c = self.colours.get(d, "BLEU")
            if known_at is not None:
                published = pd.Timestamp(datetime.combine(d - timedelta(days=1),
                                                          COLOUR_PUBLISHED), tz=PARIS)
                if known_at < published:
                    c = "BLEU"
            colours.append(c)
        price = np.array([TEMPO_EUR_PER_KWH[c]["HP" if h else "HC"]
                          for c, h in zip(colours, hp, strict=True)])
        label = np.where((np.array(colours) == "ROUGE") & hp, "jour rouge Tempo", "")
        cap = np.full(len(index), np.nan)
        for e in self.events:
            if known_at is None or known_at >= e.notified_utc:
                cap[(index >= e.start_utc) & (index < e.end_utc)] = 0.0
        return pd.DataFrame({"price_eur_per_kwh": price, "co2_kg_per_kwh": CO2.value,
                             "max_power_w": cap, "tariff_label": label}, index=index)


class Forecaster:
    """The weather a policy plans with: true (oracle) or true + seeded hourly-issued error."""

    def __init__(self, weather: pd.DataFrame, *, noisy: bool, seed: int) -> None:
        self.weather, self.noisy, self.seed = weather, noisy, seed
        self._cache: dict[pd.Timestamp, pd.DataFrame] = {}

    def __call__(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        true = self.weather.reindex(index)
        if true.isna().any().any():
            true = true.interpolate(limit_direction="both")
        if not self.noisy:
            return true[["temp_out_c", "solar_w_m2"]]
        issued = index[0].floor("1h")
        if issued not in self._cache:
            n = 4 * 30
            rng = np.random.default_rng([self.seed, int(issued.timestamp() // 3600)])
            phi = np.exp(-0.25 / 6.0)
            z = np.empty(n)
            z[0] = rng.standard_normal()
            for k in range(1, n):
                z[k] = phi * z[k - 1] + np.sqrt(1 - phi**2) * rng.standard_normal()
            lead_h = np.arange(n) * 0.25
            sd = 0.3 + 1.2 * np.minimum(lead_h, 24.0) / 24.0
            s = np.empty(n)
            s[0] = rng.standard_normal()
            for k in range(1, n):
                s[k] = phi * s[k - 1] + np.sqrt(1 - phi**2) * rng.standard_normal()
            grid = pd.date_range(issued, periods=n, freq="15min")
            self._cache = {issued: pd.DataFrame({"dt": sd * z, "fs": np.exp(0.35 * s - 0.06)},
                                                index=grid)}
        err = self._cache[issued].reindex(index).ffill()
        return pd.DataFrame({"temp_out_c": true["temp_out_c"] + err["dt"].to_numpy(),
                             "solar_w_m2": true["solar_w_m2"] * err["fs"].to_numpy()},
                            index=index)
