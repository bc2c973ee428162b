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
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sobriete.analytics.calendar import occupancy
from sobriete.control.interface import STEP_S
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
    """
    settings = settings or ComfortSettings()
    if instants_utc.tz is None:
        raise ValueError("instants_utc must be timezone-aware (UTC)")
    cols = ["t_min_c", "t_max_c", "occupied", "rule"]
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
    return out
