"""Flexibility from an electricity meter only: no zone temperature, no thermal model.

Where a building has only its load curve (hourly, 30-min or 10-min, summed to hours) and a
weather station, the heating part of the load is fitted from the data and the shed is bounded
by an assumed thermal time constant:

1. **Fit** (``fit_heating``). Occupied and unoccupied hours are fitted separately with the
   change-point search of ``analytics.mv.cp_search`` on hourly rows: ``kW_h = a_class +
   slope · max(0, bp − T_h)`` (+ a cooling term when BIC prefers it), one intercept per
   class — the local hour of day (occupied), the local hour x the kind of day (unoccupied:
   ``day_kinds``, its opening hours or closed) — so the daily profile of the base load does
   not leak into the slope. ``slope`` [kW/K] is
   the electric heating power per kelvin below the balance point ``bp`` [°C]. A heating term
   counts only when BIC keeps it and its slope is at least ``min_slope_t`` standard errors
   above zero: otherwise the building shows *no heating signal* and sheds 0 kW. Then, at that
   balance point, each class gets its own slope (``class_slopes``, at least
   ``min_class_heating_hours`` heating hours): when in the day the heating actually runs —
   nothing during an evening cool-down to the set-back, more during the morning recovery.
2. **Heating power in the window**: ``P_k = slope_class(k) · max(0, bp − T_k)`` with the fit
   of the step's occupancy and the window's outdoor temperature ``T_k`` (observed or
   forecast).
3. **Comfort bound.** With the heating cut by a fraction ``f`` of ``P`` the indoor
   temperature of a one-capacity building (time constant ``τ`` = C / UA) falls as
   ``ΔT_k = a ΔT_{k−1} + (1 − a) f P_k / UA'``, ``a = exp(−dt / τ)``, where ``UA'`` is the
   occupied slope (in occupation the thermostat holds its setpoint, so that slope is UA over
   the heating system's efficiency or COP, and ``P / UA'`` is the steady-state drop whatever
   the COP). ``f`` is the largest value (≤ ``controllable_share``) keeping ``ΔT_k`` within
   the tolerance of each step: ``occupied_tolerance_k`` (1 K) in occupation,
   ``unoccupied_tolerance_k`` otherwise. ``τ`` comes from the building's inertia class (from
   its activity, ``MeterFlexSettings``): assumed, to be confirmed per building.
4. **Rebound**: the heat not supplied and still missing at the end of the window,
   ``τ · UA' · ΔT_end`` [kWh electric], is supplied after it. No pre-heat is planned.

The result is a ``control.flex.Capacity`` with ``method = "meter-only"``, a confidence at most
``confidence_max`` (below a model-based capacity's), warnings and the provenance of every
number (fit period, slopes, balance points, partial R², time constant assumed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sobriete.analytics.calendar import occupancy
from sobriete.analytics.mv import cp_search as cps
from sobriete.analytics.mv.data import hourly_temperature
from sobriete.analytics.mv.hourly import _zero_runs
from sobriete.control.flex import Capacity, CapacityWarning
from sobriete.domain.numbers import fmt_en, fmt_fr
from sobriete.domain.portfolio import ActivityCategory, HeatingSystem, OccupancyCalendar

METHOD = "meter-only"
ENERGY = "energy_kwh"  # kWh per hour = mean kW of the hour
TEMP = "temp_air_c"
# Heating systems whose heat is not electric: an electricity meter sheds no heating there.
NOT_ELECTRIC = (HeatingSystem.GAS_BOILER, HeatingSystem.OIL_BOILER,
                HeatingSystem.DISTRICT_HEAT, HeatingSystem.WOOD_BOILER)


class Inertia(StrEnum):
    LIGHT = "light"  # light structure, large volume (gymnasium, hall)
    MEDIUM = "medium"  # masonry with insulation, ordinary glazing (school, town hall)
    HEAVY = "heavy"  # heavy masonry or a large water mass (pool)


_ACTIVITY_INERTIA = {
    ActivityCategory.GYM: Inertia.LIGHT, ActivityCategory.CULTURE: Inertia.LIGHT,
    ActivityCategory.POOL: Inertia.HEAVY,
}


class MeterFlexSettings(BaseModel):
    """Assumptions of the meter-only estimate. The time constants and tolerances are
    defaults to be confirmed building by building (a measured cool-down replaces them)."""

    model_config = ConfigDict(frozen=True)

    time_constant_h: dict[Inertia, float] = Field(
        default_factory=lambda: {Inertia.LIGHT: 8.0, Inertia.MEDIUM: 24.0,
                                 Inertia.HEAVY: 60.0},
        description="[h] time constant C/UA of the indoor temperature per inertia class "
        "(to confirm; the short end of published ranges, so the drop is not under-estimated)")
    activity_inertia: dict[ActivityCategory, Inertia] = Field(
        default_factory=lambda: dict(_ACTIVITY_INERTIA),
        description="[-] inertia class per activity; any other activity is medium")
    occupied_tolerance_k: float = Field(1.0, ge=0, le=5, description="[K] largest drop "
                                        "of the indoor temperature allowed in occupation")
    unoccupied_tolerance_k: float = Field(2.0, ge=0, le=10, description="[K] largest drop "
                                          "allowed outside occupation (set-back floors)")
    controllable_share: float = Field(1.0, gt=0, le=1, description="[-] share of the "
                                      "electric heating that the building's controls can cut")
    min_fit_days: int = Field(28, ge=7, description="[days] fewer days of data: no fit")
    recommended_fit_days: int = Field(180, ge=28, description="[days] fewer: warning "
                                      "short_data and lower confidence")
    min_heating_hours: int = Field(100, ge=10, description="[h] hours below the balance "
                                   "point a heating term needs (per occupancy group)")
    recommended_heating_hours: int = Field(1000, ge=10, description="[h] heating hours for "
                                           "full confidence")
    min_slope_t: float = Field(3.0, gt=0, description="[-] slope / standard error below "
                               "which the heating term is taken as no signal")
    confidence_max: float = Field(0.6, gt=0, le=1, description="[-] highest confidence of a "
                                  "meter-only capacity (a model-based one is 0.8)")
    search: cps.SearchSettings = Field(
        default_factory=lambda: cps.SearchSettings(heating_bp_min_c=5.0, heating_bp_max_c=20.0),
        description="balance-point grids of the fit: hourly heating balance points of "
        "heated buildings lie below the indoor setpoint (19 °C) minus internal gains")
    zero_run_hours: int = Field(24, ge=0, description="[h] runs of exact zeros at least "
                                "this long are missing readings, as in the hourly M&V model "
                                "(0 = keep zeros)")
    min_class_heating_hours: int = Field(30, ge=5, description="[h] hours below the "
                                         "balance point an hour of the day needs for its own "
                                         "heating slope (else the group's)")
    step_min: int = Field(15, ge=1, le=60, description="[min] step of the drop simulation")

    def tau_h(self, activity: ActivityCategory) -> tuple[Inertia, float]:
        inertia = self.activity_inertia.get(activity, Inertia.MEDIUM)
        return inertia, float(self.time_constant_h[inertia])


class MeterFlexError(ValueError):
    """Meter-only flexibility cannot be computed (the message names the building)."""


@dataclass(frozen=True)
class HeatingTerm:
    """The heating response of one occupancy group (occupied or unoccupied hours)."""

    group: str  # occupied | unoccupied
    form: str  # the BIC-chosen form (intercept, heating, cooling, heating_cooling)
    slope_kw_per_k: float  # 0 when no heating signal
    slope_se: float  # standard error of the slope [kW/K] (nan without a heating term)
    balance_c: float | None  # heating balance point [°C]
    partial_r2: float  # share of the within-class variance the temperature terms explain
    n_hours: int
    n_heating_hours: int  # hours below the balance point
    intercepts: dict[str, float] = field(default_factory=dict)  # class -> base kW
    cooling_slope_kw_per_k: float = 0.0
    cooling_balance_c: float | None = None
    # class -> heating slope [kW/K] with the group's balance point: when in the day the
    # heating runs (an evening cool-down draws nothing, a morning recovery draws more)
    class_slopes: dict[str, float] = field(default_factory=dict)

    @property
    def signal(self) -> bool:
        return self.slope_kw_per_k > 0

    def heating_kw(self, t: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
        """Expected electric heating [kW] at outdoor temperatures ``t``; with ``classes``
        (labels of ``_classes``) each step takes its class's slope (the group's when the
        class was not fitted)."""
        if not self.signal or self.balance_c is None:
            return np.zeros_like(t, dtype=float)
        slope = (np.full(len(t), self.slope_kw_per_k) if classes is None else np.array(
            [self.class_slopes.get(c, self.slope_kw_per_k) for c in classes], dtype=float))
        return slope * np.maximum(0.0, self.balance_c - t)

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "form": self.form,
                "slope_kw_per_k": self.slope_kw_per_k, "slope_se": _finite(self.slope_se),
                "balance_c": self.balance_c, "partial_r2": self.partial_r2,
                "n_hours": self.n_hours, "n_heating_hours": self.n_heating_hours,
                "cooling_slope_kw_per_k": self.cooling_slope_kw_per_k,
                "cooling_balance_c": self.cooling_balance_c,
                "class_slopes": {k: round(v, 4) for k, v in self.class_slopes.items()}}


@dataclass(frozen=True)
class HeatingFit:
    """The fitted heating part of one building's electricity load."""

    building_code: str
    period_start_utc: pd.Timestamp
    period_end_utc: pd.Timestamp  # end of the last hour used
    n_days: int
    occupied: HeatingTerm | None  # None: too few hours of that group
    unoccupied: HeatingTerm | None
    warnings: tuple[CapacityWarning, ...] = ()

    def term(self, occupied: bool) -> HeatingTerm | None:
        return self.occupied if occupied else self.unoccupied

    @property
    def signal(self) -> bool:
        return any(t is not None and t.signal for t in (self.occupied, self.unoccupied))

    def ua_kw_per_k(self) -> float:
        """Electric kW per kelvin of the building: the occupied slope, where the thermostat
        holds its setpoint (UA / COP); unoccupied hours mix set-back, cool-down and the
        morning recovery, so their slope is used only without an occupied one."""
        for t in (self.occupied, self.unoccupied):
            if t is not None and t.signal:
                return t.slope_kw_per_k
        return 0.0

    def to_json(self) -> dict[str, Any]:
        return {"period_start_utc": self.period_start_utc.isoformat(),
                "period_end_utc": self.period_end_utc.isoformat(), "n_days": self.n_days,
                "occupied": self.occupied.to_json() if self.occupied else None,
                "unoccupied": self.unoccupied.to_json() if self.unoccupied else None}


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _warn(code: str, fr: str, en: str, **data: Any) -> CapacityWarning:
    return CapacityWarning(code=code, message_fr=fr, message_en=en, data=data)


