from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io.meter_csv import read_meter_csv


def test_cambridge_wide(shared_data, assert_readings):
    path = shared_data / "cambridge/electricity_kwh_hourly.csv.gz"
    p = read_meter_csv(path)
    f = p.frame
    assert_readings(f)
    assert p.source.format == "meter-csv-wide"
    assert sorted(f["series_key"].unique()) == ["b0", "b4", "b8"]
    assert len(f) == 3 * 52_608
    assert (f["duration_s"] == 3600).all()
    raw = pd.read_csv(path)
    for b in ("b0", "b4", "b8"):
        assert f.loc[f["series_key"] == b, "value"].sum() == pytest.approx(raw[b].sum())
    assert f["start_utc"].min() == pd.Timestamp("2015-01-01T00:00Z")


def test_long_semicolon_decimal_comma_latin1(assert_readings):
    text = ("compteur;horodatage;valeur\n"
            "Mairie-élec;2023-01-02T00:00:00+01:00;1,5\n"
            "Mairie-élec;2023-01-02T01:00:00+01:00;2,25\n"
            "École;2023-01-02T00:00:00+01:00;3,0\n"
            "École;2023-01-02T01:00:00+01:00;3,5\n")
    p = read_meter_csv(text.encode("cp1252"), meter_column="compteur",
                       timestamp_column="horodatage", value_column="valeur")
    assert_readings(p.frame)
    assert any("cp1252" in w for w in p.warnings)
    assert p.frame.loc[p.frame["series_key"] == "Mairie-élec", "value"].tolist() == [1.5, 2.25]
    assert p.frame["start_utc"].min() == pd.Timestamp("2023-01-01T23:00Z")


def test_gzip_tab_and_end_convention():
    text = "timestamp\tm1\n2023-06-01 01:00\t1\n2023-06-01 02:00\t2\n"
    f = read_meter_csv(gzip.compress(text.encode()), timestamps="end").frame
    # Naive Paris local time in summer is UTC+2; end-stamped 01:00 starts at 00:00 local.
    assert f["start_utc"].tolist() == [pd.Timestamp("2023-05-31T22:00Z"),
                                       pd.Timestamp("2023-05-31T23:00Z")]


def _local_hours(day_start: str, day_end: str) -> list[str]:
    ts = pd.date_range(day_start, day_end, freq="h", tz="Europe/Paris", inclusive="left")
    return [t.strftime("%Y-%m-%d %H:%M") for t in ts]


