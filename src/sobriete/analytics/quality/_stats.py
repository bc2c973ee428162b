"""Checks judged against the series' own habits: suspicious zeros and spikes.

Both compare a reading with the *same hour of the week* in the neighbouring weeks: a building's
week is its strongest pattern, and neighbouring weeks share the season. Neighbours are taken by
shifting the UTC grid by whole weeks, so across a DST change they are off by one local hour for
a few weeks; the thresholds are robust enough for that.
"""

from __future__ import annotations

import numpy as np

from sobriete.domain.quality import IssueKind, QualityIssue, Severity

from ._grid import DAY_S, WEEK_S, Prepared, runs, shifted
from ._text import at_en, at_fr, duration_en, duration_fr, num, period_en, period_fr

MAD_TO_SIGMA = 1.4826


def _sorted_median(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column medians ignoring NaN, and the count of finite values (faster than nanmedian)."""
    s = np.sort(stack, axis=0)  # NaN sort last
    cnt = np.isfinite(s).sum(axis=0)
    lo = np.clip((cnt - 1) // 2, 0, None)
    hi = np.clip(cnt // 2, 0, None)
    a = np.take_along_axis(s, lo[None, :], axis=0)[0]
    b = np.take_along_axis(s, hi[None, :], axis=0)[0]
    med = np.where(cnt > 0, (a + b) / 2, np.nan)
    return med, cnt


def suspicious_zeros(p: Prepared) -> tuple[list[QualityIssue], np.ndarray]:
    """Runs of exact zeros that look like missing data, and their mask.

    A zero run is suspicious when zeros are unusual at those hours of the week in the
    neighbouring weeks (a night or a weekend that is often zero is a plausible "off"), and
    either its edges are abrupt (normal use right before and after: a switched-off building
    ramps down) or it lasts at least ``zero_min_h``. Only interval quantities (energy, power,
    volume) are judged: for a sample such as a temperature, 0 is an ordinary value.
    """
    mask = np.zeros(p.n, bool)
    if not p.has_grid or not p.is_interval:
        return [], mask
    st = p.settings
    v = p.values
    fin = p.finite
    zero = fin & (v == 0)
    starts, ends = runs(zero)
    if starts.size == 0:
        return [], mask
    run_id = np.full(p.n, -1.0)
    run_id[zero] = np.repeat(np.arange(starts.size), ends - starts)

    n_fin, n_zero = int(fin.sum()), int(zero.sum())
    # A gas meter idles at zero for hours between boiler cycles: short zero runs say nothing.
    often_zero = n_zero > st.zero_series_share_max * n_fin
    rate = np.full(p.n, np.nan)
    w = p.steps_per(WEEK_S)
    if w is not None and p.n > w:
        zf = np.where(fin, zero.astype(float), np.nan)
        num_ = np.zeros(p.n)
        den = np.zeros(p.n)
        for j in range(1, st.zero_context_weeks + 1):
            for k in (j * w, -j * w):
                z = shifted(zf, k)
                ok = np.isfinite(z) & (shifted(run_id, k, fill=-2.0) != run_id)
                num_ += np.where(ok, z, 0.0)
                den += ok
        rate = np.where(den >= 2, num_ / np.maximum(den, 1), np.nan)

    pos = v[fin & (v > 0)]
    typical = float(np.median(pos)) if pos.size else 0.0
    unit = p.q.unit if p.q else ""
    issues = []
    for r0, r1 in zip(starts, ends, strict=True):
        others = n_fin - int(r1 - r0)
        global_rate = (n_zero - int(r1 - r0)) / others if others > 0 else 1.0
        r = np.where(np.isfinite(rate[r0:r1]), rate[r0:r1], global_rate)
        # Trim the zeros that are usual where they are (the closed night before an outage):
        # the finding covers the unexpected part only.
        odd = np.flatnonzero(r <= st.zero_usual_rate_max)
        if odd.size == 0:
            continue
        i0, i1 = int(r0 + odd[0]), int(r0 + odd[-1] + 1)
        length = i1 - i0
        usual = float(np.median(r[i0 - r0 : i1 - r0]))  # a closed night inside may be usual
        before = v[i0 - 1] if i0 > 0 else np.nan
        after = v[i1] if i1 < p.n else np.nan
        edges = [x for x in (before, after) if np.isfinite(x)]
        abrupt = bool(edges) and typical > 0 and min(edges) >= st.zero_edge_ratio * typical
        secs = length * float(p.step_s or 0)
        if usual > st.zero_usual_rate_max or not (abrupt or secs >= st.zero_min_h * 3600):
            continue
        if often_zero and secs < st.zero_often_min_h * 3600:
            continue
        mask[i0:i1] = True
        s, e = p.ts(i0), p.ts(i1)
        loc = s.tz_convert(p.tz)
        whole_days = loc.hour == 0 and loc.minute == 0 and secs % 86400 == 0
        sev = Severity.ERROR if secs >= st.zero_error_h * 3600 else Severity.WARNING
        why_fr = ("la consommation était normale juste avant et juste après"
                  if abrupt else "la série est rarement nulle à ces heures")
        why_en = "use was normal right before and after" if abrupt else \
            "the series is rarely zero at these hours"
        issues.append(p.issue(
            IssueKind.SUSPICIOUS_ZERO, sev, i0, i1,
            f"Zéros suspects pendant {duration_fr(secs)} {period_fr(s, e, p.tz)} : {why_fr} "
            f"(zéro dans {usual:.0%} des mêmes heures des semaines voisines). Données "
            "manquantes remplacées par 0, ou vraie coupure ?",
            f"Suspicious zeros for {duration_en(secs)} {period_en(s, e, p.tz)}: {why_en} "
            f"(zero in {usual:.0%} of the same hours of neighbouring weeks). Missing data "
            "replaced by 0, or a real shutdown?",
            {"zero_readings": length, "duration_h": secs / 3600, "usual_zero_rate": usual,
             "usual_rate_max": st.zero_usual_rate_max, "before": float(before),
             "after": float(after), "typical_" + unit.replace("/", "_"): typical,
             "abrupt_edges": abrupt, "whole_days": bool(whole_days)},
        ))
    return issues, mask


def check_spikes(p: Prepared, usable: np.ndarray) -> list[QualityIssue]:
    """Short runs far above the same hour of the week (interval) or day (sample) nearby.

    Only upward spikes are reported: drops are gaps or zeros (checked elsewhere) or holidays.
    The scale is the larger of the local MAD and the series-wide MAD of residuals, because
    eight neighbours alone can agree by chance and make any wiggle look extreme. The reading
    must also top every neighbour by a margin: for bursty loads the median is a poor guide.
    """
    if not p.has_grid:
        return []
    st = p.settings
    period = p.steps_per(WEEK_S if p.is_interval else DAY_S)
    if period is None or p.n < 3 * period:
        return []
    v = np.where(usable, p.values, np.nan)
    k = st.spike_context
    stack = np.stack([shifted(v, s * j * period) for j in range(1, k + 1) for s in (1, -1)])
    med, cnt = _sorted_median(stack)
    mad, _ = _sorted_median(np.abs(stack - med[None, :]))
    resid = v - med
    ok_r = np.isfinite(resid)
    if not ok_r.any():
        return []
    r = resid[ok_r]
    s_glob = MAD_TO_SIGMA * float(np.median(np.abs(r - np.median(r))))
    scale = np.fmax(MAD_TO_SIGMA * mad, s_glob)
    # The 90th percentile, not the median: a gas meter's median is its summer hot-water trickle.
    fin_v = np.abs(v[np.isfinite(v)])
    typical = float(np.quantile(fin_v, 0.9)) if fin_v.size else 0.0
    nmax = np.max(np.where(np.isfinite(stack), stack, -np.inf), axis=0)
    thr = np.fmax(med + st.spike_z * scale, nmax + st.spike_min_excess_ratio * typical)
    with np.errstate(invalid="ignore"):
        cand = (cnt >= k) & (v > thr) & (thr > med)
    starts, ends = runs(cand)
    max_steps = st.spike_max_h * 3600 / float(p.step_s or 1)
    unit = p.q.unit if p.q else ""
    out = []
    for i0, i1 in zip(starts, ends, strict=True):
        if i1 - i0 > max_steps:
            continue
        j = i0 + int(np.argmax(v[i0:i1]))
        secs = (i1 - i0) * float(p.step_s or 0)
        peak, exp_, th = float(v[j]), float(med[j]), float(thr[j])
        z = (peak - exp_) / float(scale[j]) if scale[j] > 0 else float("inf")
        if i1 - i0 == 1:
            when_fr, when_en = f"le {at_fr(p.ts(i0), p.tz)}", f"at {at_en(p.ts(i0), p.tz)}"
        else:
            when_fr = f"de {duration_fr(secs)} {period_fr(p.ts(i0), p.ts(i1), p.tz)}"
            when_en = f"of {duration_en(secs)} {period_en(p.ts(i0), p.ts(i1), p.tz)}"
        out.append(p.issue(
            IssueKind.SPIKE, Severity.WARNING, i0, i1,
            f"Pic anormal {when_fr} : {num(peak)} {unit} alors qu'on attend environ {num(exp_)} "
            f"{unit} à cette heure (seuil {num(th)} {unit}).",
            f"Abnormal spike {when_en}: {num(peak)} {unit} where about {num(exp_)} {unit} is "
            f"usual at this hour (threshold {num(th)} {unit}).",
            {"peak": peak, "expected": exp_, "threshold": th, "robust_z": z,
             "highest_neighbour": float(nmax[j]),
             "scale": float(scale[j]), "spike_z": st.spike_z, "neighbours": int(cnt[j])},
        ))
    return out
