"""Power above the electricity contract's subscribed power.

Readings are mean power over their interval: on hourly data a 10-minute peak is averaged away,
so an exceedance seen here is certain and one not seen is not proof of none (said in the
finding's warnings). No kWh is wasted: the cost is the contract's overrun charges, so the
finding has no waste and points to reviewing the subscribed power or shaving the peak.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sobriete.analytics.diagnostics.base import MeterSeries, evidence, finding, fmt_pct
from sobriete.analytics.diagnostics.settings import DETECTOR_VERSIONS, DiagnosticSettings
from sobriete.domain.findings import Finding, FindingKind
from sobriete.domain.portfolio import MeterKind


def detect_peaks(series: MeterSeries, settings: DiagnosticSettings) -> list[Finding]:
    kva = series.meter.subscribed_power_kva
    if series.meter.kind is not MeterKind.ELECTRICITY or kva is None:
        return []
    c = settings.contract
    limit_kw = kva * c.power_factor
    e = series.analysed().dropna()
    over = e[e > limit_kw]  # kWh per hour = mean kW over the hour
    if len(over) < c.min_exceedances:
        return []
    peak = float(over.max())
    months = over.groupby(over.index.tz_convert("Europe/Paris").strftime("%Y-%m")).size()
    name = series.building.name
    fr = (f"{name} : la puissance moyenne horaire a dépassé la puissance souscrite "
          f"({kva:.0f} kVA ≈ {limit_kw:.0f} kW) pendant {len(over)} heure(s), jusqu'à "
          f"{peak:.0f} kW (+{fmt_pct(peak / limit_kw - 1)}) ; revoir la puissance souscrite ou "
          "écrêter la pointe.")
    en = (f"{name}: mean hourly power exceeded the subscribed power ({kva:.0f} kVA ≈ "
          f"{limit_kw:.0f} kW) for {len(over)} hour(s), up to {peak:.0f} kW "
          f"(+{fmt_pct(peak / limit_kw - 1)}); review the subscribed power or shave the peak.")
    ev = evidence(series, over, plot="peak_power",
                  values={"peak_kw": round(peak, 1), "hours_over": int(len(over)),
                          "worst_month": str(months.idxmax()),
                          "months_with_exceedance": int(len(months))},
                  reference={"subscribed_power_kva": kva, "limit_kw": round(limit_kw, 1)},
                  parameters={"power_factor": c.power_factor,
                              "min_exceedances": c.min_exceedances})
    score = float(np.clip(0.5 + 0.1 * len(over) + (peak / limit_kw - 1.0), 0.5, 1.0))
    return [finding(series, FindingKind.PEAK_OVER_SUBSCRIBED, over.index[0],
                    over.index[-1] + pd.Timedelta(hours=1), score=score, detector="contract",
                    version=DETECTOR_VERSIONS["contract"], ev=ev, wst=None, fr=fr, en=en,
                    actions=("subscribed_power_review",),
                    warnings=("hourly mean power: shorter peaks are averaged away",))]
