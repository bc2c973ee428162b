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
- prices from the stored Tempo days (``tempo_day``) at the Tempo price table below (to
  confirm against the commune's contract), and EcoWatt orange / red hours (``ecowatt_hour``)
  as power caps;
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
from sqlalchemy import Connection, select

from sobriete.control.audit import AuditRecord
from sobriete.control.comfort import comfort_envelope, runs
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
from sobriete.control.thermal import USABLE_DAYS, Identification, identify
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.factors import CO2_KG_PER_KWH, Factor
from sobriete.domain.numbers import fmt_fr
from sobriete.domain.portfolio import Building
from sobriete.services.footprint import measured
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.control import PlanRow, insert_decision, insert_plan
from sobriete.services.store.estate import load_portfolio
from sobriete.services.store.readings import read_series

STEP = pd.Timedelta(seconds=STEP_S)
STEP_H = STEP_S / 3600
MIN_DAYS = USABLE_DAYS  # fewer days of data: refused (one weekday/weekend cycle at least)
TEMP_OUT, SOLAR, TEMP_ZONE = "temp_air_c", "ghi_w_m2", "temp_zone_c"
PERSISTENCE_H = 48
MAX_INPUT_GAP = pd.Timedelta(hours=1)  # bridged in power and weather; longer gaps cut the data
WEATHER_GAP = pd.Timedelta(hours=3)  # weather samples further apart are not interpolated
ELECTRIC_HEATING = ("electric_resistance", "heat_pump")
TEMPO_HP = (6, 22)  # Tempo peak hours 06:00-22:00; a Tempo day runs 06:00 to 06:00 next day

# The Tempo option of the regulated tariff (TRV), all taxes, from 1 February 2024 — defaults
# to be replaced by the commune's contract prices (they change every February and August).
_TEMPO_SOURCE = ("EDF regulated Tempo tariff, all taxes, from 2024-02-01 (6-36 kVA); to "
                 "confirm against the commune's contract")
TEMPO_SOURCE_FR = ("tarif réglementé Tempo d'EDF TTC au 01/02/2024 (6-36 kVA), à confirmer "
                   "avec le contrat de la commune")
TEMPO_EUR_PER_KWH: dict[tuple[str, str], Factor] = {
    (color, period): Factor(f"tempo_{color.lower()}_{period.lower()}", value, "EUR/kWh",
                            _TEMPO_SOURCE, "2024-02-01", to_confirm=True)
    for (color, period), value in {
        ("BLEU", "HC"): 0.1296, ("BLEU", "HP"): 0.1609,
        ("BLANC", "HC"): 0.1486, ("BLANC", "HP"): 0.1894,
        ("ROUGE", "HC"): 0.1568, ("ROUGE", "HP"): 0.7562,
    }.items()
}
_LABEL_FR = {("ROUGE", "HP"): "jour rouge Tempo", ("BLANC", "HP"): "jour blanc Tempo",
             ("BLEU", "HP"): "heures pleines Tempo (bleu)"}


class PlanError(SobrieteError):
    """A plan that cannot be made; the message names the building, zone and series."""


class UnknownBuildingError(PlanError):
    pass


class ZoneChoiceError(PlanError):
    """Unknown zone, or several zones and none chosen."""


class InsufficientDataError(PlanError):
    """Data missing or too short to identify the zone's model."""


class NoZoneTemperatureError(InsufficientDataError):
    pass


class NoHeatingSeriesError(InsufficientDataError):
    pass


class NoWeatherError(InsufficientDataError):
    pass


class TooFewDaysError(InsufficientDataError):
    pass


@dataclass(frozen=True)
class Note:
    """A warning carried with the result (FR / EN)."""

    code: str
    fr: str
    en: str


@dataclass(frozen=True)
class Sources:
    """Which stored series feed the plan, and why these ones."""

    building_code: str
    zone_code: str
    temp_key: str
    heating_key: str
    heating_quantity: str  # energy_kwh | power_w
    heating_kind: str | None  # heat | electricity | None (a series the caller named)
    heating_choice: str  # how the heating series was chosen (EN)
    heating_choice_fr: str
    weather_key: str
    solar: bool  # ghi_w_m2 stored for the station


@dataclass(frozen=True)
class PlanOptions:
    """Caller's choices; every price and cap is stated in the result's provenance."""

    hours: int = 48
    days: int = 14
    heating_series: str | None = None
    max_power_kw: float | None = None  # None: the highest heating power observed
    ecowatt_red_cap_fraction: float = 0.0  # of the installed power, EcoWatt level 3 hours
    ecowatt_orange_cap_fraction: float = 0.5  # EcoWatt level 2 hours
    co2_kg_per_kwh: float = CO2_KG_PER_KWH["electricity_heating"].value


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
            "tempo_prices_source": _TEMPO_SOURCE,
            "co2_kg_per_kwh": self.options.co2_kg_per_kwh,
            "ecowatt_caps_fraction": {"red": self.options.ecowatt_red_cap_fraction,
                                      "orange": self.options.ecowatt_orange_cap_fraction},
        }


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _err(building: str, zone: str | None, what: str) -> str:
    return f"building {building!r}" + (f", zone {zone!r}" if zone else "") + f": {what}"


