"""Occupancy calendars: weekly hours, public and school holidays, closures, DST."""

from datetime import date, time

import pandas as pd

from sobriete.analytics.calendar import DayType, day_types, occupied
from sobriete.domain.portfolio import (
    ActivityCategory,
    OccupancyCalendar,
    OpeningHours,
    default_calendar,
)


def test_school_calendar_knows_holidays_and_wednesdays():
    cal = default_calendar(ActivityCategory.SCHOOL)
    res = day_types(cal, date(2024, 1, 1), date(2024, 12, 31))
    dt = res.day_type
    assert dt[date(2024, 7, 14)] == DayType.PUBLIC_HOLIDAY  # a Sunday, but a holiday first
    assert dt[date(2024, 5, 1)] == DayType.PUBLIC_HOLIDAY
    assert dt[date(2024, 8, 12)] == DayType.SCHOOL_HOLIDAY  # summer, zone C
    assert dt[date(2024, 3, 12)] == DayType.WORKDAY  # a Tuesday in term
    assert dt[date(2024, 3, 16)] == DayType.WEEKEND
    # Zone C winter break 2024 ran 10-26 February.
    assert dt[date(2024, 2, 14)] == DayType.SCHOOL_HOLIDAY
    assert res.warnings == ()


def test_years_without_school_data_are_warned_about():
    cal = default_calendar(ActivityCategory.SCHOOL)
    res = day_types(cal, date(2015, 1, 1), date(2015, 12, 31))
    assert any("2015" in w for w in res.warnings)


def test_closures_win_over_everything():
    cal = default_calendar(ActivityCategory.OFFICE)
    res = day_types(cal, date(2020, 3, 1), date(2020, 6, 30),
                    closures=[(date(2020, 3, 17), date(2020, 5, 10))])
    assert (res.day_type[date(2020, 3, 17):date(2020, 5, 10)] == DayType.CLOSURE).all()
    assert res.day_type[date(2020, 5, 12)] == DayType.WORKDAY


def test_occupied_follows_local_hours_across_dst():
    cal = OccupancyCalendar(weekly={d: (OpeningHours(start=time(8), end=time(18)),)
                                    for d in range(1, 6)})
    # Monday 25 March 2024 (CET+1 -> after 31 March CEST+2): 08:00 local = 07:00 / 06:00 UTC.
    winter = pd.DatetimeIndex(["2024-03-25T06:59Z", "2024-03-25T07:00Z"])
    summer = pd.DatetimeIndex(["2024-04-02T05:59Z", "2024-04-02T06:00Z"])
    assert occupied(cal, winter)[0].tolist() == [False, True]
    assert occupied(cal, summer)[0].tolist() == [False, True]
    # Easter Monday 1 April 2024 is a public holiday: never occupied.
    easter = pd.date_range("2024-04-01T00:00Z", periods=24, freq="h")
    assert not occupied(cal, easter)[0].any()


def test_a_gym_is_occupied_on_saturday_but_not_sunday_evening():
    cal = default_calendar(ActivityCategory.GYM)
    res = day_types(cal, date(2024, 3, 9), date(2024, 3, 10))
    assert res.day_type[date(2024, 3, 9)] == DayType.WORKDAY  # Saturday, open 08-22
    sat_evening = pd.DatetimeIndex(["2024-03-09T19:00Z"])  # 20:00 in Paris
    sun_evening = pd.DatetimeIndex(["2024-03-10T19:00Z"])  # closed after 13:00
    assert occupied(cal, sat_evening)[0].tolist() == [True]
    assert occupied(cal, sun_evening)[0].tolist() == [False]
