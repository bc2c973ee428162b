"""Décret tertiaire from the store: reference-year and current consumption, both
climate-adjusted, then the gap to the target and the cheapest stored actions closing it.

For each building: metered kWh per carrier over the reference calendar year (2010-2019,
FRANCE.md) and over the current period (a calendar year, else the last 12 full months), each
split into heating and other, the heating part brought to a reference climate with
``analytics.degree_days.climate_adjusted`` (``E_heating x DJU_ref / DJU_period + E_other``).

- **Degree-days**: the building's weather station, COSTIC method ("professionnels de
  l'énergie", the one FRANCE.md says OPERAT uses), base 18 °C, summed over local days.
- **Reference climate** ``DJU_ref``: the degree-days of the reference year itself by default
  (the reference consumption is then its metered value, and the current one is "as if it had
  been as cold as the reference year"), or the mean of the full calendar years of the station
  (a normal climate: both are adjusted). The result names which.
- **Heating part**: per carrier, the latest stored baseline replayed on the period's weather
  (``building_energy.heating_kwh``); a carrier without one is assumed all heating (gas, heat)
  or all other (electricity), and the result's warnings say so.
- **Actions**: the building's latest stored recommendations, computed and stored with
  ``recommend_buildings`` when there are none; savings are sized on the current period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, select

from sobriete.advice import AdviceSettings, Recommendation
from sobriete.advice.tertiaire import TertiaireResult, tertiaire_gap
from sobriete.analytics.degree_days import (
    DEFAULT_BASE_C,
    DegreeDayMethod,
    climate_adjusted,
    degree_days_from_hourly,
)
from sobriete.analytics.diagnostics.base import CARRIER
from sobriete.domain import columns as C
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import Building, MeterKind
from sobriete.services.actions_run import (
    recommend_buildings,
    select_buildings,
    warning_doc,
)
from sobriete.services.building_energy import annual_kwh, energy_meters, heating_kwh
from sobriete.services.diagnose_run import last_full_year
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import TEMP, MeterRef, meter_refs
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.actions import load_recommendations
from sobriete.services.store.readings import read_series

REFERENCE_YEARS = range(2010, 2020)  # FRANCE.md: 12 consecutive months between 2010 and 2019
DJU_METHOD = DegreeDayMethod.COSTIC
HEATING_CARRIERS = ("gas", "heat")  # without a baseline, burnt for heat (FRANCE.md heating)
MIN_DAY_COVERAGE = 0.9  # below, a period's degree-days say more about the gaps than the cold
MIN_METER_COVERAGE = 0.95  # below, the period's kWh are flagged as underestimated
ClimateRef = Literal["reference_year", "mean"]


class TertiaireError(SobrieteError):
    """A reference or current year, or data, that the Décret tertiaire path cannot use."""


class PeriodEnergy(BaseModel):
    """One period's consumption. Units: kWh over the period, DJU in °C·day."""

    model_config = ConfigDict(frozen=True)

    start: date  # local, inclusive
    end: date  # local, exclusive
    kwh: dict[str, float]  # metered, per carrier
    heating_kwh: dict[str, float]  # heating part used, per carrier
    dju: float
    adjusted_kwh: float  # E_heating x DJU_ref / DJU + E_other


class TertiaireRun(BaseModel):
    """One building's Décret tertiaire path with how its figures were obtained."""

    model_config = ConfigDict(frozen=True)

    result: TertiaireResult
    reference_year: int
    reference: PeriodEnergy
    current: PeriodEnergy
    dju_ref: float  # °C·day
    dju_ref_basis: str  # "reference_year" or "mean of YYYY-YYYY"
    dju_method: str  # e.g. "costic, base 18 °C, station bedford"
    climate_method: str  # the climate_adjusted method name
    recommendations: Literal["stored", "computed"]
    warnings: list[dict]  # code, message_fr, message_en


