"""Findings and buildings built by hand for the advice tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sobriete.advice import CATALOGUE, Recommendation, SavingPart
from sobriete.domain.findings import Evidence, Finding, FindingKind, Quantity, Waste
from sobriete.domain.portfolio import Building


def when(month: int, day: int = 1) -> datetime:
    return datetime(2024, month, day, tzinfo=UTC)


def make_finding(kind: FindingKind = FindingKind.NO_SETBACK, *, start: int = 1, end: int = 3,
                 kwh: float | None = 10_000.0, rel: float = 0.4, carrier: str = "gas",
                 series: str = "PCE1", building: str = "B1", actions: tuple[str, ...] = (),
                 values: dict | None = None, reference: dict | None = None) -> Finding:
    waste = None if kwh is None else Waste(
        carrier=carrier, kwh_observed=kwh / 6,
        kwh_per_year=Quantity(value=kwh, low=kwh * (1 - rel), high=kwh * (1 + rel),
                              unit="kWh/an"), method="test")
    return Finding(
        building_code=building, kind=kind, start_utc=when(start), end_utc=when(end),
        score=0.9, detector="test", detector_version="1",
        evidence=Evidence(series_key=series, quantity="energy_kwh", data_start_utc=when(start),
                          data_end_utc=when(end), n_points=100, values=values or {},
                          reference=reference or {}),
        waste=waste,
        message_fr="La nuit, l'école consomme 62 % de sa puissance de journée "
                   "(référence : 25 %).",
        message_en="At night the school draws 62 % of its daytime power (reference: 25 %).",
        actions=actions)


@pytest.fixture
def finding():
    return make_finding


@pytest.fixture
def school() -> Building:
    return Building(code="B1", name="École Jaurès", activity="school", floor_area_m2=1200,
                    heating_system="gas_boiler", climate_zone="H1")


def make_rec(code: str = "night_setback", *, parts=(), cost: float = 1000.0,
             eur: float = 1000.0, co2: float = 100.0, life: int = 10,
             building: str = "B1") -> Recommendation:
    """A recommendation with given numbers; ``parts`` as (carrier, use, kWh[, switch ratio])."""
    sp = []
    for p in parts:
        carrier, use, kwh = p[:3]
        q = Quantity(value=kwh, low=kwh, high=kwh, unit="kWh/an")
        sw = {"switch_to": "electricity", "switch_ratio": p[3]} if len(p) > 3 else {}
        sp.append(SavingPart(carrier=carrier, use=use, kwh_per_year=q, **sw))
    total = sum(p[2] for p in parts)

    def q(v: float, unit: str) -> Quantity:
        return Quantity(value=v, low=v, high=v, unit=unit)
    return Recommendation(
        building_code=building, action_code=code, action_type=CATALOGUE[code].type,
        kwh_per_year=q(total, "kWh/an"), eur_per_year=q(eur, "EUR/an"),
        co2_kg_per_year=q(co2, "kgCO2e/an"), cost_eur=q(cost, "EUR"), net_cost_eur=cost,
        lifetime_years=life, payback_years=cost / eur if eur > 0 else None,
        eur_saved_per_eur_spent=eur * life / cost, co2_kg_saved_per_eur=co2 * life / cost,
        parts=tuple(sp))


@pytest.fixture
def rec():
    return make_rec
