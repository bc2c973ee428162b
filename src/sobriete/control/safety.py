"""The safety envelope: the last word between any plan and the building.

Whatever the optimiser proposes, ``SafetyEnvelope`` applies, in this order and per zone:

1. a person's manual override wins over the plan (still kept within the setpoint bounds
   and frost protection, which protect the building itself);
2. stale or missing data (no observation, an observation older than the staleness limit or
   from the future, no zone temperature, no plan for the zone) -> the building's own schedule
   from its calendar (19 °C occupied / 16 °C unoccupied / 8 °C closed 48 h or more, R.241-26
   and R.241-27 of the Code de l'énergie), in the same step;
3. setpoints clamped to [max(setpoint_min, frost protection), setpoint_max];
4. a shed (occupied zone more than ``shed_depth_k`` below the occupied setpoint) ended after
   ``max_shed_min``, and refused during ``min_recovery_min`` after the previous one;
5. the change against the last applied setpoint limited to ``max_change_k_per_step``
   (overrides and fallbacks are exempt: a person or the schedule must act at once);
6. heating power capped to [0, max power]; a power-only zone below frost protection gets
   full power.

Every change is an ``Intervention`` with a French and an English sentence. The state between
steps is an immutable ``SafetyState`` returned by ``step``; nothing is kept in globals.
Nothing here sends anything: ``dispatchable`` says whether a decision may leave, per ``Mode``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sobriete.analytics.calendar import occupancy
from sobriete.control.interface import (
    STEP_S,
    Decision,
    Mode,
    Observation,
    ZoneDecision,
    ZoneObservation,
)
from sobriete.domain.portfolio import Building

_STEP = timedelta(seconds=STEP_S)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class SafetySettings(_Frozen):
    """Limits no plan may cross. Defaults follow the Code de l'énergie (R.241-26/27)."""

    setpoint_min_c: float = Field(8.0, description="lowest setpoint ever applied [°C]")
    setpoint_max_c: float = Field(22.0, description="highest setpoint ever applied [°C]")
    frost_protection_c: float = Field(
        8.0, description="frost protection [°C]: never below, whatever the plan or a person says")
    max_change_k_per_step: float = Field(
        2.0, gt=0, description="largest setpoint change per control step [K] (rate limit)")
    max_shed_min: float = Field(120.0, gt=0, description="longest shed [min]")
    min_recovery_min: float = Field(
        60.0, ge=0, description="shortest pause between the end of a shed and the next [min]")
    shed_depth_k: float = Field(
        1.0, ge=0, description="an occupied zone more than this below the occupied setpoint "
        "is shed [K]")
    max_power_w: float = Field(
        50_000.0, ge=0, description="highest heating power per zone [W]")
    zone_max_power_w: dict[str, float] = Field(
        default_factory=dict, description="per-zone highest heating power [W], by zone code")
    staleness_s: float = Field(
        float(STEP_S), ge=0, description="oldest usable observation [s] (default: one step)")
    occupied_setpoint_c: float = Field(19.0, description="schedule, occupied [°C] (R.241-26)")
    unoccupied_setpoint_c: float = Field(
        16.0, description="schedule, unoccupied less than ``long_closure_h`` [°C] (R.241-27)")
    long_closure_h: float = Field(
        48.0, gt=0, description="unoccupied this long or more -> frost protection [h]")

    @model_validator(mode="after")
    def _coherent(self) -> SafetySettings:
        if self.setpoint_max_c < max(self.setpoint_min_c, self.frost_protection_c):
            raise ValueError("setpoint_max_c is below setpoint_min_c or frost_protection_c")
        if any(p < 0 for p in self.zone_max_power_w.values()):
            raise ValueError("zone_max_power_w must be >= 0")
        return self

    @property
    def lower_c(self) -> float:
        """The effective lowest setpoint [°C]: bounds and frost protection together."""
        return max(self.setpoint_min_c, self.frost_protection_c)

    def power_cap_w(self, zone_code: str) -> float:
        return self.zone_max_power_w.get(zone_code, self.max_power_w)

    def clamp_c(self, setpoint_c: float) -> float:
        return min(max(setpoint_c, self.lower_c), self.setpoint_max_c)


class Rule(StrEnum):
    MANUAL_OVERRIDE = "manual_override"
    FALLBACK = "fallback"
    SETPOINT_BOUNDS = "setpoint_bounds"
    FROST_PROTECTION = "frost_protection"
    RATE_LIMIT = "rate_limit"
    SHED_MAX_DURATION = "shed_max_duration"
    SHED_RECOVERY = "shed_recovery"
    POWER_CAP = "power_cap"


