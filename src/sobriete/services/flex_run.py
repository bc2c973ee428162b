"""Settling one demand-response event on a stored meter: the load from the store, the
building's calendar and weather station, ``analytics.flex_settlement.settle``, the footprint.

The load handed to ``settle`` is the mean power of each stored interval [kW]: energy
(``energy_kwh``) divided by the interval's hours, or ``power_w`` / 1000. It is read from
``max(8, baseline_weeks)`` weeks plus one day before the event's local day (the X-of-Y search
and the M&V fit both fit inside) up to the event's end.

Only electricity meters are settled (a demand-response shed is an electrical flexibility);
any other kind of meter is refused with ``NotElectricityMeterError``. A meter whose kind the
registry does not give is settled with a warning ``meter_kind_unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection

from sobriete.analytics.flex_settlement import (
    LOOKBACK_DAYS,
    Settlement,
    settle,
)
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.mv import MVWarning, WarningLevel
from sobriete.domain.portfolio import OccupancyCalendar
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import TEMP, MeterRef, meter_refs
from sobriete.services.store import Store
from sobriete.services.store.readings import read_series

BASELINE_WEEKS = 10
KW_FROM = {"energy_kwh": "kWh per interval / interval hours", "power_w": "W / 1000"}


class SettlementError(SobrieteError):
    """An event that cannot be settled (the reason says what to change)."""


class UnknownMeterError(SettlementError):
    """A meter key that is not a stored meter series."""


class NotElectricityMeterError(SettlementError):
    """A gas, heat or water meter: a demand-response shed is settled on electricity only."""


class EventOutsideDataError(SettlementError):
    """The event window is not covered by the meter's stored readings."""


class NaiveTimeError(SettlementError):
    """An event bound without a time zone (local clock times are ambiguous at DST changes)."""


def aware(t: datetime | pd.Timestamp, name: str) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    if ts.tz is None:
        raise NaiveTimeError(f"event {name} {ts} has no time zone: give an offset "
                             "(2019-11-14T18:00+01:00) or localise it first")
    return ts.tz_convert("UTC")


def _meter(conn: Connection, meter_code: str) -> MeterRef:
    refs = meter_refs(conn, None, [meter_code])
    if not refs:
        raise UnknownMeterError(f"unknown meter {meter_code!r}: not a stored meter series")
    usable = [r for r in refs if r.quantity in KW_FROM]
    if not usable:
        raise SettlementError(f"meter {meter_code!r} stores {refs[0].quantity!r}: settlement "
                              f"needs {' or '.join(KW_FROM)}")
    ref = usable[0]
    if ref.subkind not in (None, "electricity"):
        raise NotElectricityMeterError(
            f"meter {meter_code!r} is a {ref.subkind} meter: a demand-response shed is settled "
            "on an electricity meter only")
    return ref


def load_kw(readings: pd.DataFrame, quantity: str) -> pd.Series:
    """Mean power [kW] of each stored interval, indexed by its UTC start."""
    values = readings[C.VALUE].to_numpy(float)
    if quantity == "energy_kwh":
        kw = values / (readings[C.DURATION_S].to_numpy(float) / 3600.0)
    else:
        kw = values / 1000.0
    return pd.Series(kw, index=pd.DatetimeIndex(readings[C.START_UTC]), name="load_kw")


