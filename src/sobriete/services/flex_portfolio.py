"""Shed capacity of every building in scope for one window, and the fair dispatch of a
portfolio request (``sobriete flex capacity`` / ``sobriete flex dispatch``).

Capacity: a building with a measured zone temperature gets the capacity of its identified
thermal model (``services.flex_model``: the model of ``sobriete plan`` planned with a power
cap); any other building, or one whose model cannot be had (a warning says why), is
estimated from its electricity meters only (``control.flex_meter``): the meters' hourly load
over the ``fit_days`` before the window (summed when a building has several), the building's
weather station (registry, or the only station stored) for the fit and for the window's
outdoor temperature, its calendar, activity (time constant) and heating system (a building
heated by gas, oil, wood or a heat network sheds no electric heating: 0 kW). A building that
cannot be estimated (no electricity meter, no weather, too little data) gets 0 kW and a
warning that says why; the others go on. Capacities are summed per commune and for the scope.

Dispatch: ``control.flex.dispatch`` on those capacities, with the burden history of the
events stored before this one (``flex_event`` / ``flex_allocation``, migration 0006), so that
the buildings asked least recently, relative to their capacity, are asked first. The event,
its allocations and each building's expected discomfort and rebound are written in one
transaction under the caller's event id: dispatching the same id again replaces them
(history excludes the event itself, so the result is the same), nothing is half-written.
Expected discomfort and rebound scale with the share of its capacity a building is asked
(the meter-only drop and rebound are linear in that share).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from sobriete.analytics.mv.data import hourly_input
from sobriete.control.flex import (
    Capacity,
    CapacitySum,
    CapacityWarning,
    Dispatch,
    aggregate,
    dispatch,
)
from sobriete.control.flex_meter import (
    ENERGY,
    MeterFlexError,
    MeterFlexSettings,
    conditions_for,
    fit_heating,
    meter_capacity,
    no_capacity,
)
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import Building, MeterKind
from sobriete.services.flex_model import has_zone_sensor, model_capacity
from sobriete.services.flex_run import aware
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import TEMP, meter_refs
from sobriete.services.plan_inputs import PlanError
from sobriete.services.store import Store
from sobriete.services.store.estate import load_portfolio
from sobriete.services.store.flex import AllocationRow, load_event, save_event, shed_history
from sobriete.services.store.readings import read_series

FIT_DAYS = 365
HALF_LIFE_DAYS = 90.0
_PAD = pd.Timedelta(hours=12)  # weather read beyond both ends, for interpolation


class FlexError(SobrieteError):
    """A capacity or dispatch request that cannot be served (the message says why)."""


class ScopeError(FlexError):
    """An unknown commune, territory or building code, or an empty store."""


class DispatchError(FlexError):
    """A bad dispatch request (event id, kW)."""


@dataclass(frozen=True)
class Scope:
    commune: str | None = None
    territory: str | None = None
    building: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"commune": self.commune, "territory": self.territory,
                "building": self.building}


@dataclass
class CapacityReport:
    """Capacities of the buildings in scope over one window, with their sums."""

    window_start_utc: pd.Timestamp
    window_end_utc: pd.Timestamp
    scope: Scope
    capacities: list[Capacity]  # sorted by commune, then building
    by_commune: dict[str, CapacitySum]
    total: CapacitySum
    commune_names: dict[str, str]
    building_names: dict[str, str]
    settings: MeterFlexSettings
    fit_days: int

    def to_json(self) -> dict[str, Any]:
        def summ(s: CapacitySum) -> dict[str, Any]:
            return {"group": s.group, "n_buildings": s.n_buildings, "shed_kw": s.shed_kw,
                    "shed_kwh": s.shed_kwh, "rebound_kwh": s.rebound_kwh,
                    "net_saving_kwh": s.net_saving_kwh, "discomfort_kh": s.violation_kh,
                    "buildings": list(s.building_codes)}
        return {"window_start_utc": self.window_start_utc.isoformat(),
                "window_end_utc": self.window_end_utc.isoformat(),
                "scope": self.scope.to_json(), "fit_days": self.fit_days,
                "buildings": [c.to_json() for c in self.capacities],
                "communes": {k: {**summ(v), "name": self.commune_names.get(k, "")}
                             for k, v in self.by_commune.items()},
                "total": summ(self.total), "settings": self.settings.model_dump(mode="json")}


@dataclass(frozen=True)
class Allocation:
    building_code: str
    commune_code: str
    capacity_kw: float
    allocated_kw: float
    share: float  # allocated / capacity
    shed_kwh: float
    discomfort_kh: float  # expected K·h of indoor drop in occupation
    max_drop_k: float
    rebound_kwh: float
    method: str
    confidence: float
    burden_before_h: float
    burden_after_h: float


@dataclass
class DispatchReport:
    event_id: str
    capacity: CapacityReport
    dispatch: Dispatch
    allocations: list[Allocation]
    history_records: int  # past allocations read as burden history
    replaced: bool  # an event of the same id was stored before (now replaced)
    dry_run: bool
    half_life_days: float | None

    def to_json(self) -> dict[str, Any]:
        d = self.dispatch
        return {"event_id": self.event_id, "dry_run": self.dry_run, "replaced": self.replaced,
                "window_start_utc": d.window_start_utc.isoformat(),
                "window_end_utc": d.window_end_utc.isoformat(), "request_kw": d.request_kw,
                "served_kw": d.served_kw, "unmet_kw": d.unmet_kw,
                "jain_before": d.jain_before, "jain_after": d.jain_after,
                "half_life_days": self.half_life_days, "history_records": self.history_records,
                "explanation_fr": d.explanation_fr, "explanation_en": d.explanation_en,
                "allocations": [a.__dict__ for a in self.allocations],
                "capacity": self.capacity.to_json()}


def _window(start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    a, b = aware(start, "start"), aware(end, "end")
    if b <= a:
        raise FlexError(f"window end {b} is not after its start {a}")
    return a, b


def _in_scope(conn: Connection, scope: Scope) -> list[tuple[str, str, str, Building]]:
    """(territory, commune code, commune name, building) in scope, sorted."""
    pf = load_portfolio(conn)
    if pf is None:
        raise ScopeError("the store holds no estate: import a registry first "
                         "(sobriete import registry ...)")
    rows = [(t.code, c.code, c.name, b) for t, c, _s, b in pf.buildings()]
    for name, value, have in (
            ("territory", scope.territory, {r[0] for r in rows}),
            ("commune", scope.commune, {r[1] for r in rows}),
            ("building", scope.building, {r[3].code for r in rows})):
        if value is not None and value not in have:
            raise ScopeError(f"unknown {name} {value!r}: stored are "
                             f"{', '.join(sorted(have)) or 'none'}")
    rows = [r for r in rows if (scope.territory in (None, r[0]))
            and (scope.commune in (None, r[1])) and (scope.building in (None, r[3].code))]
    return sorted(rows, key=lambda r: (r[1], r[3].code))


def _warning(code: str, fr: str, en: str, **data) -> CapacityWarning:
    return CapacityWarning(code=code, message_fr=fr, message_en=en, data=data)


def _energy_readings(readings: pd.DataFrame, quantity: str) -> pd.DataFrame:
    if quantity == "power_w":  # mean W over the interval -> kWh
        readings = readings.copy()
        readings[C.VALUE] = readings[C.VALUE] / 1000 * readings[C.DURATION_S] / 3600
    return readings


def _building_capacity(conn: Connection, b: Building, commune: str,
                       window: tuple[pd.Timestamp, pd.Timestamp], s: MeterFlexSettings,
                       fit_days: int, forecast_temp_c: float | None) -> Capacity:
    a, z = window
    elec = [m.code for m in b.meters if m.kind is MeterKind.ELECTRICITY]
    if not elec:
        return no_capacity(b.code, commune, window, _warning(
            "no_electricity_meter", "pas de compteur électrique dans le registre.",
            "no electricity meter in the registry."))
    refs = [r for r in meter_refs(conn, None, elec) if r.quantity in ("energy_kwh", "power_w")]
    if not refs:
        return no_capacity(b.code, commune, window, _warning(
            "no_readings", f"aucun relevé stocké pour {', '.join(elec)}.",
            f"no stored readings for {', '.join(elec)}."))
    station = refs[0].weather_key
    if station is None:
        return no_capacity(b.code, commune, window, _warning(
            "no_weather_station",
            "aucune station météo pour ce bâtiment (weather_station du registre).",
            "no weather station for this building (registry weather_station)."))
    cal = b.occupancy()
    lo = a - pd.Timedelta(days=fit_days)
    prov: dict[str, Any] = {"meters": [r.key for r in refs], "weather_station": station}
    try:
        weather = read_series(conn, station, TEMP, lo - _PAD, z + _PAD)
        wf = weather.set_index(C.START_UTC)[[C.VALUE]].rename(columns={C.VALUE: TEMP})
        frames = []
        for r in refs:
            rd = read_series(conn, r.key, r.quantity, lo, a)
            if rd.empty:
                raise MeterFlexError(f"building {b.code!r}: meter {r.key!r} has no reading "
                                     f"in the {fit_days} days before the window")
            frames.append(hourly_input(_energy_readings(rd, r.quantity), wf, cal)[0])
        hourly = frames[0]
        if len(frames) > 1:  # several meters: their sum, on hours where all of them read
            energies = pd.concat([f[ENERGY] for f in frames], axis=1)
            hourly = hourly.reindex(energies.index)
            hourly[ENERGY] = energies.sum(axis=1, min_count=len(frames))
        fit = fit_heating(hourly, s, building_code=b.code)
        cond = conditions_for(wf, cal, window, s)
        missing = cond[TEMP].isna()
        prov["outdoor"] = f"observed ({station})"
        if missing.any():
            if forecast_temp_c is None:
                raise MeterFlexError(
                    f"building {b.code!r}: station {station!r} has no temperature for "
                    f"{int(missing.sum())} of {len(cond)} steps of the window: give the "
                    "forecast outdoor temperature (--temp-ext)")
            cond.loc[missing, TEMP] = forecast_temp_c
            prov["outdoor"] = (f"forecast {forecast_temp_c} °C given" if missing.all() else
                               f"observed ({station}), forecast {forecast_temp_c} °C given "
                               f"for {int(missing.sum())} steps")
        return meter_capacity(fit, cond, window, s, activity=b.activity,
                              heating_system=b.heating_system, commune_code=commune,
                              timezone=cal.timezone, extra_provenance=prov)
    except (MeterFlexError, SobrieteError) as exc:
        return no_capacity(b.code, commune, window, _warning(
            "not_computed", f"estimation impossible ({exc}).",
            f"cannot be estimated ({exc}).", error=str(exc)), prov)


def _capacity(store: Store, conn: Connection, b: Building, commune: str,
              window: tuple[pd.Timestamp, pd.Timestamp], s: MeterFlexSettings, fit_days: int,
              forecast_temp_c: float | None) -> Capacity:
    """The thermal model's capacity when the building has a measured zone, else (or when the
    model cannot be had, said in a warning) the meters'."""
    why_not = None
    if has_zone_sensor(b):
        try:
            return model_capacity(store, b, commune, window)
        except (PlanError, ValueError, RuntimeError) as exc:
            why_not = _warning("model_unavailable",
                               f"modèle thermique inutilisable ({exc}) : estimation par le "
                               "compteur.",
                               f"thermal model unusable ({exc}): estimated from the meter.",
                               error=str(exc))
    cap = _building_capacity(conn, b, commune, window, s, fit_days, forecast_temp_c)
    return cap if why_not is None else dataclasses.replace(cap,
                                                           warnings=(why_not, *cap.warnings))


