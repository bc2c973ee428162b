"""Numerics of the hourly baseline (``mv.hourly``): arrays in, arrays out.

Kept apart from the model class so that each step (temperature basis, day-type learning,
the fixed-effects solve, the day-type mapping for prediction) can be read and tested alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Calendar day types (analytics.calendar.DayType values) as small integer codes.
CAL_CODES = ("workday", "closed_weekday", "weekend", "public_holiday", "school_holiday",
             "closure")
WORKDAY = 0
N_CAL = len(CAL_CODES)


def calendar_codes(day_type: np.ndarray, dow: np.ndarray) -> np.ndarray:
    """Integer calendar code per row; unknown or missing day types follow the weekday."""
    lookup = {v: i for i, v in enumerate(CAL_CODES)}
    codes = np.fromiter((lookup.get(str(v), -1) for v in day_type), np.int64, len(day_type))
    unknown = codes < 0
    codes[unknown] = np.where(dow[unknown] >= 5, 2, WORKDAY)
    return codes


def hinge_basis(t: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """[t, (t - k1)+, (t - k2)+, ...]: a continuous piecewise-linear response in t."""
    out = np.empty((len(t), 1 + len(knots)))
    out[:, 0] = t
    for j, k in enumerate(knots):
        np.maximum(t - k, 0.0, out=out[:, j + 1])
    return out


def temperature_basis(ts: np.ndarray, t: np.ndarray, knots: np.ndarray,
                      deviation: str) -> np.ndarray:
    """Columns of the temperature response: the hinge basis in the smoothed temperature
    ``ts``, then the hour's deviation from it, ``t - ts`` (``deviation="linear"``: one slope at
    all temperatures), or that deviation per segment, ``hinge(t) - hinge(ts)``
    (``"segments"``: the deviation slope changes at the same knots as the response, so a
    hot afternoon can count more than a cold night; a cooling-only building answers the
    hour's temperature in summer and nothing in winter), or nothing (``"none"``)."""
    hs = hinge_basis(ts, knots)
    if deviation == "none":
        return hs
    if deviation == "linear":
        return np.hstack([hs, (t - ts)[:, None]])
    return np.hstack([hs, hinge_basis(t, knots) - hs])


def smooth_temperature(t: np.ndarray, pos: np.ndarray, halflife_h: float) -> np.ndarray:
    """Exponentially smoothed temperature on the hourly grid ``pos`` (hours from the first
    row): a building's heating answers the last hours' weather, not this hour's alone."""
    if halflife_h <= 0 or len(t) == 0:
        return t.copy()
    grid = np.full(int(pos.max()) + 1, np.nan)
    grid[pos] = t
    # ignore_na=False: over a gap the old state decays with elapsed hours, not rows seen.
    out = pd.Series(grid).ewm(halflife=halflife_h, adjust=False, ignore_na=False).mean()
    return out.to_numpy()[pos]


def kmeans(x: np.ndarray, k: int, iters: int = 30) -> tuple[np.ndarray, np.ndarray, float]:
    """Deterministic k-means: centroids start at quantiles of the day's mean level (the
    dominant axis of variation between day types), so results do not depend on a seed."""
    level = x.mean(axis=1)
    order = np.argsort(level, kind="stable")
    start = order[((np.arange(k) + 0.5) / k * len(x)).astype(int)]
    cent = x[start].copy()
    labels = np.full(len(x), -1)
    for _ in range(iters):
        d2 = (cent**2).sum(axis=1)[None, :] - 2.0 * (x @ cent.T)  # + |x|², same argmin
        new = d2.argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = labels == j
            if members.any():
                cent[j] = x[members].mean(axis=0)
    sse = float(((x - cent[labels]) ** 2).sum())
    return labels, cent, sse


def learn_day_types(profiles: np.ndarray, max_types: int, min_gain: float,
                    min_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster days by their weather-adjusted 24-hour profile; more types only while each
    one cuts the within-type variance by ``min_gain`` and keeps ``min_days`` days.

    Returns labels (types ordered by falling mean level) and centroids."""
    n = len(profiles)
    best_labels, best_cent = np.zeros(n, np.int64), profiles.mean(axis=0, keepdims=True)
    prev_sse = float(((profiles - best_cent) ** 2).sum())
    for k in range(2, max_types + 1):
        if n < k * min_days:
            break
        labels, cent, sse = kmeans(profiles, k)
        sizes = np.bincount(labels, minlength=k)
        if sizes.min() < min_days or prev_sse <= 0 or (prev_sse - sse) / prev_sse < min_gain:
            break
        best_labels, best_cent, prev_sse = labels, cent, sse
    order = np.argsort(-best_cent.mean(axis=1), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[best_labels], best_cent[order]


def within_solve(cell: np.ndarray, n_cells: int, x: np.ndarray, y: np.ndarray,
                 penalty: np.ndarray) -> np.ndarray:
    """Slopes of y on x with one free intercept per cell (the fixed-effects estimator):
    demeaning inside cells removes the intercepts, leaving a p x p ridge system."""
    if x.shape[1] == 0:
        return np.zeros(0)
    cnt = np.bincount(cell, minlength=n_cells).astype(float)
    inv = np.divide(1.0, cnt, out=np.zeros_like(cnt), where=cnt > 0)
    xw = np.empty_like(x)
    for j in range(x.shape[1]):
        xw[:, j] = x[:, j] - (np.bincount(cell, x[:, j], n_cells) * inv)[cell]
    yw = y - (np.bincount(cell, y, n_cells) * inv)[cell]
    a = xw.T @ xw
    scale = float(np.mean(np.diag(a))) or 1.0
    a[np.diag_indices_from(a)] += penalty * scale + 1e-10 * scale
    b = xw.T @ yw
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def run_lengths(day_num: np.ndarray, cal: np.ndarray, types: np.ndarray,
                max_gap_days: int = 3) -> np.ndarray:
    """Length of the run each baseline day belongs to: consecutive days of one calendar type
    (days of other calendar types in between, e.g. a weekend, do not break it) sharing one
    learnt type. A vacation week is a run of 5 workdays; a lone bank holiday a run of 1."""
    out = np.ones(len(day_num), np.int64)
    for c in np.unique(cal):
        idx = np.flatnonzero(cal == c)
        idx = idx[np.argsort(day_num[idx], kind="stable")]
        if len(idx) < 2:
            continue
        brk = (np.diff(day_num[idx]) > max_gap_days) | (np.diff(types[idx]) != 0)
        run_id = np.concatenate(([0], np.cumsum(brk)))
        out[idx] = np.bincount(run_id)[run_id]
    return out


def temperature_likelihood(day_temp: np.ndarray, ref_temp: np.ndarray, onehot: np.ndarray,
                           bandwidth: float, prior_days: float) -> np.ndarray:
    """``P(type | T) / P(type)`` at each day's mean temperature, from the baseline days (rows
    of ``onehot``, temperatures ``ref_temp``, NaN = unknown): a Gaussian kernel estimate
    shrunk by ``prior_days`` pseudo-days of the overall type shares. Days of unknown
    temperature get 1 for every type."""
    out = np.ones((len(day_temp), onehot.shape[1]))
    known = np.isfinite(ref_temp)
    if not known.any():
        return out
    rt, oh = ref_temp[known], onehot[known]
    share = oh.mean(axis=0)
    # Kernel sums on a 0.25 °C grid: days x grid would be 730 x ~200, cheap either way,
    # but the grid keeps it linear in the number of days.
    lo, hi = float(rt.min()) - 3 * bandwidth, float(rt.max()) + 3 * bandwidth
    grid = np.arange(lo, hi + 0.25, 0.25)
    k = np.exp(-0.5 * ((grid[:, None] - rt[None, :]) / bandwidth) ** 2)  # grid x days
    num = k @ oh + prior_days * share[None, :]
    post = num / num.sum(axis=1, keepdims=True)
    ratio = post / np.maximum(share[None, :], 1e-12)
    dt = np.asarray(day_temp, float)
    has = np.isfinite(dt)
    # Beyond the baseline's range the nearest grid point answers (no extrapolation).
    pos = np.clip(np.rint((dt[has] - lo) / 0.25).astype(np.int64), 0, len(grid) - 1)
    out[has] = ratio[pos]
    return out


def type_probabilities(
    day_doy: np.ndarray, day_dow: np.ndarray, day_cal: np.ndarray,
    ref_doy: np.ndarray, ref_dow: np.ndarray, ref_cal: np.ndarray, ref_type: np.ndarray,
    n_types: int, analog_weight: float, window: int, n_weeks: int = 0,
    neighbour_decay: float = 0.5, day_num: np.ndarray | None = None,
    ref_num: np.ndarray | None = None, ref_run: np.ndarray | None = None, min_run: int = 3,
    max_run: int = 366, day_temp: np.ndarray | None = None,
    ref_temp: np.ndarray | None = None, temp_bandwidth: float = 0.0,
    temp_prior_days: float = 5.0,
) -> np.ndarray:
    """Probability of each learnt day type for days known only by their calendar.

    Two sources of evidence, both from the baseline days:
    - the *analog*: the baseline day of the same weekday and calendar type within
      ``window`` days of the same date a year apart (a university's vacation weeks, a
      bank holiday the calendar does not know, a summer shutdown recur at the same time of
      year, on the same weekday for the Monday holidays);
    - the *frequency* of each type among baseline days of the same calendar type and
      weekday (falling back to the calendar type, then to workday vs not, then to all),
      which carries everything the calendar predicts (weekends, holidays, school breaks).
    The analog weighs ``analog_weight`` against 1 for the frequency: a mixture, because
    under squared error a hedged day profile beats a wrong hard guess. The same weekday
    ``n_weeks`` weeks around the analog joins it with weight ``neighbour_decay`` ** weeks,
    so that a one-off day in the baseline is not copied blindly; but an analog inside a
    *period* (a run of ``min_run`` to ``max_run`` days of its calendar type sharing its learnt
    type: a vacation week, a shutdown) is copied as it is, because such periods recur and
    hedging them would predict half a vacation. Longer runs are seasons (heating on/off)
    that the weather, not the date, decides: those are hedged. Days of the baseline
    itself (``day_num`` found in the sorted ``ref_num``) keep their learnt type.

    A third source, when ``temp_bandwidth`` > 0 and daily mean temperatures are given: the
    weather. Types are learnt from weather-adjusted profiles, but whatever the temperature
    response misses (hot days of a cooling-dominated building, heating switched on for a
    season) comes out as types that *the weather* predicts and the calendar does not: a hot
    day of the reporting year must not get the type of the same date a year before. Each
    type's probability is multiplied by its likelihood ratio at the day's temperature,
    ``P(type | T) / P(type)`` among baseline days (Gaussian kernel of ``temp_bandwidth`` °C,
    shrunk towards 1 by ``temp_prior_days`` pseudo-days): ~1 for types the weather does not
    tell apart (weekends, holidays), decisive for weather types. Copied periods are left as
    they are.
    """
    n_days = len(day_doy)
    probs = np.zeros((n_days, n_types))
    if len(ref_type) == 0:
        probs[:, 0] = 1.0
        return probs
    onehot = np.eye(n_types)[ref_type]
    by_cal_dow = np.zeros((N_CAL, 7, n_types))
    np.add.at(by_cal_dow, (ref_cal, ref_dow), onehot)
    by_cal = by_cal_dow.sum(axis=1)
    ref_open = ref_cal == WORKDAY
    by_open = np.stack([onehot[~ref_open].sum(axis=0), onehot[ref_open].sum(axis=0)])
    freq = by_cal_dow[day_cal, day_dow]
    for fallback in (by_cal[day_cal], by_open[(day_cal == WORKDAY).astype(int)],
                     np.broadcast_to(onehot.sum(axis=0), freq.shape)):
        empty = freq.sum(axis=1) == 0
        freq[empty] = fallback[empty]
    probs = freq / freq.sum(axis=1, keepdims=True)
    period = np.zeros(n_days, bool)  # days copied from a baseline period (analogues only)
    period_p = np.zeros((n_days, n_types))
    if analog_weight > 0:
        # Type counts of baseline days by (calendar type, weekday, day of year); several
        # baseline years simply add up.
        table = np.zeros((N_CAL, 7, 366, n_types))
        np.add.at(table, (ref_cal, ref_dow, ref_doy % 366), onehot)
        in_run = np.zeros((N_CAL, 7, 366))
        if ref_run is not None:
            np.add.at(in_run, (ref_cal, ref_dow, ref_doy % 366),
                      (ref_run >= min_run) & (ref_run <= max_run))
        analog = np.zeros((n_days, n_types))
        weight = np.zeros(n_days)
        for week in range(0, n_weeks + 1):
            centre = 7 * week
            w = neighbour_decay ** week
            for sign in ((1,) if week == 0 else (1, -1)):
                found = np.zeros(n_days, bool)
                # Nearest offset first: one day per side and week distance.
                for off in sorted(range(-window, window + 1), key=abs):
                    key = (day_cal, day_dow, (day_doy + sign * centre + off) % 366)
                    hit = table[key]
                    use = ~found & (hit.sum(axis=1) > 0)
                    if week == 0:
                        whole = use & (in_run[key] == hit.sum(axis=1))
                        period |= whole
                        period_p[whole] = hit[whole] / hit[whole].sum(axis=1, keepdims=True)
                    analog[use] += w * hit[use] / hit[use].sum(axis=1, keepdims=True)
                    weight[use] += w
                    found |= use
        has = weight > 0
        analog[has] /= weight[has, None]
        probs[has] = (probs[has] + analog_weight * analog[has]) / (1.0 + analog_weight)
    if (temp_bandwidth > 0 and day_temp is not None and ref_temp is not None and n_types > 1):
        like = temperature_likelihood(day_temp, ref_temp, onehot, temp_bandwidth,
                                      temp_prior_days)
        weighted = probs * like
        tot = weighted.sum(axis=1, keepdims=True)
        ok = (tot[:, 0] > 0) & ~period
        probs[ok] = weighted[ok] / tot[ok]
    probs[period] = period_p[period]
    if day_num is not None and ref_num is not None:
        # A baseline day itself is known: its own learnt type, not a guess.
        pos = np.searchsorted(ref_num, day_num)
        pos = np.minimum(pos, len(ref_num) - 1)
        same = ref_num[pos] == day_num
        probs[same] = onehot[pos[same]]
    return probs
