"""Timing checks: daylight-saving mistakes and clock shifts, from the daily load profile.

Profiles are built by *local* hour (the commune's clock): a building runs on local time, so a
correctly stamped UTC series has the same local profile before and after a DST change.
Local-time data imported as UTC shows, in local time, a profile one hour later after the spring
change and one hour earlier after the autumn change. A clock shift is the same kind of jump by
k hours at any other date.

Caveat: a load driven by the sun rather than by people (street lighting) shifts by one local
hour at each DST change even when correctly stamped; read DST findings on such meters with care.
"""

from __future__ import annotations

import math

import numpy as np

from sobriete.domain.quality import IssueKind, QualityIssue, Severity

from ._grid import NS, Prepared, runs
from ._text import at_en, at_fr, period_en, period_fr

DAY_NS = 86400 * NS


class _Profiles:
    """Per-local-day hourly means, and windowed means via cumulative sums."""

    def __init__(self, p: Prepared, usable: np.ndarray) -> None:
        local_ns = np.asarray(p.local.tz_localize(None).as_unit("ns").asi8)
        self.day = local_ns // DAY_NS
        self.day0 = int(self.day[0])
        d = self.day - self.day0
        self.n_days = int(d[-1]) + 1
        h = p.local_hour
        ok = usable & np.isfinite(p.values)
        cell = d * 24 + h
        sums = np.bincount(cell[ok], weights=p.values[ok], minlength=self.n_days * 24)
        cnts = np.bincount(cell[ok], minlength=self.n_days * 24).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            prof = (sums / cnts).reshape(self.n_days, 24)
        fin = np.isfinite(prof)
        self.S = np.vstack([np.zeros(24), np.cumsum(np.where(fin, prof, 0.0), axis=0)])
        self.C = np.vstack([np.zeros(24), np.cumsum(fin, axis=0).astype(float)])

    def mean(self, d0: np.ndarray, d1: np.ndarray) -> np.ndarray:
        """Mean hourly profile over days [d0, d1) (arrays of day offsets), NaN if too sparse."""
        d0 = np.clip(d0, 0, self.n_days)
        d1 = np.clip(d1, 0, self.n_days)
        c = self.C[d1] - self.C[d0]
        with np.errstate(invalid="ignore", divide="ignore"):
            m = (self.S[d1] - self.S[d0]) / c
        need = np.maximum((d1 - d0) / 2, 1)[:, None]
        return np.where(c >= need, m, np.nan)


