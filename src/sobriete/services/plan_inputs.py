"""What a plan of a stored building zone reads: its sources, their history on the 15-min
grid, the weather forecast and the prices (Tempo days, EcoWatt caps), each with the notes and
typed errors a person can act on. The plan itself is ``services.plan_run``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from sobriete.control.comfort import runs
from sobriete.control.interface import (
    STEP_S,
)
from sobriete.control.thermal import USABLE_DAYS
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.factors import CO2_KG_PER_KWH, Factor
from sobriete.domain.portfolio import Building
from sobriete.services.store import schema as S
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
TEMPO_SOURCE = ("EDF regulated Tempo tariff, all taxes, from 2024-02-01 (6-36 kVA); to "
                 "confirm against the commune's contract")
TEMPO_SOURCE_FR = ("tarif réglementé Tempo d'EDF TTC au 01/02/2024 (6-36 kVA), à confirmer "
                   "avec le contrat de la commune")
TEMPO_EUR_PER_KWH: dict[tuple[str, str], Factor] = {
    (color, period): Factor(f"tempo_{color.lower()}_{period.lower()}", value, "EUR/kWh",
                            TEMPO_SOURCE, "2024-02-01", to_confirm=True)
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


def err_text(building: str, zone: str | None, what: str) -> str:
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
            raise NoZoneTemperatureError(err_text(b, None, "no zone with a temperature sensor "
                                              f"({TEMP_ZONE}) in the registry: a plan needs "
                                              "the zone temperature"))
        if len(with_temp) != 1:
            names = ", ".join(z.code for z in with_temp) or "none"
            raise ZoneChoiceError(err_text(b, None, f"{len(with_temp)} zones with a temperature "
                                  f"sensor ({names}): choose one with --zone"))
        zone = with_temp[0]
    else:
        zone = next((z for z in building.zones if z.code == zone_code), None)
        if zone is None:
            names = ", ".join(z.code for z in building.zones) or "none"
            raise ZoneChoiceError(err_text(b, zone_code, f"unknown zone (zones: {names})"))
    sensor = next((s for s in zone.sensors if s.quantity == TEMP_ZONE), None)
    if sensor is None:
        raise NoZoneTemperatureError(err_text(b, zone.code, "no zone temperature sensor "
                                          f"({TEMP_ZONE}) in the registry"))

    if heating_series is not None:
        rows = conn.execute(select(S.series.c.quantity, S.series.c.subkind).where(
            S.series.c.key == heating_series,
            S.series.c.quantity.in_(("energy_kwh", "power_w")))).all()
        if not rows:
            raise NoHeatingSeriesError(err_text(b, zone.code, f"heating series {heating_series!r} "
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
            raise NoHeatingSeriesError(err_text(b, zone.code, "several heat meters ("
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
            raise NoHeatingSeriesError(err_text(
                b, zone.code, f"no heating series: heated by {system}, meters: {found}; a "
                "heat meter, or one electricity meter of an electrically heated building, "
                "is needed, or name the series with --heating"))

    if not building.weather_station:
        raise NoWeatherError(err_text(b, zone.code, "no weather station in the registry "
                                  "(column weather_station)"))
    has = {r[0] for r in conn.execute(select(S.series.c.quantity).where(
        S.series.c.key == building.weather_station))}
    if TEMP_OUT not in has:
        raise NoWeatherError(err_text(b, zone.code, f"weather station {building.weather_station!r}"
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
        raise NoZoneTemperatureError(err_text(src.building_code, src.zone_code,
                                          f"sensor {src.temp_key!r} has no {TEMP_ZONE} from "
                                          f"{lo:%Y-%m-%d %H:%M} to {at:%Y-%m-%d %H:%M} UTC"))
    heat = read_series(conn, src.heating_key, src.heating_quantity, lo - pad, at)
    if heat.empty:
        raise NoHeatingSeriesError(err_text(src.building_code, src.zone_code,
                                        f"heating series {src.heating_key!r} has no reading "
                                        f"from {lo:%Y-%m-%d %H:%M} to {at:%Y-%m-%d %H:%M} UTC"))
    wt = read_series(conn, src.weather_key, TEMP_OUT, lo - pad, at + pad)
    if wt.empty:
        raise NoWeatherError(err_text(src.building_code, src.zone_code,
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
        raise TooFewDaysError(err_text(
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