def _fit_group(name: str, y: np.ndarray, t: np.ndarray, cls: np.ndarray, labels: list[str],
               s: MeterFlexSettings) -> HeatingTerm:
    n_cls = len(labels)
    w = np.ones(len(y))
    h_grid, c_grid = s.search.grids()

    def feature(g: np.ndarray, sign: int) -> np.ndarray:
        return np.maximum(0.0, sign * (g[None, :] - t[:, None]))

    fits = cps.search(y, w, cls, n_cls, feature, h_grid, c_grid, s.min_heating_hours,
                      s.search.refine)
    best = cps.choose(fits, len(y))
    syy = fits["intercept"].rss
    partial = 1.0 - best.rss / syy if syy > 0 else 0.0
    slope, se, bp = 0.0, float("nan"), None
    n_heat = 0
    if best.heating_bp is not None:
        # Standard error of the heating slope with the balance points held (OLS on the
        # within-class centred features).
        cols = [np.maximum(0.0, best.heating_bp - t)]
        if best.cooling_bp is not None:
            cols.append(np.maximum(0.0, t - best.cooling_bp))
        x = np.column_stack(cols)
        onehot = np.zeros((len(y), n_cls))
        onehot[np.arange(len(y)), cls] = 1.0
        counts = onehot.sum(axis=0)
        xc = x - (onehot @ ((onehot.T @ x) / np.maximum(counts, 1)[:, None]))
        dof = max(len(y) - best.k, 1)
        sigma2 = best.rss / dof
        try:
            cov = sigma2 * np.linalg.inv(xc.T @ xc)
            se = float(math.sqrt(max(cov[0, 0], 0.0)))
        except np.linalg.LinAlgError:
            se = float("inf")
        n_heat = int((t < best.heating_bp).sum())
        if best.heating_slope > s.min_slope_t * se:
            slope, bp = float(best.heating_slope), float(best.heating_bp)
    class_fit = _class_slopes(y, t, cls, labels, best, s) if bp is not None else ({}, {})
    return HeatingTerm(
        group=name, form=best.form, slope_kw_per_k=slope, slope_se=se,
        balance_c=bp if bp is not None else best.heating_bp, partial_r2=float(partial),
        n_hours=len(y), n_heating_hours=n_heat,
        intercepts={lab: float(best.intercepts[i]) for i, lab in enumerate(labels)}
        | class_fit[1], cooling_slope_kw_per_k=float(best.cooling_slope),
        cooling_balance_c=best.cooling_bp, class_slopes=class_fit[0])


