"""Diagnosis of the estate: every meter's hourly data and every zone's temperatures through
the detectors, findings stored.

For each building (or a chosen building, or chosen meters) the analysis window [start, end)
defaults to the last 12 full months of the building's data; the ``change.reference_days``
before it are the reference history the change rules compare with. Findings are written one
transaction per building, upserted by key (``store.findings``): a re-run on the same data
changes nothing and duplicates nothing. A series that cannot be diagnosed fails alone, with
the reason, and its stored findings are left as they were (nobody looked at them again). The
job is measured in the footprint ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, func, select, update

from sobriete.analytics.diagnostics import (
    DETECTOR_VERSIONS,
    DiagnosticSettings,
    MeterSeries,
    ZoneSeries,
    diagnose_meter,
    diagnose_zone,
)
from sobriete.analytics.mv.data import hourly_energy
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.findings import Finding
from sobriete.domain.portfolio import Building, Zone
from sobriete.services.building_energy import annual_kwh, heating_kwh
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import MeterRef, load_frames, meter_refs
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.estate import load_portfolio
from sobriete.services.store.findings import FindingCounts, save_findings
from sobriete.services.store.readings import read_series

YEAR = pd.DateOffset(months=12)
ZONE_TEMP = "temp_zone_c"
Closures = Mapping[str, Sequence[tuple[date, date]]]  # building code -> inclusive local dates


class UnknownBuildingError(SobrieteError):
    """A building code that is not in the stored registry."""


class UnknownMeterError(SobrieteError):
    """A meter key that is not a stored meter series."""


@dataclass
class DiagnosisOutcome:
    run_id: int
    n_series: int
    n_failed: int
    findings: list[Finding]  # found by this run, every building
    windows: dict[str, tuple[date, date]]  # building code -> analysis window [start, end)
    errors: dict[str, str] = field(default_factory=dict)  # series key -> why it failed
    new: int = 0
    updated: int = 0
    not_seen: int = 0


def buildings_by_code(conn: Connection) -> dict[str, Building]:
    pf = load_portfolio(conn)
    return {b.code: b for *_, b in pf.buildings()} if pf else {}


def check_building(known: Mapping[str, object], code: str | None) -> None:
    if code is not None and code not in known:
        listed = ", ".join(sorted(known)) or "none (import one: `sobriete import registry`)"
        raise UnknownBuildingError(f"unknown building {code!r}; buildings stored: {listed}")


def last_full_year(conn: Connection, series_ids: Sequence[int], timezone: str
                   ) -> tuple[date, date] | None:
    """The last 12 full local months of data of these series, None without readings. The
    month of the last reading counts only if the data reaches its end."""
    last = conn.execute(select(func.max(S.reading.c.start_s + S.reading.c.duration_s))
                        .where(S.reading.c.series_id.in_(list(series_ids)))).scalar()
    if last is None:
        return None
    local = pd.Timestamp(int(last), unit="s", tz="UTC").tz_convert(timezone)
    end = local.tz_localize(None).to_period("M").start_time.date()
    return (pd.Timestamp(end) - YEAR).date(), end


def _window(ids: list[int], conn, b: Building, start: date | None, end: date | None):
    if start and end:
        window = (start, end)
    elif start:
        window = (start, (pd.Timestamp(start) + YEAR).date())
    elif end:
        window = ((pd.Timestamp(end) - YEAR).date(), end)
    else:
        window = last_full_year(conn, ids, b.occupancy().timezone)
    if window and window[1] <= window[0]:
        raise SobrieteError(f"the analysis window must end after it starts ({window[0]} to "
                            f"{window[1]})")
    return window


def meter_series(conn: Connection, ref: MeterRef, b: Building, start: date, end: date,
                 history_days: int, closures: Sequence[tuple[date, date]] = (),
                 run: object | None = None) -> MeterSeries:
    """One meter as the detectors want it: hourly kWh and outdoor temperature from
    ``history_days`` before ``start`` to ``end`` (local dates), analysis from ``start``.
    ``run``: token under which meters of one station share its weather (``load_frames``)."""
    tz = b.occupancy().timezone
    lo = start - timedelta(days=history_days)
    if ref.weather_key is None:
        # Schedule rules need no weather: diagnose anyway, the temperature rules stay silent.
        readings = read_series(conn, ref.key, ref.quantity,
                               pd.Timestamp(lo, tz=tz).tz_convert("UTC"),
                               pd.Timestamp(end, tz=tz).tz_convert("UTC"))
        if readings.empty:
            raise SobrieteError(f"meter {ref.key!r}: no reading from {lo} to {end}")
        energy, temp = hourly_energy(readings), None
        warnings: tuple[str, ...] = (f"no weather station for building {b.code!r}: "
                                     "temperature-dependent rules not applied",)
    else:
        frame, warnings = load_frames(conn, ref, lo, end, "hourly", run=run)
        energy, temp = frame["energy_kwh"], frame["temp_air_c"]
    meter = next(m for m in b.meters if m.code == ref.key)
    return MeterSeries(building=b, meter=meter, energy_kwh=energy, temp_air_c=temp,
                       analysis_start=pd.Timestamp(start, tz=tz).tz_convert("UTC"),
                       closures=tuple(closures), warnings=tuple(warnings))


def zone_series(conn: Connection, b: Building, zone: Zone, start: date, end: date,
                closures: Sequence[tuple[date, date]] = (),
                heating: Mapping[str, float] | None = None) -> ZoneSeries | None:
    """A zone's temperature over [start, end) as hourly means (sensors are often irregular;
    the rules judge weekly means, which an hourly grid keeps), averaged over its temperature
    sensors. None when the zone has no temperature reading in the window."""
    tz = b.occupancy().timezone
    lo, hi = (pd.Timestamp(d, tz=tz).tz_convert("UTC") for d in (start, end))
    hourly = []
    for sensor in zone.sensors:
        if sensor.quantity != ZONE_TEMP:
            continue
        r = read_series(conn, sensor.code, ZONE_TEMP, lo, hi)
        if not r.empty:
            hourly.append(r.set_index(C.START_UTC)[C.VALUE].resample("h").mean())
    if not hourly:
        return None
    temp = pd.concat(hourly, axis=1).mean(axis=1).rename(ZONE_TEMP)
    z = ZoneSeries(building=b, zone=zone, temp_zone_c=temp, closures=tuple(closures))
    return replace(z, annual_heating_kwh=(heating or {}).get(z.carrier))


def _zone_heating(conn, b: Building, window, weather, run: object) -> dict[str, float] | None:
    """The building's heating kWh (from its baselines) that puts a figure on overheating."""
    return heating_kwh(conn, b, *window, annual_kwh(conn, b, *window), weather, run=run)


