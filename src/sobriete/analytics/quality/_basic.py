"""Checks that need no statistics: gaps, duplicates, off-grid stamps, ranges, flat lines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sobriete.domain.quality import IssueKind, QualityIssue, Severity

from ._grid import NS, Prepared, runs
from ._text import duration_en, duration_fr, num, period_en, period_fr


def _span(p: Prepared, i0: int, i1: int) -> tuple[str, str, float]:
    s, e = p.ts(i0), p.ts(i1)
    return period_fr(s, e, p.tz), period_en(s, e, p.tz), (i1 - i0) * float(p.step_s or 0)


def check_gaps(p: Prepared) -> list[QualityIssue]:
    """Runs of grid slots without a finite reading (no row, or a row with no value)."""
    if not p.has_grid:
        return []
    st = p.settings
    starts, ends = runs(~p.finite)
    out = []
    for i0, i1 in zip(starts, ends, strict=True):
        n = int(i1 - i0)
        if n < st.gap_min_steps:
            continue
        pfr, pen, secs = _span(p, i0, i1)
        n_nan_rows = int((p.counts[i0:i1] > 0).sum())
        sev = Severity.ERROR if secs >= st.gap_error_h * 3600 else Severity.WARNING
        extra_fr = f", dont {n_nan_rows} lignes sans valeur" if n_nan_rows else ""
        extra_en = f", {n_nan_rows} of them rows without a value" if n_nan_rows else ""
        out.append(p.issue(
            IssueKind.GAP, sev, i0, i1,
            f"Trou de données de {duration_fr(secs)} {pfr} ({n} relevés manquants{extra_fr}).",
            f"Data gap of {duration_en(secs)} {pen} ({n} readings missing{extra_en}).",
            {"missing_steps": n, "step_s": p.step_s or 0, "duration_h": secs / 3600,
             "rows_without_value": n_nan_rows, "error_from_h": st.gap_error_h},
        ))
    return out


def check_duplicates(p: Prepared) -> list[QualityIssue]:
    """Timestamps present more than once; consecutive duplicated slots form one finding."""
    if not p.has_grid:
        return []
    dup = p.counts > 1
    starts, ends = runs(dup)
    unit = p.q.unit if p.q else ""
    out = []
    for i0, i1 in zip(starts, ends, strict=True):
        diff = p.slot_max[i0:i1] - p.slot_min[i0:i1]
        conflicting = np.nan_to_num(diff, nan=0.0) > p.settings.duplicate_tolerance
        n_conf = int(conflicting.sum())
        extra = int((p.counts[i0:i1] - 1).sum())
        max_diff = float(np.nanmax(diff)) if np.isfinite(diff).any() else 0.0
        pfr, pen, _ = _span(p, i0, i1)
        n = int(i1 - i0)
        conf_fr = (f", dont {n_conf} avec des valeurs différentes (écart max {num(max_diff)} "
                   f"{unit})" if n_conf else ", avec les mêmes valeurs")
        conf_en = (f", {n_conf} with different values (max difference {num(max_diff)} {unit})"
                   if n_conf else ", with identical values")
        out.append(p.issue(
            IssueKind.DUPLICATE, Severity.WARNING if n_conf else Severity.INFO, i0, i1,
            f"Relevés en double {pfr} : {n} horodatages présents plusieurs fois ({extra} lignes "
            f"en trop){conf_fr}. La première valeur est retenue.",
            f"Duplicated readings {pen}: {n} timestamps present more than once ({extra} extra "
            f"rows){conf_en}. The first value is kept.",
            {"duplicated_timestamps": n, "extra_rows": extra, "conflicting": n_conf,
             "max_difference": max_diff, "tolerance": p.settings.duplicate_tolerance},
        ))
    return out


def check_off_grid(p: Prepared) -> list[QualityIssue]:
    """Readings whose timestamp is not on the series' step: one finding for all of them."""
    k = int(p.off_grid_ns.size)
    if k == 0 or p.step_s is None:
        return []
    s = pd.Timestamp(int(p.off_grid_ns[0]), unit="ns", tz="UTC")
    e = pd.Timestamp(int(p.off_grid_ns[-1]) + p.step_s * NS, unit="ns", tz="UTC")
    return [p.issue_at(
        IssueKind.OFF_GRID, Severity.WARNING, s, e,
        f"{k} relevés horodatés hors du pas de {duration_fr(p.step_s)} {period_fr(s, e, p.tz)} ;"
        " ils sont ignorés par les autres contrôles.",
        f"{k} readings stamped off the {duration_en(p.step_s)} step {period_en(s, e, p.tz)}; "
        "the other checks ignore them.",
        {"off_grid_rows": k, "step_s": p.step_s}, n_points=k,
    )]