def _class_slopes(y: np.ndarray, t: np.ndarray, cls: np.ndarray, labels: list[str],
                  best: cps.TermFit, s: MeterFlexSettings,
                  ) -> tuple[dict[str, float], dict[str, float]]:
    """Heating slope of each class (hour of day) at the group's balance point, >= 0, and
    the class's intercept that goes with it; a class with fewer than
    ``min_class_heating_hours`` hours below the balance point is left out (it takes the
    group's slope and intercept)."""
    f = np.maximum(0.0, best.heating_bp - t)
    if best.cooling_bp is not None:
        y = y - best.cooling_slope * np.maximum(0.0, t - best.cooling_bp)
    slopes, intercepts = {}, {}
    for i, lab in enumerate(labels):
        m = cls == i
        if int((f[m] > 0).sum()) < s.min_class_heating_hours:
            continue
        fc, yc = f[m] - f[m].mean(), y[m] - y[m].mean()
        sff = float(fc @ fc)
        if sff > 1e-9:
            slopes[lab] = max(0.0, float(fc @ yc) / sff)
            intercepts[lab] = float(y[m].mean() - slopes[lab] * f[m].mean())
    return slopes, intercepts


_FR_HEATING = {HeatingSystem.GAS_BOILER: "chaudière gaz", HeatingSystem.OIL_BOILER:
               "chaudière fioul", HeatingSystem.DISTRICT_HEAT: "réseau de chaleur",
               HeatingSystem.WOOD_BOILER: "chaudière bois"}