def portfolio_capacity(
    store: Store,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    *,
    scope: Scope | None = None,
    settings: MeterFlexSettings | None = None,
    fit_days: int = FIT_DAYS,
    forecast_temp_c: float | None = None,
) -> CapacityReport:
    """Capacity of every building in ``scope`` over [start, end) (tz-aware; a naive time is
    ``NaiveTimeError``), summed per commune and in total. ``forecast_temp_c`` [°C] fills the
    window's outdoor temperature where the station has none (a future window)."""
    a, b = _window(start, end)
    scope = scope or Scope()
    s = settings or MeterFlexSettings()
    with measured("flex_capacity", store, window_start_utc=a.isoformat(),
                  window_end_utc=b.isoformat(), **scope.to_json()) as fp:
        with store.read() as conn:
            rows = _in_scope(conn, scope)
            caps = [_capacity(store, conn, bld, commune, (a, b), s, fit_days,
                              forecast_temp_c) for _t, commune, _n, bld in rows]
        by_commune = aggregate(caps, "commune") if caps else {}
        total = (aggregate(caps, "portfolio")["portfolio"] if caps else CapacitySum(
            "portfolio", a, b, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, ()))
        fp.details.update(n_buildings=len(caps), shed_kw=total.shed_kw)
    return CapacityReport(a, b, scope, caps, by_commune, total,
                          {r[1]: r[2] for r in rows}, {r[3].code: r[3].name for r in rows},
                          s, fit_days)


