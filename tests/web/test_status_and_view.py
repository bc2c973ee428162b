"""portfolio_status and building_view against figures recomputed independently from the raw
Cambridge CSV files (pandas, not our code), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sobriete.services import portfolio_status as P
from sobriete.services.building_view import building_view
from sobriete.services.scoped import building_ref


def _raw(folder, name: str, col: str) -> pd.Series:
    df = pd.read_csv(folder / f"{name}.csv")
    return df.set_index(pd.to_datetime(df["timestamp_utc"], utc=True))[col]


def _kwh(folder, building: str, lo: str, hi: str) -> float:
    total = 0.0
    for name in ("elec", "gas"):
        s = _raw(folder, name, building)
        total += float(s[(s.index >= lo) & (s.index < hi)].sum())
    return total


def test_status_figures_match_the_raw_files(web_store, web_files):
    with web_store.engine.connect() as conn:
        ids = {c: building_ref(conn, c).id for c in ("b0", "b4")}
        st = P.load_status(conn, ids.values())
    b0, b4 = st[ids["b0"]], st[ids["b4"]]
    e2019 = _kwh(web_files, "b0", "2019-01-01", "2020-01-01")
    assert b0["energy_kwh"] == pytest.approx(e2019, rel=1e-9)
    assert b0["kwh_per_m2"] == pytest.approx(e2019 / 3296.5, rel=1e-9)
    assert b0["period_start"].date() == date(2019, 1, 1)
    # b0 has a stored 2018 baseline: the trend is against it, annualised over 365 days
    assert b0["trend_basis"] == "baseline"
    e2018 = _kwh(web_files, "b0", "2018-01-01", "2019-01-01")
    assert b0["trend_pct"] == pytest.approx(100 * (e2019 / e2018 - 1), rel=1e-9)
    # b4 has none: against the previous 12 months
    assert b4["trend_basis"] == "previous_year"
    e4 = _kwh(web_files, "b4", "2019-01-01", "2020-01-01")
    p4 = _kwh(web_files, "b4", "2018-01-01", "2019-01-01")
    assert b4["trend_pct"] == pytest.approx(100 * (e4 / p4 - 1), rel=1e-9)
    # degree-days: COSTIC, base 18, from the raw Bedford temperatures, per UTC day
    t = _raw(web_files, "weather", "air_temperature_c")
    t = t[(t.index >= "2019-01-01") & (t.index < "2020-01-01")]
    g = t.groupby(t.index.floor("D"))
    lo, hi = g.min()[g.size() >= 20], g.max()[g.size() >= 20]
    mean = (lo + hi) / 2
    dd = pd.Series(0.0, index=lo.index)
    cold, mid = hi <= 18, (lo < 18) & (hi > 18)
    dd[cold] = 18 - mean[cold]
    k = (18 - lo[mid]) / (hi[mid] - lo[mid])
    dd[mid] = (18 - lo[mid]) * (0.08 + 0.42 * k)
    assert b0["degree_days"] == pytest.approx(dd.mean() * 365, rel=1e-6)
    assert b0["kwh_per_m2_per_dd"] == pytest.approx(b0["kwh_per_m2"] / b0["degree_days"])
    assert b0["data_coverage_pct"] == pytest.approx(100.0, abs=0.5)
    assert b0["tertiaire_status"] in ("late", "on_track")
    assert b0["detail"]["tertiaire"]["reference_year"] == 2018
    assert b0["status"] in P.STATUSES
    for s in (b0, b4):
        assert s["computed_at"].tzinfo is not None


def test_status_rule():
    assert P._status(None, None, None, 0) == "no_data"
    assert P._status(1.0, 40.0, None, 0) == "no_data"
    assert P._status(1.0, 100.0, 12.0, 0) == "alert"
    assert P._status(1.0, 100.0, 4.0, 0) == "watch"
    assert P._status(1.0, 100.0, -20.0, 2) == "watch"
    assert P._status(1.0, 80.0, -20.0, 0) == "watch"
    assert P._status(1.0, 100.0, -20.0, 0) == "ok"


def test_a_building_without_readings_is_no_data_and_refresh_reports_progress(web_store):
    calls = []
    counts = P.refresh(web_store, buildings=["b4"], progress=lambda d, n, m: calls.append((d, n)))
    assert counts.buildings == 1 and calls == [(1, 1)]
    with web_store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM reading WHERE series_id IN (SELECT id FROM series "
                             "WHERE building_id = (SELECT id FROM building WHERE code = 'b4'))")
    counts = P.refresh(web_store, buildings=["b4"])
    assert counts.by_status == {"no_data": 1}


def test_building_view_sums_and_baseline(web_store, web_files):
    with web_store.engine.connect() as conn:
        ref = building_ref(conn, "b0")
    v = building_view(web_store, ref)
    assert v["window"]["step_s"] == 3600 and v["window"]["end"] == date(2019, 12, 31)
    elec = next(c for c in v["curve"] if c["key"] == "b0-elec")
    raw = _raw(web_files, "elec", "b0")
    first = pd.Timestamp(elec["t"][0], unit="s", tz="UTC")
    assert elec["kwh"][0] == pytest.approx(float(raw[first]), abs=1e-3)
    band = next(b for b in v["baseline"] if b["key"] == "b0-elec")
    assert band["available"] and band["provenance"]["baseline_start"] == "2018-01-01"
    assert all(lo <= p <= hi for lo, p, hi in zip(band["low_kwh"], band["predicted_kwh"],
                                                  band["high_kwh"], strict=True)
               if p is not None)
    year = building_view(web_store, ref, start=date(2019, 1, 1), end=date(2019, 12, 31))
    assert year["window"]["step_s"] == 86400 and len(year["curve"][0]["t"]) == 365
    daily = {b["key"]: b for b in year["baseline"]}
    assert daily["b0-gas"]["available"]  # a daily model shows on the daily view
    m = year["monthly"]
    assert m["months"][0] == "2019-01" and m["months"][-1] == "2019-12"
    assert sum(m["n_kwh"]) == pytest.approx(_kwh(web_files, "b0", "2019-01-01", "2020-01-01"),
                                            rel=1e-6)
    assert sum(m["n1_kwh"]) == pytest.approx(_kwh(web_files, "b0", "2018-01-01", "2019-01-01"),
                                             rel=1e-6)
    assert len(year["signature"]["points"]) >= 360