class TertiaireOutcome(BaseModel):
    reference_year: int
    year: int
    runs: dict[str, TertiaireRun]  # building code ->
    errors: dict[str, str] = {}  # building code -> why it could not be computed


def check_reference_year(year: int) -> None:
    if year not in REFERENCE_YEARS:
        raise TertiaireError(
            f"reference year {year} is not allowed: the Décret tertiaire reference is a year "
            f"between {REFERENCE_YEARS[0]} and {REFERENCE_YEARS[-1]}")


def _year(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y + 1, 1, 1)


def _station(b: Building, refs: list[MeterRef]) -> str:
    keys = [r.weather_key for r in refs if r.weather_key]
    if not keys:
        stations = ", ".join(refs[0].stations) if refs and refs[0].stations else "none"
        raise TertiaireError(
            f"no weather station for building {b.code!r}: set weather_station in the registry "
            f"or give --weather; stored stations: {stations}")
    return keys[0]


def station_degree_days(conn: Connection, station: str, timezone: str) -> pd.Series:
    """Heating degree-days [°C·day] per local day of every stored temperature of ``station``
    (NaN for days with too few hours)."""
    w = read_series(conn, station, TEMP)
    if w.empty:
        raise TertiaireError(f"weather station {station!r}: no temperature stored")
    dd = degree_days_from_hourly(w.set_index(C.START_UTC)[C.VALUE], method=DJU_METHOD,
                                 timezone=timezone)
    return dd[f"hdd_{DEFAULT_BASE_C:g}"]


def period_dju(days: pd.Series, start: date, end: date, station: str) -> float:
    """Degree-days [°C·day] over local dates [start, end). A few missing days are filled with
    the period's mean day, too many are an error: an incomplete winter would read as mild."""
    n = (end - start).days
    got = days[(days.index >= pd.Timestamp(start)) & (days.index < pd.Timestamp(end))].dropna()
    if len(got) < MIN_DAY_COVERAGE * n:
        raise TertiaireError(
            f"weather station {station!r}: temperatures on {len(got)} of {n} days from {start} "
            f"to {end}, below {MIN_DAY_COVERAGE:.0%}: the degree-days cannot be computed")
    return float(got.mean() * n)


def mean_dju(days: pd.Series, station: str) -> tuple[float, str]:
    """Mean yearly degree-days [°C·day] over the station's full calendar years, and its label."""
    counts = days.dropna().groupby(days.dropna().index.year).size()
    years = [int(y) for y, k in counts.items() if k >= MIN_DAY_COVERAGE * 365]
    if not years:
        raise TertiaireError(f"weather station {station!r}: no full calendar year of "
                             "temperatures for a mean climate")
    dju = [period_dju(days, *_year(y), station) for y in years]
    return sum(dju) / len(dju), f"mean of {years[0]}-{years[-1]} ({len(years)} years)"


def _coverage_warnings(conn: Connection, b: Building, start: date, end: date) -> list[dict]:
    """A meter whose readings cover less of the period than MIN_METER_COVERAGE: its kWh
    are a floor, not the period's consumption."""
    tz = b.occupancy().timezone
    lo, hi = (int(pd.Timestamp(d, tz=tz).tz_convert("UTC").timestamp()) for d in (start, end))
    out = []
    for m in energy_meters(b):
        covered = conn.execute(
            select(func.sum(S.reading.c.duration_s))
            .join(S.series, S.series.c.id == S.reading.c.series_id)
            .where(S.series.c.key == m.code, S.series.c.quantity == m.quantity,
                   S.reading.c.start_s >= lo, S.reading.c.start_s < hi)).scalar() or 0
        share = covered / (hi - lo)
        if share < MIN_METER_COVERAGE:
            out.append(warning_doc(
                "meter_incomplete",
                f"{m.code} : relevés sur {share:.0%} seulement de {start} → {end} ; la "
                "consommation de cette période est sous-estimée.".replace("%", "\u202f%"),
                f"{m.code}: readings cover only {share:.0%} of {start} → {end}; that "
                "period's consumption is underestimated."))
    return out