class Intervention(_Frozen):
    """One change the envelope made to the proposed decision, and why (FR/EN)."""

    rule: Rule
    zone_code: str | None = None  # None: the whole building
    quantity: str = "setpoint_c"  # "setpoint_c" [°C] or "heating_power_w" [W]
    before: float | None = None
    after: float | None = None
    text_fr: str
    text_en: str


class SafetyState(_Frozen):
    """What the envelope remembers between steps. Update only through the ``with_*`` methods,
    each of which returns a new state."""

    last_setpoints_c: dict[str, float] = Field(default_factory=dict)  # last applied, per zone
    shed_start_utc: dict[str, datetime] = Field(default_factory=dict)  # shed in progress
    shed_end_utc: dict[str, datetime] = Field(default_factory=dict)  # last shed's end
    last_fresh_obs_utc: datetime | None = None  # time of the last usable observation

    def with_setpoints(self, setpoints_c: Mapping[str, float]) -> SafetyState:
        return self.model_copy(
            update={"last_setpoints_c": {**self.last_setpoints_c, **setpoints_c}})

    def with_shed_started(self, zone_code: str, time_utc: datetime) -> SafetyState:
        return self.model_copy(
            update={"shed_start_utc": {**self.shed_start_utc, zone_code: time_utc}})

    def with_shed_ended(self, zone_code: str, time_utc: datetime) -> SafetyState:
        if zone_code not in self.shed_start_utc:
            return self
        starts = {z: t for z, t in self.shed_start_utc.items() if z != zone_code}
        return self.model_copy(update={
            "shed_start_utc": starts, "shed_end_utc": {**self.shed_end_utc, zone_code: time_utc}})

    def with_fresh_observation(self, time_utc: datetime) -> SafetyState:
        return self.model_copy(update={"last_fresh_obs_utc": time_utc})


class SafetyOutcome(_Frozen):
    """The result of one step: what to apply, what was changed, what to remember."""

    decision: Decision
    interventions: tuple[Intervention, ...] = ()
    state: SafetyState


def schedule_setpoint_c(
    building: Building,
    time_utc: datetime,
    settings: SafetySettings | None = None,
    closures: list[tuple[date, date]] | None = None,
) -> tuple[float, str]:
    """The schedule's setpoint [°C] at ``time_utc`` and its kind: "occupied", "unoccupied" or
    "closed" (unoccupied for ``long_closure_h`` or more, counting the whole closed span around
    ``time_utc`` as R.241-27 does)."""
    s = settings or SafetySettings()
    now = pd.Timestamp(_utc(time_utc)).tz_convert("UTC").floor(f"{STEP_S}s")
    n = math.ceil(s.long_closure_h * 3600 / STEP_S)
    grid = pd.date_range(now - n * _STEP, now + n * _STEP, freq=f"{STEP_S}s")
    occ = occupancy(building.occupancy(), grid, closures).occupied
    if occ[n]:
        return s.occupied_setpoint_c, "occupied"
    before, after = np.flatnonzero(occ[:n]), np.flatnonzero(occ[n + 1:])
    if len(before) == 0 or len(after) == 0:
        return s.frost_protection_c, "closed"  # no opening within long_closure_h on one side
    # Closed span: from the end of the last occupied step to the start of the next one.
    span_steps = (n + 1 + after[0]) - (before[-1] + 1)
    if span_steps * STEP_S >= s.long_closure_h * 3600:
        return s.frost_protection_c, "closed"
    return s.unoccupied_setpoint_c, "unoccupied"


_KIND_FR = {"occupied": "occupé", "unoccupied": "inoccupé", "closed": "fermé 48 h ou plus"}


def _schedule_reasons(sp: float, kind: str) -> tuple[str, str]:
    return (f"Programme du bâtiment ({_KIND_FR[kind]}) : consigne {sp:g} °C.",
            f"Building schedule ({kind}): setpoint {sp:g} °C.")