# -- sources ------------------------------------------------------------------------------------

def find_building(conn: Connection, code: str) -> Building:
    pf = load_portfolio(conn)
    for _t, _c, _s, b in (pf.buildings() if pf is not None else []):
        if b.code == code:
            return b
    raise UnknownBuildingError(f"unknown building {code!r}: not in the stored registry")


def resolve_sources(conn: Connection, building: Building, zone_code: str | None,
                    heating_series: str | None = None) -> tuple[Sources, list[Note]]:
    """The zone, its temperature sensor, the heating series and the weather station."""
    b, notes = building.code, []
    with_temp = [z for z in building.zones
                 if any(s.quantity == TEMP_ZONE for s in z.sensors)]
    if zone_code is None:
        if not with_temp:
            raise NoZoneTemperatureError(_err(b, None, "no zone with a temperature sensor "
                                              f"({TEMP_ZONE}) in the registry: a plan needs "
                                              "the zone temperature"))
        if len(with_temp) != 1:
            names = ", ".join(z.code for z in with_temp) or "none"
            raise ZoneChoiceError(_err(b, None, f"{len(with_temp)} zones with a temperature "
                                  f"sensor ({names}): choose one with --zone"))
        zone = with_temp[0]
    else:
        zone = next((z for z in building.zones if z.code == zone_code), None)
        if zone is None:
            names = ", ".join(z.code for z in building.zones) or "none"
            raise ZoneChoiceError(_err(b, zone_code, f"unknown zone (zones: {names})"))
    sensor = next((s for s in zone.sensors if s.quantity == TEMP_ZONE), None)
    if sensor is None:
        raise NoZoneTemperatureError(_err(b, zone.code, "no zone temperature sensor "
                                          f"({TEMP_ZONE}) in the registry"))

    if heating_series is not None:
        rows = conn.execute(select(S.series.c.quantity, S.series.c.subkind).where(
            S.series.c.key == heating_series,
            S.series.c.quantity.in_(("energy_kwh", "power_w")))).all()
        if not rows:
            raise NoHeatingSeriesError(_err(b, zone.code, f"heating series {heating_series!r} "
                                            "is not stored as energy_kwh or power_w"))
        quantity = "power_w" if any(r[0] == "power_w" for r in rows) else "energy_kwh"
        heating = (heating_series, quantity, rows[0][1], "given by the caller",
                   "donnée par l'utilisateur")
    else:
        heat = [m for m in building.meters if m.kind == "heat"]
        elec = [m for m in building.meters if m.kind == "electricity"]
        system = str(building.heating_system)
        if len(heat) == 1:
            heating = (heat[0].code, heat[0].quantity, "heat", "the building's only heat meter",
                       "seul compteur de chaleur du bâtiment")
        elif len(heat) > 1:
            raise NoHeatingSeriesError(_err(b, zone.code, "several heat meters ("
                                            + ", ".join(m.code for m in heat)
                                            + "): name one with --heating"))
        elif len(elec) == 1 and system in (*ELECTRIC_HEATING, "unknown"):
            heating = (elec[0].code, elec[0].quantity, "electricity",
                       f"the only electricity meter of a building heated by {system}",
                       f"seul compteur électrique d'un bâtiment chauffé par {system}")
            notes.append(Note(
                "heating_from_building_meter",
                f"Puissance de chauffage lue sur le compteur électrique {elec[0].code} du "
                "bâtiment : les autres usages (éclairage, prises) y sont comptés aussi.",
                f"Heating power read from the building's electricity meter {elec[0].code}: "
                "its other uses (lighting, plugs) are counted too."))
            if system == "heat_pump":
                notes.append(Note(
                    "heat_pump_electricity",
                    "Pompe à chaleur : la puissance électrique n'est pas la chaleur fournie "
                    "(COP non modélisé).",
                    "Heat pump: electric power is not the heat delivered (COP not modelled)."))
        else:
            found = ", ".join(f"{m.code} ({m.kind})" for m in building.meters) or "none"
            raise NoHeatingSeriesError(_err(
                b, zone.code, f"no heating series: heated by {system}, meters: {found}; a "
                "heat meter, or one electricity meter of an electrically heated building, "
                "is needed, or name the series with --heating"))

    if not building.weather_station:
        raise NoWeatherError(_err(b, zone.code, "no weather station in the registry "
                                  "(column weather_station)"))
    has = {r[0] for r in conn.execute(select(S.series.c.quantity).where(
        S.series.c.key == building.weather_station))}
    if TEMP_OUT not in has:
        raise NoWeatherError(_err(b, zone.code, f"weather station {building.weather_station!r}"
                                  f" has no stored {TEMP_OUT}"))
    return Sources(b, zone.code, sensor.code, *heating, building.weather_station,
                   SOLAR in has), notes


