"""`sobriete plan`: the next 48 h of heating of one stored building zone, explained.

From the store, for a building and one of its zones:

- the zone temperature (the zone's temperature sensor, ``temp_zone_c``), the heating power (a
  heat meter, an electricity meter of an electrically heated building, or the series named by
  the caller: which one and why is in the provenance) and the building's weather station
  (``temp_air_c``, and ``ghi_w_m2`` when stored) over the last ``days`` days (default 14);
- an RC model identified on them (``control.thermal.identify``), with its validation error and
  warnings; fewer than 7 days of data, or a series missing, is a typed ``PlanError`` naming the
  building, the zone and the series;
- the comfort envelope of the building's calendar (``control.comfort``);
- prices from the stored Tempo days (``tempo_day``) at the Tempo price table of
  ``services.plan_inputs`` (to confirm against the commune's contract), and EcoWatt orange /
  red hours (``ecowatt_hour``) as power caps;
- the weather forecast: the stored weather when it covers the horizon, else a persistence
  forecast (the last 48 h repeated) with a warning.

Then the plan (``control.optimiser.plan``), the building's own schedule simulated on the same
model and weather for comparison, and one plan row plus its first decision (advise: nothing is
sent) appended to the store's audit trail (``control_plan`` / ``control_decision``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from sobriete.control.audit import AuditRecord
from sobriete.control.comfort import comfort_envelope
from sobriete.control.interface import (
    STEP_S,
    Decision,
    Mode,
    Observation,
    ZoneDecision,
    ZoneObservation,
)
from sobriete.control.loop import with_internal_gains
from sobriete.control.optimiser import Plan, PlanSettings, plan
from sobriete.control.safety import fallback_decision, schedule_setpoint_c
from sobriete.control.simulator import RCSimulator, SimZone, run_schedule
from sobriete.control.thermal import Identification, identify
from sobriete.domain.numbers import fmt_fr
from sobriete.domain.portfolio import Building
from sobriete.services.footprint import measured
from sobriete.services.plan_inputs import (
    MAX_INPUT_GAP,
    STEP,
    STEP_H,
    TEMPO_EUR_PER_KWH,
    TEMPO_SOURCE,
    InsufficientDataError,
    Note,
    NoZoneTemperatureError,
    PlanError,
    PlanOptions,
    Sources,
    err_text,
    find_building,
    latest_reading_time,
    latest_zone_temperature,
    load_history,
    price_frame,
    resolve_sources,
    weather_forecast,
)
from sobriete.services.store import Store
from sobriete.services.store.control import PlanRow, insert_decision, insert_plan


@dataclass
class Context:
    """Everything a plan (or a control run) rests on, identified once."""

    building: Building
    sources: Sources
    identification: Identification
    history: pd.DataFrame  # 15-min grid: temp_zone_c, heating_power_w, temp_out_c, solar_w_m2
    settings: PlanSettings
    options: PlanOptions
    notes: list[Note]
    max_power_source: str
    max_power_source_fr: str

    def provenance(self) -> dict:
        ident = self.identification
        return {
            "sources": asdict(self.sources),
            "data_start_utc": ident.data_start_utc.isoformat(),
            "data_end_utc": ident.data_end_utc.isoformat(),
            "model": type(ident.model).__name__,
            "parameters": ident.parameters,
            "rmse_24h_c": _finite(ident.rmse_24h_c),
            "rmse_one_step_c": _finite(ident.rmse_one_step_c),
            "identification_warnings": [w.code for w in ident.warnings],
            "max_power_w": self.settings.max_power_w,
            "max_power_source": self.max_power_source,
            "max_power_source_fr": self.max_power_source_fr,
            "tempo_prices_eur_per_kwh": {f"{c}_{p}": f.value
                                         for (c, p), f in TEMPO_EUR_PER_KWH.items()},
            "tempo_prices_source": TEMPO_SOURCE,
            "co2_kg_per_kwh": self.options.co2_kg_per_kwh,
            "ecowatt_caps_fraction": {"red": self.options.ecowatt_red_cap_fraction,
                                      "orange": self.options.ecowatt_orange_cap_fraction},
        }


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


# -- the building's own schedule on the same model ----------------------------------------------

def schedule_run(ctx: Context, forecast: pd.DataFrame, temp0_c: float,
                 envelope: pd.DataFrame) -> pd.DataFrame:
    """The schedule (19 / 16 / 8 °C from the calendar, what the building does without the
    controller) simulated on the identified model over ``envelope``'s index: temp_c at each
    step start, power_w."""
    index = envelope.index
    weather = pd.concat([forecast, forecast.iloc[[-1]].set_axis([index[-1] + STEP])])
    model = ctx.identification.model
    occupied = set(index[envelope["occupied"].to_numpy(bool)])
    # The same unmetered gains as the plan's, so the comparison is like for like.
    sim = RCSimulator(ctx.building.code, [SimZone(ctx.sources.zone_code, model,
                                                  ctx.settings.max_power_w,
                                                  initial_temp_c=temp0_c,
                                                  internal_gain_w=model.q_int_w)],
                      weather, start_utc=index[0].to_pydatetime(),
                      occupancy=lambda t: pd.Timestamp(t) in occupied)
    setpoints = {t: schedule_setpoint_c(ctx.building, t.to_pydatetime())[0] for t in index}
    hist = run_schedule(sim, len(index), lambda t, _z: setpoints[pd.Timestamp(t)])
    z = ctx.sources.zone_code
    return pd.DataFrame({"temp_c": hist[f"{z}:temp_true_c"].to_numpy(),
                         "power_w": hist[f"{z}:heating_power_w"].to_numpy(),
                         "setpoint_c": [setpoints[t] for t in index]}, index=index)


# -- the use case -------------------------------------------------------------------------------

def prepare(store: Store, building_code: str, zone_code: str | None, at: pd.Timestamp | None,
            options: PlanOptions, *,
            not_after: pd.Timestamp | None = None) -> tuple[Context, pd.Timestamp]:
    """Sources, history and the identified model for a plan (or a run) starting at ``at``
    (default: the last zone temperature reading, on the 15-min grid, or ``not_after`` when
    that reading is later)."""
    with store.read() as conn:
        building = find_building(conn, building_code)
        src, notes = resolve_sources(conn, building, zone_code, options.heating_series)
        if at is None:
            last = latest_reading_time(conn, src)
            if last is None:
                raise NoZoneTemperatureError(err_text(building_code, src.zone_code,
                                                  f"sensor {src.temp_key!r} has no reading"))
            at = last if not_after is None else min(last, pd.Timestamp(not_after))
        at = pd.Timestamp(at).tz_convert("UTC").floor(STEP)
        history = load_history(conn, src, at, options.days)
    # The calendar's occupancy lets identification separate people and lighting from the
    # heating (unmetered gains otherwise bias R and C); the planner then forecasts them.
    history["occupied"] = comfort_envelope(building, history.index)["occupied"].astype(float)
    try:
        ident = identify(history, model="R2C2")
    except ValueError as exc:
        raise InsufficientDataError(err_text(building_code, src.zone_code,
                                         f"identification refused: {exc}")) from exc
    if options.max_power_kw is not None:
        max_w, how = options.max_power_kw * 1000.0, "given by the caller"
        how_fr = "donnée par l'utilisateur"
    else:
        max_w = float(np.ceil(history["heating_power_w"].max() / 100.0) * 100.0)
        how = "the highest 15-min heating power observed (installed power not in the registry)"
        how_fr = "maximum observé sur 15 min (puissance installée absente du registre)"
        notes.append(Note(
            "max_power_observed",
            f"Puissance installée inconnue : prise égale au maximum observé "
            f"({fmt_fr(max_w / 1000, 1)} kW).",
            f"Installed power unknown: taken as the highest observed ({max_w / 1000:.1f} kW)."))
    if not max_w > 0:
        raise InsufficientDataError(err_text(building_code, src.zone_code,
                                         f"heating series {src.heating_key!r} is zero over "
                                         "the data: nothing to learn the heating from"))
    for w in ident.warnings:
        notes.append(Note(f"model_{w.code}", f"Modèle : {w.message}", f"Model: {w.message}"))
    settings = PlanSettings(max_power_w=max_w)
    return Context(building, src, ident, history, settings, options, notes, how, how_fr), at


@dataclass
class PlanResult:
    building_code: str
    zone_code: str
    start_utc: datetime
    hours: int
    temp0_c: float
    temp0_time_utc: datetime
    plan: Plan
    schedule_cost_eur: float
    schedule_energy_kwh: float
    schedule_discomfort_kh: float
    plan_discomfort_kh: float
    forecast_source: str
    provenance: dict
    notes: list[Note]
    identification: Identification
    steps: pd.DataFrame = field(repr=False)  # per step: plan, schedule, band, prices, caps
    plan_id: int | None = None

    @property
    def gain_eur(self) -> float:
        return self.schedule_cost_eur - self.plan.cost_eur

    def title(self, lang: str = "fr") -> str:
        return (f"Plan de chauffage — {self.building_code} / {self.zone_code}" if lang == "fr"
                else f"Heating plan — {self.building_code} / {self.zone_code}")

    def headline(self, lang: str = "fr") -> str:
        """The plan's explanation, with the gain against the building's schedule."""
        p = self.plan
        if lang == "fr":
            text = " ".join(t for t in (p.explanation_fr, p.infeasible_reason_fr) if t)
            return (f"{text} ; économie prévue {fmt_fr(self.gain_eur, 2)} € par rapport au "
                    "programme du bâtiment")
        text = " ".join(t for t in (p.explanation_en, p.infeasible_reason_en) if t)
        return f"{text}; expected saving {self.gain_eur:.2f} EUR against the building schedule"

    def key_steps(self, max_rows: int = 24) -> list[dict]:
        """Spans of the plan where heating, tariff and occupation stay the same."""
        s = self.steps
        local = s.index.tz_convert("Europe/Paris")
        heating = s["power_plan_w"].to_numpy() > 1.0
        keys = list(zip(heating, s["tariff_label"], s["occupied"], np.isfinite(s["cap_w"]),
                        strict=True))
        out, a = [], 0
        for k in range(1, len(s) + 1):
            if k == len(s) or keys[k] != keys[a]:
                seg = s.iloc[a:k]
                out.append({
                    "start_local": local[a].strftime("%d/%m %H:%M"),
                    "end_local": (local[k - 1] + STEP).strftime("%d/%m %H:%M"),
                    "mean_power_kw": float(seg["power_plan_w"].mean() / 1000),
                    "temp_start_c": float(seg["temp_plan_c"].iloc[0]),
                    "temp_end_c": float(s["temp_plan_c"].iloc[min(k, len(s) - 1)]),
                    "price_eur_per_kwh": float(seg["price_eur_per_kwh"].iloc[0]),
                    "tariff_label": str(seg["tariff_label"].iloc[0]),
                    "occupied": bool(seg["occupied"].iloc[0]),
                    "cap_kw": _finite(float(seg["cap_w"].iloc[0]) / 1000),
                    "cost_eur": float((seg["power_plan_w"] / 1000 * STEP_H
                                       * seg["price_eur_per_kwh"]).sum()),
                })
                a = k
        return out[:max_rows]

    def to_dict(self) -> dict:
        p = self.plan
        return {
            "building": self.building_code, "zone": self.zone_code,
            "start_utc": self.start_utc.isoformat(), "hours": self.hours,
            "temp0_c": self.temp0_c, "temp0_time_utc": self.temp0_time_utc.isoformat(),
            "explanation_fr": self.headline("fr"), "explanation_en": self.headline("en"),
            "plan": {"cost_eur": p.cost_eur, "energy_kwh": p.energy_kwh, "peak_kw": p.peak_kw,
                     "co2_kg": p.co2_kg, "violation_kh": p.violation_kh,
                     "discomfort_kh": self.plan_discomfort_kh,
                     "occupied_mean_c": p.occupied_mean_c, "gain_vs_flat_eur": p.gain_eur,
                     "status": p.status, "solve_time_s": p.solve_time_s},
            "schedule": {"cost_eur": self.schedule_cost_eur,
                         "energy_kwh": self.schedule_energy_kwh,
                         "discomfort_kh": self.schedule_discomfort_kh},
            "gain_vs_schedule_eur": self.gain_eur,
            "forecast": self.forecast_source,
            "warnings": [asdict(n) for n in self.notes],
            "provenance": self.provenance,
            "key_steps": self.key_steps(),
            "plan_id": self.plan_id,
        }


def discomfort_kh(temps: np.ndarray, t_min: np.ndarray, occupied: np.ndarray) -> float:
    """K·h below the band's lower bound at occupied step starts."""
    return float((np.clip(t_min - temps, 0.0, None)[occupied]).sum() * STEP_H)


