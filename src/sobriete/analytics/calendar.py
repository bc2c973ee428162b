"""Occupancy calendars: which instants a building is occupied, and what kind of day each is.

Public holidays and school holidays by zone come from the ``holidays`` package. Its school
calendars do not cover every year (none before 2019 in the versions tested): for such years
the result carries a warning instead of silently treating every school day as a term day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from sobriete.domain.portfolio import OccupancyCalendar


class DayType(StrEnum):
    WORKDAY = "workday"  # any day with opening hours (a gym's Saturday too), not a holiday
    CLOSED_WEEKDAY = "closed_weekday"  # Monday-Friday without opening hours
    WEEKEND = "weekend"  # Saturday or Sunday without opening hours
    PUBLIC_HOLIDAY = "public_holiday"
    SCHOOL_HOLIDAY = "school_holiday"
    CLOSURE = "closure"  # a declared closure period (works, crisis, summer shutdown)


@dataclass(frozen=True)
class CalendarResult:
    day_type: pd.Series  # indexed by local calendar date
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _years(days: pd.DatetimeIndex) -> list[int]:
    return sorted(set(days.year.tolist()))


# Calendars are fixed per (zone, year): cached, since a portfolio asks for the same ones for
# every building.
@lru_cache(maxsize=256)
def _public_year(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("FR", years=year, language="fr"))


@lru_cache(maxsize=256)
def _school_year(zone: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(
        "FR", subdiv=zone, years=year, categories=("school",), language="fr"))


def public_holidays(years: list[int]) -> dict[date, str]:
    out: dict[date, str] = {}
    for y in years:
        out.update(_public_year(y))
    return out


def school_holidays(zone: str, years: list[int]) -> tuple[dict[date, str], list[int]]:
    """School-holiday days of ``zone`` and the years the package has no data for."""
    found: dict[date, str] = {}
    missing = []
    for y in years:
        days = _school_year(zone, y)
        if not days:
            missing.append(y)
        found.update(days)
    return found, missing


def day_types(
    calendar: OccupancyCalendar,
    start: date,
    end: date,
    closures: list[tuple[date, date]] | None = None,
) -> CalendarResult:
    """Day type of every local date in [start, end], closures (inclusive ranges) first."""
    days = pd.date_range(start, end, freq="D")
    iso = days.isocalendar().day.to_numpy()
    open_days = np.array([calendar.weekly.get(int(d)) is not None for d in iso])
    closed = np.where(iso >= 6, DayType.WEEKEND.value, DayType.CLOSED_WEEKDAY.value)
    out = np.where(open_days, DayType.WORKDAY.value, closed).astype(object)
    warnings: list[str] = []
    years = _years(days)
    as_dates = days.date
    if calendar.closed_on_school_holidays:
        school, missing = school_holidays(calendar.school_zone, years)
        if missing:
            warnings.append(
                f"no school-holiday calendar for {calendar.school_zone} in {missing}: "
                "those years are treated as term time"
            )
        is_school = np.fromiter((d in school for d in as_dates), bool, len(days))
        out[is_school] = DayType.SCHOOL_HOLIDAY.value
    if calendar.closed_on_public_holidays:
        pub = public_holidays(years)
        is_pub = np.fromiter((d in pub for d in as_dates), bool, len(days))
        out[is_pub] = DayType.PUBLIC_HOLIDAY.value
    for a, b in closures or []:
        out[(days >= pd.Timestamp(a)) & (days <= pd.Timestamp(b))] = DayType.CLOSURE.value
    series = pd.Series(out, index=pd.Index(as_dates, name="local_date"), name="day_type")
    return CalendarResult(series, tuple(warnings))


@dataclass(frozen=True)
class Occupancy:
    occupied: np.ndarray  # bool per instant
    day_type: np.ndarray  # DayType value of each instant's local date
    warnings: tuple[str, ...]


def occupied(
    calendar: OccupancyCalendar,
    instants_utc: pd.DatetimeIndex,
    closures: list[tuple[date, date]] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """True where the building is occupied at each UTC instant (local opening hours)."""
    occ = occupancy(calendar, instants_utc, closures)
    return occ.occupied, occ.warnings


def occupancy(
    calendar: OccupancyCalendar,
    instants_utc: pd.DatetimeIndex,
    closures: list[tuple[date, date]] | None = None,
) -> Occupancy:
    """Occupation and day type of each UTC instant, in one pass over the calendar."""
    if len(instants_utc) == 0:
        return Occupancy(np.zeros(0, bool), np.zeros(0, object), ())
    local = instants_utc.tz_convert(calendar.timezone)
    local_dates = local.normalize().tz_localize(None)
    types = day_types(calendar, local_dates.min().date(), local_dates.max().date(), closures)
    per_instant = types.day_type.reindex(local_dates.date).to_numpy()
    open_day = per_instant == DayType.WORKDAY.value
    minutes = (local.hour * 60 + local.minute).to_numpy()
    iso = local.isocalendar().day.to_numpy()
    inside = np.zeros(len(local), bool)
    for weekday, spans in calendar.weekly.items():
        on_day = iso == weekday
        for s in spans:
            lo, hi = s.start.hour * 60 + s.start.minute, s.end.hour * 60 + s.end.minute
            inside |= on_day & (minutes >= lo) & (minutes < hi)
    return Occupancy(inside & open_day, per_instant, types.warnings)