_FR_GROUP = {"occupied": "heures occupées", "unoccupied": "heures inoccupées"}


def day_kinds(local_date: np.ndarray, local_hour: np.ndarray, occupied: np.ndarray,
              ) -> np.ndarray:
    """The kind of each row's local day from its occupied hours: ``open08-18`` (first
    occupied hour, last + 1) or ``closed``. Days of the same schedule share their unoccupied
    hours' classes: a school's Wednesday afternoon at set-back is not its Tuesday evening
    cooling down."""
    df = pd.DataFrame({"d": np.asarray(local_date), "h": np.asarray(local_hour, dtype=int),
                       "o": np.asarray(occupied, dtype=bool)})
    g = df[df["o"]].groupby("d")["h"]
    sig = {d: f"open{lo:02d}-{hi + 1:02d}" for d, lo, hi in zip(
        g.min().index, g.min().to_numpy(), g.max().to_numpy(), strict=True)}
    return df["d"].map(sig).fillna("closed").to_numpy(dtype=str)


def _classes(frame: pd.DataFrame, occupied: bool) -> pd.Series:
    hour = frame["local_hour"].astype(int).astype(str).str.zfill(2)
    if occupied:
        return "h" + hour
    return frame["day_kind"].astype(str) + "_h" + hour


def fit_heating(hourly: pd.DataFrame, settings: MeterFlexSettings | None = None, *,
                building_code: str = "") -> HeatingFit:
    """Fit the heating part of an hourly electricity frame (``analytics.mv.data.
    hourly_input``: ``energy_kwh`` per UTC hour, ``temp_air_c``, ``occupied``, ``day_type``,
    ``local_hour``). Hours missing load or temperature are left out. ``MeterFlexError`` when
    fewer than ``min_fit_days`` days remain."""
    s = settings or MeterFlexSettings()
    who = building_code or "?"
    missing = [c for c in (ENERGY, TEMP, "occupied", "day_type", "local_hour")
               if c not in hourly]
    if missing:
        raise MeterFlexError(f"building {who!r}: the hourly frame lacks {missing}")
    y = hourly[ENERGY].to_numpy(float)
    ok = hourly[ENERGY].notna() & hourly[TEMP].notna() & ~_zero_runs(
        np.nan_to_num(y, nan=1.0), s.zero_run_hours)
    if "day_kind" not in hourly:
        dates = (hourly["local_date"] if "local_date" in hourly else
                 hourly.index.tz_convert("Europe/Paris").tz_localize(None).normalize())
        hourly = hourly.assign(day_kind=day_kinds(np.asarray(dates),
                                                  hourly["local_hour"].to_numpy(),
                                                  hourly["occupied"].to_numpy(bool)))
    data = hourly[ok]
    n_days = int(pd.Index(data.index.floor("D")).nunique()) if len(data) else 0
    if n_days < s.min_fit_days:
        raise MeterFlexError(
            f"building {who!r}: {n_days} days with both load and outdoor temperature, "
            f"at least {s.min_fit_days} are needed to fit the heating part")
    warnings: list[CapacityWarning] = []
    if n_days < s.recommended_fit_days:
        warnings.append(_warn(
            "short_data", f"Seulement {n_days} jours de données pour l'ajustement "
            f"({s.recommended_fit_days} recommandés) : pente de chauffage incertaine.",
            f"Only {n_days} days of data for the fit ({s.recommended_fit_days} "
            "recommended): the heating slope is uncertain.", n_days=n_days))
    terms: dict[str, HeatingTerm | None] = {}
    occ = data["occupied"].to_numpy(bool)
    for name, mask in (("occupied", occ), ("unoccupied", ~occ)):
        rows = data[mask]
        if len(rows) < 2 * s.min_heating_hours:
            terms[name] = None
            continue
        keys = pd.Series(_classes(rows, name == "occupied"), index=rows.index)
        codes, labels = pd.factorize(keys, sort=True)
        terms[name] = _fit_group(name, rows[ENERGY].to_numpy(float),
                                 rows[TEMP].to_numpy(float), codes, list(labels), s)
    top = s.search.heating_bp_max_c
    edge = [n for n, t in terms.items()
            if t is not None and t.signal and t.balance_c is not None
            and t.balance_c >= top - 1e-9]
    if edge:
        warnings.append(_warn(
            "balance_point_at_limit",
            f"La consommation ({', '.join(_FR_GROUP[n] for n in edge)}) augmente quand il fait "
            f"plus froid jusqu'à {fmt_fr(top)} °C, la borne de la recherche : des usages "
            "saisonniers (éclairage, périodes d'activité) peuvent passer pour du chauffage ; "
            "confiance divisée par deux.",
            f"The load ({', '.join(edge)} hours) rises as it gets colder up to {fmt_en(top)} "
            "°C, the top of the search: seasonal uses (lighting, term times) may pass for "
            "heating; confidence halved.", groups=edge, balance_max_c=top))
    fit = HeatingFit(building_code, data.index[0], data.index[-1] + pd.Timedelta(hours=1),
                     n_days, terms["occupied"], terms["unoccupied"], tuple(warnings))
    if not fit.signal:
        fit = HeatingFit(fit.building_code, fit.period_start_utc, fit.period_end_utc,
                         n_days, fit.occupied, fit.unoccupied, tuple(warnings) + (_warn(
                             "no_heating_signal",
                             "Aucune part de la consommation électrique ne suit la température "
                             "extérieure : pas de chauffage électrique détecté, 0 kW.",
                             "No part of the electricity load follows the outdoor "
                             "temperature: no electric heating found, 0 kW."),))
    return fit