# -- series on the 15-min grid ------------------------------------------------------------------

def _samples(readings: pd.DataFrame) -> pd.Series:
    return pd.Series(readings[C.VALUE].to_numpy(float),
                     index=pd.DatetimeIndex(readings[C.START_UTC]))


def samples_on_grid(s: pd.Series, grid: pd.DatetimeIndex,
                    max_gap: pd.Timedelta = WEATHER_GAP) -> np.ndarray:
    """Instant samples interpolated in time onto ``grid``; NaN where the surrounding samples
    are more than ``max_gap`` apart or outside them."""
    s = s[~s.index.duplicated(keep="last")].dropna().sort_index()
    out = np.full(len(grid), np.nan)
    if len(s) == 0:
        return out
    t = s.index.asi8
    g = grid.asi8
    v = s.to_numpy(float)
    i = np.searchsorted(t, g, side="right") - 1  # sample at or before
    ok = i >= 0
    exact = ok & (t[np.clip(i, 0, None)] == g)
    out[exact] = v[i[exact]]
    j = i + 1
    inner = ok & ~exact & (j < len(t))
    ii, jj = i[inner], j[inner]
    gap = t[jj] - t[ii]
    w = (g[inner] - t[ii]) / np.where(gap > 0, gap, 1)
    vals = v[ii] + w * (v[jj] - v[ii])
    vals[gap > max_gap.value] = np.nan
    out[inner] = vals
    return out


def power_on_grid(readings: pd.DataFrame, quantity: str, grid: pd.DatetimeIndex) -> np.ndarray:
    """Mean heating power [W] over each 15-min step from interval readings (energy_kwh over
    its interval, or power_w); NaN where no reading covers the step."""
    if readings.empty:
        return np.full(len(grid), np.nan)
    v = readings[C.VALUE].to_numpy(float)
    dur = readings[C.DURATION_S].to_numpy(float)
    w = v * 3.6e6 / np.where(dur > 0, dur, np.nan) if quantity == "energy_kwh" else v
    start = pd.DatetimeIndex(readings[C.START_UTC])
    if np.nanmedian(dur) < STEP_S:  # finer than the grid: average within each step
        s = pd.Series(w, index=start).resample(STEP).mean()
        return s.reindex(grid).to_numpy(float)
    t, g = start.asi8, grid.asi8
    i = np.searchsorted(t, g, side="right") - 1  # interval starting at or before
    out = np.full(len(grid), np.nan)
    ok = i >= 0
    ic = np.clip(i, 0, None)
    inside = ok & (g < t[ic] + (dur[ic] * 1e9).astype("int64"))
    out[inside] = w[ic[inside]]
    return out


