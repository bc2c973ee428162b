"""`sobriete control run`: the closed loop on a stored building.

Each step reads the zone's latest temperature from the store, plans, passes the safety
envelope, appends the decision to the store (``control_decision``) and to a JSON Lines file,
and hands it to a driver (dry run by default) when the mode lets it leave. The same loop on
the simulated school is ``services.control_simulate`` (`sobriete control simulate`).
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sobriete.control.audit import AuditLog, AuditRecord
from sobriete.control.drivers import Driver, DriverError
from sobriete.control.interface import STEP_S, Decision, Mode, Observation, ZoneObservation
from sobriete.control.loop import run_closed_loop
from sobriete.control.safety import SafetyEnvelope, SafetySettings, dispatchable
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.services.footprint import measured
from sobriete.services.plan_inputs import (
    PlanOptions,
    latest_zone_temperature,
    price_frame,
    weather_forecast,
)
from sobriete.services.plan_run import Context, prepare
from sobriete.services.store import Store
from sobriete.services.store.control import PlanRow, insert_decision, insert_plan
from sobriete.services.store.readings import read_series


class ControlRunError(SobrieteError):
    """A control run refused before its first step (the message says what to change)."""


@dataclass(frozen=True)
class RunOptions:
    """``at``: replay from this time on stored data, without waiting between steps; None: live,
    from the current quarter-hour, one step every ``interval_s`` of wall-clock time."""

    mode: Mode = Mode.ADVISE
    steps: int | None = None  # or ``until``; neither: one step
    until: datetime | None = None
    interval_s: int = STEP_S
    at: datetime | None = None
    apply: bool = False  # required, with mode automatic, for any driver but the dry run
    jsonl: Path | None = None
    plan: PlanOptions = field(default_factory=lambda: PlanOptions(hours=24))


@dataclass(frozen=True)
class StepOutcome:
    index: int  # 1-based
    n_steps: int
    record: AuditRecord
    decision_id: int
    sent: bool  # handed to the driver
    driver_error: str | None


@dataclass
class RunResult:
    plan_id: int
    building_code: str
    zone_code: str
    mode: Mode
    driver: str
    start_utc: datetime
    interval_s: int
    steps: list[StepOutcome]
    plans_solved: int
    solve_time_s: float
    fallbacks: int
    notes: list
    provenance: dict
    jsonl: Path | None

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.steps)

    def to_dict(self) -> dict:
        return {
            "plan_id": self.plan_id, "building": self.building_code, "zone": self.zone_code,
            "mode": str(self.mode), "driver": self.driver,
            "start_utc": self.start_utc.isoformat(), "interval_s": self.interval_s,
            "steps": len(self.steps), "plans_solved": self.plans_solved,
            "solve_time_s": self.solve_time_s, "fallbacks": self.fallbacks, "sent": self.sent,
            "decisions": [{"decision_id": s.decision_id,
                           "time_utc": s.record.time_utc.isoformat(),
                           "dispatch": str(s.record.dispatch),
                           "fallback": s.record.applied.fallback, "sent": s.sent,
                           "driver_error": s.driver_error,
                           "applied": s.record.applied.model_dump(mode="json")["zones"],
                           "explanation_fr": s.record.explanation_fr,
                           "explanation_en": s.record.explanation_en} for s in self.steps],
            "warnings": [asdict(n) for n in self.notes], "provenance": self.provenance,
            "jsonl": str(self.jsonl) if self.jsonl else None,
        }


class StoreBuilding:
    """The building as the loop sees it: observed through the store (what MQTT ingestion and
    imports wrote), reached through ``driver``. ``time_utc`` is the step being decided; the
    observation keeps the time of its reading, so a stale one is seen as stale."""

    def __init__(self, store: Store, ctx: Context, driver: Driver, mode: Mode,
                 start: pd.Timestamp, interval_s: int, *, live: bool,
                 sleep: Callable[[float], None] = _time.sleep,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store, self.ctx, self.driver, self.mode = store, ctx, driver, mode
        self._t = pd.Timestamp(start)
        self.interval = pd.Timedelta(seconds=interval_s)
        self.live, self._sleep, self._clock = live, sleep, clock
        self.last_sent = False
        self.last_error: str | None = None

    @property
    def time_utc(self) -> datetime:
        return self._t.to_pydatetime()

    def observation(self) -> Observation:
        if self.live:  # wait for the step's time (never before it: the data would be early)
            wait = (self._t.to_pydatetime() - self._clock()).total_seconds()
            if wait > 0:
                self._sleep(wait)
        src = self.ctx.sources
        with self.store.read() as conn:
            zone = latest_zone_temperature(conn, src, self._t)
            out = read_series(conn, src.weather_key, "temp_air_c",
                              self._t - pd.Timedelta(hours=6), self._t + pd.Timedelta(seconds=1))
        temp_out = float(out[C.VALUE].iloc[-1]) if not out.empty else None
        if zone is None:
            return Observation(time_utc=self.time_utc, building_code=self.ctx.building.code,
                               temp_out_c=temp_out,
                               zones=(ZoneObservation(zone_code=src.zone_code),))
        return Observation(time_utc=zone[0].to_pydatetime(),
                           building_code=self.ctx.building.code, temp_out_c=temp_out,
                           zones=(ZoneObservation(zone_code=src.zone_code,
                                                  temp_zone_c=zone[1]),))

    def step(self, decision: Decision) -> None:
        """Send ``decision`` if the mode lets it leave; then move to the next step."""
        self.last_sent, self.last_error = False, None
        if dispatchable(decision, self.mode):
            try:
                report = self.driver.send(decision)
                self.last_sent = True
                if report.errors:
                    self.last_error = "; ".join(str(e) for e in report.errors)
            except DriverError as exc:  # nothing written: the building keeps its schedule
                self.last_error = str(exc)
        self._t = self._t + self.interval


def n_steps(options: RunOptions, start: pd.Timestamp) -> int:
    if options.steps is not None and options.until is not None:
        raise ControlRunError("give --steps or --until, not both")
    if options.until is not None:
        until = pd.Timestamp(options.until)
        if until.tz is None:
            raise ControlRunError(f"--until {options.until} has no time zone")
        n = math.ceil((until - start).total_seconds() / options.interval_s)
        if n < 1:
            raise ControlRunError(f"--until {until.isoformat()} is not after the first step "
                                  f"{start.isoformat()}")
        return n
    n = 1 if options.steps is None else options.steps
    if n < 1:
        raise ControlRunError(f"steps must be at least 1, not {n}")
    return n


def check_dispatch(driver: Driver, options: RunOptions) -> None:
    """Anything but the dry run reaches a real building: automatic mode and --apply both."""
    if driver.name == "dry-run":
        return
    if options.mode is not Mode.AUTOMATIC or not options.apply:
        raise ControlRunError(
            f"driver {driver.name!r} writes to a real building: it needs --mode automatic and "
            f"--apply (given: mode {options.mode}, apply {options.apply}); use --driver dry-run "
            "to see the decisions without sending them")


def run_on_store(store: Store, building_code: str, zone_code: str | None, driver: Driver,
                 options: RunOptions,
                 progress: Callable[[StepOutcome], None] | None = None, *,
                 sleep: Callable[[float], None] = _time.sleep,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> RunResult:
    """The receding-horizon loop on a stored building (see the module docstring). Every step
    is one ``control_decision`` row (its own transaction) and one JSONL line, written as soon
    as the step is applied: a run stopped half-way keeps every step it completed."""
    check_dispatch(driver, options)
    if options.interval_s <= 0 or options.interval_s % STEP_S:
        raise ControlRunError(f"interval {options.interval_s} s: a positive multiple of "
                              f"{STEP_S} s (the planning step) is needed")
    live = options.at is None
    if live:
        start = pd.Timestamp(clock()).tz_convert("UTC").floor(f"{STEP_S}s")
    else:
        start = pd.Timestamp(options.at)
        if start.tz is None:
            raise ControlRunError(f"--at {options.at} has no time zone")
        start = start.tz_convert("UTC").floor(f"{STEP_S}s")
    n = n_steps(options, start)
    with measured("control_run", store, building=building_code, mode=str(options.mode),
                  driver=driver.name, steps=n) as fp:
        ctx, start = prepare(store, building_code, zone_code, start, options.plan)
        horizon_steps = int(options.plan.hours * 3600 // STEP_S)
        last = start + pd.Timedelta(seconds=options.interval_s * (n - 1))
        span = pd.date_range(start, last + pd.Timedelta(seconds=STEP_S * horizon_steps),
                             freq=f"{STEP_S}s")
        with store.read() as conn:
            forecast, fsource, fnotes = weather_forecast(conn, ctx.sources, ctx.history, span)
            prices, pprov, pnotes = price_frame(conn, span, ctx.options,
                                                ctx.settings.max_power_w)
        notes = ctx.notes + fnotes + pnotes
        provenance = {**ctx.provenance(), **pprov, "forecast": fsource, "mode": str(options.mode),
                      "driver": driver.name, "interval_s": options.interval_s,
                      "replay": not live, "steps": n}
        with store.engine.begin() as conn:
            plan_id = insert_plan(conn, PlanRow(
                building_code, ctx.sources.zone_code, "run", start.to_pydatetime(),
                horizon_steps, ctx.identification.model.to_json(), provenance,
                {"steps": n, "warnings": [asdict(x) for x in notes]}))
        world = StoreBuilding(store, ctx, driver, options.mode, start, options.interval_s,
                              live=live, sleep=sleep, clock=clock)
        safety = SafetyEnvelope(ctx.building, SafetySettings(
            max_power_w=ctx.settings.max_power_w))
        log = AuditLog.from_jsonl(options.jsonl) if options.jsonl else AuditLog()
        outcomes: list[StepOutcome] = []

        def on_step(record: AuditRecord) -> None:
            with store.engine.begin() as conn:
                did = insert_decision(conn, plan_id, record, ctx.sources.zone_code,
                                      driver=driver.name, driver_error=world.last_error)
            if options.jsonl is not None:
                log.append(record)
                log.to_jsonl(options.jsonl)
            out = StepOutcome(len(outcomes) + 1, n, record, did, world.last_sent,
                              world.last_error)
            outcomes.append(out)
            if progress is not None:
                progress(out)

        res = run_closed_loop(world, ctx.building, ctx.sources.zone_code,
                              ctx.identification.model, forecast, prices, n, ctx.settings,
                              horizon_steps=horizon_steps, safety=safety, mode=options.mode,
                              on_step=on_step)
        fp.details.update(plan_id=plan_id, fallbacks=res.fallbacks)
    return RunResult(plan_id, building_code, ctx.sources.zone_code, options.mode, driver.name,
                     start.to_pydatetime(), options.interval_s, outcomes, res.plans_solved,
                     res.solve_time_s, res.fallbacks, notes, provenance, options.jsonl)