def settle_event(
    store: Store,
    meter_code: str,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    *,
    method: str = "x_of_y",
    x: int = 4,
    y: int = 5,
    exclude_days: Iterable[date] = (),
    timezone: str = "Europe/Paris",
    baseline_weeks: int = BASELINE_WEEKS,
) -> Settlement:
    """Settle the event [start, end) (tz-aware) on the stored meter ``meter_code``.

    ``timezone``: the zone of the event's clock times, of its reference days and of
    ``exclude_days`` (local dates of other events). The building's occupancy calendar gives
    the day types; when its zone differs from ``timezone`` it is read in ``timezone`` and a
    warning ``calendar_timezone_overridden`` says so. Errors: ``UnknownMeterError``,
    ``NotElectricityMeterError``, ``EventOutsideDataError``, ``NaiveTimeError``, and
    ``SettlementError`` for what ``settle`` refuses (too few days to fit, x > y, ...).
    """
    a, b = aware(start, "start"), aware(end, "end")
    if b <= a:
        raise SettlementError(f"event end {b} is not after its start {a}")
    excluded = sorted(set(exclude_days))
    with measured("flex_settlement", store, meter=meter_code, method=method,
                  event_start_utc=a.isoformat(), event_end_utc=b.isoformat()) as fp:
        extra: list[MVWarning] = []
        with store.read() as conn:
            ref = _meter(conn, meter_code)
            cal = OccupancyCalendar.model_validate_json(ref.calendar_json)
            if cal.timezone != timezone:
                extra.append(MVWarning(
                    code="calendar_timezone_overridden", level=WarningLevel.WARNING,
                    message_fr=f"Calendrier du bâtiment en {cal.timezone}, lu en {timezone}.",
                    message_en=f"Building calendar in {cal.timezone}, read in {timezone}.",
                    data={"calendar": cal.timezone, "used": timezone}))
                cal = cal.model_copy(update={"timezone": timezone})
            if ref.subkind is None:
                extra.append(MVWarning(
                    code="meter_kind_unknown", level=WarningLevel.WARNING,
                    message_fr="Le registre ne dit pas que ce compteur est électrique.",
                    message_en="The registry does not say this meter is electrical.",
                    data={"meter": meter_code}))
            day = a.tz_convert(timezone).date()
            back = timedelta(days=max(LOOKBACK_DAYS, 7 * baseline_weeks) + 1)
            lo = pd.Timestamp(day - back).tz_localize(timezone).tz_convert("UTC")
            readings = read_series(conn, ref.key, ref.quantity, lo, b)
            if readings.empty:
                raise EventOutsideDataError(
                    f"meter {meter_code!r}: no reading from {lo:%Y-%m-%d %H:%M} to "
                    f"{b:%Y-%m-%d %H:%M} UTC")
            first = readings[C.START_UTC].iloc[0]
            last = readings[C.START_UTC].iloc[-1] + pd.Timedelta(
                seconds=int(readings[C.DURATION_S].iloc[-1]))
            inside = readings[(readings[C.START_UTC] >= a) & (readings[C.START_UTC] < b)]
            if a < first or b > last or inside.empty:
                raise EventOutsideDataError(
                    f"event {a:%Y-%m-%d %H:%M} - {b:%Y-%m-%d %H:%M} UTC is outside the data "
                    f"of meter {meter_code!r} read for it ({first:%Y-%m-%d %H:%M} - "
                    f"{last:%Y-%m-%d %H:%M} UTC)")
            weather = None
            if method == "mv" and ref.weather_key is not None:
                pad = pd.Timedelta(hours=12)
                w = read_series(conn, ref.weather_key, TEMP, lo - pad, b + pad)
                if not w.empty:
                    weather = w.set_index(C.START_UTC)[[C.VALUE]].rename(
                        columns={C.VALUE: TEMP})
        try:
            res = settle(load_kw(readings, ref.quantity), (a, b), method=method,  # type: ignore[arg-type]
                         calendar=cal, weather=weather, x=x, y=y, exclude=excluded,
                         baseline_weeks=baseline_weeks)
        except ValueError as exc:
            raise SettlementError(f"meter {meter_code!r}: {exc}") from exc
        res.warnings = extra + res.warnings
        if extra:  # the sentences count the warnings: rebuilt with the service's own
            res.sentence_fr, res.sentence_en = res.sentences()
        res.parameters.update(meter=meter_code, building=ref.building_code,
                              quantity=ref.quantity, load_kw_from=KW_FROM[ref.quantity],
                              weather_station=ref.weather_key if method == "mv" else None,
                              data_from_utc=lo.isoformat())
        fp.details.update(delivered_kw=res.delivered_kw, n_readings=len(readings))
    return res