def confidence(fit: HeatingFit, s: MeterFlexSettings) -> float:
    """``confidence_max`` x the temperature terms' partial R² x data sufficiency."""
    terms = [t for t in (fit.occupied, fit.unoccupied) if t is not None and t.signal]
    if not terms:
        return 0.0
    r2 = max(0.0, min(1.0, max(t.partial_r2 for t in terms)))
    hours = sum(t.n_heating_hours for t in terms)
    enough = min(1.0, hours / s.recommended_heating_hours,
                 fit.n_days / s.recommended_fit_days)
    edge = 0.5 if any(w.code == "balance_point_at_limit" for w in fit.warnings) else 1.0
    return float(s.confidence_max * r2 * enough * edge)


def conditions_for(weather: pd.DataFrame, calendar: OccupancyCalendar,
                   window: tuple[pd.Timestamp, pd.Timestamp],
                   settings: MeterFlexSettings | None = None) -> pd.DataFrame:
    """Outdoor temperature (interpolated from ``weather``: UTC index, ``temp_air_c``) and
    occupation on ``step_min`` steps over ``window`` [start, end) (tz-aware)."""
    s = settings or MeterFlexSettings()
    start, end = (pd.Timestamp(t).tz_convert("UTC") for t in window)
    index = pd.date_range(start, end, freq=f"{s.step_min}min", inclusive="left")
    if len(index) == 0:
        index = pd.DatetimeIndex([start])
    frame = pd.DataFrame(index=index)
    frame[TEMP] = hourly_temperature(weather, index).to_numpy()
    occ = occupancy(calendar, index)
    frame["occupied"] = occ.occupied
    frame["day_type"] = occ.day_type
    local = index.tz_convert(calendar.timezone)
    frame["local_hour"] = local.hour
    # the kind of each local day, from the occupation of all its hours
    first = local.min().normalize()
    last = local.max().normalize() + pd.Timedelta(days=1)
    hours = pd.date_range(first.tz_convert("UTC"), last.tz_convert("UTC"), freq="h",
                          inclusive="left")
    loc_h = hours.tz_convert(calendar.timezone)
    dates = loc_h.tz_localize(None).normalize()
    kinds = pd.Series(day_kinds(np.asarray(dates), loc_h.hour.to_numpy(),
                                occupancy(calendar, hours).occupied), index=dates)
    kinds = kinds[~kinds.index.duplicated()]
    frame["day_kind"] = kinds.reindex(local.tz_localize(None).normalize()).to_numpy()
    return frame


