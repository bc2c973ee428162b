"""The Cambridge meter-years the diagnostics benchmark runs on, with an assumed calendar.

A *meter-year* is one meter (building b0, b4 or b8; electricity or gas) and one analysed
calendar year (local time, Europe/London); the previous calendar year is the reference history
given to the detectors (``MeterSeries.analysis_start`` = local 1 January of the analysed year).

Assumptions, stated because the archive gives no use type nor opening hours:
- calendar: weekdays 08:00-19:00 local, weekends closed (``OccupancyCalendar``, the product's
  default for offices); French public holidays are switched off (the buildings are English);
- declared closures (``MeterSeries.closures``): every English bank holiday, Easter from Good
  Friday to Easter Monday, and the Christmas closure 24 December - 1 January, as the load of
  the electricity meters shows it (checked on b4: those days sit at the weekend level);
- electricity zeros are missing readings (NaN): the publisher wrote 0 for missing values and
  these buildings never draw zero; gas zeros are kept (a boiler is often off).
- level change: a meter-year whose annual total is below half or above twice its reference
  year's (b0 gas 2018 and 2019: the gas supply was reorganised) gets no injected fault; its
  clean run is still scored and shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cached_property, lru_cache

import holidays
import numpy as np
import pandas as pd

from benchmarks.peers.load_data import UK_TZ, load_cambridge
from sobriete.analytics.calendar import DayType, occupancy
from sobriete.domain.portfolio import (
    ActivityCategory,
    Building,
    Meter,
    MeterKind,
    OccupancyCalendar,
    OpeningHours,
)

TZ = UK_TZ
BUILDINGS = ("b0", "b4", "b8")
FUELS = ("electricity", "gas")
ANALYSIS_YEARS = (2016, 2017, 2018, 2019)
COVID_YEAR = 2020
GIA_M2 = {"b0": 3296.5, "b4": 2744.5, "b8": 2315.0}  # buildings.csv


def calendar() -> OccupancyCalendar:
    span = (OpeningHours(start=time(8), end=time(19)),)
    return OccupancyCalendar(weekly={d: span for d in range(1, 6)},
                             closed_on_public_holidays=False, timezone=TZ)


def building(code: str) -> Building:
    return Building(
        code=code, name=f"Cambridge {code}", activity=ActivityCategory.UNIVERSITY,
        floor_area_m2=GIA_M2[code], calendar=calendar(),
        meters=tuple(Meter(code=f"{code}-{f}", kind=MeterKind(f), step_s=3600) for f in FUELS),
    )


@lru_cache(maxsize=16)
def closures(first_year: int, last_year: int) -> tuple[tuple[date, date], ...]:
    """Declared closures (inclusive local dates), merged where they touch."""
    spans: list[tuple[date, date]] = []
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    for d, name in bank.items():
        spans.append((d, d))
        if name == "Good Friday":
            spans.append((d, d + timedelta(days=3)))
    for y in range(first_year - 1, last_year + 1):
        spans.append((date(y, 12, 24), date(y + 1, 1, 1)))
    spans.sort()
    merged: list[list[date]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple((a, b) for a, b in merged)


def local_midnight(d: date | str) -> pd.Timestamp:
    return pd.Timestamp(pd.Timestamp(d).date()).tz_localize(TZ).tz_convert("UTC")


@dataclass
class MeterYear:
    """One meter, one analysed year, the previous year as reference."""

    building_code: str
    fuel: str
    year: int
    energy_kwh: pd.Series  # reference year + analysed year, UTC hourly, NaN = missing
    temp_air_c: pd.Series  # same index
    level_change: float  # analysed annual total / reference annual total

    @property
    def key(self) -> str:
        return f"{self.building_code}-{self.fuel}-{self.year}"

    @property
    def analysis_start(self) -> pd.Timestamp:
        return local_midnight(date(self.year, 1, 1))

    @property
    def analysis_end(self) -> pd.Timestamp:
        return local_midnight(date(self.year + 1, 1, 1))

    @property
    def building(self) -> Building:
        return building(self.building_code)

    @property
    def meter(self) -> Meter:
        return next(m for m in self.building.meters if m.kind.value == self.fuel)

    @property
    def closures(self) -> tuple[tuple[date, date], ...]:
        return closures(self.year - 1, self.year)

    @property
    def injectable(self) -> bool:
        return 0.5 <= self.level_change <= 2.0

    @cached_property
    def context(self) -> Context:
        return Context.build(self.energy_kwh, self.temp_air_c, self.analysis_start,
                             self.analysis_end, self.closures)

    def series(self, energy_kwh: pd.Series | None = None):
        """The product's ``MeterSeries`` (imported here, so ``faults`` stays product-light)."""
        from sobriete.analytics.diagnostics import MeterSeries

        return MeterSeries(building=self.building, meter=self.meter,
                           energy_kwh=self.energy_kwh if energy_kwh is None else energy_kwh,
                           temp_air_c=self.temp_air_c, analysis_start=self.analysis_start,
                           closures=self.closures)


