"""A trivial stand-in detector, only to exercise the harness (``--standin``), never scored as
the product: weeks of the analysed year whose mean load exceeds the reference year's mean by
15 % become STEP_CHANGE findings (consecutive weeks merged), waste = the excess over that mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sobriete.domain.findings import Evidence, Finding, FindingKind, Quantity, Waste


def detect(series, settings=None) -> list[Finding]:
    e = series.energy_kwh
    ref = e[e.index < series.start]
    ana = e[e.index >= series.start]
    level = float(ref.mean())
    if not np.isfinite(level) or level <= 0:
        return []
    weekly = ana.resample("7D", origin=series.start).mean()
    hot = weekly > 1.15 * level
    out = []
    run: list[pd.Timestamp] = []
    for t, flag in list(hot.items()) + [(None, False)]:
        if flag:
            run.append(t)
            continue
        if run:
            lo, hi = run[0], run[-1] + pd.Timedelta(days=7)
            part = ana[(ana.index >= lo) & (ana.index < hi)]
            kwh = float((part - level).sum())
            q = Quantity(value=max(kwh, 0.0), low=max(kwh, 0.0), high=max(kwh, 0.0), unit="kWh")
            out.append(Finding(
                building_code=series.building.code, kind=FindingKind.STEP_CHANGE,
                start_utc=lo.to_pydatetime(), end_utc=hi.to_pydatetime(), score=0.5,
                detector="benchmark_standin", detector_version="0",
                evidence=Evidence(series_key=series.meter.code, quantity="energy_kwh",
                                  data_start_utc=lo.to_pydatetime(),
                                  data_end_utc=hi.to_pydatetime(), n_points=len(part)),
                waste=Waste(carrier=series.meter.kind.value, kwh_observed=kwh, kwh_per_year=q,
                            method="stand-in"),
                message_fr="stand-in", message_en="stand-in"))
            run = []
    return out
