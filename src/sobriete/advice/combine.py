"""Savings of several actions on one building, combined without counting a kWh twice.

Pools: each carrier's consumption is split into its heating use (the weather-dependent part
of the building's own baseline, ``heating_kwh``) and the rest (``annual - heating``). When the
split is unknown, the carrier is one pool (its annual consumption) holding every part of it:
heating and other savings then combine multiplicatively together, so they never exceed it.

On one pool of size P, actions saving s_i = kWh_i / P (each estimated alone) combine
multiplicatively: saved = P (1 - Π(1 - s_i)). The second action acts on what the first left;
adding them would count the same kWh twice (a set-back and a 19 °C setpoint both cut the same
heating). Fuel switches (heat pump) act last, on what the efficiency actions left, and add
``switch_ratio`` kWh of their target carrier per kWh removed. Low and high ends are combined
the same way from the parts' low and high ends (the added consumption with the opposite end).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sobriete.advice.model import Recommendation, SavingPart
from sobriete.domain.findings import Quantity

ENDS = ("low", "value", "high")


def check_consumption(annual_kwh: Mapping[str, float],
                      heating_kwh: Mapping[str, float] | None = None) -> None:
    """Raise ValueError naming the carrier when a consumption is negative, not finite, or the
    heating part exceeds the carrier's annual consumption."""
    for name, table in (("annual_kwh", annual_kwh), ("heating_kwh", heating_kwh or {})):
        for carrier, kwh in table.items():
            if not math.isfinite(kwh) or kwh < 0:
                raise ValueError(f"{name}[{carrier!r}] must be a finite kWh/yr >= 0, got {kwh}")
    for carrier, kwh in (heating_kwh or {}).items():
        if carrier not in annual_kwh:
            raise ValueError(f"heating_kwh[{carrier!r}] given without annual_kwh[{carrier!r}]")
        if kwh > annual_kwh[carrier] * (1 + 1e-9):
            raise ValueError(f"heating_kwh[{carrier!r}] = {kwh} kWh/yr exceeds the carrier's "
                             f"annual consumption {annual_kwh[carrier]} kWh/yr")


def pool_size(carrier: str, use: str, annual_kwh: Mapping[str, float],
              heating_kwh: Mapping[str, float] | None) -> float:
    """kWh/yr of one pool (see module doc)."""
    annual = annual_kwh.get(carrier, 0.0)
    if heating_kwh is None or carrier not in heating_kwh:
        return annual
    return heating_kwh[carrier] if use == "heating" else max(annual - heating_kwh[carrier], 0.0)


@dataclass(frozen=True)
class Combined:
    """Combined yearly saving [kWh/yr] per carrier (negative: consumption added) and total."""

    by_carrier: dict[str, Quantity]
    total: Quantity
    action_codes: tuple[str, ...]


def _end(part: SavingPart, end: str) -> float:
    return float(getattr(part.kwh_per_year, end))


def combine_parts(parts: Iterable[SavingPart], annual_kwh: Mapping[str, float],
                  heating_kwh: Mapping[str, float] | None = None,
                  ) -> dict[str, dict[str, float]]:
    """Per carrier, per end (low/value/high): gross kWh saved and kWh added by switches."""
    pools: dict[tuple[str, str], list[SavingPart]] = {}
    for p in parts:
        if not p.added:
            split = heating_kwh is not None and p.carrier in heating_kwh
            pools.setdefault((p.carrier, p.use if split else "all"), []).append(p)
    out: dict[str, dict[str, float]] = {}
    for end in ENDS:
        gross: dict[str, float] = {}
        added: dict[str, float] = {}
        for (carrier, use), ps in pools.items():
            size = pool_size(carrier, use, annual_kwh, heating_kwh)
            if size <= 0:
                continue
            share = {id(p): min(max(_end(p, end) / size, 0.0), 1.0) for p in ps}
            left = size
            for p in ps:
                if p.switch_to is None:
                    left *= 1.0 - share[id(p)]
            for p in ps:  # switches act last, on what efficiency left
                if p.switch_to is not None:
                    removed = left * share[id(p)]
                    left -= removed
                    added[p.switch_to] = added.get(p.switch_to, 0.0) + removed * p.switch_ratio
            gross[carrier] = gross.get(carrier, 0.0) + size - left
        for carrier in set(gross) | set(added):
            cap = annual_kwh.get(carrier, 0.0)
            row = out.setdefault(carrier, {})
            row[f"gross_{end}"] = min(gross.get(carrier, 0.0), cap)  # safety: pools <= annual
            row[f"added_{end}"] = added.get(carrier, 0.0)
    return out


def combine(recs: Iterable[Recommendation], annual_kwh: Mapping[str, float],
            heating_kwh: Mapping[str, float] | None = None) -> Combined:
    """Combined saving of ``recs`` (one building) [kWh/yr], never above its consumption."""
    recs = list(recs)
    check_consumption(annual_kwh, heating_kwh)
    if len({r.building_code for r in recs}) > 1:
        raise ValueError("combine() takes the recommendations of one building")
    rows = combine_parts([p for r in recs for p in r.parts], annual_kwh, heating_kwh)
    by: dict[str, Quantity] = {}
    for carrier, row in rows.items():
        # the low end adds the most consumption, the high end the least
        lo = row["gross_low"] - row["added_high"]
        val = row["gross_value"] - row["added_value"]
        hi = row["gross_high"] - row["added_low"]
        by[carrier] = Quantity(value=val, low=min(lo, val), high=max(hi, val), unit="kWh/an")
    total = Quantity(value=sum(q.value for q in by.values()),
                     low=sum(q.low for q in by.values()),
                     high=sum(q.high for q in by.values()), unit="kWh/an")
    return Combined(by_carrier=by, total=total,
                    action_codes=tuple(r.action_code for r in recs))