def _z(prof: np.ndarray, min_cv: float) -> tuple[np.ndarray, np.ndarray]:
    """Standardised profiles and whether each carries timing information."""
    mu = prof.mean(axis=1, keepdims=True)
    sd = prof.std(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (prof - mu) / sd
        cv = (sd / np.abs(mu))[:, 0]
    good = np.isfinite(z).all(axis=1) & (sd[:, 0] > 0) & (cv >= min_cv)
    return np.where(good[:, None], z, 0.0), good


def _ssd(za: np.ndarray, zb: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Misfit of ``za`` against ``zb`` delayed by each lag: shape (len(lags), n)."""
    return np.stack([((za - np.roll(zb, int(k), axis=1)) ** 2).sum(axis=1) for k in lags])


def _hourly_ok(p: Prepared) -> bool:
    return p.has_grid and (p.step_s or 0) <= 3600 and 3600 % (p.step_s or 1) == 0


def _transitions(p: Prepared) -> list[tuple[int, int]]:
    """Grid slots where the UTC offset changes, with +1 (spring) or -1 (autumn)."""
    local_ns = np.asarray(p.local.tz_localize(None).as_unit("ns").asi8)
    off = local_ns - np.asarray(p.times.as_unit("ns").asi8)
    idx = np.flatnonzero(np.diff(off)) + 1
    return [(int(i), 1 if off[i] > off[i - 1] else -1) for i in idx]


def check_dst(p: Prepared, usable: np.ndarray, zero_mask: np.ndarray) -> list[QualityIssue]:
    if not _hourly_ok(p) or p.n < 2:
        return []
    trans = _transitions(p)
    if not trans:
        return []
    out = _dst_hours(p, trans, zero_mask)
    prof = _Profiles(p, usable)
    st = p.settings
    days = np.array([int(prof.day[i]) - prof.day0 for i, _ in trans])
    ctx = st.dst_context_days
    zb, gb = _z(prof.mean(days - ctx, days), st.profile_min_cv)
    za, ga = _z(prof.mean(days + 1, days + 1 + ctx), st.profile_min_cv)
    lags = np.arange(-3, 4)
    ssd = _ssd(za, zb, lags)
    tested = gb & ga & (ssd[3] > 0)
    if not tested.any():
        return out
    expected = np.array([sign for _, sign in trans])
    at_exp = ssd[expected + 3, np.arange(len(trans))]
    ratio = at_exp / np.where(ssd[3] > 0, ssd[3], np.inf)
    sig = tested & (np.argmin(ssd, axis=0) == expected + 3) & (ratio <= st.dst_max_ssd_ratio)
    n_t, n_s = int(tested.sum()), int(sig.sum())
    if n_s == 0 or n_s < math.ceil(st.dst_min_share * n_t):
        return out
    first = trans[int(np.flatnonzero(tested)[0])][0]
    out.append(p.issue(
        IssueKind.DST_ANOMALY, Severity.ERROR, first, p.n,
        f"Les horaires de fonctionnement se décalent d'une heure à {n_s} des {n_t} changements "
        f"d'heure examinés (plus tard en été, plus tôt en hiver) : données en heure locale "
        "importées comme si elles étaient en UTC, ou horloge de la régulation qui ne passe pas "
        "à l'heure d'été ?",
        f"Operating hours move by one hour at {n_s} of the {n_t} daylight-saving changes "
        "examined (later in summer, earlier in winter): local-time data imported as UTC, or "
        "a controller clock that ignores daylight saving?",
        {"dst_changes_tested": n_t, "dst_changes_shifted": n_s,
         "median_misfit_ratio": float(np.median(ratio[sig])),
         "max_ratio": st.dst_max_ssd_ratio, "min_share": st.dst_min_share},
        n_points=n_s,
    ))
    return out


def _dst_hours(p: Prepared, trans: list[tuple[int, int]], zero_mask: np.ndarray
               ) -> list[QualityIssue]:
    """A missing, doubled, zeroed or twice-counted hour right at a DST change, and nowhere
    around it (local-time sources have a 23-hour and a 25-hour day; converters mishandle them).
    """
    h = p.steps_per(3600) or 1
    out = []
    for i, sign in trans:
        lo, hi = max(i - h, 0), min(i + 2 * h, p.n)
        win = slice(lo, hi)
        outside = [j for j in (lo - 1, hi) if 0 <= j < p.n]
        if not outside or any(
            not p.finite[j] or p.counts[j] > 1 or zero_mask[j] for j in outside
        ):
            continue  # part of a longer problem: the gap or zero checks say it better
        miss = ~p.finite[win]
        dup = p.counts[win] > 1
        zero = zero_mask[win]
        nb = [float(p.values[j]) for j in outside]
        ref = float(np.mean(nb))
        # Only against steady neighbours: a bursty load (a gas boiler) doubles by itself.
        steady = len(nb) == 2 and ref > 0 and abs(nb[0] - nb[1]) <= 0.3 * ref
        with np.errstate(invalid="ignore"):
            double = (p.values[win] >= p.settings.dst_double_ratio * ref) & (
                steady and sign < 0 and p.is_interval)
        bad = miss | dup | zero | double
        if not bad.any():
            continue
        nz = np.flatnonzero(bad)
        i0, i1 = lo + int(nz[0]), lo + int(nz[-1]) + 1
        what_fr, what_en = (
            ("en double", "doubled") if dup.any()
            else ("manquante", "missing") if miss.any()
            else ("mise à zéro", "set to zero") if zero.any()
            else ("comptée deux fois", "counted twice")
        )
        day = p.ts(i).tz_convert(p.tz)
        change_fr = "passage à l'heure d'été" if sign > 0 else "passage à l'heure d'hiver"
        change_en = "spring" if sign > 0 else "autumn"
        out.append(p.issue(
            IssueKind.DST_ANOMALY, Severity.WARNING, i0, i1,
            f"Heure {what_fr} le jour du {change_fr} ({day:%d/%m/%Y}), "
            f"{period_fr(p.ts(i0), p.ts(i1), p.tz)} : erreur de conversion heure locale/UTC "
            "à l'import ?",
            f"Hour {what_en} on the {change_en} daylight-saving day ({day:%Y-%m-%d}), "
            f"{period_en(p.ts(i0), p.ts(i1), p.tz)}: local/UTC conversion error on import?",
            {"missing": int(miss.sum()), "duplicated": int(dup.sum()), "zeros": int(zero.sum()),
             "counted_twice": int(double.sum()), "neighbours_mean": ref,
             "dst_change_utc": p.ts(i).isoformat()},
        ))
    return out


def check_clock_shift(p: Prepared, usable: np.ndarray) -> list[QualityIssue]:
    """The daily profile moves by k hours from some date on (and stays for a while)."""
    st = p.settings
    w = st.clock_window_days
    if not _hourly_ok(p):
        return []
    prof = _Profiles(p, usable)
    if prof.n_days < 2 * w + 1:
        return []
    d = np.arange(w, prof.n_days - w + 1)
    bef, aft = prof.mean(d - w, d), prof.mean(d, d + w)
    zb, gb = _z(bef, st.profile_min_cv)
    za, ga = _z(aft, st.profile_min_cv)
    lags = np.arange(-st.clock_max_lag_h, st.clock_max_lag_h + 1)
    ssd = _ssd(za, zb, lags)
    i0 = st.clock_max_lag_h
    best = np.argmin(ssd, axis=0)
    k = lags[best]
    bmin = ssd[best, np.arange(d.size)]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = bmin / ssd[i0]
    corr = 1 - bmin / 48.0  # standardised 24-h profiles: ssd = 48 (1 - r)
    cand = gb & ga & (k != 0) & (ratio <= st.clock_max_ssd_ratio)
    cand &= corr >= st.clock_min_correlation
    dst_days = {int(prof.day[i]) - prof.day0 for i, _ in _transitions(p)}
    found: list[tuple[int, int, int, float, float]] = []  # slot, earliest, lag, ratio, corr
    starts, ends = runs(cand)
    for a, b in zip(starts, ends, strict=True):
        # Within one stretch of candidate dates the change itself is where before and after
        # differ most cleanly.
        j = a + int(np.argmin(ratio[a:b]))
        day, lag = int(d[j]), int(k[j])
        if abs(lag) == 1 and any(abs(day - x) <= 3 for x in dst_days):
            continue  # the DST check's business
        slot, earliest = _refine(p, prof, day, bef[j], aft[j], usable)
        found.append((slot, earliest, lag, float(ratio[j]), float(corr[j])))
    out = []
    for n, (slot, earliest, lag, r, c) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else p.n
        later_fr = "plus tard" if lag > 0 else "plus tôt"
        later_en = "later" if lag > 0 else "earlier"
        out.append(p.issue(
            IssueKind.CLOCK_SHIFT, Severity.WARNING, slot, end,
            f"Décalage d'horloge probable à partir du {at_fr(p.ts(slot), p.tz)} : le profil "
            f"journalier arrive {abs(lag)} h {later_fr} qu'avant (horloge du compteur ou "
            "de l'enregistreur déréglée ?).",
            f"Probable clock shift from {at_en(p.ts(slot), p.tz)} on: the daily profile comes "
            f"{abs(lag)} h {later_en} than before (meter or logger clock off?).",
            {"lag_h": lag, "misfit_ratio": r, "correlation": c,
             "earliest_start_utc": p.ts(earliest).isoformat(),
             "window_days": w, "max_ratio": st.clock_max_ssd_ratio},
        ))
    return out


def _refine(p: Prepared, prof: _Profiles, day: int, bef: np.ndarray, aft: np.ndarray,
            usable: np.ndarray) -> tuple[int, int]:
    """The latest and earliest slots, within a day of ``day``, that best split the series
    into before/after."""
    d = prof.day - prof.day0
    lo = int(np.searchsorted(d, day - 1))
    hi = int(np.searchsorted(d, day + 2))
    h = p.local_hour[lo:hi]
    v = np.where(usable[lo:hi], p.values[lo:hi], np.nan)
    eb = np.nan_to_num((v - bef[h]) ** 2)
    ea = np.nan_to_num((v - aft[h]) ** 2)
    cost = np.concatenate(([0.0], np.cumsum(eb))) + np.concatenate(
        (np.cumsum(ea[::-1])[::-1], [0.0]))
    # Where before and after profiles agree (a closed night) the split is undecidable; take the
    # last near-best split: the first reading that shows the shift.
    tol = float(np.median((eb + ea) / 2)) if eb.size else 0.0
    near = np.flatnonzero(cost <= cost.min() + tol)
    return lo + int(near[-1]), lo + int(near[0])
