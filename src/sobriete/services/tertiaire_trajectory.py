"""Décret tertiaire trajectory per functional entity (EFA): every full calendar year of data,
climate-adjusted, against the −40 % 2030 / −50 % 2040 / −60 % 2050 targets, and a status.

- **Functional entity**: one building by default (its code is the EFA identifier). A
  building split into several EFAs, or several buildings declared as one, is not modelled:
  the commune declares what OPERAT holds; this is the building-level view.
- **Reference year**: given, or chosen as the *best complete* calendar year of
  2010-2019: every energy meter covers >= 95 % of it and the station's degree-days can be
  computed; among those, the highest consumption brought to the station's mean climate (the
  decree lets the owner choose; the highest consumption makes the relative target easiest,
  compared at one climate so that a cold year does not win for its weather alone).
- **Climate adjustment**: per year, ``E_heating x DJU_ref / DJU_year + E_other`` with COSTIC
  degree-days (base 18 °C) of the building's station and ``DJU_ref`` = the reference year's
  (the reference consumption is then its metered value). The heating part comes from the
  stored baselines, or is assumed (gas/heat all heating, electricity all other) and said so
  (``tertiaire_run._period``). The exact OPERAT formula is *to confirm* (FRANCE.md):
  approximated, named in ``approximations``.
- **Modulation** (activity volume, technical or heritage constraints) is not applied.
- **Absolute-value method** (Cabs, kWh/m²/yr per activity sub-category and climate zone):
  the arrêtés' values are not bundled; given ``cabs_kwh_m2`` {activity: value}, the entity's
  adjusted kWh/m² is compared with it, otherwise the result says it is unknown.
- **Status** of the latest full year Y: ``target_met`` (at or under the 2030 target),
  ``on_track`` (at or under the straight line from the reference to the 2030 target at Y),
  ``late`` (above it), ``no_data`` (no full year after the reference).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, select

from sobriete.advice import AdviceSettings
from sobriete.analytics.degree_days import climate_adjusted
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import Building
from sobriete.reporting.operat import CARRIER_COLUMNS
from sobriete.services.actions_run import select_buildings, warning_doc
from sobriete.services.building_energy import energy_meters
from sobriete.services.mv_inputs import meter_refs
from sobriete.services.scoped import building_ref
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.tertiaire_run import (
    DJU_METHOD,
    MIN_METER_COVERAGE,
    REFERENCE_YEARS,
    TertiaireError,
    _baseline_periods,
    _period,
    _station,
    check_reference_year,
    mean_dju,
    station_degree_days,
)

MIN_YEAR_SHARE = 0.5  # below, a year is a fragment: left out of the trajectory, said so
Status = Literal["target_met", "on_track", "late", "no_data"]
APPROXIMATIONS = (
    "climate: E_heating x DJU_ref / DJU_year + E_other (illustrative form of FRANCE.md; the "
    "exact OPERAT formula is to confirm)",
    "degree-days: COSTIC method, base 18 °C, computed from the station's hourly temperatures "
    "on local days (not Météo-France's published DJU)",
    "functional entity = one building; no modulation of the targets",
)


class YearPoint(BaseModel):
    """One calendar year of one entity. kWh over the year, DJU in °C·day."""

    model_config = ConfigDict(frozen=True)

    year: int
    kwh: dict[str, float]  # metered, per carrier
    total_kwh: float
    heating_kwh: float
    dju: float
    adjusted_kwh: float  # at the reference year's climate
    adjusted_kwh_m2: float | None
    coverage_pct: float  # lowest meter coverage of the year
    complete: bool


class Trajectory(BaseModel):
    """One functional entity's Décret tertiaire trajectory, with how it was obtained."""

    model_config = ConfigDict(frozen=True)

    efa_id: str
    building_code: str
    building_name: str
    activity: str
    floor_area_m2: float | None
    subject: bool  # floor area >= 1,000 m² (FRANCE.md); computed anyway otherwise
    reference_year: int
    reference_choice: Literal["given", "best_complete_year"]
    reference_kwh: float
    reference_kwh_m2: float | None
    targets_kwh: dict[int, float]
    years: list[YearPoint]
    latest_year: int | None
    latest_adjusted_kwh: float | None
    reduction_pct: float | None  # of the latest year against the reference
    expected_kwh: float | None  # on the straight line to the 2030 target, at latest_year
    status: Status
    absolute_cabs_kwh_m2: float | None
    absolute_status: Literal["met", "not_met", "unknown"]
    dju_ref: float
    dju_method: str
    station: str
    approximations: list[str]
    warnings: list[dict]  # code, message_fr, message_en