def _baseline_periods(conn: Connection, b: Building) -> dict[str, tuple[date, date]]:
    """Carrier -> fitting period of the latest successful baseline of its meter."""
    kinds = {m.code: CARRIER[MeterKind(m.kind)] for m in energy_meters(b)}
    rows = conn.execute(
        select(S.series.c.key, S.baseline_fit.c.baseline_start, S.baseline_fit.c.baseline_end)
        .join(S.series, S.series.c.id == S.baseline_fit.c.series_id)
        .where(S.series.c.key.in_(list(kinds)), S.baseline_fit.c.status == "ok")
        .order_by(S.baseline_fit.c.id.desc())).all()
    out: dict[str, tuple[date, date]] = {}
    for key, lo, hi in rows:
        out.setdefault(kinds[key], (lo, hi))
    return out


def _period(conn: Connection, b: Building, start: date, end: date, days: pd.Series,
            dju_ref: float, station: str, weather, climate,
            fitted: dict[str, tuple[date, date]], warnings: list[dict]) -> PeriodEnergy:
    kwh = annual_kwh(conn, b, start, end)
    if not kwh:
        raise TertiaireError(f"building {b.code!r}: no energy reading from {start} to {end}")
    warnings.extend(_coverage_warnings(conn, b, start, end))
    modelled = heating_kwh(conn, b, start, end, kwh, weather) or {}
    heating = {}
    for carrier, total in kwh.items():
        if carrier in modelled:
            heating[carrier] = modelled[carrier]
            lo, hi = fitted.get(carrier, (start, end))
            if hi <= start or lo >= end:  # another state of the building, said not hidden
                warnings.append(warning_doc(
                    "baseline_elsewhere",
                    f"{carrier} {start.year} : part chauffage d'un modèle ajusté sur "
                    f"{lo} → {hi}, qui décrit le bâtiment de cette période-là.",
                    f"{carrier} {start.year}: heating part from a baseline fitted on "
                    f"{lo} → {hi}, which describes the building over that period."))
        elif carrier in HEATING_CARRIERS:
            heating[carrier] = total
            warnings.append(warning_doc(
                "assumed_heating",
                f"{carrier} {start.year} : pas de modèle de référence, toute la consommation "
                "est comptée comme chauffage (hypothèse).",
                f"{carrier} {start.year}: no baseline, the whole consumption is counted as "
                "heating (assumption)."))
        else:
            warnings.append(warning_doc(
                "assumed_other",
                f"{carrier} {start.year} : pas de modèle de référence, consommation comptée "
                "hors chauffage, non corrigée du climat (hypothèse).",
                f"{carrier} {start.year}: no baseline, consumption counted as not heating, "
                "not climate-adjusted (assumption)."))
    dju = period_dju(days, start, end, station)
    e_heat = sum(heating.values())
    adj = climate_adjusted(e_heat, sum(kwh.values()) - e_heat, dju_ref, dju, climate)
    return PeriodEnergy(start=start, end=end, kwh=kwh, heating_kwh=heating, dju=dju,
                        adjusted_kwh=adj.adjusted_kwh)


def _recommendations(store: Store, b: Building, settings, weather
                     ) -> tuple[list[Recommendation], Literal["stored", "computed"]]:
    with store.read() as conn:
        stored = [s.rec for s in load_recommendations(conn, building=b.code)]
    if stored:
        return stored, "stored"
    out = recommend_buildings(store, building=b.code, settings=settings, weather=weather)
    if b.code in out.errors:
        raise TertiaireError(f"recommendations of {b.code!r}: {out.errors[b.code]}")
    return out.ranked.get(b.code, []), "computed"


