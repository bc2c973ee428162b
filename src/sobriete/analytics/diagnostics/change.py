"""Sustained changes against the building's own reference: steps, drifts, base-load increases.

Weekly relative residuals (Σ actual / Σ expected − 1, the expected from the reference baseline
``daily.daily_reference``) go through a tabular CUSUM (``mv.events.cusum``) with the
reference weeks' σ inflated for autocorrelation. Consecutive rising CUSUM levels are one
change, measured against the level before it; a change lasting ``min_step_days`` whose new
level is above the reference is kept, its boundaries refined to the day, and told apart as a
step (a jump, judged by its mean height) or a drift (a ramp, judged by where it got to) by
which shape fits the daily residuals better. The same machinery on the closed-hours (night)
power finds base-load increases; when a daily step is no more than the night increase over the
closed hours, the base load explains it and only the base-load finding is kept (and the other
way round). Only increases are findings: a decrease is a saving or a non-routine event,
handled by M&V.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sobriete.analytics.diagnostics import daily as D
from sobriete.analytics.diagnostics.base import (
    MeterSeries,
    evidence,
    finding,
    fmt_dec,
    fmt_num,
    waste,
)
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.analytics.mv.changepoint import ChangePointModel, ChangePointSettings
from sobriete.analytics.mv.events import cusum, robust_sigma
from sobriete.domain.findings import Finding, FindingKind

_MIN_LEVEL_BEFORE = 0.25  # share of the reference the level before a change must reach
_QUIET_WEEK_SHARE = 0.25  # of the median weekly expectation: below, a week is not tested


def _inflated(sigma: float, rho: float) -> float:
    return sigma * np.sqrt((1 + rho) / (1 - rho))


def _changes(rel: pd.Series, sigma: float, settings: DiagnosticSettings,
             min_jump: float) -> list[tuple]:
    """Increases of a relative residual series (actual / expected - 1): (first, last, jump,
    base, n, peak) where ``base`` is the level before the change, ``jump`` the mean level of
    the change minus it, ``n`` its number of rows and ``peak`` its last level minus ``base``.
    CUSUM segments are levels; consecutive rising levels are one change (a drift climbs in
    stairs), measured against the level before the first rise, so that a
    building already 10 % below its reference is not credited those 10 %. Noise below a
    quarter of ``min_jump`` is not worth a CUSUM alarm: σ is floored there."""
    c = settings.change
    r = rel.dropna()
    if len(r) < 2 or not np.isfinite(sigma):
        return []
    sigma = max(sigma, 0.25 * min_jump)
    cs = cusum(r, pd.Series(0.0, index=r.index), k=c.cusum_k, h=c.cusum_h, sigma=sigma)
    starts = [0] + [i for i in np.flatnonzero(np.isfinite(cs["change_kwh"].to_numpy())) if i > 0]
    segs = [(a, b, float(r.iloc[a:b].mean()))
            for a, b in zip(starts, starts[1:] + [len(r)], strict=True)]
    out, i = [], 0
    while i < len(segs):
        base = segs[i - 1][2] if i > 0 else 0.0
        j = i
        while j < len(segs) and segs[j][2] > (segs[j - 1][2] if j > i else base):
            j += 1
        if j == i:
            i += 1
            continue
        # A small first rise is the old level wobbling, not the start of the change.
        while i < j - 1 and segs[i][2] - base < 0.5 * min_jump:
            base, i = segs[i][2], i + 1
        a, b = segs[i][0], segs[j - 1][1]
        out.append((r.index[a], r.index[b - 1], float(r.iloc[a:b].mean()) - base, base, b - a,
                    segs[j - 1][2] - base))
        i = j
    return out


def _weekly(actual: pd.Series, expected: pd.Series,
            analysed: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Relative residual per week (Σ actual / Σ expected - 1, days with both only), indexed by
    the week's first day. Weeks smooth the weekday cycle and most of the autocorrelation that
    make daily residuals a poor input for a CUSUM."""
    ok = actual.notna() & expected.notna() & (expected > 0)
    wk = actual.index.to_period("W")
    g = pd.DataFrame({"a": actual.where(ok), "e": expected.where(ok), "n": ok,
                      "an": analysed.astype(bool)}).groupby(wk)
    a, e, n = g["a"].sum(), g["e"].sum(), g["n"].sum()
    # Weeks expected to use next to nothing (a boiler in summer) give residuals of -100 % and
    # more that would swamp the noise estimate of the weeks that matter; they are left out.
    rel = (a / e - 1.0).where((n >= 4) & (e >= _QUIET_WEEK_SHARE * e[n >= 4].median()))
    rel.index = rel.index.start_time
    an = g["an"].all()
    an.index = rel.index
    return rel, an


