"""Flexibility as the API serves it: capacity, dispatch and settlement restricted to the
buildings a principal may act on (``flex_read`` to look, ``flex_write`` to dispatch).

Scopes are communes, territories or the whole portfolio, so the buildings in view are whole
communes: capacity is computed commune by commune with ``flex_portfolio.portfolio_capacity``
(one call for a portfolio-wide principal) and summed again over what is in view.

A dispatch splits the request over the buildings where the caller has ``flex_write`` only,
with the burden history of every stored event (fairness is portfolio-wide), and is written
under the caller's event id. Re-posting an id replaces that event, but only when every
building of the stored event is one the caller may dispatch: an aggregator of one commune
cannot overwrite the allocations of another (``EventConflictError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from sobriete.control.flex import CapacitySum, aggregate
from sobriete.control.flex_meter import MeterFlexSettings
from sobriete.domain.access import Action, Principal
from sobriete.domain.errors import SobrieteError
from sobriete.services.flex_portfolio import (
    FIT_DAYS,
    HALF_LIFE_DAYS,
    CapacityReport,
    DispatchError,
    DispatchReport,
    FlexError,
    Scope,
    allocation_rows,
    event_doc,
    event_row,
    portfolio_capacity,
    split_in,
)
from sobriete.services.flex_run import SettlementError, aware, settle_event
from sobriete.services.footprint import measured
from sobriete.services.scoped import BuildingRef, building_refs, scope_clause
from sobriete.services.store import Store
from sobriete.services.store import flex as Q


class EventConflictError(FlexError):
    """The event id is taken by an event with buildings outside the caller's scope."""


class NothingInScopeError(FlexError):
    """No building where the caller may do what it asks."""


@dataclass
class ScopedCapacity:
    report: CapacityReport
    communes: list[str]  # communes in view, each computed whole
    refs: dict[str, BuildingRef] = field(default_factory=dict)
    portfolio_wide: bool = False


MAX_WINDOW = pd.Timedelta(days=7)  # an effacement lasts hours: longer is a mistake


def window(start: datetime, end: datetime) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        a, b = aware(start, "start"), aware(end, "end")
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise FlexError(f"window {start} - {end} out of the dates handled: {exc}") from None
    if b <= a:
        raise FlexError(f"window end {b} is not after its start {a}")
    if b - a > MAX_WINDOW:
        raise FlexError(f"window {a} - {b} is longer than {MAX_WINDOW.days} days: give the "
                        "hours of one event")
    return a, b


def _empty_sum(a: pd.Timestamp, b: pd.Timestamp) -> CapacitySum:
    return CapacitySum("portfolio", a, b, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, ())


def capacity_in_view(store: Store, who: Principal, action: Action, start: datetime,
                     end: datetime, *, commune: str | None = None,
                     forecast_temp_c: float | None = None) -> ScopedCapacity:
    """Capacity of the buildings where ``who`` may do ``action`` (optionally one commune)."""
    a, b = window(start, end)
    with store.read() as conn:
        refs = building_refs(conn, who, action, commune=commune)
        portfolio_wide = scope_clause(who, action) is None
    communes = sorted({r.commune_code for r in refs})
    if portfolio_wide:  # one call; ``_in_scope`` would refuse an unknown commune
        scopes = [Scope(commune=commune)] if refs else []
    else:
        scopes = [Scope(commune=c) for c in communes]
    s = MeterFlexSettings()
    reports = [portfolio_capacity(store, a, b, scope=sc, settings=s,
                                  forecast_temp_c=forecast_temp_c) for sc in scopes]
    caps = [c for r in reports for c in r.capacities]
    names_c = {k: v for r in reports for k, v in r.commune_names.items()}
    names_b = {k: v for r in reports for k, v in r.building_names.items()}
    rep = CapacityReport(a, b, Scope(commune=commune), caps,
                         aggregate(caps, "commune") if caps else {},
                         aggregate(caps, "portfolio")["portfolio"] if caps else _empty_sum(a, b),
                         names_c, names_b, s, FIT_DAYS)
    return ScopedCapacity(rep, communes, {r.code: r for r in refs}, portfolio_wide)


def dispatch_in_view(store: Store, who: Principal, event_id: str, start: datetime,
                     end: datetime, request_kw: float, *, signal: str | None = None,
                     forecast_temp_c: float | None = None, dry_run: bool = False,
                     half_life_days: float | None = HALF_LIFE_DAYS,
                     ) -> tuple[DispatchReport, ScopedCapacity]:
    """Split ``request_kw`` over the buildings where ``who`` has ``flex_write`` and store it
    as ``event_id`` (unless ``dry_run``)."""
    event_id = (event_id or "").strip()
    if not event_id or len(event_id) > 64:
        raise DispatchError(f"event id {event_id!r}: give 1 to 64 characters")
    if not np.isfinite(request_kw) or request_kw <= 0:
        raise DispatchError(f"event {event_id!r}: the request must be > 0 kW, got "
                            f"{request_kw}")
    with store.read() as conn:
        _check_replaceable(conn, who, event_id)
    view = capacity_in_view(store, who, Action.FLEX_WRITE, start, end,
                            forecast_temp_c=forecast_temp_c)
    if not view.report.capacities:
        raise NothingInScopeError(f"{who.login!r} may dispatch no building: no flex_write "
                                  "grant on a commune that has buildings")
    with measured("flex_dispatch", store, event_id=event_id, request_kw=request_kw,
                  dry_run=dry_run, communes=view.communes, by=who.login) as fp:
        try:
            rep = _write(store, who, event_id, view, request_kw, signal, half_life_days,
                         dry_run)
        except IntegrityError as exc:
            raise DispatchError(f"event {event_id!r} was written by another dispatch at the "
                                "same time: post it again (it will replace that one)") from exc
        fp.details.update(served_kw=rep.dispatch.served_kw, unmet_kw=rep.dispatch.unmet_kw,
                          n_buildings=len(rep.allocations))
    return rep, view


