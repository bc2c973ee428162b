"""Outdoor weather: Météo-France SYNOP, EnergyPlus EPW, generic CSV -> wide hourly frames.

Every reader returns ``ParsedWeather``: a frame indexed by ``start_utc`` (UTC) whose columns are
quantity names of ``columns.WEATHER_QUANTITIES`` (only those the source has):
``temp_air_c`` [°C], ``temp_dew_c`` [°C], ``relative_humidity_pct`` [%], ``ghi_w_m2`` [W/m²],
``wind_speed_m_s`` [m/s], ``pressure_pa`` [Pa]. Missing observations are NaN; values outside a
quantity's physical range are a ValueRangeError.

Time stamps:

- SYNOP: observation instants in UTC (every 3 h); the index is that instant.
- EPW: row hour ``h`` (1-24) describes the hour *ending* at ``h:00`` local **standard** time
  (no DST; offset from the LOCATION line); the index is the *start* of that hour in UTC.
- generic CSV: the instant in the time column (UTC if it has offsets or its name ends in
  ``utc``, else ``timezone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError, InputError
from sobriete.io import _text as T
from sobriete.io.base import ParsedWeather, SourceInfo

PARSER_VERSION = "1"

# Project SYNOP extract (timestamp_utc,pmer,dd,ff,u,n,rr3,t_C,td_C), already in SI/°C.
_SYNOP_PROJECT = {"t_C": "temp_air_c", "td_C": "temp_dew_c", "u": "relative_humidity_pct",
                  "ff": "wind_speed_m_s", "pmer": "pressure_pa"}
# Raw Météo-France "données SYNOP essentielles OMM": t and td in kelvin, 'mq' = missing.
_SYNOP_RAW = {"t": "temp_air_c", "td": "temp_dew_c", "u": "relative_humidity_pct",
              "ff": "wind_speed_m_s", "pmer": "pressure_pa"}
_KELVIN = {"temp_air_c", "temp_dew_c"}

# EPW data columns (0-based) and their "missing" sentinels (EnergyPlus auxiliary programs guide).
_EPW = {6: ("temp_air_c", 99.9), 7: ("temp_dew_c", 99.9), 8: ("relative_humidity_pct", 999.0),
        9: ("pressure_pa", 999999.0), 13: ("ghi_w_m2", 9999.0), 21: ("wind_speed_m_s", 999.0)}


def read_synop(path: str | Path | bytes, *, station: str | None = None,
               name: str | None = None) -> ParsedWeather:
    """Météo-France SYNOP CSV (project extract or raw ``numer_sta;date;...`` file).

    ``station``: the WMO id to keep from a raw multi-station file (required when it has
    several); for the project extract, which has no station column, it names the series
    (default: the file name).
    """
    raw = T.load_text(path, name=name)
    header = T.head_lines(raw.text, 1)[0]
    sep = T.sniff_separator(header)
    names = T.split_header(header, sep)
    if names and names[-1] == "":  # raw files end every line with ';'
        names[-1] = "_trailing"
    table = _table(raw, names, sep)
    folded = [T.fold(n) for n in names]
    if "numer_sta" in folded and "date" in folded:
        ts = T.to_datetime(table.columns[names[folded.index("date")]], table, "date",
                           fmt="%Y%m%d%H%M%S", tz="UTC")
        sta = table.columns[names[folded.index("numer_sta")]]
        stations = sorted(set(sta.unique().to_pylist()))
        if station is None and len(stations) > 1:
            raise InputError("several stations in the file", file=raw.label, field="station",
                             expected="the station option, one of " + ", ".join(stations[:10]))
        chosen = station or stations[0]
        keep = (sta.to_numpy(zero_copy_only=False) == chosen)
        if not keep.any():
            raise InputError("station not in the file", file=raw.label, field="station",
                             expected=", ".join(stations[:10]), found=chosen)
        data = {}
        for src, q in _SYNOP_RAW.items():
            if src in names:
                v = T.to_float(table.columns[src], table, src, missing=("mq",))
                data[q] = v - 273.15 if q in _KELVIN else v
        fmt = "synop-raw"
    elif "timestamp_utc" in folded:
        ts = T.to_datetime(table.columns[names[folded.index("timestamp_utc")]], table,
                           "timestamp_utc", tz="UTC")
        keep = np.ones(len(table), bool)
        data = {q: T.to_float(table.columns[src], table, src)
                for src, q in _SYNOP_PROJECT.items() if src in names}
        chosen = station or Path(raw.label).name.split(".")[0]
        fmt = "synop"
    else:
        raise FormatError("not a SYNOP file", file=raw.label, line=1,
                          expected="numer_sta;date;... or timestamp_utc,...", found=header[:80])
    if not data:
        raise FormatError("no weather column", file=raw.label, line=1,
                          expected=", ".join(_SYNOP_PROJECT), found=header[:80])
    frame = _finish(ts, data, keep, table, raw.warnings)
    return ParsedWeather(SourceInfo(raw.label, raw.sha256, fmt, PARSER_VERSION), str(chosen),
                         frame, tuple(raw.warnings))


def read_epw(path: str | Path | bytes, *, name: str | None = None) -> ParsedWeather:
    """EnergyPlus weather file (8 header lines then hourly rows); station = WMO id or city."""
    raw = T.load_text(path, name=name, fallback="latin-1")
    head = T.head_lines(raw.text, 8)
    loc = head[0].split(",") if head else []
    if len(head) < 8 or len(loc) < 10 or loc[0].strip().upper() != "LOCATION":
        raise FormatError("not an EPW file", file=raw.label, line=1,
                          expected="LOCATION,city,state,country,source,WMO,lat,lon,tz,elev "
                          "and 7 more header lines", found=head[0][:80] if head else "")
    try:
        tz_h = float(loc[8])
        if not -12 <= tz_h <= 14:
            raise ValueError
    except ValueError:
        raise FormatError("bad time zone", file=raw.label, line=1, field="LOCATION tz",
                          expected="hours from UTC between -12 and 14", found=loc[8]) from None
    station = loc[5].strip() or loc[1].strip() or "epw"
    table = T.read_table(T.body_after(raw.text, 8), [f"f{i}" for i in range(35)], sep=",",
                         first_line=9, label=raw.label)
    if not len(table):
        raise FormatError("no data rows", file=raw.label, line=9, expected="hourly rows")
    parts = {}
    for i, (fld, lo, hi) in enumerate((("year", 1800, 2200), ("month", 1, 12),
                                       ("day", 1, 31), ("hour", 1, 24))):
        v = T.to_float(table.columns[f"f{i}"], table, fld, allow_missing=False)
        bad = np.flatnonzero((v < lo) | (v > hi) | (v != np.floor(v)))
        if len(bad):
            raise FormatError(f"bad {fld}", file=raw.label, line=table.line(int(bad[0])),
                              field=fld, expected=f"an integer {lo}-{hi}", found=str(v[bad[0]]))
        parts[fld] = v.astype(np.int64)
    day = pd.to_datetime(pd.DataFrame({k: parts[k] for k in ("year", "month", "day")}),
                         errors="coerce")
    bad = np.flatnonzero(day.isna().to_numpy())
    if len(bad):
        raise FormatError("impossible date", file=raw.label, line=table.line(int(bad[0])),
                          field="day", expected="a calendar date",
                          found=f"{parts['year'][bad[0]]}-{parts['month'][bad[0]]}-"
                          f"{parts['day'][bad[0]]}")
    offset = pd.to_timedelta(parts["hour"] - 1, unit="h") - pd.Timedelta(hours=tz_h)
    ts = pd.DatetimeIndex(day + offset).tz_localize("UTC").as_unit("ns")
    data = {}
    for i, (q, sentinel) in _EPW.items():
        v = T.to_float(table.columns[f"f{i}"], table, q)
        data[q] = np.where(v >= sentinel, np.nan, v)
    frame = _finish(ts, data, np.ones(len(table), bool), table, raw.warnings)
    return ParsedWeather(SourceInfo(raw.label, raw.sha256, "epw", PARSER_VERSION), station,
                         frame, tuple(raw.warnings))


def read_weather_csv(
    path: str | Path | bytes, *, time_column: str = "timestamp_utc",
    columns: dict[str, str] | None = None, timezone: str | None = None,
    sep: str | None = None, decimal: str = ".", timestamp_format: str | None = None,
    station: str | None = None, name: str | None = None,
) -> ParsedWeather:
    """Generic weather CSV. ``columns`` maps source column -> quantity name, e.g.
    ``{"air_temperature_c": "temp_air_c", "global_irradiance_w_m2": "ghi_w_m2"}``; by default
    columns already named after a quantity are taken, plus the Cambridge/Bedford names."""
    raw = T.load_text(path, name=name, fallback="cp1252")
    header = T.head_lines(raw.text, 1)[0]
    sep = sep or T.sniff_separator(header)
    names = T.split_header(header, sep)
    table = _table(raw, names, sep)
    tcol = names[T.column_index(names, time_column, raw.label, 1)]
    tz = timezone or ("UTC" if T.fold(tcol).endswith("utc") else "Europe/Paris")
    ts = T.to_datetime(table.columns[tcol], table, tcol, fmt=timestamp_format, tz=tz)
    mapping = columns or {n: n for n in names if n in C.WEATHER_QUANTITIES} | {
        k: v for k, v in _BEDFORD.items() if k in names}
    data = {}
    for src, q in mapping.items():
        if q not in C.WEATHER_QUANTITIES:
            raise InputError("not a weather quantity", field=src,
                             expected=", ".join(C.WEATHER_QUANTITIES), found=q)
        col = names[T.column_index(names, src, raw.label, 1)]
        data[q] = T.to_float(table.columns[col], table, col, decimal_comma=decimal == ",")
    if not data:
        raise FormatError("no weather column", file=raw.label, line=1,
                          expected="the columns option", found=header[:80])
    frame = _finish(ts, data, np.ones(len(table), bool), table, raw.warnings)
    return ParsedWeather(SourceInfo(raw.label, raw.sha256, "weather-csv", PARSER_VERSION),
                         station or Path(raw.label).name.split(".")[0], frame,
                         tuple(raw.warnings))


_BEDFORD = {"air_temperature_c": "temp_air_c", "global_irradiance_w_m2": "ghi_w_m2"}


def _table(raw: T.RawText, names: list[str], sep: str) -> T.Table:
    if len(set(names)) != len(names) or "" in names:
        raise FormatError("empty or repeated column name", file=raw.label, line=1,
                          expected="distinct column names", found=sep.join(names)[:100])
    table = T.read_table(T.body_after(raw.text, 1), names, sep=sep, first_line=2,
                         label=raw.label)
    if not len(table):
        raise FormatError("no data rows", file=raw.label, line=2, expected="observations")
    return table


def _finish(ts: pd.DatetimeIndex, data: dict[str, np.ndarray], keep: np.ndarray,
            table: T.Table, warnings: list[str]) -> pd.DataFrame:
    # Whole seconds, like reading frames (the store's resolution), before duplicates are judged.
    ts = pd.DatetimeIndex(ts).floor("s")
    rows = np.flatnonzero(keep)
    for q, v in data.items():
        T.check_range(v[rows], q, table, q, rows=rows)
    frame = pd.DataFrame({q: v[rows] for q, v in data.items()},
                         index=pd.DatetimeIndex(ts[rows], name=C.START_UTC))
    frame = frame[[q for q in C.WEATHER_QUANTITIES if q in frame.columns]]
    frame["_row"] = rows
    frame = frame.sort_values("_row").sort_index(kind="stable")
    dup = frame.index.duplicated(keep=False)
    if dup.any():
        d = frame[dup].reset_index()
        cols = [c for c in d.columns if c != "_row"]
        exact = d.duplicated(cols, keep="first")
        clash = d[~exact].duplicated(C.START_UTC, keep=False)
        if clash.any():
            a, b = d[~exact][clash.to_numpy()]["_row"].iloc[:2]
            raise FormatError("two different observations at the same time",
                              file=table.label, line=table.line(int(b)), field=C.START_UTC,
                              expected=f"one row per time (line {table.line(int(a))} has the "
                              "same time)", found=str(d[C.START_UTC].iloc[0]))
        warnings.append(f"{table.label}: {int(exact.sum())} exact duplicate row(s) dropped")
        frame = frame[~frame.index.duplicated(keep="first")]
    return frame.drop(columns="_row").astype(np.float64)


@dataclass(frozen=True)
class ResampleReport:
    """What ``resample_hourly`` did, per column: hours filled and hours left missing."""

    max_gap_h: float
    method: str
    hours: int
    filled: dict[str, int]
    missing: dict[str, int]


def resample_hourly(weather: pd.DataFrame, *, max_gap_h: float = 6, method: str = "linear"
                    ) -> tuple[pd.DataFrame, ResampleReport]:
    """Put a weather frame on the whole-hour UTC grid, interpolating gaps up to ``max_gap_h``.

    A grid hour is filled only when the observations around it are at most ``max_gap_h``
    hours apart; longer gaps stay NaN. ``method="linear"`` uses only on-the-hour observations;
    ``"time"`` also uses off-grid ones (e.g. 10-min data), linear in time. The grid runs from
    the first to the last whole hour inside the observed span, so observations that all fall
    strictly within one hour (00:10..00:40) give an empty frame and a report of 0 hours.
    """
    if method not in ("linear", "time"):
        raise InputError("bad option", field="method", expected="linear or time", found=method)
    if not max_gap_h > 0:
        raise InputError("bad option", field="max_gap_h", expected="> 0", found=str(max_gap_h))
    idx = pd.DatetimeIndex(weather.index)
    if idx.tz is None:
        raise InputError("weather index must be timezone-aware UTC", field="start_utc")
    if len(idx) == 0:
        return weather.copy(), ResampleReport(max_gap_h, method, 0, {}, {})
    idx = idx.tz_convert("UTC")
    grid = pd.date_range(idx.min().ceil("h"), idx.max().floor("h"), freq="h", name=C.START_UTC)
    if len(grid) == 0:
        # Every observation falls strictly inside one hour: no whole hour to put on the grid
        # (filling one would extrapolate).
        cols = list(weather.columns)
        empty = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in cols},
                             index=pd.DatetimeIndex([], tz="UTC", name=C.START_UTC))
        return empty, ResampleReport(max_gap_h, method, 0, dict.fromkeys(cols, 0),
                                     dict.fromkeys(cols, 0))
    src = weather.set_axis(idx).sort_index()
    src = src[~src.index.duplicated(keep="first")]
    if method == "linear":
        src = src.reindex(src.index.intersection(grid))
    union = src.index.union(grid)
    t = ((union - union[0]) / pd.Timedelta(hours=1)).to_numpy(dtype=np.float64)
    out, filled, missing = {}, {}, {}
    for col in src.columns:
        s = src[col].reindex(union)
        valid = s.notna().to_numpy()
        tv = pd.Series(np.where(valid, t, np.nan))
        gap = (tv.bfill() - tv.ffill()).to_numpy()
        interp = s.interpolate(method="time", limit_area="inside").to_numpy()
        interp = np.where(valid | (gap <= max_gap_h), interp, np.nan)
        ser = pd.Series(interp, index=union).reindex(grid)
        observed = src[col].reindex(grid).notna()
        filled[col] = int((ser.notna() & ~observed).sum())
        missing[col] = int(ser.isna().sum())
        out[col] = ser
    frame = pd.DataFrame(out, index=grid)
    return frame, ResampleReport(max_gap_h, method, len(grid), filled, missing)


def weather_to_readings(parsed: ParsedWeather) -> pd.DataFrame:
    """Long reading frame (duration_s 0, series_key = station) of a parsed weather file."""
    f = parsed.frame
    n = len(f)
    qs = list(f.columns)
    values = f.to_numpy(dtype=np.float64).T.ravel()
    frame = pd.DataFrame({
        C.SERIES_KEY: parsed.station, C.QUANTITY: np.repeat(np.asarray(qs, dtype=object), n),
        C.START_UTC: np.tile(pd.DatetimeIndex(f.index).as_unit("ns").asi8, len(qs)),
        C.DURATION_S: 0, C.VALUE: values,
    })
    frame = frame[~np.isnan(values)]
    frame[C.START_UTC] = pd.to_datetime(frame[C.START_UTC].to_numpy(), utc=True)
    frame = frame.sort_values([C.SERIES_KEY, C.QUANTITY, C.START_UTC], kind="stable")
    return T.readings_frame(frame)
