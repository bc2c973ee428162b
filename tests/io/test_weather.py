from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io.weather import (
    read_epw,
    read_synop,
    read_weather_csv,
    resample_hourly,
    weather_to_readings,
)

SYNOP = "france/meteofrance_synop_paris_orly_3h_2015_2019.csv.gz"


def test_orly_synop(shared_data, assert_readings):
    w = read_synop(shared_data / SYNOP, station="07149")
    f = w.frame
    assert w.station == "07149"
    assert str(f.index.tz) == "UTC" and f.index.is_monotonic_increasing
    assert list(f.columns) == ["temp_air_c", "temp_dew_c", "relative_humidity_pct",
                               "wind_speed_m_s", "pressure_pa"]
    assert f.index[0] == pd.Timestamp("2015-01-01T00:00Z")
    assert f["temp_air_c"].iloc[0] == pytest.approx(-2.6)
    raw = pd.read_csv(shared_data / SYNOP).drop_duplicates()
    assert len(f) == len(raw) and any("2 exact duplicate" in x for x in w.warnings)
    assert f["temp_air_c"].mean() == pytest.approx(raw["t_C"].mean())
    long = weather_to_readings(w)
    assert_readings(long)
    assert (long["duration_s"] == 0).all() and set(long["series_key"]) == {"07149"}


RAW_SYNOP = (
    "numer_sta;date;pmer;tend;cod_tend;dd;ff;t;td;u;vv;\n"
    "07149;20230101000000;102190;-160;8;200;2.500000;281.150000;278.250000;82;20000;\n"
    "07149;20230101030000;102100;mq;8;210;3.000000;mq;277.150000;85;20000;\n"
    "07005;20230101000000;102190;-160;8;200;2.500000;280.150000;278.250000;82;20000;\n"
)


def test_raw_meteofrance_synop():
    w = read_synop(RAW_SYNOP.encode(), station="07149")
    assert w.source.format == "synop-raw"
    assert len(w.frame) == 2
    assert w.frame["temp_air_c"].iloc[0] == pytest.approx(8.0)
    assert np.isnan(w.frame["temp_air_c"].iloc[1])
    with pytest.raises(InputError):
        read_synop(RAW_SYNOP.encode())  # two stations, none chosen
    bad = RAW_SYNOP.replace("281.150000", "481.150000")
    with pytest.raises(ValueRangeError) as e:
        read_synop(bad.encode(), station="07149")
    assert e.value.line == 2 and e.value.field == "temp_air_c"


def _epw(rows: list[str], tz: str = "1.0") -> bytes:
    head = [f"LOCATION,Paris-Orly,IDF,FRA,IWEC,071490,48.72,2.38,{tz},89.0"]
    head += ["DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
             "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,x", "COMMENTS 2,x",
             "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    return ("\n".join(head + rows) + "\n").encode()


def _epw_row(month: int, day: int, hour: int, temp: float, ghi: float = 0.0) -> str:
    vals = [2019, month, day, hour, 60, "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9",
            temp, 2.0, 80, 101300, 0, 0, 300, ghi, 0, 0, 0, 0, 0, 0, 180, 3.5, 5, 5, 20.0,
            77777, 9, "999999999", 0, 0.1, 0, 88, 0.2, 0.0, 1.0]
    return ",".join(map(str, vals))


def test_epw_hour_convention():
    w = read_epw(_epw([_epw_row(1, 1, 1, 5.0), _epw_row(1, 1, 2, 99.9, ghi=9999)]))
    f = w.frame
    assert w.station == "071490"
    # Hour 1 = 00:00-01:00 local standard time (UTC+1) -> starts 23:00 UTC the day before.
    assert f.index[0] == pd.Timestamp("2018-12-31T23:00Z")
    assert f["temp_air_c"].iloc[0] == 5.0
    assert np.isnan(f["temp_air_c"].iloc[1]) and np.isnan(f["ghi_w_m2"].iloc[1])
    with pytest.raises(FormatError) as e:
        read_epw(_epw([_epw_row(1, 1, 25, 5.0)]))
    assert e.value.line == 9 and e.value.field == "hour"
    with pytest.raises(FormatError):
        read_epw(b"not,an,epw\n")


def test_bedford_csv_and_resample(shared_data):
    w = read_weather_csv(shared_data / "cambridge/weather_bedford_hourly.csv.gz",
                         columns={"air_temperature_c": "temp_air_c",
                                  "relative_humidity_pct": "relative_humidity_pct",
                                  "global_irradiance_w_m2": "ghi_w_m2"})
    assert len(w.frame) == 52_608
    assert list(w.frame.columns) == ["temp_air_c", "relative_humidity_pct", "ghi_w_m2"]
    hourly, rep = resample_hourly(w.frame)
    assert rep.filled["temp_air_c"] == 0 and len(hourly) == 52_608


def test_resample_limits_gaps():
    idx = pd.DatetimeIndex(["2023-01-01T00:00Z", "2023-01-01T03:00Z", "2023-01-01T12:00Z"],
                           name="start_utc")
    f = pd.DataFrame({"temp_air_c": [0.0, 3.0, 12.0]}, index=idx)
    out, rep = resample_hourly(f, max_gap_h=6)
    assert len(out) == 13
    assert out["temp_air_c"].iloc[:4].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert out["temp_air_c"].iloc[4:12].isna().all()
    assert rep.filled == {"temp_air_c": 2} and rep.missing == {"temp_air_c": 8}
    out, rep = resample_hourly(f, max_gap_h=9, method="time")
    assert rep.missing == {"temp_air_c": 0}
    with pytest.raises(InputError):
        resample_hourly(f, method="cubic")


@pytest.mark.parametrize("method", ["linear", "time"])
@pytest.mark.parametrize("stamps", [
    ["2023-01-01T00:10Z", "2023-01-01T00:20Z", "2023-01-01T00:30Z", "2023-01-01T00:40Z"],
    ["2023-01-01T00:30Z"],
])
def test_resample_within_one_hour_is_empty(stamps, method):
    f = pd.DataFrame({"temp_air_c": np.arange(len(stamps), dtype=float)},
                     index=pd.DatetimeIndex(stamps, name="start_utc"))
    out, rep = resample_hourly(f, method=method)
    assert out.empty and list(out.columns) == ["temp_air_c"]
    assert str(out.index.tz) == "UTC" and out.index.name == "start_utc"
    assert out["temp_air_c"].dtype == np.float64
    assert (rep.hours, rep.filled, rep.missing) == (0, {"temp_air_c": 0}, {"temp_air_c": 0})


def test_weather_sub_second_times_are_floored_to_the_second():
    text = ("timestamp_utc,temp_air_c\n2023-01-01T12:00:00.200Z,5.0\n"
            "2023-01-01T12:00:00.700Z,6.0\n")
    with pytest.raises(FormatError, match="line 2") as e:
        read_weather_csv(text.encode(), name="w.csv")
    assert (e.value.file, e.value.line) == ("w.csv", 3)
    w = read_weather_csv(text.replace("6.0", "5.0").encode())
    assert w.frame.index.tolist() == [pd.Timestamp("2023-01-01T12:00:00Z")]
    assert any("exact duplicate" in x for x in w.warnings)