def _refine(daily_rel: pd.Series, first: pd.Timestamp, last: pd.Timestamp,
            base: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Move the weekly boundaries of a change to the day: the start (and the end, unless the
    change runs to the end of the data) where the daily residuals split best into the level
    before and the level during the change."""
    r = daily_rel.dropna()
    if r.empty:
        return first, last
    inner = r[(r.index >= first) & (r.index <= last)]
    level = float(inner.mean()) if len(inner) else base

    def best(lo, hi, before_is_base: bool) -> pd.Timestamp | None:
        w = r[(r.index >= lo) & (r.index <= hi)]
        if len(w) < 2:
            return None
        y = w.to_numpy(dtype=float)
        a, b = (base, level) if before_is_base else (level, base)
        costs = [np.sum((y[:i] - a) ** 2) + np.sum((y[i:] - b) ** 2) for i in range(len(y) + 1)]
        i = int(np.argmin(costs))
        return w.index[min(i, len(w) - 1)] if before_is_base else w.index[max(i - 1, 0)]

    week = pd.Timedelta(days=7)
    start = best(first - week, first + week, True) or first
    end = last
    if last < r.index[-1] - pd.Timedelta(days=1):
        end = best(last - week, last + week, False) or last
    return start, max(end, start)


def _shape(resid: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> tuple[str, pd.Timestamp]:
    """'step' or 'drift' for a change over [first, last], with the drift's start."""
    lo = first - (last - first)
    r = resid[(resid.index >= lo) & (resid.index <= last)].dropna()
    if len(r) < 6:
        return "step", first
    t = ((r.index - r.index[0]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    y = r.to_numpy(dtype=float)
    best = ("step", np.inf, first)
    for i in range(1, len(t) - 2):
        for shape, x in (("step", (t >= t[i]).astype(float)),
                         ("drift", np.maximum(0.0, t - t[i]))):
            coef = np.dot(x, y) / np.dot(x, x)
            sse = float(np.sum((y - coef * x) ** 2))
            if coef > 0 and sse < best[1]:
                best = (shape, sse, r.index[i])
    return best[0], (best[2] if best[0] == "drift" else first)


def _night_power(series: MeterSeries, settings: DiagnosticSettings) -> pd.DataFrame:
    """Per local date: mean closed-night power [kW], closed hours, daily mean temperature."""
    f = series.frame()
    a, b = settings.schedule.night_hours_local
    night = ~f["occupied"] & (f["local_hour"] >= a) & (f["local_hour"] <= b)
    g = f.groupby("local_date")
    return pd.DataFrame({
        "night_kw": f["energy_kwh"].where(night).groupby(f["local_date"]).mean(),
        "closed_h": (~f["occupied"]).groupby(f["local_date"]).sum(),
        "temp_c": g["temp_air_c"].mean(), "analysed": g["analysed"].first()})


def _night_residuals(series, settings) -> tuple[pd.DataFrame, float]:
    """Night power with its expectation from the reference nights: the same change-point
    baseline as the daily totals (``mv.changepoint``), split by heating season, which covers
    electric heating, frost protection and a boiler switched off in summer. NaN mean without
    enough reference nights."""
    n = _night_power(series, settings)
    frame = pd.DataFrame({"energy_kwh": n["night_kw"], "temp_air_c": n["temp_c"]},
                         index=n.index)
    in_ref = (~n["analysed"]) & n["night_kw"].notna() & n["temp_c"].notna()
    if in_ref.sum() < settings.change.min_reference_days:
        return n.assign(resid=np.nan, expected_kw=np.nan), float("nan")
    model = ChangePointModel(ChangePointSettings(splits=("none", "season"),
                                                 modes=("separate",)))
    model.fit(frame[in_ref])
    n["expected_kw"] = model.predict(frame)["predicted_kwh"]
    n["resid"] = n["night_kw"] - n["expected_kw"]
    return n, float(n.loc[in_ref, "night_kw"].mean())


def detect_changes(series: MeterSeries, settings: DiagnosticSettings,
                   ref: D.DailyReference | None = None) -> list[Finding]:
    ref = ref or D.daily_reference(series, settings)
    if ref.source != "reference":
        return []  # without history a change has nothing to be a change from
    c = settings.change
    days = ref.days
    rel, analysed = _weekly(days["energy_kwh"], days["expected_kwh"], days["analysed"])
    sigma = _inflated(robust_sigma(rel[~analysed]), D._lag1(rel[~analysed]))
    mean_daily = float(ref.analysed["expected_kwh"].mean())
    d_rel = (days["energy_kwh"] / days["expected_kwh"].where(days["expected_kwh"] > 0) - 1.0)[
        days["analysed"]]
    steps = []
    for first, last, jump, base, n, peak in _changes(rel[analysed], sigma, settings,
                                                     c.min_step_ratio):
        # A "rise" from almost nothing is a meter or a system coming back, not a step.
        if 7 * n < c.min_step_days or 1.0 + base < _MIN_LEVEL_BEFORE:
            continue
        last = min(last + pd.Timedelta(days=6), days.index[-1])
        first, last = _refine(d_rel, first, last, base)
        shape, begin = _shape(d_rel - base, first, last)
        # A drift is judged by where it has got to, a step by its mean height.
        size = max(jump, peak) if shape == "drift" else jump
        # Relative to a small expected (gas in summer) a jump can be large and worthless.
        kwh_day = size * float(days.loc[first:last, "expected_kwh"].mean())
        # A rise that stays below the reference is a recovery (after a closure), not waste.
        above = base + size > 0.0
        if size >= c.min_step_ratio and kwh_day >= 0.5 * c.min_step_ratio * mean_daily and above:
            steps.append((shape, begin, last, jump, base))
    nights, n_mean = _night_residuals(series, settings)
    bases = []
    if np.isfinite(n_mean) and n_mean > 0:
        n_rel, n_an = _weekly(nights["night_kw"], nights["expected_kw"], nights["analysed"])
        n_sigma = _inflated(robust_sigma(n_rel[~n_an]), D._lag1(n_rel[~n_an]))
        for first, last, jump, base, n, _ in _changes(n_rel[n_an], n_sigma, settings,
                                                       c.base_load_increase_ratio):
            last = min(last + pd.Timedelta(days=6), nights.index[-1])
            if (7 * n >= c.min_step_days and jump >= c.base_load_increase_ratio
                    and 1.0 + base >= _MIN_LEVEL_BEFORE and base + jump > 0.0):
                n_drel = (nights["night_kw"] / nights["expected_kw"] - 1.0)[nights["analysed"]]
                first, last = _refine(n_drel, first, last, base)
                span = nights.loc[first:last]
                kw = float(jump * span["expected_kw"].mean())
                if kw < c.base_load_increase_ratio * n_mean:
                    continue  # large only against a small night expectation
                bases.append((first, last, kw, base, kw * float(span["closed_h"].mean())))
    steps, bases = _arbitrate(steps, bases, days)
    out = [_step_finding(series, settings, ref, *s) for s in steps]
    out += [_base_finding(series, settings, nights, n_mean, *b) for b in bases]
    return out


def _overlap(a0, a1, b0, b1) -> bool:
    return a0 <= b1 and b0 <= a1


def _arbitrate(steps: list, bases: list, days: pd.DataFrame) -> tuple[list, list]:
    """One explanation per change: the base load when it accounts for the daily step."""
    keep_steps, drop_bases = [], set()
    for st in steps:
        over = [i for i, b in enumerate(bases) if _overlap(st[1], st[2], b[0], b[1])]
        step_kwh_day = st[3] * float(days.loc[st[1]:st[2], "expected_kwh"].mean())
        if over and st[0] == "step" and step_kwh_day <= 1.3 * max(bases[i][4] for i in over):
            continue
        keep_steps.append(st)
        drop_bases.update(over)
    return keep_steps, [b for i, b in enumerate(bases) if i not in drop_bases]


def _step_finding(series, settings, ref, shape, first, last, jump, base) -> Finding:
    c = settings.change
    days = ref.analysed.loc[first:last].copy()
    # The counterfactual is the level before the change, not the reference itself.
    days["expected_kwh"] = days["expected_kwh"] * (1.0 + base)
    ex = D.excess(days)
    mean_expected = max(float(days["expected_kwh"].mean()), 1e-9)
    level = jump * mean_expected
    start, end = D.local_day_bounds(series, first, last)
    kind = FindingKind.DRIFT if shape == "drift" else FindingKind.STEP_CHANGE
    half = D.Z90 * ref.sum_sigma(ex.n_days) / ex.excess_kwh if ex.excess_kwh > 0 else 1.0
    ev = evidence(series, series.between(start, end), plot="residual_cusum",
                  values={"excess_kwh": round(ex.excess_kwh, 1), "days": ex.n_days,
                          "mean_daily_change_kwh": round(level, 1),
                          "change_ratio": round(jump, 3), "shape": shape},
                  reference={"mean_daily_expected_kwh": round(mean_expected, 1),
                             "level_before_change_ratio": round(base, 3),
                             "daily_sigma_kwh": round(ref.sigma_kwh, 2),
                             "daily_rho": round(ref.rho, 2), **ref.model},
                  parameters={"cusum_k": c.cusum_k, "cusum_h": c.cusum_h,
                              "min_step_ratio": c.min_step_ratio,
                              "min_step_days": c.min_step_days})
    wst = waste(series, ex.excess_kwh, 0.0, rel_halfwidth=float(np.clip(half, 0.05, 1.0)),
                method="measured excess over the reference baseline during the change "
                "(not extrapolated)", annualise=False)
    name, pct = series.building.name, 100 * level / mean_expected
    if shape == "drift":
        fr = (f"{name} : depuis le {first:%d/%m/%Y}, la consommation dérive vers le haut "
              f"(+{pct:.0f} % en moyenne jusqu'au {last:%d/%m/%Y}, {fmt_num(ex.excess_kwh)} kWh "
              "de plus que la référence) ; chercher un réglage qui se dégrade (encrassement, "
              "consigne, vanne).")
        en = (f"{name}: since {first:%Y-%m-%d} consumption drifts upwards (+{pct:.0f} % on "
              f"average until {last:%Y-%m-%d}, {ex.excess_kwh:,.0f} kWh above the reference); "
              "look for a degrading setting (fouling, setpoint, valve).")
    else:
        fr = (f"{name} : à partir du {first:%d/%m/%Y}, la consommation a augmenté de "
              f"{pct:.0f} % par rapport à la référence ({fmt_num(level)} kWh/jour, "
              f"{fmt_num(ex.excess_kwh)} kWh jusqu'au {last:%d/%m/%Y}) ; chercher ce qui a "
              "changé à cette date.")
        en = (f"{name}: from {first:%Y-%m-%d}, consumption rose by {pct:.0f} % against the "
              f"reference ({level:,.0f} kWh/day, {ex.excess_kwh:,.0f} kWh until "
              f"{last:%Y-%m-%d}); find what changed on that date.")
    return finding(series, kind, start, end,
                   score=D.score(D.significance(ref, ex), level / mean_expected,
                                 settings.schedule.min_excess_sigma, c.min_step_ratio),
                   detector="change", version=DETECTOR_VERSIONS["change"], ev=ev, wst=wst,
                   fr=fr, en=en, actions=("schedule_fix", "base_load_hunt", "bacs_class_b"),
                   warnings=ref.warnings)


def _base_finding(series, settings, nights, n_mean, first, last, level_kw, base,
                  kwh_day) -> Finding:
    c = settings.change
    start, end = D.local_day_bounds(series, first, last)
    span = nights.loc[first:last]
    excess = float(level_kw * span["closed_h"].sum())
    ev = evidence(series, series.between(start, end), plot="residual_cusum",
                  values={"night_power_increase_kw": round(level_kw, 2),
                          "increase_ratio": round(level_kw / n_mean, 3),
                          "excess_kwh": round(excess, 1), "days": int(len(span))},
                  reference={"reference_night_power_kw": round(n_mean, 2),
                             "level_before_change_ratio": round(base, 3)},
                  parameters={"base_load_increase_ratio": c.base_load_increase_ratio,
                              "night_hours_local": "{}-{}".format(
                                  *settings.schedule.night_hours_local)})
    wst = waste(series, excess, 0.0, rel_halfwidth=0.2, annualise=False,
                method="night power increase x closed hours of the period (not extrapolated)")
    name, pct = series.building.name, 100 * level_kw / n_mean
    fr = (f"{name} : à partir du {first:%d/%m/%Y}, la consommation de nuit a augmenté de "
          f"{pct:.0f} % ({fmt_dec(level_kw)} kW de plus qu'en référence, {fmt_num(excess)} kWh "
          f"jusqu'au {last:%d/%m/%Y}) : un équipement reste allumé hors occupation.")
    en = (f"{name}: from {first:%Y-%m-%d}, the night load rose by {pct:.0f} % ({level_kw:.1f} "
          f"kW above the reference, {excess:,.0f} kWh until {last:%Y-%m-%d}): something stays "
          "on outside occupancy.")
    return finding(series, FindingKind.BASE_LOAD_INCREASE, start, end,
                   score=D.score(2 * pct / 100 / c.base_load_increase_ratio, pct / 100,
                                 2.0, c.base_load_increase_ratio),
                   detector="change", version=DETECTOR_VERSIONS["change"], ev=ev, wst=wst,
                   fr=fr, en=en, actions=("base_load_hunt", "schedule_fix", "bacs_class_b"))

