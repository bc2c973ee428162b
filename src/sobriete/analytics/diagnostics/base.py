"""What every meter detector receives, and the shared way to turn an excess into a Waste.

Detectors are pure functions ``(MeterSeries, DiagnosticSettings) -> list[Finding]``: they read
hourly energy (and outdoor temperature where they need it) and never open a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from sobriete.analytics.calendar import Occupancy, occupancy
from sobriete.analytics.conversions import co2_kg, cost_eur
from sobriete.domain.findings import Evidence, Finding, FindingKind, Quantity, Waste
from sobriete.domain.numbers import fmt_fr
from sobriete.domain.portfolio import Building, Meter, MeterKind

HOURS_PER_YEAR = 8760.0
CARRIER = {MeterKind.ELECTRICITY: "electricity", MeterKind.GAS: "gas", MeterKind.HEAT: "heat"}


def check_utc_index(name: str, s: pd.Series) -> None:
    """A detector's input series: timezone-aware, increasing, no duplicate instant."""
    idx = s.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        raise ValueError(f"{name} needs a timezone-aware DatetimeIndex (UTC)")
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise ValueError(f"{name} index must be increasing without duplicates")


@dataclass(frozen=True)
class MeterSeries:
    """One energy meter of one building, hourly.

    ``energy_kwh``: kWh per hour, UTC hour-beginning index, NaN where missing. ``temp_air_c``:
    outdoor temperature on the same index (None if no weather). Rows before ``analysis_start``
    are the reference history the change rules compare with; None: no history, the whole
    series is analysed. ``closures``: declared closures, inclusive local dates.
    """

    building: Building
    meter: Meter
    energy_kwh: pd.Series
    temp_air_c: pd.Series | None = None
    analysis_start: pd.Timestamp | None = None
    closures: tuple[tuple[date, date], ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        check_utc_index("energy_kwh", self.energy_kwh)

    @property
    def carrier(self) -> str:
        return CARRIER.get(self.meter.kind, self.meter.kind.value)

    @property
    def series_key(self) -> str:
        return self.meter.code

    @cached_property
    def start(self) -> pd.Timestamp:
        return self.analysis_start or self.energy_kwh.index[0]

    def analysed(self) -> pd.Series:
        return self.energy_kwh[self.energy_kwh.index >= self.start]

    def reference(self, days: int) -> pd.Series:
        return self.between(self.start - pd.Timedelta(days=days), self.start)

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
        """Hourly kWh over [start, end)."""
        e = self.energy_kwh
        return e[(e.index >= start) & (e.index < end)]

    @cached_property
    def occupancy(self) -> Occupancy:
        cal = self.building.occupancy()
        return occupancy(cal, self.energy_kwh.index, list(self.closures))

    def frame(self) -> pd.DataFrame:
        """Hourly frame with local date/hour/weekday, day type, occupied flag and outdoor
        temperature: the shape of ``mv.data.hourly_input``, plus ``analysed``. Built once per
        series (every detector asks for it); each caller gets its own copy to change."""
        return self._frame.copy()

    @cached_property
    def _frame(self) -> pd.DataFrame:
        idx = self.energy_kwh.index
        local = idx.tz_convert(self.building.occupancy().timezone)
        occ = self.occupancy
        temp = (self.temp_air_c.reindex(idx) if self.temp_air_c is not None
                else pd.Series(np.nan, index=idx))
        return pd.DataFrame({
            "energy_kwh": self.energy_kwh.to_numpy(dtype=float),
            "temp_air_c": temp.to_numpy(dtype=float),
            "occupied": occ.occupied,
            "day_type": occ.day_type,
            "local_date": local.tz_localize(None).normalize(),
            "local_hour": local.hour,
            "local_dow": local.day_of_week,
            "analysed": idx >= self.start,
        }, index=idx)


def waste(source: MeterSeries | str, kwh_observed: float, observed_hours: float, *,
          rel_halfwidth: float, method: str, annualise: bool = True) -> Waste:
    """Waste with its interval, annualised by the share of a year observed, in kWh, € and CO2.

    ``source``: the meter series, or just the carrier ("gas", "electricity" ...).

    ``rel_halfwidth``: half-width of the interval relative to the estimate (the detector's own
    uncertainty, or the settings' default when it has none). Annualising assumes the fault
    lasts a year at the observed rate; ``annualise=False`` for seasonal faults already
    expressed per year by the detector.
    """
    carrier = source if isinstance(source, str) else source.carrier
    scale = HOURS_PER_YEAR / observed_hours if annualise and observed_hours > 0 else 1.0
    per_year = max(kwh_observed * scale, 0.0)
    half = abs(per_year) * rel_halfwidth

    def q(v: float, unit: str) -> Quantity:
        return Quantity(value=v, low=max(v - v * rel_halfwidth, 0.0), high=v + v * rel_halfwidth,
                        unit=unit)

    eur = cost_eur(per_year, carrier)
    co2 = co2_kg(per_year, carrier)
    factors: dict[str, float | str | bool | None] = {}
    for name, conv in (("price", eur), ("co2", co2)):
        f = conv.factor
        if f is not None:
            factors.update({f"{name}_value": f.value, f"{name}_unit": f.unit,
                            f"{name}_source": f.source, f"{name}_to_confirm": f.to_confirm})
        else:
            factors[f"{name}_note"] = conv.note
    return Waste(
        carrier=carrier, kwh_observed=float(kwh_observed),
        kwh_per_year=Quantity(value=per_year, low=max(per_year - half, 0.0),
                              high=per_year + half, unit="kWh/an"),
        eur_per_year=None if eur.value is None else q(eur.value, "EUR/an"),
        co2_kg_per_year=None if co2.value is None else q(co2.value, "kgCO2e/an"),
        factors=factors, method=method,
    )


def evidence(series: MeterSeries, rows: pd.Series | pd.DataFrame, **parts) -> Evidence:
    idx = rows.index
    return Evidence(series_key=series.series_key, quantity="energy_kwh",
                    data_start_utc=idx[0].to_pydatetime(), data_end_utc=idx[-1].to_pydatetime(),
                    n_points=int(len(idx)), **parts)


def finding(series: MeterSeries, kind: FindingKind, start: pd.Timestamp, end: pd.Timestamp, *,
            score: float, detector: str, version: str, ev: Evidence, wst: Waste | None,
            fr: str, en: str, actions: tuple[str, ...] = (),
            warnings: tuple[str, ...] = ()) -> Finding:
    return Finding(building_code=series.building.code, kind=kind,
                   start_utc=pd.Timestamp(start).to_pydatetime(),
                   end_utc=pd.Timestamp(end).to_pydatetime(),
                   score=float(np.clip(score, 0.0, 1.0)), detector=detector,
                   detector_version=version, evidence=ev, waste=wst, message_fr=fr,
                   message_en=en, actions=actions,
                   warnings=tuple(series.warnings) + tuple(warnings))


def fmt_pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def fmt_dec(x: float, digits: int = 1) -> str:
    """French decimals: 3,8 (``domain.numbers.fmt_fr``)."""
    return fmt_fr(x, digits)


def fmt_num(x: float) -> str:
    """French thousands: 12 346 (``domain.numbers.fmt_fr``)."""
    return fmt_fr(x, 0)