def _check_replaceable(conn: Connection, who: Principal, event_id: str) -> None:
    stored = Q.load_event(conn, event_id)
    if stored is None:
        return
    mine = {r.code for r in building_refs(conn, who, Action.FLEX_WRITE)}
    theirs = {x.building_code for x in stored.allocations}
    if not theirs <= mine or (not theirs and scope_clause(who, Action.FLEX_WRITE) is not None):
        raise EventConflictError(
            f"event {event_id!r} already exists with buildings outside your scope: choose "
            "another event id (only a dispatcher of all its buildings may replace it)")


def _write(store: Store, who: Principal, event_id: str, view: ScopedCapacity,
           request_kw: float, signal: str | None, half_life_days: float | None,
           dry_run: bool) -> DispatchReport:
    """History read, split and event written in one transaction (the ownership of a replaced
    event checked again inside it)."""
    cap = view.report
    with store.engine.begin() as conn:
        _check_replaceable(conn, who, event_id)
        d, allocs, history = split_in(conn, cap, event_id, request_kw, half_life_days)
        replaced = Q.load_event(conn, event_id) is not None
        # buildings in view with nothing to shed are stored at 0 kW: the event stays visible
        # to (and replaceable by) whoever dispatched it, even when nothing could be asked
        idle = [Q.AllocationRow(c.building_code, c.shed_kw, 0.0, 0.0, 0.0, 0.0, c.method,
                                c.confidence)
                for c in cap.capacities if c.building_code not in d.capacity_kw]
        if not dry_run:
            doc = event_doc(d, cap, half_life_days, fit_days=cap.fit_days, signal=signal,
                            dispatched_by=who.login)
            Q.save_event(conn, event_row(event_id, cap, d, request_kw,
                                         {**Scope().to_json(), "communes": view.communes},
                                         doc), allocation_rows(allocs) + idle)
    return DispatchReport(event_id, cap, d, allocs, len(history), replaced, dry_run,
                          half_life_days)


def _local_days(windows: list[tuple[pd.Timestamp, pd.Timestamp]], tz: str) -> set[date]:
    days: set[date] = set()
    for a, b in windows:
        d0 = pd.Timestamp(a).tz_convert(tz).date()
        d1 = (pd.Timestamp(b) - pd.Timedelta(seconds=1)).tz_convert(tz).date()
        days.update(pd.date_range(d0, d1, freq="D").date)
    return days


def settle_in_view(store: Store, who: Principal, event_id: str, *, method: str = "x_of_y",
                   timezone: str = "Europe/Paris") -> dict[str, Any] | None:
    """Settlement of each electricity meter of the event's buildings in view that were asked
    to shed; the days of the other stored events are left out of the baselines. None when
    the event is not visible. A meter that cannot be settled is listed with why."""
    clause = scope_clause(who, Action.FLEX_READ)
    with store.read() as conn:
        found = Q.visible_events(conn, clause, event_id=event_id)
        if not found:
            return None
        ev = found[0]
        allocs = [x for x in Q.visible_allocations(conn, clause, ev["id"])
                  if x["allocated_kw"] > 0]
        meters = Q.electricity_meters(conn, [x["building_code"] for x in allocs])
        others = Q.event_windows(conn, exclude_event=event_id)
    a, b = pd.Timestamp(ev["start_utc"]), pd.Timestamp(ev["end_utc"])
    exclude = _local_days(others, timezone) - _local_days([(a, b)], timezone)
    rows = []
    for x in allocs:
        keys = meters.get(x["building_code"], [])
        if not keys:
            rows.append({**_alloc_head(x), "meter": None, "error":
                         "pas de compteur électrique / no electricity meter"})
        for key in keys:
            try:
                s = settle_event(store, key, a, b, method=method, exclude_days=exclude,
                                 timezone=timezone)
            except (SettlementError, SobrieteError) as exc:
                rows.append({**_alloc_head(x), "meter": key, "error": str(exc)})
                continue
            rows.append({**_alloc_head(x), "meter": key, "error": None,
                         "delivered_kw": s.delivered_kw, "delivered_kwh": s.delivered_kwh,
                         "half_width_kw": s.half_width_kw, "interval_kw": list(s.interval_kw),
                         "significant": s.significant, "confidence": s.confidence,
                         "sentence_fr": s.sentence_fr, "sentence_en": s.sentence_en,
                         "warnings": [w.model_dump(mode="json") for w in s.warnings],
                         "parameters": s.parameters})
    delivered = [r["delivered_kw"] for r in rows if r.get("delivered_kw") is not None]
    return {"event": ev, "rows": rows, "method": method,
            "excluded_days": sorted(d.isoformat() for d in exclude),
            "delivered_kw": float(sum(delivered)) if delivered else None,
            "asked_kw": float(sum(x["allocated_kw"] for x in allocs))}


def _alloc_head(x: dict) -> dict:
    return {"building_code": x["building_code"], "commune_code": x["commune_code"],
            "allocated_kw": x["allocated_kw"]}
