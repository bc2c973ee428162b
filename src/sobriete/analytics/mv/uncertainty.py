"""Savings uncertainty, ASHRAE Guideline 14 (fractional savings uncertainty, FSU).

Formula (ASHRAE Guideline 14-2014, Annex B, after Reddy & Claridge 2000, "Uncertainty of
'measured' energy savings from statistical baseline models", HVAC&R Research 6(1)), for a
baseline model fitted on ``n`` points with ``p`` parameters, used on ``m`` reporting points::

    FSU = ΔE_save / E_save = 1.26 · t · CV · sqrt( (n/n') · (1 + 2/n') · (1/m) ) / F

    n' = n (1 - ρ) / (1 + ρ)      effective number of independent baseline points
    ρ  = lag-1 autocorrelation of the baseline residuals (clipped at 0, see below)
    CV = CV(RMSE) of the baseline fit, sqrt(Σe²/(n-p)) / ȳ
    F  = E_save / E_base, the savings fraction
    t  = Student t, two-sided, for the *stated* confidence level, n' - p degrees of freedom:
         t = t.ppf(1 - (1 - confidence)/2, n' - p)   (1.645 for 90 % with many points)
    1.26 = Reddy & Claridge's empirical factor for the error of the sum of m predictions

Multiplying by E_save = F · E_base with E_base ≈ m · ȳ gives the absolute half-width used
here, which no longer depends on the savings::

    U = 1.26 · t · RMSE · sqrt( m · (n/n') · (1 + 2/n') ),   RMSE = CV · ȳ

The guideline's F form and this one agree when the reporting-period mean prediction equals the
baseline mean; where they differ (a winter-only reporting period), the absolute form keeps the
error tied to the model's RMSE, which is what the sum of m predictions actually carries.

Choices:
- ρ < 0 would give n' > n and shrink the uncertainty below the independent case; it is
  clipped at 0 (conservative), as the correction exists to widen, never narrow.
- The t quantile is for the confidence level as stated (OpenDSM 1.2.7's hourly model passes
  alpha = 0.1 where a confidence level is expected and gets a t about 13x too small).
- Sun & Baltazar (2013) proposed replacing 1.26 by a polynomial in the baseline length for
  daily and monthly models; ``factor`` lets a caller do so, 1.26 is the guideline's value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ASHRAE_FACTOR = 1.26


@dataclass(frozen=True)
class UncertaintyTerms:
    """The numbers behind an uncertainty, carried with it."""

    n: int
    n_prime: float
    p: int
    rho: float
    t: float
    rmse: float
    factor: float
    confidence: float


def t_quantile(confidence: float, dof: float) -> float:
    """Two-sided Student t for a confidence level (0.90 -> the 95th percentile)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not dof > 0:
        return float("nan")
    return student_t_ppf(1.0 - (1.0 - confidence) / 2.0, dof)


def student_t_ppf(q: float, dof: float) -> float:
    """Quantile of Student's t (any real dof > 0)."""
    if not 0.0 < q < 1.0 or not dof > 0:
        return float("nan")
    from scipy import stats  # lazily: ~65 MB and 1 s that a fit-only worker never needs

    return float(stats.t.ppf(q, dof))


def effective_n(n: int, rho: float) -> float:
    """n' = n (1 - ρ) / (1 + ρ), ρ clipped to [0, 1)."""
    r = min(max(float(rho) if math.isfinite(rho) else 0.0, 0.0), 0.999999)
    return n * (1.0 - r) / (1.0 + r)


def terms(n: int, p: int, cvrmse: float, mean_y: float, rho: float, confidence: float,
          factor: float = ASHRAE_FACTOR) -> UncertaintyTerms:
    n_prime = effective_n(n, rho)
    rho_used = min(max(float(rho) if math.isfinite(rho) else 0.0, 0.0), 0.999999)
    return UncertaintyTerms(
        n=int(n), n_prime=n_prime, p=int(p), rho=rho_used,
        t=t_quantile(confidence, n_prime - p), rmse=float(cvrmse) * float(mean_y),
        factor=factor, confidence=confidence,
    )


def absolute_uncertainty(u: UncertaintyTerms, m: int) -> float:
    """Half-width [kWh] of the interval on the sum of ``m`` predictions (see module doc)."""
    if m <= 0:
        return 0.0
    if not (u.n_prime > 0 and math.isfinite(u.t) and math.isfinite(u.rmse)):
        return float("nan")
    return u.factor * u.t * u.rmse * math.sqrt(m * (u.n / u.n_prime) * (1.0 + 2.0 / u.n_prime))


def fractional_savings_uncertainty(cvrmse: float, n: int, p: int, rho: float, m: int,
                                   savings_fraction: float, confidence: float = 0.90,
                                   factor: float = ASHRAE_FACTOR) -> float:
    """The guideline's FSU in its published form (``F`` = savings / baseline)."""
    n_prime = effective_n(n, rho)
    t = t_quantile(confidence, n_prime - p)
    return (factor * t * cvrmse
            * math.sqrt((n / n_prime) * (1.0 + 2.0 / n_prime) / m) / savings_fraction)


def combine(*half_widths: float) -> float:
    """Root-sum-square of independent half-widths at the same confidence level."""
    return float(math.sqrt(sum(h * h for h in half_widths)))