def _sensor_ids(conn: Connection, b: Building) -> list[int]:
    codes = [s.code for z in b.zones for s in z.sensors if s.quantity == ZONE_TEMP]
    return list(conn.execute(select(S.series.c.id).where(
        S.series.c.key.in_(codes), S.series.c.quantity == ZONE_TEMP)).scalars()) if codes else []


def diagnose(
    store: Store,
    *,
    building: str | None = None,
    meters: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    closures: Closures | None = None,
    settings: DiagnosticSettings | None = None,
    weather: str | dict[str, str] | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> DiagnosisOutcome:
    """Diagnose every meter and zone of the store (or of ``building``; only ``meters`` when
    given) and store the findings. ``closures``: declared closures per building code (the
    registry has none yet)."""
    s = settings or DiagnosticSettings()
    closures = closures or {}
    with measured("diagnosis", store) as fp:
        with store.read() as conn:
            known = buildings_by_code(conn)
            check_building(known, building)
            refs = meter_refs(conn, weather, list(meters) if meters else None)
            missing = sorted(set(meters or ()) - {r.key for r in refs})
            if missing:
                raise UnknownMeterError(f"unknown meter {', '.join(map(repr, missing))}: not a "
                                        "stored meter series")
            errors = {r.key: "the meter belongs to no building of the registry" for r in refs
                      if r.building_code not in known and building is None}
            # Per building: (series key, what to diagnose); zones only when no meter is chosen.
            work: dict[str, list[tuple[str, MeterRef | Zone]]] = {}
            windows: dict[str, tuple[date, date]] = {}
            for code, b in sorted(known.items()):
                if building not in (None, code):
                    continue
                mine = [r for r in refs if r.building_code == code]
                zones = [] if meters else [z for z in b.zones
                                           if any(x.quantity == ZONE_TEMP for x in z.sensors)]
                items = [(r.key, r) for r in mine] + [(z.code, z) for z in zones]
                ids = [r.series_id for r in mine] + ([] if meters else _sensor_ids(conn, b))
                if items:
                    work[code] = items
                if ids and (w := _window(ids, conn, b, start, end)):
                    windows[code] = w
        total = sum(len(v) for v in work.values())
        run_id = _open_run(store, s, building, meters, closures, windows, total + len(errors))
        out = DiagnosisOutcome(run_id, total + len(errors), 0, [], windows, errors)
        done = 0
        heating: dict[str, dict[str, float] | None] = {}  # building -> its heating kWh
        progress(0, total)
        for code, items in work.items():
            b, found, covered = known[code], [], set()
            for key, item in items:
                try:
                    if code not in windows:
                        raise SobrieteError(f"{key!r}: no reading stored")
                    window, closed = windows[code], closures.get(code, ())
                    with store.read() as conn:
                        if isinstance(item, Zone):
                            if code not in heating:  # once per building, even when None
                                heating[code] = _zone_heating(conn, b, window, weather, run_id)
                            z = zone_series(conn, b, item, *window, closed, heating[code])
                            found += diagnose_zone(z, s) if z else []
                        else:
                            found += diagnose_meter(meter_series(
                                conn, item, b, *window, history_days=s.change.reference_days,
                                closures=closed, run=run_id), s)
                    covered.add(key)
                except Exception as exc:  # noqa: BLE001 — one bad series must not stop the estate
                    out.errors[key] = f"{type(exc).__name__}: {exc}"
                done += 1
                progress(done, total)
            counts = _save_building(store, run_id, code, covered, found)
            out.findings += found
            out.new, out.updated = out.new + counts.new, out.updated + counts.updated
            out.not_seen += counts.not_seen
        out.n_failed = len(out.errors)
        _close_run(store, run_id, out)
        fp.details.update(run_id=run_id, series=out.n_series, findings=len(out.findings))
    return out


def _open_run(store: Store, s: DiagnosticSettings, building, meters, closures: Closures,
              windows: dict[str, tuple[date, date]], n: int) -> int:
    doc = {"building": building, "meters": list(meters or []),
           "windows": {k: [a.isoformat(), b.isoformat()] for k, (a, b) in windows.items()},
           "closures": {k: [[a.isoformat(), b.isoformat()] for a, b in v]
                        for k, v in closures.items()},
           "detector_versions": DETECTOR_VERSIONS, "settings": s.model_dump(mode="json")}
    with store.engine.begin() as conn:
        return conn.execute(S.diagnosis_run.insert().values(
            started_at=datetime.now(UTC), status="running", settings_json=json.dumps(doc),
            n_series=n, n_failed=0, n_findings=0)).inserted_primary_key[0]


def _save_building(store: Store, run_id: int, code: str, covered: set[str],
                   found: list[Finding]) -> FindingCounts:
    """All of one building's findings, or none of them."""
    with store.engine.begin() as conn:
        bid = conn.execute(select(S.building.c.id).where(S.building.c.code == code)).scalar_one()
        counts = save_findings(conn, run_id, bid, covered, found)
        conn.execute(update(S.diagnosis_run).where(S.diagnosis_run.c.id == run_id).values(
            n_findings=S.diagnosis_run.c.n_findings + counts.new + counts.updated))
    return counts


def _close_run(store: Store, run_id: int, out: DiagnosisOutcome) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(S.diagnosis_run).where(S.diagnosis_run.c.id == run_id).values(
            status="done", finished_at=datetime.now(UTC), n_failed=out.n_failed,
            errors_json=json.dumps(out.errors) if out.errors else None))


def latest_diagnosis(conn: Connection, building: str) -> tuple[int, tuple[date, date]] | None:
    """Id and analysis window of the latest finished diagnosis that covered ``building``."""
    rows = conn.execute(select(S.diagnosis_run.c.id, S.diagnosis_run.c.settings_json).where(
        S.diagnosis_run.c.status == "done").order_by(S.diagnosis_run.c.id.desc()))
    for run_id, doc in rows:
        w = json.loads(doc).get("windows", {}).get(building)
        if w:
            return run_id, (date.fromisoformat(w[0]), date.fromisoformat(w[1]))
    return None
