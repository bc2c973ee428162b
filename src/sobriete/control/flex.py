"""Flexibility: how many kW a building can shed in a window, and a fair split of a request.

``shed_capacity`` asks the planner (``optimiser.plan``) twice the same question with a
different answer allowed: once unconstrained, once with the heating power capped during the
demand-response window (EcoWatt / NEBEF windows 08:00-13:00 and 18:00-20:00, see
``/work/shared/docs/FRANCE.md``). The lowest cap that still keeps comfort (at most
``max_violation_kh`` K·h below the band over the whole horizon, so a cold restart after the
window counts too, and so do the set-back floors of an empty building) is found by bisection;
each probe is one HiGHS plan. The planner may pre-heat before the window: that energy, and the
extra energy after it (the rebound), are reported next to the shed so an aggregator sees the
whole bill.

``dispatch`` splits a portfolio request (kW over a window) across buildings by water-filling
on each building's *burden*: its past shed energy divided by its capacity (hours at full
shed), older events discounted with a half-life. The least-burdened buildings are asked first
and the burdens end as level as the capacities allow, so the same building is not asked every
time; no building is asked more than its capacity, and any shortfall is reported as unmet kW.
Fairness is Jain's index of the cumulative burdens before and after the request.

Everything is deterministic: the same inputs give the same plans and the same allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from sobriete.control.interface import LinearThermalModel
from sobriete.control.optimiser import Plan, PlanSettings, plan
from sobriete.domain.numbers import fmt_en as E
from sobriete.domain.numbers import fmt_fr as F

_TOL_KW = 1e-6  # below this an allocation or a capacity is rounding noise
MODEL_CONFIDENCE = 0.8  # a capacity planned on an identified thermal model (see flex_meter)


@dataclass(frozen=True)
class CapacityWarning:
    """Something the user should know about a capacity (code, French and English)."""

    code: str
    message_fr: str
    message_en: str
    data: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"code": self.code, "message_fr": self.message_fr,
                "message_en": self.message_en, "data": self.data}


@dataclass(frozen=True)
class Capacity:
    """What one building can shed over one window, and what it costs in comfort and energy.

    Powers are means over the window [kW]; energies over the planning horizon [kWh]; comfort
    violation in occupation [K·h].
    """

    building_code: str
    commune_code: str
    window_start_utc: pd.Timestamp
    window_end_utc: pd.Timestamp
    baseline_kw: float  # unconstrained plan, mean power in the window [kW]
    cap_kw: float  # lowest cap found that keeps comfort [kW]
    capped_kw: float  # capped plan, mean power in the window [kW] (<= cap_kw)
    shed_kw: float  # baseline_kw - capped_kw [kW]
    shed_kwh: float  # shed_kw x window duration [kWh]
    preheat_kwh: float  # extra energy before the window vs the baseline (>= 0) [kWh]
    rebound_kwh: float  # extra energy after the window vs the baseline (>= 0) [kWh]
    net_saving_kwh: float  # baseline horizon energy - capped horizon energy [kWh]
    violation_kh: float  # capped plan, below the band in occupation [K·h]
    violation_total_kh: float  # capped plan, below the band at any time (set-back floors) [K·h]
    baseline_violation_kh: float  # unconstrained plan, below the band at any time [K·h]
    n_plans: int  # HiGHS plans solved (baseline + bisection probes)
    explanation_fr: str
    explanation_en: str
    capped_plan: Plan | None = field(default=None, repr=False, compare=False)
    # "model" (thermal model + planner, ``shed_capacity``) or "meter-only" (``flex_meter``)
    method: str = "model"
    confidence: float = MODEL_CONFIDENCE  # [0, 1]
    warnings: tuple[CapacityWarning, ...] = ()
    provenance: dict = field(default_factory=dict, compare=False)

    @property
    def window_h(self) -> float:
        return (self.window_end_utc - self.window_start_utc).total_seconds() / 3600

    def to_json(self) -> dict:
        """Plain JSON (the capped plan left out)."""
        return {
            "building": self.building_code, "commune": self.commune_code,
            "window_start_utc": self.window_start_utc.isoformat(),
            "window_end_utc": self.window_end_utc.isoformat(), "method": self.method,
            "confidence": self.confidence, "baseline_kw": self.baseline_kw,
            "cap_kw": self.cap_kw, "capped_kw": self.capped_kw, "shed_kw": self.shed_kw,
            "shed_kwh": self.shed_kwh, "preheat_kwh": self.preheat_kwh,
            "rebound_kwh": self.rebound_kwh, "net_saving_kwh": self.net_saving_kwh,
            "violation_kh": self.violation_kh, "violation_total_kh": self.violation_total_kh,
            "baseline_violation_kh": self.baseline_violation_kh, "n_plans": self.n_plans,
            "explanation_fr": self.explanation_fr, "explanation_en": self.explanation_en,
            "warnings": [w.to_json() for w in self.warnings], "provenance": self.provenance}


@dataclass(frozen=True)
class CapacitySum:
    """Capacities summed over a group (a commune, the portfolio) for one window."""

    group: str
    window_start_utc: pd.Timestamp
    window_end_utc: pd.Timestamp
    n_buildings: int
    shed_kw: float
    shed_kwh: float
    preheat_kwh: float
    rebound_kwh: float
    net_saving_kwh: float
    violation_kh: float  # sum over the buildings [K·h]
    building_codes: tuple[str, ...]


@dataclass(frozen=True)
class ShedRecord:
    """One past (or just dispatched) shed of a building: the history ``dispatch`` reads."""

    building_code: str
    window_start_utc: datetime
    shed_kwh: float
    discomfort_kh: float = 0.0


@dataclass(frozen=True)
class Dispatch:
    """A request split across buildings. Powers in kW over the window; Jain's index in (0, 1]."""

    window_start_utc: pd.Timestamp
    window_end_utc: pd.Timestamp
    request_kw: float
    allocation_kw: dict[str, float]  # per building, every building with capacity (0 = not asked)
    capacity_kw: dict[str, float]
    served_kw: float
    unmet_kw: float
    burden_before_h: dict[str, float]  # cumulative shed kWh / capacity kW, before [h]
    burden_after_h: dict[str, float]
    jain_before: float
    jain_after: float
    explanation_fr: str
    explanation_en: str

    def records(self) -> list[ShedRecord]:
        """This dispatch as history for the next one (the kWh asked, not yet the metered)."""
        hours = (self.window_end_utc - self.window_start_utc).total_seconds() / 3600
        return [ShedRecord(code, self.window_start_utc.to_pydatetime(), kw * hours)
                for code, kw in sorted(self.allocation_kw.items()) if kw > _TOL_KW]