@pytest.mark.parametrize("day,hours", [("2023-03-26", 23), ("2023-10-29", 25)])
def test_dst_days_with_naive_local_timestamps(day, hours, assert_readings):
    nxt = (pd.Timestamp(day) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    stamps = _local_hours(f"{day} 00:00", f"{nxt} 00:00")
    assert len(stamps) == hours
    text = "meter,timestamp,value\n" + "".join(f"m,{s},1\n" for s in stamps)
    f = read_meter_csv(text.encode()).frame
    assert_readings(f)
    assert len(f) == hours
    local_days = f["start_utc"].dt.tz_convert("Europe/Paris").dt.date.astype(str)
    assert (local_days == day).all()
    assert f["start_utc"].diff().dropna().eq(pd.Timedelta("1h")).all()


def test_ambiguous_and_nonexistent_are_typed_errors():
    text = ("meter,timestamp,value\nm,2023-10-29 01:00,1\nm,2023-10-29 02:00,1\n"
            "m,2023-10-29 03:00,1\n")
    with pytest.raises(FormatError) as e:
        read_meter_csv(text.encode())
    assert e.value.line == 3 and "ambiguous" in e.value.reason
    ok = read_meter_csv(text.encode(), ambiguous="latest", step_s=3600).frame
    assert ok["start_utc"].iloc[1] == pd.Timestamp("2023-10-29T01:00Z")
    text = "meter,timestamp,value\nm,2023-03-26 01:00,1\nm,2023-03-26 02:00,1\n"
    with pytest.raises(FormatError) as e:
        read_meter_csv(text.encode())
    assert e.value.line == 3 and "does not exist" in e.value.reason


def test_index_readings_and_reset():
    text = ("meter;timestamp;value\nG;2023-01-01T00:00Z;100\nG;2023-01-01T06:00Z;110\n"
            "G;2023-01-02T00:00Z;150\n")
    f = read_meter_csv(text.encode(), values="index").frame
    assert f["value"].tolist() == [10.0, 40.0]
    assert f["duration_s"].tolist() == [6 * 3600, 18 * 3600]
    bad = text + "G;2023-01-03T00:00Z;5\n"
    with pytest.raises(ValueRangeError) as e:
        read_meter_csv(bad.encode(), values="index")
    assert e.value.line == 5
    p = read_meter_csv(bad.encode(), values="index", on_reset="drop")
    assert len(p.frame) == 2 and any("reset" in w for w in p.warnings)


def test_sample_quantity_and_errors():
    text = "meter,timestamp,value\nroom,2023-01-01T00:00Z,19.5\nroom,2023-01-01T00:07Z,19.7\n"
    f = read_meter_csv(text.encode(), quantity="temp_zone_c").frame
    assert (f["duration_s"] == 0).all() and np.allclose(f["value"], [19.5, 19.7])
    with pytest.raises(InputError):
        read_meter_csv(text.encode(), quantity="furlongs")
    with pytest.raises(FormatError) as e:
        read_meter_csv(b"meter,timestamp,value\nm,2023-01-01T00:00Z,1\nm,2023-01-01T01:00Z,1,2\n")
    assert e.value.line == 3
    with pytest.raises(FormatError) as e:
        read_meter_csv(b"meter,timestamp,value\nm,2023-01-01T00:00Z,1\nm,yesterday,1\n")
    assert e.value.line == 3 and e.value.field == "timestamp"
    with pytest.raises(ValueRangeError):
        read_meter_csv(b"meter,timestamp,value\nm,2023-01-01T00:00Z,-1\nm,2023-01-01T01:00Z,1\n")


@pytest.fixture(params=[True, False], ids=["fast", "string"])
def both_paths(request, monkeypatch):
    """Run a test on the typed fast path and on the string path (the reference)."""
    from sobriete.io import _text as T

    monkeypatch.setattr(T, "FAST_PATH", request.param)


def _long(rows: list[tuple[str, str, str]]) -> bytes:
    return ("meter,timestamp,value\n" + "".join(f"{m},{t},{v}\n" for m, t, v in rows)).encode()


def test_step_is_inferred_per_meter(both_paths, assert_readings):
    hours = pd.date_range("2023-01-01", periods=4, freq="h", tz="UTC")
    halves = pd.date_range("2023-01-01", periods=20, freq="30min", tz="UTC")
    rows = [("A", t.isoformat(), "1") for t in hours] + [("B", t.isoformat(), "1")
                                                        for t in halves]
    f = read_meter_csv(_long(rows)).frame
    assert_readings(f)
    step = f.groupby("series_key")["duration_s"].unique().to_dict()
    assert step["A"].tolist() == [3600] and step["B"].tolist() == [1800]
    # The same in a wide file: the hourly meter leaves the half hours empty.
    text = "timestamp_utc,A,B\n" + "".join(
        f"{t.isoformat()},{'1' if t.minute == 0 and i < 8 else ''},1\n"
        for i, t in enumerate(halves))
    f = read_meter_csv(text.encode()).frame
    step = f.groupby("series_key")["duration_s"].unique().to_dict()
    assert step["A"].tolist() == [3600] and step["B"].tolist() == [1800]


def test_regularity_is_checked_per_meter(both_paths):
    # A is hourly, then one reading half an hour off its grid: refused on A's own step,
    # although B's half-hourly rows dominate the file.
    hours = [t.isoformat() for t in pd.date_range("2023-01-01", periods=4, freq="h", tz="UTC")]
    halves = pd.date_range("2023-01-01", periods=20, freq="30min", tz="UTC")
    rows = [("A", t, "1") for t in [*hours, "2023-01-01T03:30:00+00:00"]]
    rows += [("B", t.isoformat(), "1") for t in halves]
    with pytest.raises(FormatError, match="not aligned") as e:
        read_meter_csv(_long(rows), name="m.csv")
    assert (e.value.file, e.value.line) == ("m.csv", 6)


def test_a_meter_with_one_reading_has_no_step(both_paths):
    rows = [("A", "2023-01-01T00:00Z", "1"), ("B", "2023-01-01T00:00Z", "1"),
            ("B", "2023-01-01T00:30Z", "1")]
    with pytest.raises(FormatError, match="cannot infer") as e:
        read_meter_csv(_long(rows))
    assert (e.value.line, e.value.field) == (2, "meter")
    f = read_meter_csv(_long(rows), step_s=1800).frame
    assert len(f) == 3 and (f["duration_s"] == 1800).all()


def test_sub_second_times_are_floored_to_the_second(both_paths):
    text = ("meter,timestamp,value\nroom,2023-01-01T12:00:00.200Z,19.5\n"
            "room,2023-01-01T12:00:00.700Z,19.7\n")
    with pytest.raises(FormatError, match="line 2 already") as e:
        read_meter_csv(text.encode(), quantity="temp_zone_c", name="t.csv")
    assert (e.value.file, e.value.line) == ("t.csv", 3)
    same = text.replace("19.7", "19.5")
    p = read_meter_csv(same.encode(), quantity="temp_zone_c")
    assert p.frame["start_utc"].tolist() == [pd.Timestamp("2023-01-01T12:00:00Z")]
    assert any("exact duplicate" in w for w in p.warnings)
    p = read_meter_csv(b"meter,timestamp,value\nroom,2023-01-01T12:00:01.999Z,19.5\n"
                       b"room,2023-01-01T12:00:00.999999999Z,19.5\n", quantity="temp_zone_c")
    assert p.frame["start_utc"].tolist() == [pd.Timestamp("2023-01-01T12:00:00Z"),
                                             pd.Timestamp("2023-01-01T12:00:01Z")]


def test_timestamps_before_1990_or_from_2100_are_refused(both_paths):
    for ts, line in (("1989-12-31T23:00Z", 3), ("2100-01-01T00:00Z", 3)):
        text = f"meter,timestamp,value\nm,2023-01-01T00:00Z,1\nm,{ts},1\n"
        with pytest.raises(FormatError, match="out of range") as e:
            read_meter_csv(text.encode())
        assert (e.value.line, e.value.field) == (line, "timestamp")
    with pytest.raises(FormatError, match="out of range") as e:
        read_meter_csv(b"meter,timestamp,value\nm,01/01/1985 00:00,1\n",
                       timestamp_format="%d/%m/%Y %H:%M")
    assert e.value.line == 2


def test_index_meter_with_one_reading_warns(both_paths):
    text = ("meter;timestamp;value\nG;2023-01-01T00:00Z;100\nG;2023-01-01T06:00Z;110\n"
            "W;2023-01-01T00:00Z;7\n")
    p = read_meter_csv(text.encode(), values="index")
    assert p.frame["series_key"].tolist() == ["G"]
    assert any("W" in w and "fewer than two index readings" in w for w in p.warnings)
    with pytest.raises(InputError, match="no interval") as e:
        read_meter_csv(b"meter;timestamp;value\nW;2023-01-01T00:00Z;7\n"
                       b"G;2023-01-01T00:00Z;1\n", values="index", name="i.csv")
    assert (e.value.file, e.value.line) == ("i.csv", 2)


def test_naive_times_of_many_meters_localised_per_meter(both_paths, assert_readings):
    # The autumn hour is inferred from each meter's own order even when meters interleave.
    stamps = _local_hours("2023-10-29 00:00", "2023-10-29 06:00")
    rows = [(m, s, "1") for s in stamps for m in ("m1", "m2", "m3")]
    rows += [("m4", "2023-06-01 00:00", "1"), ("m4", "2023-06-01 01:00", "1")]
    f = read_meter_csv(_long(rows)).frame
    assert_readings(f)
    for m in ("m1", "m2", "m3"):
        s = f.loc[f["series_key"] == m, "start_utc"]
        assert len(s) == 7 and s.diff().dropna().eq(pd.Timedelta("1h")).all()
    assert f.loc[f["series_key"] == "m4", "start_utc"].iloc[0] == pd.Timestamp(
        "2023-05-31T22:00Z")
    bad = [*rows, ("m5", "2023-03-26 02:00", "1"), ("m5", "2023-03-26 03:00", "1")]
    with pytest.raises(FormatError, match="does not exist") as e:
        read_meter_csv(_long(bad))
    assert e.value.line == len(rows) + 2