def _utc(t: datetime) -> datetime:
    # The interface promises aware UTC times; a naive one is read as UTC rather than crash
    # the loop that must keep the building safe.
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def fallback_decision(
    building: Building,
    time_utc: datetime,
    settings: SafetySettings | None = None,
    zone_codes: tuple[str, ...] | None = None,
    closures: list[tuple[date, date]] | None = None,
) -> Decision:
    """The building's own schedule for the step starting at ``time_utc``: no model, no data,
    only its calendar. Applied to ``zone_codes`` (default: the building's zones)."""
    s = settings or SafetySettings()
    sp, kind = schedule_setpoint_c(building, time_utc, s, closures)
    sp = s.clamp_c(sp)
    zones = zone_codes if zone_codes is not None else tuple(z.code for z in building.zones)
    reason_fr, reason_en = _schedule_reasons(sp, kind)
    return Decision(
        time_utc=time_utc,
        building_code=building.code,
        zones=tuple(ZoneDecision(zone_code=z, setpoint_c=sp) for z in zones),
        reason_fr=reason_fr,
        reason_en=reason_en,
        fallback=True,
    )


class Dispatch(StrEnum):
    NOT_SENT = "not_sent"  # advise: shown, never sent
    PENDING = "pending"  # approve: waits for a person
    SENT = "sent"


def dispatch_status(mode: Mode, approved: bool = False) -> Dispatch:
    """Not sent in advise, pending in approve until approved, sent otherwise."""
    mode = Mode(mode)
    if mode is Mode.ADVISE:
        return Dispatch.NOT_SENT
    if mode is Mode.APPROVE and not approved:
        return Dispatch.PENDING
    return Dispatch.SENT


def dispatchable(decision: Decision, mode: Mode, approved: bool = False) -> bool:
    """Whether ``decision`` may be sent to the building: never in advise, in approve only
    once a person approved it, always in automatic."""
    return dispatch_status(mode, approved) is Dispatch.SENT


def _finite(x: float | None) -> float | None:
    # Decisions built with model_construct skip validation: a NaN must not pass as a number.
    return x if x is not None and math.isfinite(x) else None


