"""Closed days used as workdays: weekends, public and school holidays, declared closures.

Each run of consecutive closed days (a weekend, a holiday fortnight, a closure) is one episode;
its consumption is compared with the building's own closed-day level at the same outdoor
temperature (``daily.daily_reference``). An episode is reported when the excess is both large
(``min_excess_ratio`` of the expected) and unusual (``min_excess_sigma`` σ of a sum of that many
days). The waste is the measured excess of the episode, not extrapolated: the findings of a
year add up to that year's waste.
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
# Z of a two-sided 90 % interval, for the waste interval.
_Z90 = 1.645


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
    for first, last in D.episodes(closed):
        ep = days.loc[first:last]
        ex = D.excess(ep)
        if ex.n_days == 0 or ex.expected_kwh <= 0:
            continue
        z = D.significance(ref, ex)
        if ex.ratio < s.min_excess_ratio or z < s.min_excess_sigma:
            continue
        types = ep["day_type"].tolist()
        holiday = [t for t in types if t in _HOLIDAYS]
        kind = FindingKind.HOLIDAY_USE if holiday else FindingKind.WEEKEND_USE
        label = max(set(holiday), key=holiday.count) if holiday else types[0]
        out.append(_finding(series, settings, ref, kind, label, first, last, ex, z))
    return out


def _finding(series, settings, ref, kind, label, first, last, ex: D.Excess, z: float) -> Finding:
    s = settings.schedule
    start, end = D.local_day_bounds(series, first, last)
    half = _Z90 * ref.sum_sigma(ex.n_days) / ex.excess_kwh
    rows = series.energy_kwh[(series.energy_kwh.index >= start) & (series.energy_kwh.index < end)]
    ev = evidence(
        series, rows, plot="daily_vs_temperature",
        values={"actual_kwh": round(ex.actual_kwh, 1), "excess_kwh": round(ex.excess_kwh, 1),
                "excess_ratio": round(ex.ratio, 3), "significance_sigma": round(z, 1),
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
