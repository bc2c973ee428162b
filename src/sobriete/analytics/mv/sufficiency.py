"""Is a baseline worth fitting, and is a fit worth using? Warnings as data (stable codes).

Data rules follow OpenDSM/CalTRACK (PEERS.md): baseline 329-366 days, >= 90 % valid days of
consumption and of temperature, a day built from hourly data needs >= 50 % of its hours
(applied in ``mv.data``; counted here), negative gas disqualifies. Fit-quality thresholds are
ASHRAE Guideline 14's calibration values (hourly CV(RMSE) <= 30 %, NMBE +/-10 %; monthly 15 %,
+/-5 %); Guideline 14 gives none for daily data: 25 % / +/-0.5 % are this project's choice,
between the two and strict on bias because an in-sample least-squares fit is nearly unbiased.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sobriete.analytics.mv.base import FitMetrics
from sobriete.domain.mv import MVWarning, WarningLevel

W, D, INFO = WarningLevel.WARNING, WarningLevel.DISQUALIFICATION, WarningLevel.INFO
NO_NEGATIVE_FUELS = frozenset({"gas", "heat", "fuel_oil", "wood"})


class SufficiencySettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_days: int = Field(329, ge=1, le=3660,
                          description="[days] shortest baseline span (CalTRACK: 329)")
    max_days: int = Field(366, ge=1, le=3660,
                          description="[days] longest baseline span (CalTRACK: 365, 366 leap)")
    min_energy_share: float = Field(0.9, ge=0, le=1,
                                    description="[-] share of span days with valid consumption")
    min_temp_share: float = Field(0.9, ge=0, le=1,
                                  description="[-] share of span days with valid temperature")
    max_zero_share: float = Field(
        0.4, ge=0, le=1,
        description="[-] share of zero-consumption days above which a warning is raised (a "
                    "heating-only gas meter is legitimately at zero all summer)")
    temp_min_c: float = Field(-40.0, description="[°C] daily mean below this is implausible")
    temp_max_c: float = Field(45.0, description="[°C] daily mean above this is implausible")


def _w(code: str, level: WarningLevel, fr: str, en: str, **data) -> MVWarning:
    clean = {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
             for k, v in data.items()}
    return MVWarning(code=code, level=level, message_fr=fr, message_en=en, data=clean)


def baseline_sufficiency(daily: pd.DataFrame, fuel: str = "electricity",
                         start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                         settings: SufficiencySettings | None = None) -> list[MVWarning]:
    """Checks on a daily model frame (``mv.data.daily_input``) over [start, end] (inclusive,
    default: the frame's first and last day)."""
    s = settings or SufficiencySettings()
    if daily.empty:
        return [_w("baseline_empty", D, "Aucune donnée sur la période de référence.",
                   "No data in the baseline period.")]
    start = pd.Timestamp(start) if start is not None else daily.index.min()
    end = pd.Timestamp(end) if end is not None else daily.index.max()
    d = daily.loc[start:end]
    span = int((end - start).days) + 1
    out: list[MVWarning] = []
    if span < s.min_days:
        out.append(_w("baseline_too_short", D,
                      f"Période de référence de {span} jours, il en faut au moins {s.min_days}.",
                      f"Baseline spans {span} days, at least {s.min_days} are needed.",
                      n_days=span, min_days=s.min_days))
    if span > s.max_days:
        out.append(_w("baseline_too_long", D,
                      f"Période de référence de {span} jours, au plus {s.max_days} : "
                      "raccourcissez-la pour ne pas mêler plusieurs années.",
                      f"Baseline spans {span} days, at most {s.max_days}: shorten it so that "
                      "years are not mixed.", n_days=span, max_days=s.max_days))
    energy = d["energy_kwh"].to_numpy(dtype=float)
    temp = d["temp_air_c"].to_numpy(dtype=float)
    valid_e = np.isfinite(energy)
    plausible = (temp >= s.temp_min_c) & (temp <= s.temp_max_c)
    valid_t = np.isfinite(temp) & plausible
    share_e, share_t = valid_e.sum() / span, valid_t.sum() / span
    if share_e < s.min_energy_share:
        out.append(_w("too_few_energy_days", D,
                      f"Consommation valide sur {share_e:.0%} des jours (minimum "
                      f"{s.min_energy_share:.0%}).",
                      f"Valid consumption on {share_e:.0%} of days (minimum "
                      f"{s.min_energy_share:.0%}).", share=float(share_e),
                      n_valid=int(valid_e.sum()), n_days=span, minimum=s.min_energy_share))
    if share_t < s.min_temp_share:
        out.append(_w("too_few_temperature_days", D,
                      f"Température valide sur {share_t:.0%} des jours (minimum "
                      f"{s.min_temp_share:.0%}).",
                      f"Valid temperature on {share_t:.0%} of days (minimum "
                      f"{s.min_temp_share:.0%}).", share=float(share_t),
                      n_valid=int(valid_t.sum()), n_days=span, minimum=s.min_temp_share))
    n_extreme = int((np.isfinite(temp) & ~plausible).sum())
    if n_extreme:
        out.append(_w("implausible_temperature", W,
                      f"{n_extreme} jour(s) de température moyenne hors de "
                      f"[{s.temp_min_c:g}, {s.temp_max_c:g}] °C, ignorés.",
                      f"{n_extreme} day(s) with a mean temperature outside "
                      f"[{s.temp_min_c:g}, {s.temp_max_c:g}] °C, ignored.",
                      n_days=n_extreme, temp_min_c=s.temp_min_c, temp_max_c=s.temp_max_c))
    if "energy_coverage" in d:
        cov = d["energy_coverage"].to_numpy(dtype=float)
        n_low = int(((cov > 0) & (cov < 0.5)).sum())
        if n_low:
            out.append(_w("days_dropped_low_coverage", INFO,
                          f"{n_low} jour(s) écarté(s) : moins de 50 % des heures mesurées.",
                          f"{n_low} day(s) dropped: fewer than 50 % of hours measured.",
                          n_days=n_low, min_coverage=0.5))
    n_neg = int((energy[valid_e] < 0).sum())
    if n_neg:
        gas_like = fuel in NO_NEGATIVE_FUELS
        out.append(_w("negative_consumption", D if gas_like else W,
                      f"{n_neg} jour(s) de consommation négative"
                      + (f" : impossible pour « {fuel} »." if gas_like
                         else " (production locale ? erreur de signe ?)."),
                      f"{n_neg} day(s) with negative consumption"
                      + (f": impossible for '{fuel}'." if gas_like
                         else " (local generation? sign error?)."),
                      n_days=n_neg, fuel=fuel))
    n_zero = int((energy[valid_e] == 0).sum())
    share_zero = n_zero / max(int(valid_e.sum()), 1)
    if share_zero > s.max_zero_share:
        out.append(_w("too_many_zero_days", W,
                      f"{share_zero:.0%} des jours à consommation nulle : arrêt réel ou données "
                      "manquantes remplacées par zéro ?",
                      f"{share_zero:.0%} of days at zero consumption: a real stop, or missing "
                      "data replaced by zeros?", share=float(share_zero), n_days=n_zero,
                      maximum=s.max_zero_share))
    return out


def fit_quality_warnings(m: FitMetrics | None, frequency: str, cvrmse_max: float,
                         nmbe_max: float, cvrmse_disqualify: float | None = None,
                         pnrmse: float | None = None,
                         pnrmse_disqualify: float | None = None) -> list[MVWarning]:
    """CV(RMSE) and NMBE against thresholds (warnings); disqualification when CV(RMSE) and
    PNRMSE both exceed their limits (OpenDSM's daily rule is 1.0 and 1.6, *to confirm*)."""
    if m is None or not np.isfinite(m.cvrmse):
        return [_w("fit_metrics_undefined", D,
                   "Qualité de l'ajustement non calculable (pas de données ou moyenne nulle).",
                   "Fit quality cannot be computed (no data or a zero mean).",
                   frequency=frequency)]
    out = []
    if m.cvrmse > cvrmse_max:
        out.append(_w("cvrmse_above_threshold", W,
                      f"CV(RMSE) de {m.cvrmse:.1%} au-delà du seuil de {cvrmse_max:.0%} "
                      f"({frequency}).",
                      f"CV(RMSE) of {m.cvrmse:.1%} above the {cvrmse_max:.0%} threshold "
                      f"({frequency}).", cvrmse=m.cvrmse, threshold=cvrmse_max,
                      frequency=frequency))
    if np.isfinite(m.nmbe) and abs(m.nmbe) > nmbe_max:
        out.append(_w("nmbe_above_threshold", W,
                      f"Biais NMBE de {m.nmbe:+.2%} au-delà de ±{nmbe_max:.1%} ({frequency}).",
                      f"NMBE of {m.nmbe:+.2%} beyond ±{nmbe_max:.1%} ({frequency}).",
                      nmbe=m.nmbe, threshold=nmbe_max, frequency=frequency))
    if (cvrmse_disqualify is not None and m.cvrmse > cvrmse_disqualify
            and (pnrmse_disqualify is None or (pnrmse is not None
                                               and pnrmse > pnrmse_disqualify))):
        pn = pnrmse if pnrmse is not None else float("nan")
        out.append(_w("poor_fit", D,
                      f"Ajustement trop médiocre pour servir de référence : CV(RMSE) "
                      f"{m.cvrmse:.0%}, PNRMSE {pn:.2f}.",
                      f"Fit too poor to serve as a baseline: CV(RMSE) {m.cvrmse:.0%}, "
                      f"PNRMSE {pn:.2f}.",
                      cvrmse=m.cvrmse, pnrmse=pnrmse, cvrmse_limit=cvrmse_disqualify,
                      pnrmse_limit=pnrmse_disqualify))
    return out
