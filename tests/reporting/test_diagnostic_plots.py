"""Diagnostic figures: every plot name draws a small, real PNG from a synthetic hourly frame
(``MeterSeries.frame()``), in French and English, and survives missing weather or data."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from sobriete.analytics.diagnostics.base import MeterSeries
from sobriete.domain.findings import Evidence, Finding, FindingKind
from sobriete.domain.portfolio import ActivityCategory, Building, Meter, MeterKind
from sobriete.reporting.diagnostic_plots import PLOTS, finding_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = "2023-06-01"
DAYS = 400


def meter_frame(with_weather: bool = True) -> pd.DataFrame:
    """A school over 400 days: 20 kW open, 5 kW closed, heating below 15 °C, with the base
    load doubled from 2024-03-01 (the flagged period of the change findings)."""
    idx = pd.date_range(START, periods=24 * DAYS, freq="h", tz="UTC")
    doy = np.asarray(idx.day_of_year)
    temp = 12 - 9 * np.cos(2 * np.pi * (doy - 20) / 365.25)
    meter = Meter(code="PRM-1", kind=MeterKind.ELECTRICITY)
    b = Building(code="B1", name="École", activity=ActivityCategory.SCHOOL, meters=(meter,))
    base = MeterSeries(b, meter, pd.Series(0.0, index=idx))
    occ = base.occupancy.occupied
    kwh = 5 + 15 * occ + 2 * np.maximum(0, 15 - temp) + 5 * (idx >= "2024-03-01")
    kwh = kwh + np.random.default_rng(0).normal(0, 0.5, len(idx))
    kwh[100:130] = np.nan  # a gap
    series = MeterSeries(b, meter, pd.Series(kwh, index=idx),
                         temp_air_c=pd.Series(temp, index=idx) if with_weather else None)
    return series.frame()


def zone_frame() -> pd.DataFrame:
    idx = pd.date_range("2024-01-08", periods=24 * 14 * 4, freq="15min", tz="UTC")
    hour = np.asarray(idx.tz_convert("Europe/Paris").hour)
    occupied = (hour >= 8) & (hour < 18) & (np.asarray(idx.day_of_week) < 5)
    temp = 17 + 4 * occupied + np.random.default_rng(1).normal(0, 0.3, len(idx))
    return pd.DataFrame({"temp_zone_c": temp, "occupied": occupied, "heating_on": (hour < 20) * 0.6,
                         "cooling_on": hour == 14}, index=idx)


def make_finding(plot: str | None, kind: FindingKind = FindingKind.BASE_LOAD_HIGH,
                 start: str = "2024-03-01", end: str = "2024-04-01", **ev) -> Finding:
    a, b = (datetime.fromisoformat(x).replace(tzinfo=UTC) for x in (start, end))
    evidence = Evidence(series_key="PRM-1", quantity="energy_kwh", data_start_utc=a,
                        data_end_utc=b, n_points=744, plot=plot, **ev)
    return Finding(building_code="B1", kind=kind, start_utc=a, end_utc=b, score=0.9,
                   detector="test", detector_version="1", evidence=evidence,
                   message_fr="phrase", message_en="sentence")


# Evidence as the detectors (analytics.diagnostics) write it.
CASES = {
    "weekly_profile": (FindingKind.BASE_LOAD_HIGH,
                       {"values": {"night_power_kw": 26.0, "occupied_power_kw": 41.0},
                        "reference": {"typical_closed_ratio": 0.25, "activity": "school"}}),
    "daily_vs_temperature": (FindingKind.HOLIDAY_USE,
                             {"values": {"actual_kwh": 9000.0, "days": 31},
                              "reference": {"expected_kwh": 4650.0}}),
    "heating_season": (FindingKind.HEATING_SEASON_EARLY,
                       {"parameters": {"season": "10-01/05-20", "season_tolerance_days": 15}}),
    "residual_cusum": (FindingKind.STEP_CHANGE, {}),
    "peak_power": (FindingKind.PEAK_OVER_SUBSCRIBED,
                   {"reference": {"subscribed_power_kva": 36, "limit_kw": 33.5},
                    "parameters": {"power_factor": 0.93}}),
    "zone_temperature": (FindingKind.ZONE_OCCUPIED_ABOVE_19,
                         {"reference": {"limit_c": 19.0, "rule": "R.241-26"},
                          "parameters": {"tolerance_k": 0.5}}),
}
# Other spellings the figures accept (settings' names, no detector limit: the regulation's).
ALTERNATIVES = [
    ("heating_season", {"parameters": {"season_start_mmdd": "10-15",
                                       "season_end_mmdd": "04-30"}}),
    ("peak_power", {"reference": {"subscribed_kva": 36}}),
    ("zone_temperature", {"reference": {"occupied_max_c": 19.0, "unoccupied_max_c": 16.0}}),
    ("zone_temperature", {}),
    ("weekly_profile", {"reference": {"typical_closed_ratio": 0.25, "night_kw": 4.0}}),
]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return meter_frame()


def expected(frame: pd.DataFrame) -> pd.Series:
    """A baseline's daily prediction: the consumption without the step."""
    daily = frame.groupby("local_date")["energy_kwh"].sum()
    return daily - 120 * (daily.index >= "2024-03-01")