class SafetyEnvelope:
    """The safety rules of one building. Stateless: the state travels in ``SafetyState``."""

    def __init__(
        self,
        building: Building,
        settings: SafetySettings | None = None,
        closures: list[tuple[date, date]] | None = None,
    ) -> None:
        self.building = building
        self.settings = settings or SafetySettings()
        self.closures = closures

    def apply(
        self, proposed: Decision, obs: Observation | None, state: SafetyState
    ) -> tuple[Decision, list[Intervention]]:
        """The decision to apply instead of ``proposed``, and every change made to it."""
        out = self.step(proposed, obs, state)
        return out.decision, list(out.interventions)

    def _data_problem(
        self, now: datetime, obs: Observation | None, state: SafetyState
    ) -> tuple[str, str] | None:
        """Why the whole observation is unusable (FR, EN), or None if it is usable."""
        s = self.settings
        if obs is None:
            return "aucune observation", "no observation"
        if obs.building_code != self.building.code:
            return (f"observation d'un autre bâtiment ({obs.building_code})",
                    f"observation of another building ({obs.building_code})")
        age = (now - _utc(obs.time_utc)).total_seconds()
        if age > s.staleness_s:
            return (f"observation vieille de {age:.0f} s (limite {s.staleness_s:.0f} s)",
                    f"observation {age:.0f} s old (limit {s.staleness_s:.0f} s)")
        if age < 0:
            return ("observation datée après la décision (horloge ?)",
                    "observation dated after the decision (clock?)")
        last = state.last_fresh_obs_utc
        if last is not None and _utc(obs.time_utc) < _utc(last):
            # A replayed older observation would make the plan act on the past.
            return ("observation plus ancienne que la précédente",
                    "observation older than the previous one")
        return None

    def step(
        self, proposed: Decision, obs: Observation | None, state: SafetyState
    ) -> SafetyOutcome:
        """Apply every rule to ``proposed`` (see the module docstring for the order)."""
        s = self.settings
        now = _utc(proposed.time_utc)
        problem = self._data_problem(now, obs, state)
        if problem is None and obs is not None:
            state = state.with_fresh_observation(_utc(obs.time_utc))
        if proposed.building_code != self.building.code:
            problem = problem or (f"plan d'un autre bâtiment ({proposed.building_code})",
                                  f"plan for another building ({proposed.building_code})")
            planned: dict[str, ZoneDecision] = {}
        else:
            planned = {z.zone_code: z for z in proposed.zones}
        observed: dict[str, ZoneObservation] = (
            {z.zone_code: z for z in obs.zones} if obs is not None else {})
        codes = list(dict.fromkeys(
            [z.code for z in self.building.zones] + list(planned) + list(observed)))

        schedule_c, kind = schedule_setpoint_c(self.building, now, s, self.closures)
        occupied_by_calendar = kind == "occupied"
        comfort_c = s.clamp_c(s.occupied_setpoint_c)

        zones: list[ZoneDecision] = []
        interventions: list[Intervention] = []
        applied_sp: dict[str, float] = {}
        any_fallback = False
        for code in codes:
            zo = observed.get(code)
            zd = planned.get(code)
            override = _finite(zo.manual_override_c) if zo is not None else None
            if override is not None:
                # A person's setpoint wins over the plan, the rate limit and any shed.
                sp = s.clamp_c(override)
                interventions.append(Intervention(
                    rule=Rule.MANUAL_OVERRIDE, zone_code=code,
                    before=_finite(zd.setpoint_c) if zd else None, after=override,
                    text_fr=f"Zone {code} : consigne manuelle {override:g} °C, prioritaire.",
                    text_en=f"Zone {code}: manual setpoint {override:g} °C takes precedence."))
                self._bound(code, override, sp, interventions)
                state = state.with_shed_ended(code, now)
                zones.append(ZoneDecision(zone_code=code, setpoint_c=sp))
                applied_sp[code] = sp
                continue

            why = problem
            if why is None and (zo is None or _finite(zo.temp_zone_c) is None):
                why = ("température de zone absente", "zone temperature missing")
            sp_plan = _finite(zd.setpoint_c) if zd is not None else None
            pw_plan = _finite(zd.heating_power_w) if zd is not None else None
            if why is None and sp_plan is None and pw_plan is None:
                why = ("aucun plan pour la zone", "no plan for the zone")
            if why is not None:
                # The schedule, in this very step: no ramp, the data cannot be trusted.
                sp = s.clamp_c(schedule_c)
                any_fallback = True
                interventions.append(Intervention(
                    rule=Rule.FALLBACK, zone_code=code, before=sp_plan, after=sp,
                    text_fr=f"Zone {code} : {why[0]} ; retour au programme du bâtiment "
                            f"({_KIND_FR[kind]}, {sp:g} °C).",
                    text_en=f"Zone {code}: {why[1]}; back to the building schedule "
                            f"({kind}, {sp:g} °C)."))
                state = state.with_shed_ended(code, now)
                zones.append(ZoneDecision(zone_code=code, setpoint_c=sp))
                applied_sp[code] = sp
                continue

            sp = None
            if sp_plan is not None:
                sp = s.clamp_c(sp_plan)
                self._bound(code, sp_plan, sp, interventions)
                occupied = occupied_by_calendar or (zo is not None and zo.occupied is True)
                sp, state = self._shed(code, sp, occupied, comfort_c, now, state, interventions)
                sp = self._rate_limit(code, sp, state, interventions)
                applied_sp[code] = sp
            pw = None
            if pw_plan is not None:
                pw = self._power(code, pw_plan, zo, interventions)
            zones.append(ZoneDecision(zone_code=code, setpoint_c=sp, heating_power_w=pw))

        state = state.with_setpoints(applied_sp)
        if any_fallback:
            sched_fr, sched_en = _schedule_reasons(s.clamp_c(schedule_c), kind)
            reason_fr = " ".join(filter(None, [sched_fr, proposed.reason_fr]))
            reason_en = " ".join(filter(None, [sched_en, proposed.reason_en]))
            if problem is not None:
                reason_fr = f"Données inutilisables ({problem[0]}). {reason_fr}"
                reason_en = f"Unusable data ({problem[1]}). {reason_en}"
        else:
            reason_fr, reason_en = proposed.reason_fr, proposed.reason_en
        decision = Decision(
            time_utc=now, building_code=self.building.code, zones=tuple(zones),
            reason_fr=reason_fr, reason_en=reason_en,
            fallback=any_fallback or proposed.fallback)
        return SafetyOutcome(decision=decision, interventions=tuple(interventions), state=state)

    def _bound(self, code: str, before: float, after: float, out: list[Intervention]) -> None:
        if after == before:
            return
        s = self.settings
        if before < after and after == s.frost_protection_c:
            out.append(Intervention(
                rule=Rule.FROST_PROTECTION, zone_code=code, before=before, after=after,
                text_fr=f"Zone {code} : {before:g} °C relevé à la mise hors gel ({after:g} °C).",
                text_en=f"Zone {code}: {before:g} °C raised to frost protection ({after:g} °C)."))
        else:
            out.append(Intervention(
                rule=Rule.SETPOINT_BOUNDS, zone_code=code, before=before, after=after,
                text_fr=f"Zone {code} : consigne {before:g} °C ramenée dans "
                        f"[{s.lower_c:g}, {s.setpoint_max_c:g}] °C, soit {after:g} °C.",
                text_en=f"Zone {code}: setpoint {before:g} °C brought within "
                        f"[{s.lower_c:g}, {s.setpoint_max_c:g}] °C, to {after:g} °C."))

    def _shed(
        self, code: str, sp: float, occupied: bool, comfort_c: float, now: datetime,
        state: SafetyState, out: list[Intervention],
    ) -> tuple[float, SafetyState]:
        """End a shed that lasted ``max_shed_min``, refuse one during recovery."""
        s = self.settings
        if not occupied or sp >= comfort_c - s.shed_depth_k:
            return sp, state.with_shed_ended(code, now)
        start = state.shed_start_utc.get(code)
        if start is not None:
            elapsed_min = (now - start).total_seconds() / 60
            # A start in the future means an inconsistent state: end the shed, the safe side.
            if 0 <= elapsed_min < s.max_shed_min:
                return sp, state
            out.append(Intervention(
                rule=Rule.SHED_MAX_DURATION, zone_code=code, before=sp, after=comfort_c,
                text_fr=f"Zone {code} : délestage arrêté après {s.max_shed_min:g} min, "
                        f"retour vers {comfort_c:g} °C.",
                text_en=f"Zone {code}: shed ended after {s.max_shed_min:g} min, back towards "
                        f"{comfort_c:g} °C."))
            return comfort_c, state.with_shed_ended(code, now)
        end = state.shed_end_utc.get(code)
        if end is not None:
            since_min = (now - end).total_seconds() / 60
            if since_min < s.min_recovery_min:
                out.append(Intervention(
                    rule=Rule.SHED_RECOVERY, zone_code=code, before=sp, after=comfort_c,
                    text_fr=f"Zone {code} : nouveau délestage refusé, {s.min_recovery_min:g} min "
                            "de récupération après le précédent.",
                    text_en=f"Zone {code}: new shed refused, {s.min_recovery_min:g} min of "
                            "recovery after the previous one."))
                return comfort_c, state
        return sp, state.with_shed_started(code, now)

    def _rate_limit(
        self, code: str, sp: float, state: SafetyState, out: list[Intervention]
    ) -> float:
        s = self.settings
        last = state.last_setpoints_c.get(code)
        if last is None or not math.isfinite(last):
            return sp
        step = s.max_change_k_per_step
        limited = min(max(sp, last - step), last + step)
        # Bounds beat the ramp (a last setpoint from older, wider settings).
        limited = s.clamp_c(limited)
        if limited != sp:
            out.append(Intervention(
                rule=Rule.RATE_LIMIT, zone_code=code, before=sp, after=limited,
                text_fr=f"Zone {code} : {sp:g} °C demandé, {limited:g} °C appliqué "
                        f"(au plus {step:g} K par pas depuis {last:g} °C).",
                text_en=f"Zone {code}: {sp:g} °C asked, {limited:g} °C applied "
                        f"(at most {step:g} K per step from {last:g} °C)."))
        return limited

    def _power(
        self, code: str, pw: float, zo: ZoneObservation | None, out: list[Intervention]
    ) -> float:
        s = self.settings
        cap = s.power_cap_w(code)
        temp = _finite(zo.temp_zone_c) if zo is not None else None
        if temp is not None and temp < s.frost_protection_c and pw < cap:
            # Power control has no setpoint to clamp: below frost protection, heat fully.
            out.append(Intervention(
                rule=Rule.FROST_PROTECTION, zone_code=code, quantity="heating_power_w",
                before=pw, after=cap,
                text_fr=f"Zone {code} : {temp:g} °C sous la mise hors gel, pleine puissance.",
                text_en=f"Zone {code}: {temp:g} °C below frost protection, full power."))
            return cap
        capped = min(max(pw, 0.0), cap)
        if capped != pw:
            out.append(Intervention(
                rule=Rule.POWER_CAP, zone_code=code, quantity="heating_power_w",
                before=pw, after=capped,
                text_fr=f"Zone {code} : puissance {pw:g} W ramenée dans [0, {cap:g}] W.",
                text_en=f"Zone {code}: power {pw:g} W brought within [0, {cap:g}] W."))
        return capped