def tertiaire_building(store: Store, b: Building, reference_year: int, *, year: int = 2030,
                       current_year: int | None = None, prudent: bool = False,
                       climate_ref: ClimateRef = "reference_year", climate="dju_ratio",
                       settings: AdviceSettings | None = None, weather=None) -> TertiaireRun:
    """One building's Décret tertiaire path (module doc); kWh/yr and EUR throughout."""
    check_reference_year(reference_year)
    if current_year is not None and current_year <= reference_year:
        raise TertiaireError(f"current year {current_year} must come after the reference "
                             f"year {reference_year}")
    warnings: list[dict] = []
    tz = b.occupancy().timezone
    with store.read() as conn:
        refs = meter_refs(conn, weather, [m.code for m in energy_meters(b)])
        station = _station(b, refs)
        days = station_degree_days(conn, station, tz)
        if climate_ref == "mean":
            dju_ref, basis = mean_dju(days, station)
        else:
            dju_ref, basis = period_dju(days, *_year(reference_year), station), "reference_year"
        if current_year is not None:
            window = _year(current_year)
        else:
            ids = [r.series_id for r in refs]
            found = last_full_year(conn, ids, tz) if ids else None
            if found is None:
                raise TertiaireError(f"building {b.code!r}: no energy reading")
            window = found
        if window[0] < _year(reference_year)[1]:
            raise TertiaireError(f"building {b.code!r}: the current period {window[0]} → "
                                 f"{window[1]} overlaps the reference year {reference_year}")
        fitted = _baseline_periods(conn, b)
        ref = _period(conn, b, *_year(reference_year), days, dju_ref, station, weather,
                      climate, fitted, warnings)
        cur = _period(conn, b, *window, days, dju_ref, station, weather, climate, fitted,
                      warnings)
    recs, source = _recommendations(store, b, settings, weather)
    result = tertiaire_gap(b, reference_kwh=ref.adjusted_kwh, current_kwh=cur.adjusted_kwh,
                           recommendations=recs, annual_kwh=cur.kwh,
                           heating_kwh=cur.heating_kwh, year=year, prudent=prudent,
                           settings=settings)
    return TertiaireRun(
        result=result, reference_year=reference_year, reference=ref, current=cur,
        dju_ref=dju_ref, dju_ref_basis=basis,
        dju_method=f"{DJU_METHOD.value}, base {DEFAULT_BASE_C:g} °C, station {station}",
        climate_method=climate if isinstance(climate, str) else getattr(climate, "__name__",
                                                                         "custom"),
        recommendations=source, warnings=warnings)


def tertiaire_buildings(store: Store, reference_year: int, *, building: str | None = None,
                        commune: str | None = None, year: int = 2030,
                        current_year: int | None = None, prudent: bool = False,
                        climate_ref: ClimateRef = "reference_year",
                        settings: AdviceSettings | None = None, weather=None,
                        progress: Callable[[int, int], None] = lambda done, total: None,
                        ) -> TertiaireOutcome:
    """The Décret tertiaire path of one building, a commune's, or every building; a building
    fails alone, with why. Bad arguments (years, codes) fail before any computation."""
    check_reference_year(reference_year)
    s = settings or AdviceSettings()
    if year not in s.tertiaire_targets:
        raise TertiaireError(f"target year {year}: expected one of "
                             f"{', '.join(map(str, sorted(s.tertiaire_targets)))}")
    out = TertiaireOutcome(reference_year=reference_year, year=year, runs={})
    with measured("décret tertiaire", store) as fp:
        todo = [b for b in select_buildings(store, building, commune) if energy_meters(b)]
        for i, b in enumerate(todo):
            try:
                out.runs[b.code] = tertiaire_building(
                    store, b, reference_year, year=year, current_year=current_year,
                    prudent=prudent, climate_ref=climate_ref, settings=s, weather=weather)
            except (SobrieteError, ValueError) as exc:  # a building fails alone, with why
                if building is not None:  # the one building asked for: the caller's error
                    raise TertiaireError(f"building {b.code!r}: {exc}") from exc
                out.errors[b.code] = f"{type(exc).__name__}: {exc}"
            progress(i + 1, len(todo))
        fp.details.update(buildings=len(todo), failed=len(out.errors))
    return out