def _window_mask(index: pd.DatetimeIndex, window) -> tuple[np.ndarray, pd.Timestamp,
                                                              pd.Timestamp]:
    start, end = (pd.Timestamp(t) for t in window)
    if start.tz is None or end.tz is None:
        raise ValueError("the window must be timezone-aware (UTC)")
    start, end = start.tz_convert("UTC"), end.tz_convert("UTC")
    if end <= start:
        raise ValueError("the window ends before it starts")
    mask = np.asarray((index >= start) & (index < end))
    if not mask.any():
        raise ValueError("the window holds no step of the horizon")
    return mask, start, end


def _local(t: pd.Timestamp, tz: str) -> str:
    return t.tz_convert(tz).strftime("%H:%M")


def shed_capacity(
    model: LinearThermalModel,
    x0: np.ndarray,
    forecast: pd.DataFrame,
    envelope: pd.DataFrame,
    base_prices: pd.DataFrame,
    window: tuple[datetime | pd.Timestamp, datetime | pd.Timestamp],
    settings: PlanSettings,
    *,
    max_violation_kh: float = 0.5,
    building_code: str = "",
    commune_code: str = "",
    tol_w: float | None = None,
) -> Capacity:
    """The kW the building can shed during ``window`` [start, end) (UTC) with comfort kept.

    Inputs are those of ``optimiser.plan``; the horizon should run some hours past the window
    so the rebound is seen. ``max_violation_kh`` [K·h] bounds the capped plan's violation below
    the band over the horizon, occupied or not: the set-back floors that protect an empty
    building (12 °C, 6 °C) count as well as occupied comfort. ``tol_w`` [W] is the bisection
    precision on the cap (default: 1 % of the installed power, at least 50 W).
    """
    if max_violation_kh < 0:
        raise ValueError("max_violation_kh must be >= 0")
    mask, start, end = _window_mask(envelope.index, window)
    cfg = settings.model_copy(update={"explain_gain": False})  # the gain is not used here
    dt_h = settings.step_s / 3600
    window_h = (end - start).total_seconds() / 3600
    tol = tol_w if tol_w is not None else max(50.0, 0.01 * settings.max_power_w)
    existing = (base_prices["max_power_w"].to_numpy(float) if "max_power_w" in base_prices
                else np.full(len(mask), np.nan))

    def capped(cap_w: float) -> Plan:
        prices = base_prices.copy()
        caps = np.where(mask, cap_w, existing)
        prices["max_power_w"] = np.where(mask & ~np.isnan(existing),
                                         np.fmin(existing, cap_w), caps)
        return plan(model, x0, forecast, envelope, prices, cfg)

    base = plan(model, x0, forecast, envelope, base_prices, cfg)
    n_plans = 1
    base_w = base.steps["power_w"].to_numpy()
    best, best_cap = base, float(base_w[mask].max())
    if base.violation_total_kh <= max_violation_kh and best_cap > 0:
        # Violation is non-increasing in the cap (a higher cap only widens the feasible set),
        # so bisection finds the lowest cap within the tolerance.
        lo, hi = 0.0, best_cap
        probe = capped(0.0)
        n_plans += 1
        if probe.violation_total_kh <= max_violation_kh:
            best, best_cap = probe, 0.0
        else:
            while hi - lo > tol:
                mid = 0.5 * (lo + hi)
                probe = capped(mid)
                n_plans += 1
                if probe.violation_total_kh <= max_violation_kh:
                    best, best_cap, hi = probe, mid, mid
                else:
                    lo = mid
    best_w = best.steps["power_w"].to_numpy()
    baseline_kw = float(base_w[mask].mean() / 1000)
    capped_kw = float(best_w[mask].mean() / 1000)
    shed_kw = max(baseline_kw - capped_kw, 0.0)
    first, last = np.flatnonzero(mask)[[0, -1]]
    diff_kwh = (best_w - base_w) / 1000 * dt_h
    # The LP may choose among equal-cost plans differently once capped: small negative
    # differences before/after the window are that choice, not energy given back.
    preheat = max(float(diff_kwh[:first].sum()), 0.0)
    rebound = max(float(diff_kwh[last + 1:].sum()), 0.0)
    net = float(base.energy_kwh - best.energy_kwh)
    tz = settings.timezone
    who = f"{building_code} : " if building_code else ""
    who_en = f"{building_code}: " if building_code else ""
    span = f"{_local(start, tz)}-{_local(end, tz)}"
    if base.violation_total_kh > max_violation_kh:
        fr = (f"{who}aucun effacement {span} : le confort n'est déjà pas tenu sans effacement "
              f"({F(base.violation_total_kh, 1)} K·h > {F(max_violation_kh, 1)} K·h)")
        en = (f"{who_en}no shed {span}: comfort is already not kept without shedding "
              f"({E(base.violation_total_kh, 1)} K·h > {E(max_violation_kh, 1)} K·h)")
    elif shed_kw <= _TOL_KW:
        fr = f"{who}aucun effacement possible {span} : pas de chauffage prévu à effacer"
        en = f"{who_en}no shed possible {span}: no planned heating to shed"
    else:
        fr = (f"{who}effacement possible de {F(shed_kw, 1)} kW de {span} "
              f"({F(shed_kw * window_h, 1)} kWh), puissance plafonnée à "
              f"{F(best_cap / 1000, 1)} kW ; préchauffage {F(preheat, 1)} kWh avant, rebond "
              f"{F(rebound, 1)} kWh après ; confort en occupation {F(best.violation_kh, 2)} "
              f"K·h sous la borne (tolérance {F(max_violation_kh, 1)} K·h)")
        en = (f"{who_en}can shed {E(shed_kw, 1)} kW from {span} "
              f"({E(shed_kw * window_h, 1)} kWh), "
              f"power capped at {E(best_cap / 1000, 1)} kW; pre-heat {E(preheat, 1)} kWh before, "
              f"rebound {E(rebound, 1)} kWh after; occupied comfort {E(best.violation_kh, 2)} K·h "
              f"below the band (tolerance {E(max_violation_kh, 1)} K·h)")
    return Capacity(
        building_code=building_code, commune_code=commune_code, window_start_utc=start,
        window_end_utc=end, baseline_kw=baseline_kw, cap_kw=best_cap / 1000,
        capped_kw=capped_kw, shed_kw=shed_kw, shed_kwh=shed_kw * window_h,
        preheat_kwh=preheat, rebound_kwh=rebound, net_saving_kwh=net,
        violation_kh=float(best.violation_kh),
        violation_total_kh=float(best.violation_total_kh),
        baseline_violation_kh=float(base.violation_total_kh),
        n_plans=n_plans, explanation_fr=fr, explanation_en=en, capped_plan=best)