def meter_capacity(
    fit: HeatingFit,
    conditions: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp],
    settings: MeterFlexSettings | None = None,
    *,
    activity: ActivityCategory = ActivityCategory.OTHER,
    heating_system: HeatingSystem = HeatingSystem.UNKNOWN,
    commune_code: str = "",
    time_constant_h: float | None = None,
    timezone: str = "Europe/Paris",
    extra_provenance: dict[str, Any] | None = None,
) -> Capacity:
    """What the building can shed in ``window`` [start, end) (tz-aware) from its meter only.

    ``conditions``: outdoor temperature ``temp_air_c`` and ``occupied`` on a regular UTC
    step grid covering the window (``conditions_for`` builds it); the forecast temperature
    for a future window, the observed one for a past window. ``time_constant_h`` overrides
    the inertia class of ``activity``.
    """
    s = settings or MeterFlexSettings()
    start, end = (pd.Timestamp(t) for t in window)
    if start.tz is None or end.tz is None:
        raise MeterFlexError(f"building {fit.building_code!r}: the window must be tz-aware")
    start, end = start.tz_convert("UTC"), end.tz_convert("UTC")
    if end <= start:
        raise MeterFlexError(f"building {fit.building_code!r}: the window ends before it "
                             "starts")
    inside = conditions[(conditions.index >= start) & (conditions.index < end)]
    if inside.empty or inside[TEMP].isna().any():
        raise MeterFlexError(
            f"building {fit.building_code!r}: no outdoor temperature for every step of the "
            f"window {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC")
    window_h = (end - start).total_seconds() / 3600
    dt_h = window_h / len(inside)
    t = inside[TEMP].to_numpy(float)
    occ = inside["occupied"].to_numpy(bool)
    heat = np.zeros(len(t))  # expected electric heating [kW]
    base = np.zeros(len(t))
    if "local_hour" not in inside:
        inside = inside.assign(local_hour=inside.index.tz_convert(timezone).hour)
    for flag in (True, False):
        m = occ == flag
        # a group without its own fit borrows the other's response
        term = fit.term(flag) or fit.term(not flag)
        if term is None or not m.any():
            continue
        own = term.group == ("occupied" if flag else "unoccupied")
        labels = (np.asarray(_classes(inside[m], flag), dtype=str)
                  if own and (flag or "day_kind" in inside) else None)
        heat[m] = term.heating_kw(t[m], labels)
        base[m] = [term.intercepts.get(lab, _base_kw(term, h, term.group == "occupied"))
                   for lab, h in zip(labels if labels is not None else [""] * int(m.sum()),
                                     inside["local_hour"].to_numpy()[m], strict=True)]
    # Steady-state drop for a full cut [K]: the power not supplied over the building's
    # kW/K (the occupied slope, UA / COP).
    ua = fit.ua_kw_per_k()
    steady = heat / ua if ua > 0 else np.zeros(len(t))
    inertia, tau = s.tau_h(activity)
    tau_src = "inertia class"
    if time_constant_h is not None:
        tau, tau_src = float(time_constant_h), "given for the building"
    warnings = list(fit.warnings)
    electric = heating_system not in NOT_ELECTRIC
    if not electric:
        warnings.append(_warn(
            "not_electric_heating",
            f"Chauffage par {_FR_HEATING[heating_system]} ({heating_system.value}) d'après le "
            "registre : le compteur électrique n'a pas de chauffage à effacer, 0 kW.",
            f"Heating is {heating_system.value} per the registry: the electricity meter has "
            "no heating to shed, 0 kW.", heating_system=heating_system.value))
        heat[:] = 0.0
    elif heating_system is HeatingSystem.UNKNOWN:
        warnings.append(_warn(
            "heating_system_unknown",
            "Le registre ne dit pas si le chauffage est électrique : la part de la "
            "consommation qui suit la température est supposée être du chauffage.",
            "The registry does not say whether heating is electric: the load that follows "
            "the outdoor temperature is assumed to be heating."))
    # Drop of the indoor temperature for a full cut (f = 1), then the largest f kept in
    # tolerance at every step: ΔT is linear in f.
    a = math.exp(-dt_h / tau)
    drop1 = np.zeros(len(t))
    prev = 0.0
    for k in range(len(t)):
        prev = a * prev + (1 - a) * steady[k]
        drop1[k] = prev
    tol = np.where(occ, s.occupied_tolerance_k, s.unoccupied_tolerance_k)
    with np.errstate(divide="ignore", invalid="ignore"):
        limits = np.where(drop1 > 1e-12, tol / drop1, np.inf)
    frac = float(min(s.controllable_share, limits.min())) if heat.any() else 0.0
    heat_kw = float(heat.mean())
    shed_kw = frac * heat_kw
    drop = frac * drop1
    drop_end = float(drop[-1]) if len(drop) else 0.0
    rebound = tau * fit.ua_kw_per_k() * drop_end if shed_kw > 0 else 0.0
    occupied_kh = float((drop * occ).sum() * dt_h)
    baseline_kw = float((base + heat).mean())
    conf = confidence(fit, s) if electric else 0.0
    prov = {
        "method": METHOD, "fit": fit.to_json(), "time_constant_h": tau,
        "time_constant_source": tau_src, "inertia": inertia.value,
        "activity": activity.value, "heating_system": heating_system.value,
        "occupied_tolerance_k": s.occupied_tolerance_k,
        "unoccupied_tolerance_k": s.unoccupied_tolerance_k,
        "controllable_share": s.controllable_share, "heating_kw": heat_kw,
        "shed_fraction": frac, "max_drop_k": float(drop.max()) if len(drop) else 0.0,
        "drop_end_k": drop_end, "mean_outdoor_c": float(t.mean()),
        "occupied_share": float(occ.mean()), "step_min": round(dt_h * 60, 3),
        **(extra_provenance or {})}
    fr, en = _sentences(fit.building_code, start, end, timezone, shed_kw, window_h, heat_kw,
                        frac, drop, rebound, tau, warnings)
    return Capacity(
        building_code=fit.building_code, commune_code=commune_code,
        window_start_utc=start, window_end_utc=end, baseline_kw=baseline_kw,
        cap_kw=baseline_kw - shed_kw, capped_kw=baseline_kw - shed_kw, shed_kw=shed_kw,
        shed_kwh=shed_kw * window_h, preheat_kwh=0.0, rebound_kwh=rebound,
        net_saving_kwh=shed_kw * window_h - rebound, violation_kh=occupied_kh,
        violation_total_kh=float(drop.sum() * dt_h), baseline_violation_kh=0.0, n_plans=0,
        explanation_fr=fr, explanation_en=en, method=METHOD, confidence=conf,
        warnings=tuple(warnings), provenance=prov)