@dataclass
class Horizon:
    """What a plan over ``index`` rests on besides the model: forecast (with the internal
    gains), prices, comfort envelope, the initial state, and where they came from."""

    forecast: pd.DataFrame
    prices: pd.DataFrame
    envelope: pd.DataFrame
    x0: np.ndarray
    forecast_source: str
    price_provenance: dict
    notes: list[Note]


def horizon_inputs(ctx: Context, conn: Connection, index: pd.DatetimeIndex,
                   temp0_c: float) -> Horizon:
    forecast, fsource, notes = weather_forecast(conn, ctx.sources, ctx.history, index)
    prices, pprov, pnotes = price_frame(conn, index, ctx.options, ctx.settings.max_power_w)
    model = ctx.identification.model
    envelope = comfort_envelope(ctx.building, index)
    forecast = with_internal_gains(forecast, model, envelope)
    x0 = model.initial_state(temp0_c, float(forecast["temp_out_c"].iloc[0]))
    return Horizon(forecast, prices, envelope, x0, fsource, pprov, notes + pnotes)


def plan_zone(ctx: Context, conn: Connection, at: pd.Timestamp, temp0: tuple[pd.Timestamp, float],
              hours: int) -> tuple[Plan, pd.DataFrame, dict, str, list[Note]]:
    """One plan from ``at`` over ``hours``: the plan, its per-step frame (with the schedule's
    run), the price provenance, the forecast source and its notes."""
    n = int(hours * 3600 // STEP_S)
    index = pd.date_range(at, periods=n, freq=STEP)
    h = horizon_inputs(ctx, conn, index, temp0[1])
    forecast, prices, envelope = h.forecast, h.prices, h.envelope
    p = plan(ctx.identification.model, h.x0, forecast, envelope, prices, ctx.settings)
    sched = schedule_run(ctx, forecast, temp0[1], envelope)
    steps = pd.DataFrame({
        "temp_plan_c": p.steps["temp_c"], "power_plan_w": p.steps["power_w"],
        "temp_schedule_c": sched["temp_c"], "power_schedule_w": sched["power_w"],
        "t_min_c": envelope["t_min_c"].astype(float), "t_max_c": envelope["t_max_c"].astype(float),
        "occupied": envelope["occupied"].astype(bool),
        "price_eur_per_kwh": prices["price_eur_per_kwh"], "tariff_label": prices["tariff_label"],
        "tempo_color": prices["tempo_color"], "ecowatt_level": prices["ecowatt_level"],
        "cap_w": prices["max_power_w"], "temp_out_c": forecast["temp_out_c"],
        "red": (prices["tempo_color"] == "ROUGE") & (prices["tariff_label"] != ""),
        "shed": np.isfinite(prices["max_power_w"].to_numpy(float)),
    }, index=index)
    return p, steps, h.price_provenance, h.forecast_source, h.notes


def make_plan(store: Store, building_code: str, zone_code: str | None = None, *,
              at: datetime | pd.Timestamp | None = None, options: PlanOptions | None = None,
              save: bool = True) -> PlanResult:
    """Plan the next ``options.hours`` hours of ``building_code``'s zone from stored data and
    append the plan and its first decision (advise) to the store."""
    options = options or PlanOptions()
    if at is not None and pd.Timestamp(at).tz is None:
        raise PlanError(f"plan start {at} has no time zone")
    with measured("control_plan", store, building=building_code) as fp:
        ctx, at = prepare(store, building_code, zone_code, at, options)
        with store.read() as conn:
            temp0 = latest_zone_temperature(conn, ctx.sources, at)
            if temp0 is None or at - temp0[0] > MAX_INPUT_GAP:
                raise NoZoneTemperatureError(err_text(
                    building_code, ctx.sources.zone_code,
                    f"no reading of sensor {ctx.sources.temp_key!r} within 1 h before "
                    f"{at:%Y-%m-%d %H:%M} UTC: nothing to start the plan from"))
            p, steps, pprov, fsource, notes = plan_zone(ctx, conn, at, temp0, options.hours)
        occ = steps["occupied"].to_numpy(bool)
        t_min = steps["t_min_c"].to_numpy(float)
        sched_cost = float((steps["power_schedule_w"] / 1000 * STEP_H
                            * steps["price_eur_per_kwh"]).sum())
        notes = ctx.notes + notes
        if datetime.now(UTC) - at.to_pydatetime() > pd.Timedelta(hours=1):
            notes.append(Note(
                "data_not_current",
                f"Dernière mesure de la zone du {at.tz_convert('Europe/Paris'):%d/%m/%Y %H:%M} :"
                " le plan part de cette date, pas de maintenant.",
                f"Last zone reading at {at:%Y-%m-%d %H:%M} UTC: the plan starts then, not now."))
        provenance = {**ctx.provenance(), **pprov, "forecast": fsource,
                      "start_utc": at.isoformat(), "hours": options.hours,
                      "days_requested": options.days,
                      "temp0": {"time_utc": temp0[0].isoformat(), "temp_zone_c": temp0[1]},
                      "schedule": "building calendar: 19 °C occupied, 16 °C unoccupied, 8 °C "
                                  "closed 48 h or more (safety.schedule_setpoint_c), simulated "
                                  "on the identified model and the same weather"}
        result = PlanResult(
            building_code=building_code, zone_code=ctx.sources.zone_code,
            start_utc=at.to_pydatetime(), hours=options.hours, temp0_c=temp0[1],
            temp0_time_utc=temp0[0].to_pydatetime(), plan=p, schedule_cost_eur=sched_cost,
            schedule_energy_kwh=float(steps["power_schedule_w"].sum() / 1000 * STEP_H),
            schedule_discomfort_kh=discomfort_kh(steps["temp_schedule_c"].to_numpy(), t_min,
                                                 occ),
            plan_discomfort_kh=discomfort_kh(steps["temp_plan_c"].to_numpy(), t_min, occ),
            forecast_source=fsource, provenance=provenance, notes=notes,
            identification=ctx.identification, steps=steps)
        if save:
            result.plan_id = _save(store, ctx, result)
        fp.details.update(plan_id=result.plan_id, zone=result.zone_code)
    return result


def _save(store: Store, ctx: Context, r: PlanResult) -> int:
    """The plan and its first step's decision, in one transaction. Advise: the building keeps
    its own schedule; the proposal and why are recorded."""
    z = r.zone_code
    t = r.start_utc
    p = r.plan
    proposed = Decision(time_utc=t, building_code=r.building_code,
                        zones=(ZoneDecision(zone_code=z,
                                            heating_power_w=float(p.steps["power_w"].iloc[0])),),
                        reason_fr=r.headline("fr"), reason_en=r.headline("en"))
    applied = fallback_decision(ctx.building, t, zone_codes=(z,))
    obs = Observation(time_utc=r.temp0_time_utc, building_code=r.building_code,
                      temp_out_c=float(r.steps["temp_out_c"].iloc[0]),
                      zones=(ZoneObservation(zone_code=z, temp_zone_c=r.temp0_c),))
    record = AuditRecord.from_step(Mode.ADVISE, proposed, applied, [], obs)
    summary = {k: v for k, v in r.to_dict().items() if k not in ("provenance", "plan_id")}
    with store.engine.begin() as conn:
        pid = insert_plan(conn, PlanRow(r.building_code, z, "plan", t, len(r.steps),
                                        ctx.identification.model.to_json(), r.provenance,
                                        summary))
        insert_decision(conn, pid, record, z, driver="none")
    return pid