def aggregate(
    capacities: Iterable[Capacity],
    by: str | Mapping[str, str] | Callable[[Capacity], str] = "commune",
) -> dict[str, CapacitySum]:
    """Sum capacities per group: ``"commune"`` (``commune_code``), ``"portfolio"`` (one group
    ``"portfolio"``), a mapping building_code -> group, or a function of the capacity.

    kW add up only over one window: capacities of different windows raise ``ValueError``.
    """
    caps = list(capacities)
    if len({(c.window_start_utc, c.window_end_utc) for c in caps}) > 1:
        raise ValueError("capacities of different windows cannot be summed")
    if by == "commune":
        key: Callable[[Capacity], str] = lambda c: c.commune_code  # noqa: E731
    elif by == "portfolio":
        key = lambda c: "portfolio"  # noqa: E731
    elif isinstance(by, Mapping):
        mapping = by
        key = lambda c: mapping[c.building_code]  # noqa: E731
    elif callable(by):
        key = by
    else:
        raise ValueError(f"unknown grouping {by!r}: 'commune', 'portfolio', a mapping or a "
                         "function")
    groups: dict[str, list[Capacity]] = {}
    for c in caps:
        groups.setdefault(key(c), []).append(c)
    return {g: CapacitySum(
        group=g, window_start_utc=cs[0].window_start_utc, window_end_utc=cs[0].window_end_utc,
        n_buildings=len(cs), shed_kw=sum(c.shed_kw for c in cs),
        shed_kwh=sum(c.shed_kwh for c in cs), preheat_kwh=sum(c.preheat_kwh for c in cs),
        rebound_kwh=sum(c.rebound_kwh for c in cs),
        net_saving_kwh=sum(c.net_saving_kwh for c in cs),
        violation_kh=sum(c.violation_kh for c in cs),
        building_codes=tuple(sorted(c.building_code for c in cs)))
        for g, cs in sorted(groups.items())}