def _interpolate_short(a: np.ndarray) -> np.ndarray:
    limit = int(MAX_INPUT_GAP / STEP)
    return pd.Series(a).interpolate(limit=limit, limit_area="inside").to_numpy(float)


def load_history(conn: Connection, src: Sources, at: pd.Timestamp,
                 days: int) -> pd.DataFrame:
    """The model inputs on the 15-min grid of [at - days, at), the most recent stretch where
    heating power and outdoor temperature are complete (gaps up to 1 h bridged)."""
    lo = at - pd.Timedelta(days=days)
    grid = pd.date_range(lo, at, freq=STEP, inclusive="left")
    pad = pd.Timedelta(hours=6)
    temp = read_series(conn, src.temp_key, TEMP_ZONE, lo - pad, at + STEP)
    if temp.empty:
        raise NoZoneTemperatureError(_err(src.building_code, src.zone_code,
                                          f"sensor {src.temp_key!r} has no {TEMP_ZONE} from "
                                          f"{lo:%Y-%m-%d %H:%M} to {at:%Y-%m-%d %H:%M} UTC"))
    heat = read_series(conn, src.heating_key, src.heating_quantity, lo - pad, at)
    if heat.empty:
        raise NoHeatingSeriesError(_err(src.building_code, src.zone_code,
                                        f"heating series {src.heating_key!r} has no reading "
                                        f"from {lo:%Y-%m-%d %H:%M} to {at:%Y-%m-%d %H:%M} UTC"))
    wt = read_series(conn, src.weather_key, TEMP_OUT, lo - pad, at + pad)
    if wt.empty:
        raise NoWeatherError(_err(src.building_code, src.zone_code,
                                  f"weather station {src.weather_key!r} has no {TEMP_OUT} from "
                                  f"{lo:%Y-%m-%d %H:%M} to {at:%Y-%m-%d %H:%M} UTC"))
    frame = pd.DataFrame({
        "temp_zone_c": samples_on_grid(_samples(temp), grid, MAX_INPUT_GAP),
        "heating_power_w": _interpolate_short(power_on_grid(heat, src.heating_quantity, grid)),
        "temp_out_c": samples_on_grid(_samples(wt), grid),
    }, index=grid)
    if src.solar:
        ghi = read_series(conn, src.weather_key, SOLAR, lo - pad, at + pad)
        frame["solar_w_m2"] = np.nan_to_num(samples_on_grid(_samples(ghi), grid), nan=0.0)
    else:
        frame["solar_w_m2"] = 0.0
    complete = frame[["heating_power_w", "temp_out_c"]].notna().all(axis=1).to_numpy()
    spans = runs(complete)
    if spans:
        a, b = spans[-1]
        frame = frame.iloc[a:b]
    else:
        frame = frame.iloc[0:0]
    valid = frame["temp_zone_c"].dropna()
    if len(valid):
        frame = frame.loc[valid.index[0]:valid.index[-1]]
    span_days = len(frame) * STEP_S / 86400
    if span_days < MIN_DAYS:
        raise TooFewDaysError(_err(
            src.building_code, src.zone_code,
            f"{span_days:.1f} days of complete data (zone {src.temp_key!r}, heating "
            f"{src.heating_key!r}, weather {src.weather_key!r}) before "
            f"{at:%Y-%m-%d %H:%M} UTC; at least {MIN_DAYS:g} days are needed"))
    return frame