def check_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < 150_000
    img = mpimg.imread(io.BytesIO(png))
    assert img.shape[0] > 300 and img.shape[1] > 600


def test_every_plot_name_is_covered() -> None:
    assert set(CASES) == set(PLOTS)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_plot_renders(frame: pd.DataFrame, name: str, lang: str) -> None:
    kind, ev = CASES[name]
    start, end = ("2024-01-15", "2024-01-20") if name == "zone_temperature" else \
        ("2024-03-01", "2024-04-01")
    f = make_finding(name, kind, start, end, **ev)
    data = zone_frame() if name == "zone_temperature" else frame
    check_png(finding_png(f, data, lang=lang, expected_daily_kwh=expected(frame)))


@pytest.mark.parametrize(("name", "ev"), ALTERNATIVES)
def test_alternative_evidence_keys(frame: pd.DataFrame, name: str, ev: dict) -> None:
    zone = name == "zone_temperature"
    f = make_finding(name, CASES[name][0], *(("2024-01-15", "2024-01-20") if zone else ()), **ev)
    check_png(finding_png(f, zone_frame() if zone else frame))


def test_cusum_without_expected_and_daily_without_weather() -> None:
    f = meter_frame(with_weather=False)
    check_png(finding_png(make_finding("residual_cusum", FindingKind.DRIFT), f))
    check_png(finding_png(make_finding("daily_vs_temperature", FindingKind.WEEKEND_USE), f))


def test_peak_power_uses_given_power_and_extra(frame: pd.DataFrame) -> None:
    idx = pd.date_range("2024-03-01", periods=6 * 24 * 31, freq="10min", tz="UTC")
    power = pd.Series(20.0 + 30 * (np.arange(len(idx)) % 144 == 60), index=idx)
    f = make_finding("peak_power", FindingKind.PEAK_OVER_SUBSCRIBED)
    check_png(finding_png(f, frame, extra={"power_kw": power, "subscribed_kw": 36.0}))


def test_no_data_in_the_window_still_gives_a_png(frame: pd.DataFrame) -> None:
    f = make_finding("zone_temperature", FindingKind.ZONE_OCCUPIED_ABOVE_19,
                     "2030-01-01", "2030-01-02")
    check_png(finding_png(f, zone_frame()))
    empty = frame.iloc[:0]
    for name in ("weekly_profile", "daily_vs_temperature", "heating_season", "residual_cusum"):
        check_png(finding_png(make_finding(name), empty))


def test_unknown_or_missing_plot_name_is_a_clear_error(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no figure named 'pie_chart'.*weekly_profile"):
        finding_png(make_finding("pie_chart"), frame)
    with pytest.raises(ValueError, match="no figure named None"):
        finding_png(make_finding(None), frame)