def dispatch_event(
    store: Store,
    event_id: str,
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    request_kw: float,
    *,
    scope: Scope | None = None,
    dry_run: bool = False,
    half_life_days: float | None = HALF_LIFE_DAYS,
    settings: MeterFlexSettings | None = None,
    fit_days: int = FIT_DAYS,
    forecast_temp_c: float | None = None,
) -> DispatchReport:
    """Split ``request_kw`` over the buildings in scope for [start, end) and store it as
    ``event_id`` (unless ``dry_run``). Re-dispatching an id replaces that event."""
    event_id = (event_id or "").strip()
    if not event_id or len(event_id) > 64:
        raise DispatchError(f"event id {event_id!r}: give 1 to 64 characters")
    if not np.isfinite(request_kw) or request_kw <= 0:
        raise DispatchError(f"event {event_id!r}: the request must be > 0 kW, got "
                            f"{request_kw}")
    cap = portfolio_capacity(store, start, end, scope=scope, settings=settings,
                             fit_days=fit_days, forecast_temp_c=forecast_temp_c)
    with measured("flex_dispatch", store, event_id=event_id, request_kw=request_kw,
                  dry_run=dry_run) as fp:
        try:
            d, allocs, history, replaced = _dispatch_in_transaction(
                store, event_id, cap, request_kw, half_life_days, dry_run, fit_days)
        except IntegrityError as exc:  # the same new id written meanwhile by another run
            raise DispatchError(f"event {event_id!r} was written by another dispatch at the "
                                "same time: run it again (it will replace that one)") from exc
        fp.details.update(served_kw=d.served_kw, unmet_kw=d.unmet_kw,
                          jain_after=d.jain_after, n_buildings=len(allocs))
    return DispatchReport(event_id, cap, d, allocs, len(history), replaced, dry_run,
                          half_life_days)