def jain_index(values: Sequence[float]) -> float:
    """Jain's fairness index (Σx)² / (n Σx²) in [1/n, 1]; 1 when all equal (all zero too)."""
    x = np.asarray(values, float)
    if len(x) == 0 or not (x > 0).any():
        return 1.0
    x = x / x.max()  # scale-free; keeps tiny values from underflowing when squared
    return float(x.sum() ** 2 / (len(x) * (x**2).sum()))


def _water_fill(need_kw: float, cap: np.ndarray, burden_kwh: np.ndarray, hours: float,
                order: np.ndarray) -> np.ndarray:
    """Allocations a in [0, cap] summing to ``need_kw`` that level (burden + a·hours) / cap.

    The level L solves Σ clip((L·cap - burden)/hours, 0, cap) = need; the sum is monotone in
    L, so bisection finds it; the last rounding is handed out in ``order`` (least burdened
    first), so the total is exact.
    """
    def alloc(level: float) -> np.ndarray:
        return np.clip((level * cap - burden_kwh) / hours, 0.0, cap)

    lo = 0.0
    hi = float(((burden_kwh + cap * hours) / cap).max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if alloc(mid).sum() < need_kw:
            lo = mid
        else:
            hi = mid
    a = alloc(lo)
    rest = need_kw - a.sum()
    for i in order:
        if rest <= 0:
            break
        add = min(cap[i] - a[i], rest)
        a[i] += add
        rest -= add
    return a


def dispatch(
    request_kw: float,
    window: tuple[datetime | pd.Timestamp, datetime | pd.Timestamp],
    capacities: Sequence[Capacity] | Mapping[str, float],
    history: Iterable[ShedRecord] = (),
    *,
    half_life_days: float | None = 90.0,
) -> Dispatch:
    """Split ``request_kw`` [kW] over ``window`` across buildings, fairly and within capacity.

    ``capacities``: ``Capacity`` objects (their ``shed_kw``) or building_code -> kW.
    ``history``: past sheds; the allocation levels each building's burden — past shed kWh,
    discounted by ``half_life_days`` before the window start (``None``: no discount, so
    recency only counts through the total) — divided by its capacity. Fairness (Jain's index)
    is reported on the undiscounted cumulative burden. Buildings without capacity are left out.
    """
    if request_kw < 0:
        raise ValueError("request_kw must be >= 0")
    _, start, end = _window_mask(pd.DatetimeIndex([pd.Timestamp(window[0])]), window)
    hours = (end - start).total_seconds() / 3600
    items = (capacities.items() if isinstance(capacities, Mapping)
             else ((c.building_code, c.shed_kw) for c in capacities))
    cap_map: dict[str, float] = {}
    for code, kw in items:
        if code in cap_map:
            raise ValueError(f"building {code!r} appears twice in the capacities")
        if kw > _TOL_KW:
            cap_map[code] = float(kw)
    codes = sorted(cap_map)  # sorted: the result must not depend on the input order
    cap = np.array([cap_map[c] for c in codes])
    cumul = dict.fromkeys(codes, 0.0)
    decayed = dict.fromkeys(codes, 0.0)
    last = dict.fromkeys(codes, pd.Timestamp.min.tz_localize("UTC"))
    discomfort = dict.fromkeys(codes, 0.0)
    for r in history:
        if r.building_code not in cumul:
            continue
        t = pd.Timestamp(r.window_start_utc).tz_convert("UTC")
        age_days = max((start - t).total_seconds() / 86400, 0.0)
        w = 1.0 if half_life_days is None else 0.5 ** (age_days / half_life_days)
        cumul[r.building_code] += r.shed_kwh
        decayed[r.building_code] += w * r.shed_kwh
        discomfort[r.building_code] += r.discomfort_kh
        last[r.building_code] = max(last[r.building_code], t)
    served = min(float(request_kw), float(cap.sum())) if len(codes) else 0.0
    if len(codes):
        burden = np.array([decayed[c] for c in codes])
        # Ties go to the least burdened, then the least recently asked, then the least
        # discomfort endured, then the code: deterministic.
        order = np.array(sorted(range(len(codes)), key=lambda i: (
            burden[i] / cap[i], last[codes[i]], discomfort[codes[i]], codes[i])), dtype=int)
        a = _water_fill(served, cap, burden, hours, order)
    else:
        a = np.zeros(0)
    allocation = {c: float(x) for c, x in zip(codes, a, strict=True)}
    before = {c: cumul[c] / cap_map[c] for c in codes}
    after = {c: (cumul[c] + allocation[c] * hours) / cap_map[c] for c in codes}
    unmet = max(float(request_kw) - served, 0.0)
    j0, j1 = jain_index(list(before.values())), jain_index(list(after.values()))
    asked = [c for c in codes if allocation[c] > _TOL_KW]
    span = f"{start.strftime('%d/%m %H:%M')}-{end.strftime('%H:%M')} UTC"
    fr = (f"Demande {F(request_kw, 1)} kW ({span}) répartie sur {len(asked)} bâtiment(s) sur "
          f"{len(codes)}, d'abord les moins sollicités : "
          + (", ".join(f"{c} {F(allocation[c], 1)}/{F(cap_map[c], 1)} kW" for c in asked)
             or "aucun")
          + f" ; équité (indice de Jain) {F(j0, 2)} -> {F(j1, 2)}")
    en = (f"Request {E(request_kw, 1)} kW ({span}) split over {len(asked)} of {len(codes)} "
          f"building(s), least asked first: "
          + (", ".join(f"{c} {E(allocation[c], 1)}/{E(cap_map[c], 1)} kW" for c in asked)
             or "none")
          + f"; fairness (Jain's index) {E(j0, 2)} -> {E(j1, 2)}")
    if unmet > _TOL_KW:
        fr += f" ; {F(unmet, 1)} kW non couverts (capacité totale {F(cap.sum(), 1)} kW)"
        en += f"; {E(unmet, 1)} kW unmet (total capacity {E(cap.sum(), 1)} kW)"
    return Dispatch(
        window_start_utc=start, window_end_utc=end, request_kw=float(request_kw),
        allocation_kw=allocation, capacity_kw=dict(cap_map), served_kw=float(a.sum()),
        unmet_kw=unmet, burden_before_h=before, burden_after_h=after, jain_before=j0,
        jain_after=j1, explanation_fr=fr, explanation_en=en)
