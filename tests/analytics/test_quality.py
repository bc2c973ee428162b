"""Each detector fires on its injected fault, at the exact period, and not on clean data.

Synthetic series: a realistic week, season and noise, built on local (Europe/Paris) time and
stamped in UTC, the way a correct importer delivers them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sobriete.analytics.quality import (
    CHECK_VERSIONS,
    IssueKind,
    QualityReport,
    QualitySettings,
    Severity,
    check_many,
    check_series,
    completeness,
)

TZ = "Europe/Paris"


def load_kwh(local: pd.DatetimeIndex, seed: int = 0, step_h: float = 1.0) -> np.ndarray:
    """A town-hall-like load: base + occupied hours on weekdays (with ramps), a bit on
    Saturday morning, winter heating, multiplicative noise. Per interval, in kWh."""
    rng = np.random.default_rng(seed)
    h = local.hour + local.minute / 60
    dow = local.day_of_week
    doy = local.day_of_year
    occ = np.clip(np.minimum(h - 7, 18.5 - h), 0, 1)  # one-hour ramps at 07-08 and 17:30-18:30
    week = np.where(dow < 5, 1.0, np.where(dow == 5, 0.3 * (h < 12), 0.0))
    season = 1 + 0.4 * np.cos(2 * np.pi * (doy - 15) / 365)
    kw = (8 + 22 * occ * week) * season
    noise = rng.lognormal(0, 0.06, len(local))
    return np.round(kw * noise * step_h, 1)


def frame(
    start: str = "2023-01-02",
    days: int = 365,
    step_s: int = 3600,
    key: str = "prm-1",
    quantity: str = "energy_kwh",
    seed: int = 0,
    values: np.ndarray | None = None,
) -> pd.DataFrame:
    """A long reading frame of one correctly stamped (UTC) series."""
    t0 = pd.Timestamp(start, tz=TZ).tz_convert("UTC")
    n = int(days * 86400 // step_s)
    utc = pd.date_range(t0, periods=n, freq=f"{step_s}s")
    if values is None:
        values = load_kwh(utc.tz_convert(TZ), seed=seed, step_h=step_s / 3600)
    return pd.DataFrame({
        "series_key": key, "quantity": quantity, "start_utc": utc,
        "duration_s": step_s if quantity in ("energy_kwh", "power_w", "volume_m3") else 0,
        "value": values,
    })


def temperature(days: int = 365, seed: int = 1, start: str = "2023-01-02") -> pd.DataFrame:
    """Outdoor temperature: season, day cycle, weather noise (AR(1)), samples every hour."""
    f = frame(start=start, days=days, quantity="temp_air_c", values=np.zeros(days * 24))
    local = f["start_utc"].dt.tz_convert(TZ)
    rng = np.random.default_rng(seed)
    ar = np.zeros(len(f))
    eps = rng.normal(0, 0.4, len(f))
    for i in range(1, len(f)):
        ar[i] = 0.97 * ar[i - 1] + eps[i]
    doy, h = local.dt.day_of_year.to_numpy(), local.dt.hour.to_numpy()
    f["value"] = np.round(
        12 - 8 * np.cos(2 * np.pi * (doy - 15) / 365) + 4 * np.sin(2 * np.pi * (h - 9) / 24)
        + ar, 1)
    return f


def at(local: str) -> pd.Timestamp:
    """A Europe/Paris wall-clock time as a UTC timestamp."""
    return pd.Timestamp(local, tz=TZ).tz_convert("UTC")


def set_values(f: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, value) -> pd.DataFrame:
    g = f.copy()
    m = (g["start_utc"] >= start) & (g["start_utc"] < end)
    g.loc[m, "value"] = value
    return g


def kinds(report: QualityReport) -> list[str]:
    return sorted(i.kind.value for i in report.issues)


def only(report: QualityReport, kind: IssueKind):
    found = report.of_kind(kind)
    assert len(found) == 1, [(i.kind.value, i.start_utc, i.message_en) for i in report.issues]
    return found[0]


# -- clean data: no false alarm ------------------------------------------------------------

@pytest.mark.parametrize("step_s", [3600, 1800])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_meter_raises_no_issue(step_s: int, seed: int) -> None:
    r = check_series(frame(step_s=step_s, seed=seed), timezone=TZ)
    assert r.issues == [], [i.message_en for i in r.issues]
    assert r.completeness_daily["completeness"].eq(1).all()


def test_clean_temperature_raises_no_issue() -> None:
    r = check_series(temperature(), timezone=TZ)
    assert r.issues == [], [i.message_en for i in r.issues]


def test_meter_with_plausible_night_and_weekend_zeros_is_not_flagged() -> None:
    # A building whose meter really reads 0 when closed: nights and Sundays.
    f = frame()
    local = f["start_utc"].dt.tz_convert(TZ)
    closed = (local.dt.hour < 6) | (local.dt.hour >= 21) | (local.dt.day_of_week == 6)
    f.loc[closed, "value"] = 0.0
    r = check_series(f, timezone=TZ)
    assert r.of_kind(IssueKind.SUSPICIOUS_ZERO) == []
    assert r.of_kind(IssueKind.FLAT_LINE) == []


# -- gaps, duplicates, off-grid -------------------------------------------------------------

def test_gap_is_one_issue_with_exact_period_and_french_wording() -> None:
    f = frame()
    s, e = at("2023-03-02"), at("2023-03-05")
    r = check_series(f[(f.start_utc < s) | (f.start_utc >= e)], timezone=TZ)
    g = only(r, IssueKind.GAP)
    assert (g.start_utc, g.end_utc, g.n_points) == (s, e, 72)
    assert g.message_fr.startswith("Trou de données de 3 jours du 02/03/2023 au 05/03/2023")
    assert g.severity is Severity.ERROR and g.evidence["missing_steps"] == 72


def test_rows_without_value_count_as_gap() -> None:
    f = set_values(frame(), at("2023-06-01 10:00"), at("2023-06-01 12:00"), np.nan)
    g = only(check_series(f, timezone=TZ), IssueKind.GAP)
    assert (g.start_utc, g.end_utc, g.evidence["rows_without_value"]) == (
        at("2023-06-01 10:00"), at("2023-06-01 12:00"), 2)
    assert g.severity is Severity.WARNING


def test_duplicates_conflicting_and_identical() -> None:
    f = frame()
    s = at("2023-05-10 09:00")
    block = f[(f.start_utc >= s) & (f.start_utc < s + pd.Timedelta(hours=3))].copy()
    block["value"] += 5.0
    same = f[f.start_utc == at("2023-08-01 12:00")]
    r = check_series(pd.concat([f, block, same]), timezone=TZ)
    d = sorted(r.of_kind(IssueKind.DUPLICATE), key=lambda i: i.start_utc)
    assert len(d) == 2
    assert (d[0].start_utc, d[0].n_points, d[0].evidence["conflicting"]) == (s, 3, 3)
    assert d[0].evidence["max_difference"] == pytest.approx(5.0)
    assert d[0].severity is Severity.WARNING
    assert (d[1].start_utc, d[1].evidence["conflicting"], d[1].severity) == (
        at("2023-08-01 12:00"), 0, Severity.INFO)
    assert r.of_kind(IssueKind.GAP) == []


def test_off_grid_rows_are_reported_and_set_aside() -> None:
    f = frame(days=30)
    stray = f.iloc[[100]].assign(start_utc=f.start_utc.iloc[100] + pd.Timedelta(minutes=7))
    r = check_series(pd.concat([f, stray]), timezone=TZ)
    o = only(r, IssueKind.OFF_GRID)
    assert o.n_points == 1 and r.series["step_s"].iloc[0] == 3600
    assert o.start_utc == stray.start_utc.iloc[0]


# -- ranges and flat lines ------------------------------------------------------------------

def test_negative_and_impossible_values() -> None:
    f = set_values(frame(), at("2023-04-04 10:00"), at("2023-04-04 12:00"), -3.0)
    n = only(check_series(f, timezone=TZ), IssueKind.NEGATIVE)
    assert (n.start_utc, n.end_utc, n.evidence["worst_value"]) == (
        at("2023-04-04 10:00"), at("2023-04-04 12:00"), -3.0)
    t = set_values(temperature(), at("2023-07-01 15:00"), at("2023-07-01 16:00"), 85.0)
    i = only(check_series(t, timezone=TZ), IssueKind.IMPOSSIBLE)
    assert (i.start_utc, i.evidence["limit"]) == (at("2023-07-01 15:00"), 60.0)


def test_flat_line_exact_period() -> None:
    s, e = at("2023-10-09 05:00"), at("2023-10-10 17:00")
    f = set_values(frame(), s, e, 17.3)
    fl = only(check_series(f, timezone=TZ), IssueKind.FLAT_LINE)
    assert (fl.start_utc, fl.end_utc, fl.evidence["value"]) == (s, e, 17.3)


def test_flat_line_below_threshold_is_not_reported() -> None:
    f = set_values(frame(), at("2023-10-09 05:00"), at("2023-10-10 04:00"), 17.3)  # 23 h
    assert check_series(f, timezone=TZ).of_kind(IssueKind.FLAT_LINE) == []


def test_temperature_stuck_at_zero_is_a_flat_line_not_a_zero() -> None:
    s, e = at("2023-02-01"), at("2023-02-03")
    r = check_series(set_values(temperature(), s, e, 0.0), timezone=TZ)
    fl = only(r, IssueKind.FLAT_LINE)
    assert (fl.start_utc, fl.end_utc) == (s, e)
    assert r.of_kind(IssueKind.SUSPICIOUS_ZERO) == []


# -- suspicious zeros -------------------------------------------------------------------------

def test_zero_run_in_working_hours_is_suspicious_with_exact_period() -> None:
    s, e = at("2023-11-14 00:00"), at("2023-11-16 00:00")
    r = check_series(set_values(frame(), s, e, 0.0), timezone=TZ)
    z = only(r, IssueKind.SUSPICIOUS_ZERO)
    assert (z.start_utc, z.end_utc, z.severity) == (s, e, Severity.ERROR)
    assert z.evidence["whole_days"] == 1 and z.evidence["abrupt_edges"] == 1
    assert z.message_fr.startswith("Zéros suspects pendant 2 jours du 14/11/2023 au 16/11/2023")
    day = r.completeness_daily.set_index("period_start")["completeness"]
    assert day[pd.Timestamp("2023-11-14", tz=TZ)] == 0.0
    assert day[pd.Timestamp("2023-11-13", tz=TZ)] == 1.0


def test_single_zero_between_normal_readings_is_suspicious() -> None:
    s = at("2023-03-15 11:00")
    z = only(check_series(set_values(frame(), s, s + pd.Timedelta(hours=1), 0.0), timezone=TZ),
             IssueKind.SUSPICIOUS_ZERO)
    assert (z.start_utc, z.n_points) == (s, 1)


def test_short_zeros_in_often_zero_series_are_not_flagged_but_long_ones_are() -> None:
    # Gas-like: zero every night and all summer; a zero winter afternoon is a boiler cycle.
    f = frame()
    local = f["start_utc"].dt.tz_convert(TZ)
    off = (local.dt.hour < 5) | local.dt.month.between(5, 9)
    f.loc[off, "value"] = 0.0
    f = set_values(f, at("2023-01-17 14:00"), at("2023-01-17 16:00"), 0.0)
    assert check_series(f, timezone=TZ).of_kind(IssueKind.SUSPICIOUS_ZERO) == []
    s, e = at("2023-02-07 05:00"), at("2023-02-09 05:00")
    z = only(check_series(set_values(f, s, e, 0.0), timezone=TZ), IssueKind.SUSPICIOUS_ZERO)
    # The injected run ends at 05:00, but 00:00-05:00 is zero every night: that tail is
    # indistinguishable from normal, so the finding stops at midnight.
    assert (z.start_utc, z.end_utc) == (s, at("2023-02-09 00:00"))


# -- spikes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("when", ["2023-06-13 03:00", "2023-09-20 11:00"])
def test_spike_exact_slot(when: str) -> None:
    f = frame()
    s = at(when)
    v = f.loc[f.start_utc == s, "value"].iloc[0]
    r = check_series(set_values(f, s, s + pd.Timedelta(hours=1), v + 60), timezone=TZ)
    sp = only(r, IssueKind.SPIKE)
    assert (sp.start_utc, sp.end_utc) == (s, s + pd.Timedelta(hours=1))
    assert sp.evidence["peak"] == pytest.approx(v + 60)


def test_level_change_is_not_a_spike() -> None:
    f = frame()
    m = f.start_utc >= at("2023-06-01")
    f.loc[m, "value"] = f.loc[m, "value"] * 2
    assert check_series(f, timezone=TZ).of_kind(IssueKind.SPIKE) == []


# -- DST and clock shifts -----------------------------------------------------------------------

def test_local_time_imported_as_utc_is_detected() -> None:
    f = frame(start="2022-01-03", days=730)
    local_naive = f["start_utc"].dt.tz_convert(TZ).dt.tz_localize(None)
    bad = f.assign(start_utc=local_naive.dt.tz_localize("UTC")).drop_duplicates("start_utc")
    r = check_series(bad, timezone=TZ)
    d = [i for i in r.of_kind(IssueKind.DST_ANOMALY) if "dst_changes_tested" in i.evidence]
    assert len(d) == 1
    assert d[0].evidence["dst_changes_shifted"] == d[0].evidence["dst_changes_tested"] == 4
    assert check_series(f, timezone=TZ).of_kind(IssueKind.DST_ANOMALY) == []


def test_missing_hour_on_spring_dst_day() -> None:
    f = frame(start="2023-01-02", days=120)
    hole = pd.Timestamp("2023-03-26 02:00", tz="UTC")  # local 02:00 read as UTC
    r = check_series(f[f.start_utc != hole], timezone=TZ)
    d = only(r, IssueKind.DST_ANOMALY)
    assert (d.start_utc, d.end_utc, d.evidence["missing"]) == (
        hole, hole + pd.Timedelta(hours=1), 1)
    assert only(r, IssueKind.GAP).start_utc == hole


def test_hour_counted_twice_on_autumn_dst_day() -> None:
    f = frame(start="2023-09-04", days=90)
    t = pd.Timestamp("2023-10-29 01:00", tz="UTC")
    v = f.loc[f.start_utc == t, "value"].iloc[0]
    d = only(check_series(set_values(f, t, t + pd.Timedelta(hours=1), 2 * v), timezone=TZ),
             IssueKind.DST_ANOMALY)
    assert (d.start_utc, d.evidence["counted_twice"]) == (t, 1)


@pytest.mark.parametrize("lag_h", [3, -2])
def test_clock_shift_exact_start_and_lag(lag_h: int) -> None:
    f = frame()
    t = at("2023-06-14 08:00") if lag_h > 0 else at("2023-06-14 07:00")
    shifted = f["value"].shift(lag_h).to_numpy()
    m = (f.start_utc >= t).to_numpy()
    f.loc[m, "value"] = shifted[m]
    c = only(check_series(f, timezone=TZ), IssueKind.CLOCK_SHIFT)
    assert (c.start_utc, c.evidence["lag_h"]) == (t, lag_h)
    assert c.end_utc == f.start_utc.iloc[-1] + pd.Timedelta(hours=1)


# -- completeness, report, settings --------------------------------------------------------------

def test_completeness_daily_monthly_and_dst_day_lengths() -> None:
    f = frame(start="2023-03-01", days=61)
    f = f[~f.start_utc.between(at("2023-03-10 00:00"), at("2023-03-10 11:00"))]  # 12 h
    d = completeness(f, "D", timezone=TZ).set_index("period_start")
    assert d.loc[pd.Timestamp("2023-03-10", tz=TZ), "completeness"] == 0.5
    assert d.loc[pd.Timestamp("2023-03-26", tz=TZ), "n_expected"] == 23
    m = completeness(f, "MS", timezone=TZ).set_index("period_start")
    assert m.loc[pd.Timestamp("2023-03-01", tz=TZ), "n_valid"] == 31 * 24 - 1 - 12
    assert m.loc[pd.Timestamp("2023-04-01", tz=TZ), "completeness"] == 1.0
    with pytest.raises(ValueError):
        completeness(f, "W")


def test_check_many_report_frame_summary_and_versions() -> None:
    a = set_values(frame(key="a", days=60), at("2023-01-10"), at("2023-01-11"), np.nan)
    b = frame(key="b", days=60, seed=3)
    t = temperature(days=60).assign(series_key="a")
    r = check_many(pd.concat([a, b, t]), timezone=TZ)
    assert list(r.series["series_key"]) == ["a", "a", "b"]
    assert set(r.series["quantity"]) == {"energy_kwh", "temp_air_c"}
    df = r.to_frame()
    assert list(df["kind"]) == ["gap"] and df["quantity"].iloc[0] == "energy_kwh"
    assert df["start_utc"].dt.tz is not None
    assert r.summary["kind.gap"] == 1 and r.summary["total"] == 1 and r.summary["series"] == 3
    assert r.check_versions == CHECK_VERSIONS and r.issues[0].check_version == "1"
    assert set(r.completeness_monthly["series_key"]) == {"a", "b"}
    assert r.to_dict()["settings"]["spike_z"] == r.settings.spike_z
    with pytest.raises(ValueError, match="check_many"):
        check_series(pd.concat([a, b]))


def test_settings_are_frozen_bounded_and_documented_with_units() -> None:
    s = QualitySettings()
    with pytest.raises(ValidationError):
        s.spike_z = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        QualitySettings(zero_usual_rate_max=1.5)
    with pytest.raises(ValidationError):
        QualitySettings(unknown_threshold=1)
    for name, field in QualitySettings.model_fields.items():
        assert field.description and field.description.startswith("["), name


def test_every_detector_can_fire() -> None:
    # One frame of faults makes every IssueKind appear: a detector that cannot fire is a defect.
    seen: set[str] = set()
    f = frame(start="2022-01-03", days=730)
    f = f[f.start_utc != pd.Timestamp("2022-03-27 02:00", tz="UTC")]
    f = set_values(f, at("2022-05-03 10:00"), at("2022-05-03 11:00"), -1.0)
    f = set_values(f, at("2022-05-10 00:00"), at("2022-05-12 00:00"), 0.0)
    f = set_values(f, at("2022-06-01 00:00"), at("2022-06-02 12:00"), 12.3)
    f = set_values(f, at("2022-09-07 03:00"), at("2022-09-07 04:00"), 99.0)
    f = pd.concat([f, f.iloc[[5000]].assign(value=1.0),
                   f.iloc[[6000]].assign(start_utc=f.start_utc.iloc[6000] + pd.Timedelta("7min"))])
    m = (f.start_utc >= at("2023-06-14 08:00")).to_numpy()
    f.loc[m, "value"] = f["value"].shift(3).to_numpy()[m]
    seen |= set(kinds(check_series(f, timezone=TZ)))
    seen |= set(kinds(check_series(
        set_values(temperature(), at("2023-07-01 15:00"), at("2023-07-01 16:00"), 85.0))))
    seen |= set(kinds(check_series(frame(start="2022-01-03", days=730).assign(
        start_utc=lambda d: d.start_utc.dt.tz_convert(TZ).dt.tz_localize(None).dt.tz_localize(
            "UTC")).drop_duplicates("start_utc"), timezone=TZ)))
    assert seen == {k.value for k in IssueKind}
