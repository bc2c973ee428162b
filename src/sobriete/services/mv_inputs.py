"""Loading M&V model inputs from the store: one meter's readings, its building's calendar
and the weather station's temperatures, turned into the frames of ``analytics.mv.data``."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection, select

from sobriete.analytics.mv.billing import billing_input
from sobriete.analytics.mv.data import daily_input, hourly_input
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import ActivityCategory, OccupancyCalendar, default_calendar
from sobriete.services.store import schema as S
from sobriete.services.store.readings import read_series

TEMP = "temp_air_c"


@dataclass(frozen=True)
class MeterRef:
    """What a worker needs to load one meter: plain values, cheap to send to a process."""

    series_id: int
    key: str
    quantity: str
    subkind: str | None  # electricity, gas, ...
    step_s: int | None
    building_code: str | None
    calendar_json: str  # OccupancyCalendar
    weather_key: str | None  # None: nothing says which station; loading fails with why
    stations: tuple[str, ...] = ()  # the stations stored, for that message


def meter_refs(conn: Connection, weather: str | dict[str, str] | None,
               keys: list[str] | None = None) -> list[MeterRef]:
    """Every meter series (or those in ``keys``) with its building's calendar and the weather
    station to use: ``weather`` is one station key for all, or building code -> station
    (``"*"`` for buildings the registry gives no station); else the registry's station."""
    stations = [r[0] for r in conn.execute(
        select(S.series.c.key).where(S.series.c.kind == "weather", S.series.c.quantity == TEMP))]
    q = (select(S.series, S.building.c.code.label("building_code"),
                S.building.c.activity, S.building.c.calendar_json, S.building.c.weather_station)
         .select_from(S.series.outerjoin(S.building, S.series.c.building_id == S.building.c.id))
         .where(S.series.c.kind == "meter").order_by(S.series.c.key))
    if keys:
        q = q.where(S.series.c.key.in_(keys))
    refs = []
    for r in conn.execute(q).mappings():
        station = _station_for(r["building_code"], weather, stations, r["weather_station"])
        cal = r["calendar_json"] or default_calendar(
            ActivityCategory(r["activity"] or "other")).model_dump_json()
        step = r["step_s"] or stored_step_s(conn, r["id"])
        refs.append(MeterRef(r["id"], r["key"], r["quantity"], r["subkind"], step,
                             r["building_code"], cal, station, tuple(stations)))
    return refs


def _station_for(building: str | None, weather, stations: list[str],
                 registered: str | None) -> str | None:
    """Explicit choice first (per building, then for all), then the registry's, then the
    only station stored."""
    if isinstance(weather, dict) and building in weather:
        return weather[building]
    if isinstance(weather, str) and weather:
        return weather
    if registered:
        return registered
    if isinstance(weather, dict) and "*" in weather:
        return weather["*"]
    if len(stations) == 1:
        return stations[0]
    return None  # the meter's task fails with the reason; the portfolio goes on


_WEATHER: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_WEATHER_MAX = 8


def _weather(conn: Connection, key: str, lo: pd.Timestamp, hi: pd.Timestamp,
             run: object | None) -> pd.DataFrame:
    """A station's temperatures over [lo, hi); within one ``run`` every meter of the station
    reuses the same frame (read once per worker instead of once per meter). Without a run
    token nothing is cached, so no caller ever sees weather older than the store's."""
    cache_key = (run, str(conn.engine.url), key, lo, hi)
    if run is not None and cache_key in _WEATHER:
        _WEATHER.move_to_end(cache_key)
        return _WEATHER[cache_key]
    w = read_series(conn, key, TEMP, lo, hi)
    frame = w.set_index(C.START_UTC)[[C.VALUE]].rename(columns={C.VALUE: TEMP})
    if run is not None:
        _WEATHER[cache_key] = frame
        while len(_WEATHER) > _WEATHER_MAX:
            _WEATHER.popitem(last=False)
    return frame


def load_frames(conn: Connection, ref: MeterRef, start: date, end: date,
                frequency: str, run: object | None = None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Model input over local dates [start, end) and the calendar's warnings. ``run``: a
    token (e.g. the run id) under which a worker may reuse weather between meters."""
    cal = OccupancyCalendar.model_validate_json(ref.calendar_json)
    lo = pd.Timestamp(start, tz=cal.timezone).tz_convert("UTC")
    hi = pd.Timestamp(end, tz=cal.timezone).tz_convert("UTC")
    if ref.weather_key is None:
        raise SobrieteError(
            f"no weather station for building {ref.building_code!r}: set weather_station in "
            f"the registry or give --weather; stored stations: {', '.join(ref.stations) or 'none'}")
    readings = read_series(conn, ref.key, ref.quantity, lo, hi)
    if readings.empty:
        raise SobrieteError(f"meter {ref.key!r}: no reading from {start} to {end}")
    pad = pd.Timedelta(hours=12)  # interpolation needs observations beyond both ends
    weather = _weather(conn, ref.weather_key, lo - pad, hi + pad, run)
    if weather.empty:
        raise SobrieteError(f"weather station {ref.weather_key!r}: no temperature from {start} "
                            f"to {end} (meter {ref.key!r})")
    if frequency == "billing":
        temps = daily_mean_temperature(weather[TEMP], cal.timezone)
        frame, warns = billing_input(readings, temps, cal.timezone)
        return frame, tuple(w.message_en for w in warns)
    hourly, warnings = hourly_input(readings, weather, cal)
    hourly = hourly[(hourly.index >= lo) & (hourly.index < hi)]
    return (hourly if frequency == "hourly" else daily_input(hourly)), warnings


def daily_mean_temperature(temps_utc: pd.Series, timezone: str) -> pd.Series:
    local = temps_utc.tz_convert(timezone)
    return local.groupby(local.index.tz_localize(None).normalize()).mean()


def choose_frequency(step_s: int | None, requested: str, meter_kind: str | None = None) -> str:
    """"auto": billing beyond 20-day readings, daily for daily data and for gas and heat
    (hour-to-hour firing of a boiler is noise to a baseline; its days are not), else hourly."""
    if requested != "auto":
        return requested
    if step_s is not None and step_s >= 20 * 86_400:
        return "billing"
    if (step_s is not None and step_s > 3600) or meter_kind in ("gas", "heat"):
        return "daily"
    return "hourly"


def stored_step_s(conn: Connection, series_id: int) -> int | None:
    """The usual interval of a series from its first readings (registry step may be unset)."""
    rows = conn.exec_driver_sql(
        f"SELECT duration_s FROM reading WHERE series_id = {int(series_id):d}"
        " ORDER BY start_s LIMIT 200").all()
    steps = sorted(r[0] for r in rows if r[0] > 0)
    return steps[len(steps) // 2] if steps else None