@dataclass(frozen=True)
class Context:
    """Hourly facts the fault injections need, on the meter-year's index."""

    energy: pd.Series
    temp: pd.Series
    start: pd.Timestamp  # analysed window [start, end), UTC
    end: pd.Timestamp
    local_date: np.ndarray  # datetime64[D] local date of each hour
    local_hour: np.ndarray
    day_type: np.ndarray  # DayType value of each hour's local date
    occupied: np.ndarray  # bool, the calendar's opening hours
    daily_temp: pd.Series  # mean outdoor °C per local date

    @classmethod
    def build(cls, energy: pd.Series, temp: pd.Series, start: pd.Timestamp, end: pd.Timestamp,
              closures_: tuple[tuple[date, date], ...]) -> Context:
        idx = energy.index
        local = idx.tz_convert(TZ)
        occ = occupancy(calendar(), idx, list(closures_))
        ld = local.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
        t = temp.reindex(idx)
        daily = t.groupby(ld).mean()
        return cls(energy=energy, temp=t, start=start, end=end, local_date=ld,
                   local_hour=np.asarray(local.hour), day_type=np.asarray(occ.day_type),
                   occupied=np.asarray(occ.occupied), daily_temp=daily)

    @property
    def analysed(self) -> np.ndarray:
        idx = self.energy.index
        return np.asarray((idx >= self.start) & (idx < self.end))

    def is_type(self, t: DayType) -> np.ndarray:
        return self.day_type == t.value


@lru_cache(maxsize=1)
def _meters() -> dict[str, pd.Series]:
    out = {}
    temp = None
    for m in load_cambridge():
        s = m.consumption_kwh.astype(float)
        if m.fuel == "electricity":
            s = s.where(s != 0)
        out[m.name.removeprefix("cambridge-")] = s
        temp = m.temperature_c
    out["temp"] = temp
    return out


def meter_year(building_code: str, fuel: str, year: int) -> MeterYear:
    data = _meters()
    s = data[f"{building_code}-{fuel}"]
    lo, mid, hi = (local_midnight(date(y, 1, 1)) for y in (year - 1, year, year + 1))
    e = s[(s.index >= lo) & (s.index < hi)]
    temp = data["temp"].reindex(e.index).interpolate(limit=6)
    ref_total = float(e[e.index < mid].sum())
    ana_total = float(e[e.index >= mid].sum())
    ratio = ana_total / ref_total if ref_total > 0 else float("inf")
    return MeterYear(building_code, fuel, year, e.rename("energy_kwh"),
                     temp.rename("temp_air_c"), ratio)


def meter_years(years: tuple[int, ...] = ANALYSIS_YEARS,
                buildings: tuple[str, ...] = BUILDINGS,
                fuels: tuple[str, ...] = FUELS) -> list[MeterYear]:
    return [meter_year(b, f, y) for y in years for b in buildings for f in fuels]