def out_of_range(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Masks of readings below the quantity's minimum and above its maximum."""
    q = p.q
    v = p.values
    low = np.zeros(v.shape, bool)
    high = np.zeros(v.shape, bool)
    if q is None or not p.has_grid:
        return low, high
    with np.errstate(invalid="ignore"):
        if q.min_value is not None:
            low = v < q.min_value
        if q.max_value is not None:
            high = v > q.max_value
    return low, high


def check_range(p: Prepared) -> list[QualityIssue]:
    """Negative or physically impossible readings, by run."""
    low, high = out_of_range(p)
    q = p.q
    if q is None:
        return []
    out = []
    for mask, is_low in ((low, True), (high, False)):
        bound = q.min_value if is_low else q.max_value
        kind = IssueKind.NEGATIVE if is_low and (bound or 0) >= 0 else IssueKind.IMPOSSIBLE
        starts, ends = runs(mask)
        for i0, i1 in zip(starts, ends, strict=True):
            seg = p.values[i0:i1]
            worst = float(seg.min() if is_low else seg.max())
            pfr, pen, _ = _span(p, i0, i1)
            n = int(i1 - i0)
            if kind is IssueKind.NEGATIVE:
                fr = f"{n} valeur(s) négative(s) {pfr} (jusqu'à {num(worst)} {q.unit})."
                en = f"{n} negative value(s) {pen} (down to {num(worst)} {q.unit})."
            else:
                side_fr, side_en = ("inférieure", "below") if is_low else ("supérieure", "above")
                fr = (f"{n} valeur(s) impossible(s) {pfr} : {num(worst)} {q.unit}, {side_fr} à "
                      f"la limite physique de {num(bound or 0)} {q.unit}.")
                en = (f"{n} impossible value(s) {pen}: {num(worst)} {q.unit}, {side_en} the "
                      f"physical limit of {num(bound or 0)} {q.unit}.")
            out.append(p.issue(kind, Severity.ERROR, i0, i1, fr, en,
                               {"worst_value": worst, "limit": float(bound or 0), "unit": q.unit},
                               check="range"))
    return out


def check_flat_lines(p: Prepared) -> list[QualityIssue]:
    """One value repeated long enough to mean a stuck meter or sensor.

    Zeros of interval quantities are left to the suspicious-zero check (a zero there is a
    reading of "nothing used", judged against the usual consumption); a sample stuck at 0.0
    (a temperature) is a flat line like any other.
    """
    if not p.has_grid or p.n < 3:
        return []
    st = p.settings
    v = p.values
    with np.errstate(invalid="ignore"):
        same = np.abs(np.diff(v)) <= st.flat_line_tolerance
    same &= np.isfinite(v[1:]) & np.isfinite(v[:-1])
    if p.is_interval:
        same &= v[1:] != 0
    min_pts = max(3, math.ceil(st.flat_line_min_h * 3600 / (p.step_s or 1)))
    starts, ends = runs(same)
    unit = p.q.unit if p.q else ""
    out = []
    for j0, j1 in zip(starts, ends, strict=True):
        i0, i1 = int(j0), int(j1) + 1  # k equal differences join k + 1 readings
        if i1 - i0 < min_pts:
            continue
        pfr, pen, secs = _span(p, i0, i1)
        val = float(v[i0])
        out.append(p.issue(
            IssueKind.FLAT_LINE, Severity.WARNING, i0, i1,
            f"Valeur figée à {num(val)} {unit} pendant {duration_fr(secs)} {pfr} : compteur ou "
            "capteur bloqué ?",
            f"Value stuck at {num(val)} {unit} for {duration_en(secs)} {pen}: stuck meter or "
            "sensor?",
            {"value": val, "repeated_readings": i1 - i0, "duration_h": secs / 3600,
             "min_h": st.flat_line_min_h, "tolerance": st.flat_line_tolerance},
        ))
    return out
