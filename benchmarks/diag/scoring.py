"""Matching detections with injected faults, and the scores of the diagnostics benchmark.

Definitions (one injected fault per run; a run = one meter-year, one fault or none):

- a detection of a fault = an episode of a *mapped kind* (``MAPPED``; any alarm episode for a
  generic detector, which has no kind) whose [start, end) overlaps the injected window;
- TP = an injected fault with at least one detection; FN = one without; FP = a mapped-kind
  episode of the run overlapping no injected fault (real events of the meter-year included:
  ``fp_new`` leaves out those that also overlap a mapped-kind episode of the *clean* run of the
  same meter-year, i.e. what was already in the real data);
- precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean;
- waste error of a detected fault = (Σ kWh of its detections − injected kWh) / injected kWh,
  kWh of a finding = ``waste.kwh_observed`` (0 when it has no waste); ``net`` subtracts the
  kWh of the clean run's mapped-kind episodes overlapping the same window (waste already there);
- false alarms = every episode (every kind) on the clean, un-injected meter-years, per
  meter-month (episodes / (meter-years × 12)) and per building-month (episodes of all the
  building's meters / (building-years × 12)).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass

import pandas as pd

MAPPED = {
    "holiday_heating": frozenset({"holiday_use"}),
    "night_base": frozenset({"base_load_increase"}),
    "weekend_operation": frozenset({"weekend_use"}),
    "summer_heating": frozenset({"summer_heating"}),
    "drift": frozenset({"drift"}),
    "step_change": frozenset({"step_change"}),
}
WITHIN = 0.20


@dataclass(frozen=True)
class Episode:
    """A finding (ours) or an alarm episode (generic), in the harness's terms."""

    start: pd.Timestamp
    end: pd.Timestamp
    kind: str | None  # FindingKind value; None for generic alarms
    kwh: float  # estimated waste over the episode
    score: float
    detector: str
    has_waste: bool = True

    def overlaps(self, lo: pd.Timestamp, hi: pd.Timestamp) -> bool:
        return self.start < hi and self.end > lo

    def to_dict(self) -> dict:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d

    @classmethod
    def from_finding(cls, f) -> Episode:
        w = f.waste
        return cls(start=pd.Timestamp(f.start_utc), end=pd.Timestamp(f.end_utc),
                   kind=f.kind.value, kwh=float(w.kwh_observed) if w is not None else 0.0,
                   score=float(f.score), detector=f.detector, has_waste=w is not None)


def _relevant(eps: list[Episode], kinds: frozenset[str] | None) -> list[Episode]:
    return [e for e in eps if kinds is None or e.kind in kinds]


def score_run(truth: dict, eps: list[Episode], clean: list[Episode],
              kinds: frozenset[str] | None) -> dict:
    """One injected run against its ground truth (``truth``: Injected.to_dict())."""
    lo, hi = pd.Timestamp(truth["start_utc"]), pd.Timestamp(truth["end_utc"])
    rel = _relevant(eps, kinds)
    hit = [e for e in rel if e.overlaps(lo, hi)]
    miss = [e for e in rel if not e.overlaps(lo, hi)]
    clean_rel = _relevant(clean, kinds)
    fp_new = [e for e in miss if not any(e.overlaps(c.start, c.end) for c in clean_rel)]
    est = sum(e.kwh for e in hit)
    already = sum(c.kwh for c in clean_rel if c.overlaps(lo, hi))
    true = truth["kwh"]
    others = Counter(e.kind or "alarm" for e in eps
                     if e.overlaps(lo, hi) and (kinds is not None and e.kind not in kinds))
    return {
        "detected": bool(hit), "n_detections": len(hit), "fp": len(miss), "fp_new": len(fp_new),
        "true_kwh": true, "est_kwh": est if hit else None,
        "rel_err": (est - true) / true if hit else None,
        "net_rel_err": (est - already - true) / true if hit else None,
        "detections_without_waste": sum(not e.has_waste for e in hit),
        "other_kinds_in_window": dict(others),
    }


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else (
        0.0 if p is not None and r is not None else None)
    return {"precision": p, "recall": r, "f1": f1}


def aggregate(scored: list[dict]) -> dict:
    """Scores of a set of runs (one detector, one fault type and magnitude, or pooled)."""
    n = len(scored)
    tp = sum(s["detected"] for s in scored)
    fp = sum(s["fp"] for s in scored)
    fp_new = sum(s["fp_new"] for s in scored)
    errs = [s["rel_err"] for s in scored if s["rel_err"] is not None]
    nets = [s["net_rel_err"] for s in scored if s["net_rel_err"] is not None]
    others: Counter = Counter()
    for s in scored:
        others.update(s["other_kinds_in_window"])
    out = {"faults": n, "tp": tp, "fn": n - tp, "fp": fp, "fp_new": fp_new, **prf(tp, fp, n - tp),
           "precision_new": tp / (tp + fp_new) if tp + fp_new else None}
    out["f1_new"] = prf(tp, fp_new, n - tp)["f1"]
    out.update({
        "waste_rel_err_median": _median(errs),
        "waste_abs_rel_err_median": _median([abs(e) for e in errs]),
        "waste_within_20pct": (sum(abs(e) <= WITHIN for e in errs) / len(errs)) if errs else None,
        "waste_net_rel_err_median": _median(nets),
        "waste_net_within_20pct": (sum(abs(e) <= WITHIN for e in nets) / len(nets))
        if nets else None,
        "other_kinds_in_window": dict(others.most_common()),
    })
    return out


def false_alarms(clean_runs: list[dict]) -> dict:
    """``clean_runs``: {"key", "building", "fuel", "year", "episodes": [Episode]} of one
    detector."""
    n_eps = sum(len(r["episodes"]) for r in clean_runs)
    meter_months = 12 * len(clean_runs)
    building_months = 12 * len({(r["building"], r["year"]) for r in clean_runs})
    by_kind = Counter(e.kind or "alarm" for r in clean_runs for e in r["episodes"])
    by_meter_year = {r["key"]: len(r["episodes"]) for r in clean_runs}
    return {
        "episodes": n_eps, "meter_months": meter_months, "building_months": building_months,
        "per_meter_month": n_eps / meter_months if meter_months else None,
        "per_building_month": n_eps / building_months if building_months else None,
        "by_kind": dict(by_kind.most_common()), "by_meter_year": by_meter_year,
    }