class TrajectoryOutcome(BaseModel):
    trajectories: dict[str, Trajectory]
    errors: dict[str, str] = {}


def _years_with_data(conn: Connection, b: Building) -> range:
    keys = [m.code for m in energy_meters(b)]
    lo, hi = conn.execute(
        select(func.min(S.reading.c.start_s), func.max(S.reading.c.start_s))
        .join(S.series, S.series.c.id == S.reading.c.series_id)
        .where(S.series.c.key.in_(keys), S.series.c.kind == "meter")).one()
    if lo is None:
        raise TertiaireError(f"building {b.code!r}: no energy reading")
    tz = b.occupancy().timezone
    first, last = (pd.Timestamp(int(s), unit="s", tz="UTC").tz_convert(tz).year
                   for s in (lo, hi))
    return range(first, last + 1)


def _coverage(conn: Connection, b: Building, year: int) -> float:
    """Lowest share [0-1] of the year covered by the readings of one of the energy meters."""
    tz = b.occupancy().timezone
    lo, hi = (int(pd.Timestamp(date(y, 1, 1), tz=tz).tz_convert("UTC").timestamp())
              for y in (year, year + 1))
    shares = []
    for m in energy_meters(b):
        got = conn.execute(
            select(func.sum(S.reading.c.duration_s))
            .join(S.series, S.series.c.id == S.reading.c.series_id)
            .where(S.series.c.key == m.code, S.series.c.quantity == m.quantity,
                   S.reading.c.start_s >= lo, S.reading.c.start_s < hi)).scalar() or 0
        shares.append(min(got / (hi - lo), 1.0))
    return min(shares) if shares else 0.0


def _adjusted(p, dju_ref: float) -> float:
    heat = sum(p.heating_kwh.values())
    return climate_adjusted(heat, sum(p.kwh.values()) - heat, dju_ref, p.dju).adjusted_kwh


def _choose_reference(b: Building, periods: dict[int, tuple], days, station: str) -> int:
    """The best complete year of 2010-2019 (module doc), compared at the mean climate."""
    candidates = [y for y, (_p, cov) in periods.items()
                  if y in REFERENCE_YEARS and cov >= MIN_METER_COVERAGE]
    if not candidates:
        raise TertiaireError(
            f"building {b.code!r}: no complete calendar year between {REFERENCE_YEARS[0]} and "
            f"{REFERENCE_YEARS[-1]} (every energy meter >= {MIN_METER_COVERAGE:.0%} covered, "
            "degree-days known) to be the reference year: give one")
    dju_mean, _ = mean_dju(days, station)
    return max(candidates, key=lambda y: (_adjusted(periods[y][0], dju_mean), -y))


def _status(ref: float, ref_year: int, targets: dict[int, float], latest: YearPoint | None
            ) -> tuple[Status, float | None]:
    if latest is None:
        return "no_data", None
    first = min(targets)
    share = min(max((latest.year - ref_year) / (first - ref_year), 0.0), 1.0)
    expected = ref + (targets[first] - ref) * share
    if latest.adjusted_kwh <= targets[first]:
        return "target_met", expected
    return ("on_track" if latest.adjusted_kwh <= expected else "late"), expected


