"""What a reader of a savings number must know, as ``MVWarning`` data."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sobriete.domain.mv import MVWarning, WarningLevel

if TYPE_CHECKING:
    from sobriete.analytics.mv.base import FitResult
    from sobriete.analytics.mv.savings import SavingsResult

# ASHRAE Guideline 14 asks for savings uncertainty under 50 % of the savings (it states this
# at 68 % confidence); we apply it at the result's own, usually stricter, confidence level.
MAX_FSU = 0.5
# Under a year the reporting period misses part of the seasons, so savings cannot be
# annualised; under a quarter a single month's weather or occupancy dominates.
SHORT_REPORTING_DAYS = 365
TOO_SHORT_REPORTING_DAYS = 90


def _w(code: str, level: WarningLevel, fr: str, en: str, **data) -> MVWarning:
    return MVWarning(code=code, level=level, message_fr=fr, message_en=en, data=data)


def savings_warnings(r: SavingsResult, fit: FitResult | None, *, role: str = "baseline",
                     no_prediction: int = 0, span_days: float | None = None) -> list[MVWarning]:
    W, D, Inf = WarningLevel.WARNING, WarningLevel.DISQUALIFICATION, WarningLevel.INFO
    out: list[MVWarning] = []
    pct = f"{r.confidence:.0%}"
    if fit is None or fit.metrics is None:
        out.append(_w("no_fit_metrics", W,
                      f"Modèle {role} sans métriques d'ajustement : incertitude inconnue.",
                      f"{role.capitalize()} model has no fit metrics: uncertainty unknown.",
                      role=role))
    else:
        if fit.disqualified:
            codes = ", ".join(w.code for w in fit.warnings if w.level is D)
            out.append(_w("baseline_model_disqualified", D,
                          f"Modèle {role} disqualifié ({codes}) : économies non utilisables.",
                          f"{role.capitalize()} model disqualified ({codes}): savings not "
                          "usable as is.", role=role, codes=codes))
        if r.m > 0 and not math.isfinite(r.uncertainty_kwh):
            out.append(_w("too_few_effective_points", W,
                          "Trop peu de points indépendants (autocorrélation) pour une "
                          "incertitude.", "Too few effective points (autocorrelation) to "
                          "compute an uncertainty.", role=role, n=r.n, n_prime=r.n_prime, p=r.p))
    if r.m == 0:
        out.append(_w("no_reporting_data", D, "Aucune donnée de suivi exploitable.",
                      "No usable reporting-period data.", m=0))
        return out
    if math.isfinite(r.uncertainty_kwh):
        if not r.significant:
            out.append(_w("savings_not_significant", W,
                          f"Économies non significatives au niveau de confiance {pct} : "
                          "l'intervalle contient zéro.",
                          f"Savings not significant at the stated {pct} confidence: the "
                          "interval contains zero.", savings_kwh=r.savings_kwh,
                          uncertainty_kwh=r.uncertainty_kwh, confidence=r.confidence))
        if r.fsu > MAX_FSU:
            out.append(_w("fsu_above_50pct", W,
                          f"Incertitude ({r.fsu:.0%} des économies) au-delà de 50 % à {pct}.",
                          f"Uncertainty ({r.fsu:.0%} of savings) above 50 % at {pct}.",
                          fsu=r.fsu, threshold=MAX_FSU, confidence=r.confidence))
    if span_days is not None and span_days < SHORT_REPORTING_DAYS:
        level = W if span_days < TOO_SHORT_REPORTING_DAYS else Inf
        out.append(_w("reporting_period_too_short", level,
                      f"Période de suivi de {span_days:.0f} jours, moins d'un an : économies "
                      "non annualisables, toutes les saisons ne sont pas couvertes.",
                      f"Reporting period of {span_days:.0f} days, under a year: savings "
                      "cannot be annualised, not all seasons are covered.",
                      days=span_days, threshold_days=SHORT_REPORTING_DAYS))
    if no_prediction:
        out.append(_w("rows_without_prediction", Inf,
                      f"{no_prediction} relevés sans prédiction (météo manquante) ignorés.",
                      f"{no_prediction} readings without a prediction (missing weather) "
                      "left out.", rows=no_prediction))
    for e in r.events:
        treat = e.data.get("treatment")
        out.append(_w(f"non_routine_event_{treat}", W if e.kind == "detected" else Inf,
                      f"Événement non routinier ({'détecté' if e.kind == 'detected' else 'déclaré'}"
                      f") du {e.start.date()} au {e.end.date()} "
                      f"{'exclu' if treat == 'excluded' else 'ajusté'} : écart "
                      f"{e.impact_kwh:.0f} kWh. {e.description_fr}".strip(),
                      f"Non-routine event ({e.kind}) {e.start.date()} to {e.end.date()} "
                      f"{treat}: departure {e.impact_kwh:.0f} kWh. {e.description_en}".strip(),
                      start=e.start.isoformat(), end=e.end.isoformat(), kind=e.kind,
                      treatment=treat, impact_kwh=e.impact_kwh, rows=e.data.get("rows"),
                      adjustment_kwh=e.adjustment_kwh))
    return out
