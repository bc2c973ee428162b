"""The checks on real meters: Cambridge University Estates, 2015-2020, hourly, UTC.

Data: Langtry & Choudhary, Cambridge University Estates building energy usage archive,
Zenodo DOI 10.5281/zenodo.10955332 (MIT). The publisher replaced missing readings by 0.

Choices pinned here:
- The zero runs the publisher inserted are reported as suspicious zeros, at their exact hours.
- The 2020 COVID closure is real low use, not missing data: loads fall by a third to a half but
  never to zero, so no zero, gap or flat-line finding may cover it and its completeness stays
  full. Low use is for the baseline/anomaly modules to explain, not for data quality to erase.
- Timezone Europe/London: these are UK buildings (same DST dates as Paris).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sobriete.analytics.quality import IssueKind, check_many

TZ = "Europe/London"


def _long(path: Path) -> pd.DataFrame:
    wide = pd.read_csv(path)
    wide["start_utc"] = pd.to_datetime(wide["timestamp_utc"], utc=True)
    f = wide.melt(id_vars="start_utc", value_vars=["b0", "b4", "b8"],
                  var_name="series_key", value_name="value")
    return f.assign(quantity="energy_kwh", duration_s=3600)


@pytest.fixture(scope="module")
def electricity(shared_data: Path):
    return check_many(_long(shared_data / "cambridge/electricity_kwh_hourly.csv.gz"), timezone=TZ)


@pytest.fixture(scope="module")
def gas(shared_data: Path):
    return check_many(_long(shared_data / "cambridge/gas_kwh_hourly.csv.gz"), timezone=TZ)


def _utc(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def test_publisher_zero_runs_are_found_exactly(electricity) -> None:
    found = {(i.series_key, i.start_utc, i.n_points)
             for i in electricity.of_kind(IssueKind.SUSPICIOUS_ZERO)}
    assert found == {
        ("b0", _utc("2017-03-26 01:00"), 1),
        ("b0", _utc("2018-03-31 01:00"), 23),
        ("b0", _utc("2018-12-31 01:00"), 23),
        ("b4", _utc("2019-10-04 02:00"), 46),
        ("b8", _utc("2018-03-05 13:00"), 11),
    }


def test_no_gap_duplicate_range_or_flat_line_on_the_complete_grid(electricity) -> None:
    for kind in (IssueKind.GAP, IssueKind.DUPLICATE, IssueKind.OFF_GRID, IssueKind.NEGATIVE,
                 IssueKind.IMPOSSIBLE, IssueKind.FLAT_LINE):
        assert electricity.of_kind(kind) == [], kind
    assert list(electricity.series["step_s"]) == [3600] * 3


def test_covid_closure_is_low_use_not_missing_data(electricity) -> None:
    closure = (_utc("2020-03-23"), _utc("2020-07-01"))
    for i in electricity.issues:
        if i.kind in (IssueKind.SUSPICIOUS_ZERO, IssueKind.GAP, IssueKind.FLAT_LINE):
            assert not (i.start_utc < closure[1] and i.end_utc > closure[0]), i.message_en
    m = electricity.completeness_monthly
    spring = m[(m.period_start >= pd.Timestamp("2020-04-01", tz=TZ))
               & (m.period_start < pd.Timestamp("2020-07-01", tz=TZ))]
    assert len(spring) == 9 and spring["completeness"].eq(1).all()


def test_dst_day_hours_the_publisher_mangled(electricity) -> None:
    d = {(i.series_key, i.start_utc): i for i in electricity.of_kind(IssueKind.DST_ANOMALY)}
    assert set(d) == {("b0", _utc("2016-10-30 01:00")), ("b0", _utc("2017-03-26 01:00"))}
    assert d["b0", _utc("2016-10-30 01:00")].evidence["counted_twice"] == 1  # 45.4 vs ~23.5
    assert d["b0", _utc("2017-03-26 01:00")].evidence["zeros"] == 1


def test_few_spikes_and_clock_shifts_on_real_electricity(electricity) -> None:
    # Not false alarms by construction (Saturday events are real), but rare: about one spike
    # per meter-year, and the clock-shift finding is b4's autumn 2018, one hour, ratio < 0.2.
    assert len(electricity.of_kind(IssueKind.SPIKE)) <= 12
    shifts = electricity.of_kind(IssueKind.CLOCK_SHIFT)
    assert {i.series_key for i in shifts} == {"b4"}
    assert all(abs(i.evidence["lag_h"]) == 1 for i in shifts)


def test_gas_meters_idling_at_zero_do_not_flood_the_report(gas) -> None:
    # 33-44 % of gas hours are zero (boiler off): only long zero runs at hours that are
    # otherwise never zero are reported.
    zeros = gas.of_kind(IssueKind.SUSPICIOUS_ZERO)
    assert 1 <= len(zeros) <= 10
    assert all(i.end_utc - i.start_utc >= pd.Timedelta(hours=24) for i in zeros)
