"""Dated, sourced conversion factors. Never inline a factor elsewhere: look it up here.

Values marked ``to_confirm`` are configurable defaults from secondary or older sources
(see docs FRANCE.md), not legal constants.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Factor:
    name: str
    value: float
    unit: str
    source: str
    valid_from: str  # ISO date the value applies from
    to_confirm: bool = False


CO2_KG_PER_KWH: dict[str, Factor] = {
    f.name: f
    for f in (
        Factor("electricity", 0.052, "kgCO2e/kWh",
               "ADEME Base Empreinte, mix moyen France continentale (about 0.05-0.06)",
               "2022-01-01", to_confirm=True),
        Factor("electricity_heating", 0.079, "kgCO2e/kWh",
               "DPE 2021 conventions, electricity used for heating", "2021-07-01"),
        Factor("gas", 0.227, "kgCO2e/kWh", "ADEME Base Empreinte, gaz naturel (PCI)",
               "2018-01-01", to_confirm=True),
        Factor("heating_oil", 0.324, "kgCO2e/kWh", "ADEME Base Empreinte, fioul domestique",
               "2018-01-01", to_confirm=True),
        Factor("wood", 0.030, "kgCO2e/kWh", "ADEME Base Empreinte, bois bûche",
               "2018-01-01", to_confirm=True),
    )
}

# Energy prices for € estimates: defaults only, to be replaced by each commune's contract
# prices (they differ by contract, year and tariff option).
PRICE_EUR_PER_KWH: dict[str, Factor] = {
    f.name: f
    for f in (
        Factor("electricity", 0.20, "EUR/kWh",
               "assumption: order of magnitude of 2024 public-sector electricity prices "
               "(all taxes); set the contract price", "2024-01-01", to_confirm=True),
        Factor("gas", 0.10, "EUR/kWh",
               "assumption: order of magnitude of 2024 public-sector natural gas prices "
               "(PCS, all taxes); set the contract price", "2024-01-01", to_confirm=True),
        Factor("heat", 0.10, "EUR/kWh",
               "assumption: order of magnitude of district-heating prices; set the network's",
               "2024-01-01", to_confirm=True),
    )
}

# The platform's own computing, when no power meter (RAPL) can be read. Assumptions, stated.
COMPUTE_W_PER_CORE = Factor(
    "cpu_core_power", 10.0, "W per busy core",
    "assumption: a server CPU of ~120-250 W TDP over 12-24 cores at full load", "2024-01-01",
    to_confirm=True,
)
COMPUTE_W_PER_GB_RAM = Factor(
    "ram_power", 0.375, "W per GB resident", "assumption: ~3 W per 8 GB DDR4 module",
    "2024-01-01", to_confirm=True,
)
