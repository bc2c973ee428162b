"""Comfort envelope: the band of zone temperatures a plan must keep, per 15-min step.

Reading of the law (code de l'énergie, see ``/work/shared/docs/FRANCE.md``):

- R.241-26 caps the *average* heating temperature of occupied premises at 19 °C. It is a
  maximum of an average, not a comfort floor. Occupants still expect about 19 °C, so the
  default lower bound in occupation is 19 °C (``occupied_min_c``). A cost-minimising planner
  sits on its lower bound, so the planned occupied average stays at 19 °C except where heat is
  deliberately stored ahead of an expensive window; the plan reports that average so the
  commune sees it. The upper bound (``occupied_max_c``, 21 °C) only limits such storage.
- R.241-27: unoccupied 24-48 h: at most 16 °C; 48 h or more: at most 8 °C (frost protection).
  These are the *upper* bounds of the unoccupied and frost bands. Their lower bounds are set-back
  floors that protect the building (12 °C, 6 °C), not legal values. Shorter unoccupied spans
  (nights) use the unoccupied band too, as the public-sector sobriety plan (16 °C at night) asks.
- Restarting the heating ("relance") before occupants arrive cannot happen below 16 °C: during
  ``preheat_window_h`` before each occupied period the upper bound is the occupied one. This is
  also where the planner stores heat before an expensive tariff window.

User bands (a caretaker's event, a fragile collection) override the computed band on their span.

Optional PMV/PPD (ISO 7730, computed by ``pythermalcomfort``): ``pmv_ppd`` rates a zone
temperature, and ``ComfortSettings.pmv_category`` translates an ISO 7730 category into the
operative-temperature floor for stated clothing and activity (``pmv_floor``), reported next to
the legal floor. It is information only: the band's floor stays ``occupied_min_c`` (19 °C),
which is the minimum the planner heats to, whatever the PMV floor says.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sobriete.analytics.calendar import occupancy
from sobriete.control.interface import STEP_S
from sobriete.domain.numbers import fmt_fr
from sobriete.domain.portfolio import Building

RULE_OCCUPIED = "occupied"
RULE_PREHEAT = "preheat"
RULE_UNOCCUPIED = "unoccupied"
RULE_FROST = "frost"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class UserBand(_Frozen):
    """A band set by a person on [start_utc, end_utc): it replaces the computed band."""

    start_utc: datetime
    end_utc: datetime
    t_min_c: float = Field(description="lower bound [°C]")
    t_max_c: float = Field(description="upper bound [°C]")
    label: str = Field("user", min_length=1, description="shown in the `rule` column")

    @model_validator(mode="after")
    def _ordered(self) -> UserBand:
        if self.start_utc.tzinfo is None or self.end_utc.tzinfo is None:
            raise ValueError("user band times must be timezone-aware (UTC)")
        if self.end_utc <= self.start_utc:
            raise ValueError("user band ends before it starts")
        if self.t_max_c < self.t_min_c:
            raise ValueError(f"user band {self.label!r}: t_max_c < t_min_c")
        return self


Category = Literal["A", "B", "C"]
# ISO 7730:2005 Annex A, Table A.1: |PMV| limits of the categories (PPD < 6, 10, 15 %).
PMV_LIMITS: dict[str, float] = {"A": 0.2, "B": 0.5, "C": 0.7}


class PMVAssumptions(_Frozen):
    """What PMV needs besides the temperature, with winter defaults for an office or a
    classroom.

    ``met`` 1.2: ISO 7730 Table B.1, "sedentary activity (office, dwelling, school,
    laboratory)". School children: the same 1.2 met is used; PMV was derived from adults and
    classroom field studies (e.g. Teli, James & Turner, Energy and Buildings 2012) found
    pupils feeling warmer than PMV predicts, so the floor below is, if anything, high for
    them. ``clo`` 1.0: trousers, shirt, pullover (ISO 7730 Table C.1, winter indoor
    clothing). ``air_speed_m_s`` 0.1: still indoor air; PMV uses the relative air speed,
    ``v + 0.3 (met - 1)`` (pythermalcomfort's ``v_relative``). ``rh_pct`` 50 %.
    """

    clo: float = Field(1.0, gt=0, le=2, description="clothing insulation [clo]")
    met: float = Field(1.2, ge=0.8, le=4, description="metabolic rate [met]")
    air_speed_m_s: float = Field(0.1, ge=0, lt=1, description="measured air speed [m/s]")
    rh_pct: float = Field(50.0, ge=0, le=100, description="relative humidity [%]")


class PMVResult(_Frozen):
    pmv: float | None  # predicted mean vote [-3 cold .. +3 hot]; None outside ISO 7730's range
    ppd_pct: float | None  # predicted percentage of dissatisfied [%]; None likewise
    category: str  # ISO 7730 "A", "B", "C", or "-" outside C (or outside the model's range)


class PMVFloor(_Frozen):
    """The operative temperature at which PMV = -limit of a category, beside the legal floor.
    ``floor_c`` is information: the band and the planner keep ``legal_floor_c``."""

    category: str
    pmv_min: float
    floor_c: float  # operative temperature with PMV = pmv_min [°C]
    legal_floor_c: float  # the occupied floor actually used (occupied_min_c) [°C]
    assumptions: PMVAssumptions
    sentence_fr: str
    sentence_en: str


def _relative_speed(air_speed_m_s: float, met: float) -> float:
    try:  # pythermalcomfort >= 3.? moved it from utilities to environment
        from pythermalcomfort.environment import v_relative
    except ImportError:  # pragma: no cover - older layout
        from pythermalcomfort.utilities import v_relative
    return float(np.asarray(v_relative(v=air_speed_m_s, met=met)))


def _pmv(temp_air_c: float, temp_radiant_c: float, a: PMVAssumptions, *,
         limit_inputs: bool) -> tuple[float, float]:
    from pythermalcomfort.models import pmv_ppd_iso  # lazily: only when PMV is asked

    with warnings.catch_warnings():  # out-of-range inputs give NaN, which the caller reports
        warnings.simplefilter("ignore", UserWarning)
        r = pmv_ppd_iso(tdb=temp_air_c, tr=temp_radiant_c,
                        vr=_relative_speed(a.air_speed_m_s, a.met), rh=a.rh_pct, met=a.met,
                        clo=a.clo, limit_inputs=limit_inputs, round_output=False)
    return float(np.asarray(r.pmv)), float(np.asarray(r.ppd))


def iso7730_category(pmv: float) -> str:
    """"A", "B" or "C" (ISO 7730 Table A.1: |PMV| < 0.2, 0.5, 0.7), "-" otherwise."""
    if not np.isfinite(pmv):
        return "-"
    for cat, limit in PMV_LIMITS.items():
        if abs(pmv) < limit:
            return cat
    return "-"


def pmv_ppd(
    temp_air_c: float,
    *,
    temp_radiant_c: float | None = None,
    assumptions: PMVAssumptions | None = None,
) -> PMVResult:
    """PMV, PPD and ISO 7730 category of a zone at ``temp_air_c`` [°C] (mean radiant
    temperature ``temp_radiant_c``, default the air temperature: then the operative
    temperature is the air temperature). Outside ISO 7730's range (e.g. air below 10 °C or
    |PMV| > 2) PMV and PPD are None and the category "-"."""
    a = assumptions or PMVAssumptions()
    tr = temp_air_c if temp_radiant_c is None else temp_radiant_c
    pmv, ppd = _pmv(float(temp_air_c), float(tr), a, limit_inputs=True)
    return PMVResult(pmv=pmv if np.isfinite(pmv) else None,
                     ppd_pct=ppd if np.isfinite(ppd) else None,
                     category=iso7730_category(pmv))


def pmv_floor(category: Category = "B", assumptions: PMVAssumptions | None = None, *,
              legal_floor_c: float = 19.0) -> PMVFloor:
    """Operative temperature [°C] where PMV = -limit of ``category`` (brentq on PMV(T) with
    air = radiant = T, between 5 and 35 °C), beside ``legal_floor_c``."""
    from scipy.optimize import brentq

    if category not in PMV_LIMITS:
        raise ValueError(f"category must be one of {sorted(PMV_LIMITS)}, got {category!r}")
    a = assumptions or PMVAssumptions()
    target = -PMV_LIMITS[category]
    floor = float(brentq(lambda t: _pmv(t, t, a, limit_inputs=False)[0] - target, 5.0, 35.0,
                         xtol=1e-3))
    hyp_fr = (f"{fmt_fr(a.clo, 1)} clo, {fmt_fr(a.met, 1)} met, "
              f"{fmt_fr(a.air_speed_m_s, 1)} m/s, {a.rh_pct:.0f} % HR")
    hyp_en = f"{a.clo:.1f} clo, {a.met:.1f} met, {a.air_speed_m_s:.1f} m/s, {a.rh_pct:.0f} % RH"
    fr = (f"Confort ISO 7730 catégorie {category} (PMV > {fmt_fr(target, 1)} ; {hyp_fr}) : "
          f"température opérative d'au moins {fmt_fr(floor, 1)} °C. Information seulement : le "
          f"plancher retenu pour chauffer reste {fmt_fr(legal_floor_c, 1)} °C.")
    en = (f"ISO 7730 comfort category {category} (PMV > {target:g}; {hyp_en}): operative "
          f"temperature at least {floor:.1f} °C. Information only: the floor the heating "
          f"keeps stays {legal_floor_c:.1f} °C.")
    return PMVFloor(category=category, pmv_min=target, floor_c=floor,
                    legal_floor_c=legal_floor_c, assumptions=a, sentence_fr=fr, sentence_en=en)


class ComfortSettings(_Frozen):
    """Temperature bands per situation [°C] and the spans that choose them [h]."""

    occupied_min_c: float = Field(
        19.0, description="lower bound in occupation [°C]; R.241-26 caps the occupied *average* "
        "at 19 °C, comfort wants about 19 °C: the planner sits on this bound")
    occupied_max_c: float = Field(
        21.0, description="upper bound in occupation [°C]: limits heat storage before a peak")
    unoccupied_min_c: float = Field(12.0, description="set-back floor when unoccupied [°C]")
    unoccupied_max_c: float = Field(
        16.0, description="upper bound when unoccupied less than 48 h [°C] (R.241-27: 16 °C)")
    frost_min_c: float = Field(6.0, description="frost-protection floor [°C]")
    frost_max_c: float = Field(
        8.0, description="upper bound when unoccupied 48 h or more [°C] (R.241-27: 8 °C)")
    long_closure_h: float = Field(
        48.0, gt=0, description="unoccupied span from which the frost band applies [h] (R.241-27)")
    preheat_window_h: float = Field(
        3.0, ge=0, description="restart window before each occupied period [h]: the upper "
        "bound is the occupied one, so the heating may restart and store heat")
    user_bands: tuple[UserBand, ...] = ()
    pmv_category: Category | None = Field(
        None, description="ISO 7730 category whose PMV floor is reported beside the legal one "
        "(column pmv_floor_c of the envelope); information only, the band keeps "
        "occupied_min_c")
    pmv_assumptions: PMVAssumptions = PMVAssumptions()

    @model_validator(mode="after")
    def _ordered(self) -> ComfortSettings:
        for lo, hi in (("occupied_min_c", "occupied_max_c"),
                       ("unoccupied_min_c", "unoccupied_max_c"),
                       ("frost_min_c", "frost_max_c")):
            if getattr(self, hi) < getattr(self, lo):
                raise ValueError(f"{hi} ({getattr(self, hi)}) < {lo} ({getattr(self, lo)})")
        return self


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the runs of True in ``flags``."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def comfort_envelope(
    building: Building,
    instants_utc: pd.DatetimeIndex,
    *,
    settings: ComfortSettings | None = None,
    closures: list[tuple[date, date]] | None = None,
) -> pd.DataFrame:
    """Band of zone temperatures at each UTC instant (the start of each 15-min step).

    Returns a frame indexed by ``instants_utc`` with ``t_min_c``, ``t_max_c`` [°C],
    ``occupied`` (bool) and ``rule`` (``occupied``, ``preheat``, ``unoccupied``, ``frost`` or a
    user band's label). ``closures`` are inclusive local date ranges (works, summer shutdown).
    With ``settings.pmv_category``, also ``pmv_floor_c`` [°C] on occupied steps (NaN
    elsewhere): the ISO 7730 floor for the stated assumptions, information beside ``t_min_c``.
    """
    settings = settings or ComfortSettings()
    if instants_utc.tz is None:
        raise ValueError("instants_utc must be timezone-aware (UTC)")
    cols = ["t_min_c", "t_max_c", "occupied", "rule"]
    if settings.pmv_category is not None:
        cols.append("pmv_floor_c")
    if len(instants_utc) == 0:
        return pd.DataFrame(columns=cols, index=instants_utc)
    calendar = building.occupancy()
    step = pd.Timedelta(seconds=STEP_S)
    # The length of an unoccupied span decides its band, and a span can start before the
    # horizon or end after it: classify on a regular grid padded on both sides.
    pad = pd.Timedelta(hours=settings.long_closure_h + settings.preheat_window_h) + 2 * step
    utc = instants_utc.tz_convert("UTC")
    grid = pd.date_range(utc.min().floor(step) - pad, utc.max().ceil(step) + pad, freq=step)
    occ = occupancy(calendar, grid, closures).occupied
    n = len(grid)
    t_min = np.full(n, settings.unoccupied_min_c)
    t_max = np.full(n, settings.unoccupied_max_c)
    rule = np.full(n, RULE_UNOCCUPIED, dtype=object)
    t_min[occ], t_max[occ], rule[occ] = (
        settings.occupied_min_c, settings.occupied_max_c, RULE_OCCUPIED)
    long_steps = settings.long_closure_h * 3600 / STEP_S
    preheat_steps = int(round(settings.preheat_window_h * 3600 / STEP_S))
    for a, b in runs(~occ):
        # A span touching the padded grid's edge is at least as long as the padding.
        if b - a >= long_steps or a == 0 and b == n and n >= long_steps:
            t_min[a:b], t_max[a:b], rule[a:b] = (
                settings.frost_min_c, settings.frost_max_c, RULE_FROST)
        if b < n and preheat_steps:
            p = max(a, b - preheat_steps)
            t_max[p:b], rule[p:b] = settings.occupied_max_c, RULE_PREHEAT
    pos = grid.get_indexer(utc.floor(step))
    out = pd.DataFrame({"t_min_c": t_min[pos], "t_max_c": t_max[pos],
                        "occupied": occ[pos], "rule": rule[pos]}, index=instants_utc)
    for band in settings.user_bands:
        on = (utc >= band.start_utc) & (utc < band.end_utc)
        out.loc[on, ["t_min_c", "t_max_c", "rule"]] = (band.t_min_c, band.t_max_c, band.label)
    if settings.pmv_category is not None:
        floor = pmv_floor(settings.pmv_category, settings.pmv_assumptions,
                          legal_floor_c=settings.occupied_min_c).floor_c
        out["pmv_floor_c"] = np.where(out["occupied"].to_numpy(bool), floor, np.nan)
    return out