def trajectory(store: Store, b: Building, *, reference_year: int | None = None,
               until_year: int | None = None,
               cabs_kwh_m2: dict[str, float] | None = None,
               settings: AdviceSettings | None = None, weather=None,
               dju_cache: dict | None = None) -> Trajectory:
    """The trajectory of the entity made of building ``b`` (module doc). ``dju_cache``: a
    dict shared between the buildings of one call, so that a station's degree-days (a read
    of its whole history) are computed once. ``until_year``: the last year shown and judged
    (later data left aside, e.g. a year of closure that would read as a saving)."""
    s = settings or AdviceSettings()
    if reference_year is not None:
        check_reference_year(reference_year)
    if not energy_meters(b):
        raise TertiaireError(f"building {b.code!r}: no energy meter")
    tz = b.occupancy().timezone
    warnings: list[dict] = []
    with store.read() as conn:
        refs = meter_refs(conn, weather, [m.code for m in energy_meters(b)])
        station = _station(b, refs)
        cache = {} if dju_cache is None else dju_cache
        if (station, tz) not in cache:
            cache[station, tz] = station_degree_days(conn, station, tz)
        days = cache[station, tz]
        fitted = _baseline_periods(conn, b)
        years = _years_with_data(conn, b)
        if reference_year is not None and reference_year not in years:
            raise TertiaireError(f"building {b.code!r}: no usable data in reference year "
                                 f"{reference_year} (readings from {years[0]} to {years[-1]})")
        periods: dict[int, tuple] = {}  # year -> (PeriodEnergy, coverage): one replay each
        if until_year is not None:
            if until_year < years[0]:
                raise TertiaireError(f"building {b.code!r}: no reading up to {until_year} "
                                     f"(readings from {years[0]} to {years[-1]})")
            years = range(years[0], min(years[-1], until_year) + 1)
        for y in years:
            cov = _coverage(conn, b, y)
            if cov < MIN_YEAR_SHARE:
                if cov > 0:
                    warnings.append(warning_doc(
                        "year_partial", f"{y} écartée : données sur {cov:.0%} de l'année."
                        .replace("%", "\u202f%"), f"{y} left out: data on {cov:.0%} of the year."))
                continue
            try:  # DJU_ref is not known yet: the adjustment is redone below from the parts
                periods[y] = (_period(conn, b, date(y, 1, 1), date(y + 1, 1, 1), days, 1.0,
                                      station, weather, "dju_ratio", fitted, warnings), cov)
            except TertiaireError as exc:
                warnings.append(warning_doc("year_skipped", f"{y} écartée : {exc}",
                                            f"{y} left out: {exc}"))
        ref_year = reference_year or _choose_reference(b, periods, days, station)
    if ref_year not in periods:
        raise TertiaireError(f"building {b.code!r}: no usable data in reference year {ref_year}")
    dju_ref = periods[ref_year][0].dju
    area = b.floor_area_m2
    points = []
    for y, (p, cov) in periods.items():
        adj = _adjusted(p, dju_ref)
        points.append(YearPoint(
            year=y, kwh=p.kwh, total_kwh=sum(p.kwh.values()),
            heating_kwh=sum(p.heating_kwh.values()), dju=p.dju, adjusted_kwh=adj,
            adjusted_kwh_m2=adj / area if area else None,
            coverage_pct=100 * cov, complete=cov >= MIN_METER_COVERAGE))
    ref = next(p for p in points if p.year == ref_year)
    if not ref.complete:
        warnings.append(warning_doc(
            "reference_incomplete",
            f"Année de référence {ref_year} couverte à {ref.coverage_pct:.0f} % seulement : "
            "consommation de référence sous-estimée, objectifs trop sévères.",
            f"Reference year {ref_year} only {ref.coverage_pct:.0f} % covered: reference "
            "consumption underestimated, targets too strict."))
    targets = {y: ref.adjusted_kwh * (1 - r) for y, r in sorted(s.tertiaire_targets.items())}
    later = [p for p in points if p.year > ref_year and p.complete]
    latest = later[-1] if later else None
    status, expected = _status(ref.adjusted_kwh, ref_year, targets, latest)
    cabs = (cabs_kwh_m2 or {}).get(str(b.activity))
    abs_status = "unknown"
    if cabs is not None and latest is not None and latest.adjusted_kwh_m2 is not None:
        abs_status = "met" if latest.adjusted_kwh_m2 <= cabs else "not_met"
    return Trajectory(
        efa_id=b.code, building_code=b.code, building_name=b.name, activity=str(b.activity),
        floor_area_m2=area, subject=bool(area and area >= s.tertiaire_min_area_m2),
        reference_year=ref_year,
        reference_choice="given" if reference_year else "best_complete_year",
        reference_kwh=ref.adjusted_kwh,
        reference_kwh_m2=ref.adjusted_kwh / area if area else None,
        targets_kwh=targets, years=points,
        latest_year=latest.year if latest else None,
        latest_adjusted_kwh=latest.adjusted_kwh if latest else None,
        reduction_pct=(100 * (1 - latest.adjusted_kwh / ref.adjusted_kwh)
                       if latest and ref.adjusted_kwh > 0 else None),
        expected_kwh=expected, status=status, absolute_cabs_kwh_m2=cabs,
        absolute_status=abs_status, dju_ref=dju_ref,
        dju_method=f"{DJU_METHOD.value}, base 18 °C, station {station}", station=station,
        approximations=list(APPROXIMATIONS), warnings=_dedup(warnings))


