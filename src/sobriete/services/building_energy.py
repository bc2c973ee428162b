"""A building's yearly consumption per carrier from the store, and its heating part from the
stored M&V baselines: the two figures the advice layer sizes its savings with."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, func, select

from sobriete.analytics.diagnostics.base import CARRIER
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import Building, Meter, MeterKind
from sobriete.services.mv_inputs import load_frames, meter_refs
from sobriete.services.mv_run import load_model
from sobriete.services.store import schema as S


def energy_meters(b: Building) -> list[Meter]:
    """The meters of a building measuring an energy carrier (not water)."""
    return [m for m in b.meters if m.kind in CARRIER]


def _utc(d: date, b: Building) -> int:
    return int(pd.Timestamp(d, tz=b.occupancy().timezone).tz_convert("UTC").timestamp())


def annual_kwh(conn: Connection, b: Building, start: date, end: date) -> dict[str, float]:
    """kWh per carrier ("electricity", "gas", "heat") metered over local dates [start, end)."""
    out: dict[str, float] = {}
    for m in energy_meters(b):
        total = conn.execute(
            select(func.sum(S.reading.c.value))
            .join(S.series, S.series.c.id == S.reading.c.series_id)
            .where(S.series.c.key == m.code, S.series.c.quantity == m.quantity,
                   S.reading.c.start_s >= _utc(start, b), S.reading.c.start_s < _utc(end, b))
        ).scalar()
        if total is not None:
            carrier = CARRIER[MeterKind(m.kind)]
            out[carrier] = out.get(carrier, 0.0) + float(total)
    return out


def heating_kwh(conn: Connection, b: Building, start: date, end: date,
                annual: dict[str, float], weather=None,
                run: object | None = None) -> dict[str, float] | None:
    """The weather-dependent (heating) part per carrier over [start, end): the latest
    successful baseline of each meter replayed on that period's weather. None when no meter
    of the building has a baseline; a carrier is left out when its meter has none. ``run``:
    token under which the meters share their station's weather (``load_frames``)."""
    meters = {m.code: m for m in energy_meters(b)}
    refs = {r.series_id: r for r in meter_refs(conn, weather, list(meters))} if meters else {}
    fits = conn.execute(
        select(S.baseline_fit).where(S.baseline_fit.c.series_id.in_(list(refs)),
                                     S.baseline_fit.c.status == "ok")
        .order_by(S.baseline_fit.c.id.desc())).mappings().all()
    latest: dict[int, dict] = {}
    for f in fits:
        latest.setdefault(f["series_id"], f)
    out: dict[str, float] = {}
    for sid, f in latest.items():
        ref = refs[sid]
        try:
            frame, _ = load_frames(conn, ref, start, end, f["frequency"], run=run)
        except SobrieteError:
            continue  # no data or weather over the period: this carrier's split stays unknown
        pred = load_model(f["model_json"], f["result_json"]).predict(frame)
        carrier = CARRIER[MeterKind(meters[ref.key].kind)]
        out[carrier] = out.get(carrier, 0.0) + float(pred["heating_kwh"].clip(lower=0).sum())
    # A model may predict more heating than was metered (a warm, closed year): the heating part
    # can never exceed the carrier's consumption.
    return {c: min(v, annual.get(c, 0.0)) for c, v in out.items() if c in annual} or None
