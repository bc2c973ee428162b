"""Closed days used as workdays: weekends, public and school holidays, declared closures.

Each run of consecutive closed days (a holiday fortnight, a closure, a weekend) is one episode;
its consumption is compared with the building's own closed-day level at the same outdoor
temperature (``daily.daily_reference``). A holiday episode is reported when the excess is both
large (``min_excess_ratio`` of the expected) and unusual (``min_excess_sigma`` σ of a sum of
that many closed days); plain weekends are tested the same way over runs of consecutive
weekends, so that weekend operation lasting several weeks is seen even when one weekend alone
is within the noise. The waste is the measured excess of the episode, not extrapolated: the
findings of a year add up to that year's waste.
"""

from __future__ import annotations

import numpy as np

from sobriete.analytics.calendar import DayType
from sobriete.analytics.diagnostics import daily as D
from sobriete.analytics.diagnostics.base import MeterSeries, evidence, finding, fmt_num, waste
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.domain.findings import Finding, FindingKind

_HOLIDAYS = {DayType.PUBLIC_HOLIDAY.value, DayType.SCHOOL_HOLIDAY.value, DayType.CLOSURE.value}
_LABEL_FR = {"weekend": "le week-end", "closed_weekday": "le jour de fermeture",
             "public_holiday": "le jour férié", "school_holiday": "les vacances scolaires",
             "closure": "la fermeture déclarée"}
_LABEL_EN = {"weekend": "the weekend", "closed_weekday": "the closed weekday",
             "public_holiday": "the public holiday", "school_holiday": "the school holidays",
             "closure": "the declared closure"}
_MAX_RUN_WEEKENDS = 8  # longest run of weekends tested as one


def detect_closed_days(series: MeterSeries, settings: DiagnosticSettings,
                       ref: D.DailyReference | None = None) -> list[Finding]:
    ref = ref or D.daily_reference(series, settings)
    s = settings.schedule
    days = ref.analysed
    closed = days["day_type"] != DayType.WORKDAY.value
    learnt = ref.days[~ref.days["analysed"] if ref.source == "reference" else ref.days["analysed"]]
    n_closed = int(((learnt["day_type"] != DayType.WORKDAY.value)
                    & learnt["energy_kwh"].notna()).sum())
    if n_closed < s.min_closed_days:
        return []  # the closed-day level is unknown: nothing to compare with
    out: list[Finding] = []
    weekends: list[tuple] = []
    for first, last in D.episodes(closed):
        ep = days.loc[first:last]
        ex = D.excess(ep)
        if ex.n_days == 0 or ex.expected_kwh <= 0:
            continue
        types = ep["day_type"].tolist()
        holiday = [t for t in types if t in _HOLIDAYS]
        if not holiday:
            weekends.append((first, last, ex))
            continue
        z = D.significance(ref, ex, closed=True)
        if ex.ratio >= s.min_excess_ratio and z >= s.min_excess_sigma:
            label = max(set(holiday), key=holiday.count)
            out.append(_finding(series, settings, ref, FindingKind.HOLIDAY_USE, label, first,
                                last, ex, z))
    for i, j, ex, z in _weekend_runs(ref, weekends, settings):
        out.append(_finding(series, settings, ref, FindingKind.WEEKEND_USE, "weekend",
                            weekends[i][0], weekends[j][1], ex, z))
    return out