def _dedup(warnings: list[dict]) -> list[dict]:
    seen, out = set(), []
    for w in warnings:
        if w["message_en"] not in seen:
            seen.add(w["message_en"])
            out.append(w)
    return out


def trajectories(store: Store, *, buildings: list[str] | None = None,
                 building: str | None = None, commune: str | None = None,
                 reference_year: int | None = None, until_year: int | None = None,
                 cabs_kwh_m2: dict[str, float] | None = None,
                 weather=None) -> TrajectoryOutcome:
    """Trajectories of one building, a commune, the codes in ``buildings`` (the API passes
    the visible ones), or all; a building fails alone, with why."""
    if reference_year is not None:  # a bad argument fails before any computation
        check_reference_year(reference_year)
    out = TrajectoryOutcome(trajectories={})
    cache: dict = {}
    chosen = select_buildings(store, building, commune)
    if buildings is not None:
        keep = set(buildings)
        chosen = [b for b in chosen if b.code in keep]
    for b in chosen:
        if not energy_meters(b):
            continue
        try:
            out.trajectories[b.code] = trajectory(store, b, reference_year=reference_year,
                                                  until_year=until_year,
                                                  cabs_kwh_m2=cabs_kwh_m2, weather=weather,
                                                  dju_cache=cache)
        except (SobrieteError, ValueError) as exc:
            if building is not None:
                raise
            out.errors[b.code] = str(exc)
    return out


def operat_rows(store: Store, year: int, *, buildings: list[str] | None = None,
                commune: str | None = None, reference_year: int | None = None,
                weather=None) -> tuple[list[dict], dict[str, str]]:
    """One OPERAT line (``reporting.operat.OPERAT_COLUMNS``) per entity for consumption year
    ``year``, and the buildings left out with why. An entity without that year in its data
    is left out rather than declared with a partial figure."""
    # the status declared is the one of that year, not of later data
    out = trajectories(store, buildings=buildings, commune=commune,
                       reference_year=reference_year, until_year=year, weather=weather)
    rows, errors = [], dict(out.errors)
    with store.read() as conn:
        for code, t in out.trajectories.items():
            point = next((p for p in t.years if p.year == year), None)
            if point is None:
                errors[code] = f"no usable data for {year}"
                continue
            ref = building_ref(conn, code)
            first = min(t.targets_kwh)
            codes = sorted({w["code"] for w in t.warnings}
                           | (set() if point.complete else {"year_incomplete"}))
            rows.append({
                "annee_consommation": year, "identifiant_efa": t.efa_id,
                "nom_efa": t.building_name,
                "code_commune_insee": ref.commune_code if ref else None,
                "nom_commune": ref.commune_name if ref else None,
                "categorie_activite": t.activity, "surface_m2": t.floor_area_m2,
                "assujetti": t.subject,
                **{col: point.kwh.get(c) for c, col in CARRIER_COLUMNS.items()},
                "conso_totale_kwh": point.total_kwh, "couverture_pct": point.coverage_pct,
                "dju_annee": point.dju, "dju_reference": t.dju_ref,
                "station_meteo": t.station,
                "conso_corrigee_climat_kwh": point.adjusted_kwh,
                "annee_reference": t.reference_year, "conso_reference_kwh": t.reference_kwh,
                "objectif_2030_kwh": t.targets_kwh[first],
                "statut_trajectoire": t.status, "avertissements": "|".join(codes)})
    return rows, errors