def split_in(conn: Connection, cap: CapacityReport, event_id: str, request_kw: float,
             half_life_days: float | None) -> tuple[Dispatch, list[Allocation], list]:
    """The request split over the capacities, against the shed history read on ``conn`` (the
    caller's transaction, so that the event it writes next is judged on the same history)."""
    a, b = cap.window_start_utc, cap.window_end_utc
    hours = (b - a).total_seconds() / 3600
    by_code = {c.building_code: c for c in cap.capacities}
    history = shed_history(conn, a, exclude_event=event_id)
    d = dispatch(request_kw, (a, b), {k: c.shed_kw for k, c in by_code.items()},
                 history, half_life_days=half_life_days)
    allocs = []
    for code in sorted(d.capacity_kw):
        c = by_code[code]
        kw = d.allocation_kw[code]
        share = kw / c.shed_kw if c.shed_kw > 0 else 0.0
        allocs.append(Allocation(
            code, c.commune_code, c.shed_kw, kw, share, kw * hours,
            share * c.violation_kh, share * float(c.provenance.get("max_drop_k", 0.0)),
            share * c.rebound_kwh, c.method, c.confidence,
            d.burden_before_h[code], d.burden_after_h[code]))
    return d, allocs, history


def event_doc(d: Dispatch, cap: CapacityReport, half_life_days: float | None, **extra) -> dict:
    """What a stored event keeps of its dispatch: explanations, settings, capacities."""
    return {"explanation_fr": d.explanation_fr, "explanation_en": d.explanation_en,
            "half_life_days": half_life_days, **extra,
            "capacities": {c.building_code: c.to_json() for c in cap.capacities},
            "settings": cap.settings.model_dump(mode="json")}


def event_row(event_id: str, cap: CapacityReport, d: Dispatch, request_kw: float,
              scope: dict, doc: dict) -> dict:
    return {"event_id": event_id, "start_utc": cap.window_start_utc,
            "end_utc": cap.window_end_utc, "request_kw": float(request_kw),
            "served_kw": d.served_kw, "unmet_kw": d.unmet_kw, "jain_before": d.jain_before,
            "jain_after": d.jain_after, "scope": scope, "doc": doc}


def allocation_rows(allocs: list[Allocation]) -> list[AllocationRow]:
    return [AllocationRow(x.building_code, x.capacity_kw, x.allocated_kw, x.shed_kwh,
                          x.discomfort_kh, x.rebound_kwh, x.method, x.confidence)
            for x in allocs]


def _dispatch_in_transaction(store: Store, event_id: str, cap: CapacityReport,
                             request_kw: float, half_life_days: float | None, dry_run: bool,
                             fit_days: int,
                             ) -> tuple[Dispatch, list[Allocation], list, bool]:
    """History read, request split and event written in one transaction."""
    with store.engine.begin() as conn:
        d, allocs, history = split_in(conn, cap, event_id, request_kw, half_life_days)
        replaced = load_event(conn, event_id) is not None
        if not dry_run:
            save_event(conn, event_row(event_id, cap, d, request_kw, cap.scope.to_json(),
                                       event_doc(d, cap, half_life_days, fit_days=fit_days)),
                       allocation_rows(allocs))
    return d, allocs, history, replaced