def _base_kw(term: HeatingTerm, local_hour: int, occupied: bool) -> float:
    hh = f"{local_hour:02d}"
    vals = [v for k, v in term.intercepts.items()
            if (k == f"h{hh}" if occupied else k.endswith(f"_h{hh}"))]
    if not vals:
        vals = list(term.intercepts.values()) or [0.0]
    return float(np.mean(vals))


def _sentences(code, start, end, tz, shed_kw, window_h, heat_kw, frac, drop, rebound, tau,
               warnings) -> tuple[str, str]:
    span = f"{start.tz_convert(tz):%H:%M}-{end.tz_convert(tz):%H:%M}"
    who = f"{code} : " if code else ""
    who_en = f"{code}: " if code else ""
    if shed_kw <= 0:
        why = next((w for w in warnings if w.code in ("not_electric_heating",
                                                       "no_heating_signal")), None)
        fr = f"{who}aucun effacement {span} (compteur seul)" + (
            f" : {why.message_fr}" if why else " : pas de chauffage électrique prévu")
        en = f"{who_en}no shed {span} (meter only)" + (
            f": {why.message_en}" if why else ": no electric heating expected")
        return fr, en
    f1, e1 = fmt_fr, fmt_en
    fr = (f"{who}effacement possible de {f1(shed_kw, 1)} kW de {span} "
          f"({f1(shed_kw * window_h, 1)} kWh, compteur seul) : {f1(100 * frac)} % des "
          f"{f1(heat_kw, 1)} kW de chauffage électrique estimés ; baisse de température "
          f"jusqu'à {f1(float(drop.max()), 1)} K (constante de temps supposée {f1(tau)} h) ; "
          f"rebond {f1(rebound, 1)} kWh après")
    en = (f"{who_en}can shed {e1(shed_kw, 1)} kW from {span} ({e1(shed_kw * window_h, 1)} "
          f"kWh, meter only): {e1(100 * frac)} % of the {e1(heat_kw, 1)} kW of electric "
          f"heating estimated; indoor drop up to {e1(float(drop.max()), 1)} K (time "
          f"constant assumed {e1(tau)} h); rebound {e1(rebound, 1)} kWh after")
    return fr, en


def no_capacity(building_code: str, commune_code: str,
                window: tuple[pd.Timestamp, pd.Timestamp], warning: CapacityWarning,
                provenance: dict[str, Any] | None = None, method: str = METHOD) -> Capacity:
    """A zero capacity that says why (no meter, no weather, a fit that failed, ...)."""
    start, end = (pd.Timestamp(t).tz_convert("UTC") for t in window)
    who = f"{building_code} : " if building_code else ""
    who_en = f"{building_code}: " if building_code else ""
    return Capacity(
        building_code=building_code, commune_code=commune_code, window_start_utc=start,
        window_end_utc=end, baseline_kw=0.0, cap_kw=0.0, capped_kw=0.0, shed_kw=0.0,
        shed_kwh=0.0, preheat_kwh=0.0, rebound_kwh=0.0, net_saving_kwh=0.0,
        violation_kh=0.0, violation_total_kh=0.0, baseline_violation_kh=0.0, n_plans=0,
        explanation_fr=f"{who}aucun effacement : {warning.message_fr}",
        explanation_en=f"{who_en}no shed: {warning.message_en}", method=method,
        confidence=0.0, warnings=(warning,), provenance=dict(provenance or {}))
