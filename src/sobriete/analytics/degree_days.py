"""Heating and cooling degree-days (DJU), base 18 °C by default, two named methods.

- ``meteo_france``: ``max(0, base - (Tmin + Tmax) / 2)`` per day (cooling: the mirror).
- ``costic`` ("professionnels de l'énergie", degré-jour chauffagiste), the method the
  French energy trade and, by FRANCE.md, OPERAT use. Heating, with S the base:

  * Tmax <= S: ``S - (Tmin + Tmax) / 2`` (a cold day counts like the Météo-France method);
  * Tmin >= S: ``0``;
  * Tmin < S < Tmax: ``(S - Tmin) * (0.08 + 0.42 * (S - Tmin) / (Tmax - Tmin))``.

  Cooling (degré-jour climaticien) is the mirror: Tmin >= S: ``(Tmin + Tmax) / 2 - S``;
  Tmax <= S: ``0``; between: ``(Tmax - S) * (0.08 + 0.42 * (Tmax - S) / (Tmax - Tmin))``.

  Source: the "Professionnels de l'énergie" method as described by Enoptea ("Comment calculer
  les DJU ?") and Cegibat/Météo-France's DJU tool, corroborated by two independent public
  implementations. The COSTIC text itself (Guide des marchés publics d'exploitation de
  chauffage, 2007) was not read: *to confirm*. The cooling mirror is *to confirm* as well (one
  implementation seen multiplies by an extra ``(Tmax - S) / (Tmax - Tmin)`` factor, which
  breaks continuity at ``Tmin = S``; the mirror used here is continuous).

Both are continuous in Tmin and Tmax. Every output names its method and base.
Météo-France's climatological day runs Tmin 18 h UTC (D-1) to 18 h UTC (D) and Tmax 6 h UTC (D)
to 6 h UTC (D+1); from hourly data this module uses local calendar days, which is what a
building's consumption is counted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

DEFAULT_BASE_C = 18.0


class DegreeDayMethod(StrEnum):
    METEO_FRANCE = "meteo_france"
    COSTIC = "costic"


def _arrays(tmin, tmax) -> tuple[np.ndarray, np.ndarray]:
    lo = np.asarray(tmin, dtype=float)
    hi = np.asarray(tmax, dtype=float)
    # A swapped pair is a data error, not a reason for a negative degree-day.
    return np.minimum(lo, hi), np.maximum(lo, hi)


def heating_degree_days(tmin, tmax, base: float = DEFAULT_BASE_C,
                        method: str = DegreeDayMethod.METEO_FRANCE) -> np.ndarray:
    """Heating degree-days [°C·day] per day from daily Tmin/Tmax [°C]; NaN in, NaN out."""
    lo, hi = _arrays(tmin, tmax)
    mean = (lo + hi) / 2
    method = DegreeDayMethod(method)
    if method is DegreeDayMethod.METEO_FRANCE:
        out = np.maximum(0.0, base - mean)
    else:
        spread = np.where(hi > lo, hi - lo, 1.0)
        between = (base - lo) * (0.08 + 0.42 * (base - lo) / spread)
        out = np.where(hi <= base, base - mean, np.where(lo >= base, 0.0, between))
    return np.where(np.isfinite(mean), out, np.nan)


def cooling_degree_days(tmin, tmax, base: float = DEFAULT_BASE_C,
                        method: str = DegreeDayMethod.METEO_FRANCE) -> np.ndarray:
    """Cooling degree-days [°C·day] per day from daily Tmin/Tmax [°C]; NaN in, NaN out.

    Each method's cooling form is its heating form mirrored around the base: the degrees
    above ``base`` are the degrees below ``-base`` of the negated day (Tmin <-> -Tmax)."""
    lo, hi = _arrays(tmin, tmax)
    return heating_degree_days(-hi, -lo, -base, method)


def degree_days(daily: pd.DataFrame, base: float = DEFAULT_BASE_C,
                method: str = DegreeDayMethod.METEO_FRANCE) -> pd.DataFrame:
    """``hdd_<base>`` and ``cdd_<base>`` [°C·day] on ``daily``'s index from its
    ``temp_min_c``/``temp_max_c`` columns, with ``method`` and ``base_c`` columns naming how."""
    method = DegreeDayMethod(method)
    lo, hi = daily["temp_min_c"], daily["temp_max_c"]
    return pd.DataFrame({
        f"hdd_{base:g}": heating_degree_days(lo, hi, base, method),
        f"cdd_{base:g}": cooling_degree_days(lo, hi, base, method),
        "method": method.value,
        "base_c": float(base),
    }, index=daily.index)


def daily_min_max(temps_utc: pd.Series, timezone: str = "Europe/Paris",
                  min_hours: int = 20) -> pd.DataFrame:
    """Local-day ``temp_min_c``, ``temp_max_c``, ``temp_air_c`` (mean) [°C] and ``n_hours``
    from hourly temperatures indexed by UTC instants. Days with fewer than ``min_hours``
    observations get NaN: a missing afternoon would lower Tmax and inflate heating degree-days.
    """
    t = temps_utc.dropna()
    local_day = t.index.tz_convert(timezone).tz_localize(None).normalize()
    g = t.groupby(local_day)
    out = pd.DataFrame({"temp_min_c": g.min(), "temp_max_c": g.max(),
                        "temp_air_c": g.mean(), "n_hours": g.size()})
    out.loc[out["n_hours"] < min_hours, ["temp_min_c", "temp_max_c", "temp_air_c"]] = np.nan
    out.index.name = "local_date"
    return out


def degree_days_from_hourly(temps_utc: pd.Series, base: float = DEFAULT_BASE_C,
                            method: str = DegreeDayMethod.METEO_FRANCE,
                            timezone: str = "Europe/Paris", min_hours: int = 20) -> pd.DataFrame:
    """Degree-days per local day from hourly temperatures [°C] (see ``daily_min_max``)."""
    return degree_days(daily_min_max(temps_utc, timezone, min_hours), base, method)


# ---- Décret tertiaire climate adjustment -------------------------------------------------

ClimateMethod = Callable[[float, float, float], float]


def dju_ratio(heating_kwh: float, dju_ref: float, dju_year: float) -> float:
    """Heating energy brought to the reference climate: ``E_heating * DJU_ref / DJU_year``."""
    if not dju_year > 0:
        raise ValueError(f"dju_year must be positive, got {dju_year}")
    return heating_kwh * dju_ref / dju_year


CLIMATE_METHODS: dict[str, ClimateMethod] = {"dju_ratio": dju_ratio}


@dataclass(frozen=True)
class ClimateAdjusted:
    adjusted_kwh: float
    heating_adjusted_kwh: float
    other_kwh: float
    dju_ref: float
    dju_year: float
    method: str
    note: str


def climate_adjusted(annual_heating_kwh: float, other_kwh: float, dju_ref: float,
                     dju_year: float, method: str | ClimateMethod = "dju_ratio",
                     ) -> ClimateAdjusted:
    """Décret tertiaire illustrative form ``E_adj = E_heating * DJU_ref / DJU_year + E_other``.

    The exact OPERAT formula has a further ratio term *(to confirm)*: pass another
    ``method(heating_kwh, dju_ref, dju_year) -> kWh`` or register one in ``CLIMATE_METHODS``.
    The DJU must come from the same degree-day method and base (name it alongside).
    """
    fn = CLIMATE_METHODS[method] if isinstance(method, str) else method
    name = method if isinstance(method, str) else getattr(method, "__name__", "custom")
    heating = float(fn(annual_heating_kwh, dju_ref, dju_year))
    return ClimateAdjusted(
        adjusted_kwh=heating + other_kwh, heating_adjusted_kwh=heating, other_kwh=other_kwh,
        dju_ref=dju_ref, dju_year=dju_year, method=name,
        note="illustrative Décret tertiaire form; exact OPERAT formula to confirm",
    )
