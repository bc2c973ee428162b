"""kWh -> kgCO2e and EUR with dated, sourced factors (``domain.factors``), never inline.

Every conversion returns the factor it used, so the number travels with its provenance; a
carrier without a factor (district heat: its CO2 factor is per network) gives None and says
why rather than a guess."""

from __future__ import annotations

from dataclasses import dataclass

from sobriete.domain.factors import CO2_KG_PER_KWH, PRICE_EUR_PER_KWH, Factor


@dataclass(frozen=True)
class Converted:
    value: float | None
    factor: Factor | None
    note: str = ""

    def to_dict(self) -> dict:
        f = self.factor
        return {"value": self.value, "note": self.note,
                "factor": None if f is None else {
                    "value": f.value, "unit": f.unit, "source": f.source,
                    "valid_from": f.valid_from, "to_confirm": f.to_confirm}}


def _convert(kwh: float, carrier: str | None, table: dict[str, Factor], what: str) -> Converted:
    factor = table.get(carrier or "")
    if factor is None:
        return Converted(None, None, f"no {what} factor for carrier {carrier!r}: configure one")
    return Converted(kwh * factor.value, factor)


def co2_kg(kwh: float, carrier: str | None,
           table: dict[str, Factor] = CO2_KG_PER_KWH) -> Converted:
    """kgCO2e of ``kwh`` final energy of ``carrier`` (electricity, gas, heating_oil, wood)."""
    return _convert(kwh, carrier, table, "CO2")


def cost_eur(kwh: float, carrier: str | None,
             table: dict[str, Factor] = PRICE_EUR_PER_KWH) -> Converted:
    """EUR of ``kwh`` at the price table's rate for ``carrier``."""
    return _convert(kwh, carrier, table, "price")