def _weekend_runs(ref: D.DailyReference, weekends: list[tuple],
                  settings: DiagnosticSettings) -> list[tuple[int, int, D.Excess, float]]:
    """Runs of consecutive weekends whose summed excess passes both thresholds, best first,
    not overlapping. One weekend of 2 days is a weak test; weekend operation usually lasts
    (a schedule left in "occupied"), and summing the weekends of the run gives it the power to
    be seen. Weekends are 5 days apart, so their residuals are treated as independent."""
    s = settings.schedule
    n = len(weekends)
    if n == 0:
        return []
    exc = np.array([w[2].excess_kwh for w in weekends])
    exp_ = np.array([w[2].expected_kwh for w in weekends])
    act = np.array([w[2].actual_kwh for w in weekends])
    var = np.array([ref.sum_sigma(w[2].n_days, closed=True) ** 2 for w in weekends])
    days_ = np.array([w[2].n_days for w in weekends])
    cands = []
    for i in range(n):
        for j in range(i, min(n, i + _MAX_RUN_WEEKENDS)):
            if (weekends[j][0] - weekends[i][1]).days > 7 * (j - i):
                break  # a gap (holiday, missing data) ends a run
            e, x = exc[i:j + 1].sum(), exp_[i:j + 1].sum()
            z = e / np.sqrt(var[i:j + 1].sum()) if var[i:j + 1].sum() > 0 else 0.0
            if x > 0 and e / x >= s.min_excess_ratio and z >= s.min_excess_sigma:
                cands.append((z, i, j))
    taken = np.zeros(n, bool)
    out = []
    for z, i, j in sorted(cands, reverse=True):
        if taken[i:j + 1].any():
            continue
        taken[i:j + 1] = True
        ex = D.Excess(float(act[i:j + 1].sum()), float(exp_[i:j + 1].sum()),
                      int(days_[i:j + 1].sum()))
        out.append((i, j, ex, float(z)))
    return sorted(out, key=lambda r: r[0])


def _finding(series, settings, ref, kind, label, first, last, ex: D.Excess, z: float) -> Finding:
    s = settings.schedule
    start, end = D.local_day_bounds(series, first, last)
    half = D.Z90 * ref.sum_sigma(ex.n_days, closed=True) / ex.excess_kwh
    ev = evidence(
        series, series.between(start, end), plot="daily_vs_temperature",
        values={"actual_kwh": round(ex.actual_kwh, 1), "excess_kwh": round(ex.excess_kwh, 1),
                "excess_ratio": ex.ratio_shown, "significance_sigma": round(z, 1),
                "days": ex.n_days, "day_type": label},
        reference={"expected_kwh": round(ex.expected_kwh, 1), "reference": ref.source,
                   **{k: v for k, v in ref.model.items() if k != "model"},
                   "baseline_model": ref.model["model"],
                   "daily_sigma_kwh": round(ref.sigma_kwh, 2), "daily_rho": round(ref.rho, 2)},
        parameters={"min_excess_ratio": s.min_excess_ratio,
                    "min_excess_sigma": s.min_excess_sigma})
    wst = waste(series, ex.excess_kwh, 0.0, rel_halfwidth=float(np.clip(half, 0.05, 1.0)),
                method="measured excess over the closed-day level at the same outdoor "
                "temperature, over this episode only (not extrapolated)", annualise=False)
    name, carrier = series.building.name, series.carrier
    one = first == last
    period_fr = f"le {first:%d/%m/%Y}" if one else f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}"
    period_en = f"on {first:%Y-%m-%d}" if one else f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    fr = (f"{name} : pendant {_LABEL_FR.get(label, label)} {period_fr}, "
          f"{fmt_num(ex.actual_kwh)} kWh consommés ({carrier}) contre "
          f"{fmt_num(ex.expected_kwh)} kWh attendus pour un bâtiment "
          f"fermé à ces températures (+{100 * ex.ratio:.0f} %) ; vérifier la programmation.")
    en = (f"{name}: during {_LABEL_EN.get(label, label)} {period_en}, {ex.actual_kwh:,.0f} kWh "
          f"used ({carrier}) against {ex.expected_kwh:,.0f} kWh expected for a closed building at "
          f"these temperatures (+{100 * ex.ratio:.0f} %); check the schedules.")
    if kind is FindingKind.HOLIDAY_USE:
        actions = ("holiday_mode", "schedule_fix", "bacs_class_b")
    else:
        actions = ("schedule_fix", "night_setback" if carrier != "electricity"
                   else "base_load_hunt", "bacs_class_b")
    return finding(series, kind, start, end,
                   score=D.score(z, ex.ratio, s.min_excess_sigma, s.min_excess_ratio),
                   detector="closed_days", version=DETECTOR_VERSIONS["schedule"], ev=ev, wst=wst,
                   fr=fr, en=en, actions=actions, warnings=ref.warnings)