def latest_zone_temperature(conn: Connection, src: Sources,
                            at: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
    """The last zone temperature reading at or before ``at`` (within a day), if any."""
    r = read_series(conn, src.temp_key, TEMP_ZONE, at - pd.Timedelta(days=1), at + pd.Timedelta(
        seconds=1))
    if r.empty:
        return None
    return pd.Timestamp(r[C.START_UTC].iloc[-1]), float(r[C.VALUE].iloc[-1])


def latest_reading_time(conn: Connection, src: Sources) -> pd.Timestamp | None:
    sid = conn.execute(select(S.series.c.id).where(S.series.c.key == src.temp_key,
                                                   S.series.c.quantity == TEMP_ZONE)
                       ).scalar_one_or_none()
    if sid is None:
        return None
    last = conn.execute(select(S.reading.c.start_s).where(S.reading.c.series_id == sid)
                        .order_by(S.reading.c.start_s.desc()).limit(1)).scalar_one_or_none()
    return None if last is None else pd.Timestamp(int(last), unit="s", tz="UTC")


# -- forecast, prices ---------------------------------------------------------------------------

def weather_forecast(conn: Connection, src: Sources, history: pd.DataFrame,
                     index: pd.DatetimeIndex) -> tuple[pd.DataFrame, str, list[Note]]:
    """Outdoor temperature and irradiance on ``index``: the stored weather when it covers it
    (a forecast imported into the station, or in a replay the observed weather), else the
    last 48 h of ``history`` repeated (persistence)."""
    pad = pd.Timedelta(hours=3)
    lo, hi = index[0], index[-1]
    stored = read_series(conn, src.weather_key, TEMP_OUT, lo - pad, hi + pad)
    temp = samples_on_grid(_samples(stored), index) if not stored.empty else None
    if temp is not None and not np.isnan(temp).any():
        frame = pd.DataFrame({"temp_out_c": temp, "solar_w_m2": 0.0}, index=index)
        if src.solar:
            ghi = read_series(conn, src.weather_key, SOLAR, lo - pad, hi + pad)
            frame["solar_w_m2"] = np.nan_to_num(samples_on_grid(_samples(ghi), index), nan=0.0)
        return frame, "stored", []
    period = pd.Timedelta(hours=PERSISTENCE_H)
    end = history.index[-1] + STEP
    src_times = end - period + ((index - end) % period)
    past = history[["temp_out_c", "solar_w_m2"]]
    frame = past.reindex(src_times).set_axis(index)
    frame = frame.interpolate(limit_direction="both").fillna({"solar_w_m2": 0.0})
    note = Note("persistence_forecast",
                "Pas de prévision météo stockée sur l'horizon : les 48 dernières heures sont "
                "répétées (prévision par persistance).",
                "No stored weather forecast over the horizon: the last 48 hours are repeated "
                "(persistence forecast).")
    return frame, "persistence of the last 48 h", [note]


def _tempo_key(local: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """The Tempo day (06:00 to 06:00) and period (HP 06:00-22:00, HC otherwise) of each
    local instant."""
    hour = local.hour.to_numpy()
    day = (local - pd.Timedelta(hours=TEMPO_HP[0])).date
    hp = (hour >= TEMPO_HP[0]) & (hour < TEMPO_HP[1])
    return np.asarray(day), np.where(hp, "HP", "HC")


def price_frame(conn: Connection, index: pd.DatetimeIndex, options: PlanOptions,
                max_power_w: float, timezone: str = "Europe/Paris"
                ) -> tuple[pd.DataFrame, dict, list[Note]]:
    """Prices from the stored Tempo colours and EcoWatt caps on ``index``, with provenance."""
    local = index.tz_convert(timezone)
    days, period = _tempo_key(local)
    wanted = sorted(set(days))
    colours = {r.day: r.color for r in conn.execute(
        select(S.tempo_day.c.day, S.tempo_day.c.color).where(
            S.tempo_day.c.day.in_(wanted)))}
    missing = [d for d in wanted if d not in colours]
    colour = np.array([colours.get(d, "BLEU") for d in days], dtype=object)
    price = np.array([TEMPO_EUR_PER_KWH[(c, p)].value for c, p in zip(colour, period,
                                                                        strict=True)])
    label = np.array([_LABEL_FR.get((c, p), "") for c, p in zip(colour, period, strict=True)],
                     dtype=object)
    notes = []
    if missing:
        notes.append(Note(
            "tempo_colour_missing",
            "Couleur Tempo inconnue pour " + ", ".join(d.strftime("%d/%m/%Y") for d in missing)
            + " : comptée bleue (RTE publie la couleur du lendemain vers 11 h).",
            "Tempo colour unknown for " + ", ".join(d.isoformat() for d in missing)
            + ": counted as blue (RTE publishes the next day's colour around 11:00)."))
    # EcoWatt: hourly levels of the Europe/Paris day; 2 = orange, 3 = red.
    ldays = sorted(set(local.date))
    levels = {(r.day, r.hour): r.level for r in conn.execute(
        select(S.ecowatt_hour).where(S.ecowatt_hour.c.day.in_(ldays)))}
    level = np.array([levels.get((d, h), 0) for d, h in zip(local.date, local.hour,
                                                              strict=True)])
    cap = np.full(len(index), np.nan)
    cap[level == 2] = options.ecowatt_orange_cap_fraction * max_power_w
    cap[level >= 3] = options.ecowatt_red_cap_fraction * max_power_w
    frame = pd.DataFrame({"price_eur_per_kwh": price, "co2_kg_per_kwh": options.co2_kg_per_kwh,
                          "tariff_label": label, "max_power_w": cap,
                          "tempo_color": colour, "ecowatt_level": level}, index=index)
    provenance = {
        "tempo_days": {d.isoformat(): colours.get(d) for d in wanted},
        "tempo_days_missing_counted_blue": [d.isoformat() for d in missing],
        "ecowatt_capped_steps": int(np.isfinite(cap).sum()),
    }
    return frame, provenance, notes


# -- the building's own schedule on the same model ----------------------------------------------

def schedule_run(ctx: Context, forecast: pd.DataFrame, temp0_c: float,
                 index: pd.DatetimeIndex) -> pd.DataFrame:
    """The schedule (19 / 16 / 8 °C from the calendar, what the building does without the
    controller) simulated on the identified model: temp_c at each step start, power_w."""
    weather = pd.concat([forecast, forecast.iloc[[-1]].set_axis([index[-1] + STEP])])
    model = ctx.identification.model
    occupied = set(index[comfort_envelope(ctx.building, index)["occupied"].to_numpy(bool)])
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
            options: PlanOptions) -> tuple[Context, pd.Timestamp]:
    """Sources, history and the identified model for a plan (or a run) starting at ``at``
    (default: the last zone temperature reading, on the 15-min grid)."""
    with store.engine.connect() as conn:
        building = find_building(conn, building_code)
        src, notes = resolve_sources(conn, building, zone_code, options.heating_series)
        if at is None:
            last = latest_reading_time(conn, src)
            if last is None:
                raise NoZoneTemperatureError(_err(building_code, src.zone_code,
                                                  f"sensor {src.temp_key!r} has no reading"))
            at = last.floor(STEP)
        at = pd.Timestamp(at).tz_convert("UTC").floor(STEP)
        history = load_history(conn, src, at, options.days)
    # The calendar's occupancy lets identification separate people and lighting from the
    # heating (unmetered gains otherwise bias R and C); the planner then forecasts them.
    history["occupied"] = comfort_envelope(building, history.index)["occupied"].astype(float)
    try:
        ident = identify(history, model="R2C2")
    except ValueError as exc:
        raise InsufficientDataError(_err(building_code, src.zone_code,
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
        raise InsufficientDataError(_err(building_code, src.zone_code,
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


def plan_zone(ctx: Context, conn: Connection, at: pd.Timestamp, temp0: tuple[pd.Timestamp, float],
              hours: int) -> tuple[Plan, pd.DataFrame, dict, str, list[Note]]:
    """One plan from ``at`` over ``hours``: the plan, its per-step frame (with the schedule's
    run), the price provenance, the forecast source and its notes."""
    n = int(hours * 3600 // STEP_S)
    index = pd.date_range(at, periods=n, freq=STEP)
    forecast, fsource, notes = weather_forecast(conn, ctx.sources, ctx.history, index)
    prices, pprov, pnotes = price_frame(conn, index, ctx.options, ctx.settings.max_power_w)
    envelope = comfort_envelope(ctx.building, index)
    forecast = with_internal_gains(forecast, ctx.identification.model, envelope)
    x0 = ctx.identification.model.initial_state(temp0[1], float(forecast["temp_out_c"].iloc[0]))
    p = plan(ctx.identification.model, x0, forecast, envelope, prices, ctx.settings)
    sched = schedule_run(ctx, forecast, temp0[1], index)
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
    return p, steps, pprov, fsource, notes + pnotes


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
        with store.engine.connect() as conn:
            temp0 = latest_zone_temperature(conn, ctx.sources, at)
            if temp0 is None or at - temp0[0] > MAX_INPUT_GAP:
                raise NoZoneTemperatureError(_err(
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
