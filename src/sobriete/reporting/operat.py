"""The OPERAT-ready CSV: one line per functional entity (EFA) and declared year.

OPERAT (ADEME) accepts a CSV bulk import; its exact template is not in our sources
(FRANCE.md lists what a declaration holds: EFA, area per activity, intensity indicators,
final energy per carrier). The columns below are therefore *our* documented choice, named in
French as the platform is, to be mapped onto OPERAT's current template by the person who
uploads it (docs/reports.md). Separator ``;`` and UTF-8 with BOM, what French spreadsheets
open; kWh rounded to the unit as declared; empty cell = unknown, never 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

# column -> meaning (docs/reports.md shows this table)
OPERAT_COLUMNS: dict[str, str] = {
    "annee_consommation": "year of the consumption declared (calendar year)",
    "identifiant_efa": "functional entity id (the building code: one building = one EFA)",
    "nom_efa": "building name",
    "code_commune_insee": "INSEE code of the commune",
    "nom_commune": "commune name",
    "categorie_activite": "activity category of the building (our registry's)",
    "surface_m2": "floor area [m²]",
    "assujetti": "oui if floor area >= 1,000 m²",
    "conso_electricite_kwh": "metered electricity [kWh final]",
    "conso_gaz_naturel_kwh": "metered natural gas [kWh final]",
    "conso_reseau_chaleur_kwh": "metered district heat [kWh final]",
    "conso_totale_kwh": "sum of the carriers [kWh final]",
    "couverture_pct": "lowest share of the year covered by a meter's readings [%]",
    "dju_annee": "heating degree-days of the year (COSTIC, base 18 °C) [°C·day]",
    "dju_reference": "heating degree-days of the reference year [°C·day]",
    "station_meteo": "weather station of the degree-days",
    "conso_corrigee_climat_kwh": "consumption at the reference year's climate [kWh]",
    "annee_reference": "reference year (2010-2019)",
    "conso_reference_kwh": "reference consumption [kWh]",
    "objectif_2030_kwh": "2030 target, −40 % of the reference [kWh]",
    "statut_trajectoire": "target_met | on_track | late | no_data",
    "avertissements": "what limits the figures (codes, | separated)",
}

CARRIER_COLUMNS = {"electricity": "conso_electricite_kwh", "gas": "conso_gaz_naturel_kwh",
                   "heat": "conso_reseau_chaleur_kwh"}


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        # kWh are declared whole; a percentage keeps one decimal
        return f"{value:.1f}" if name in ("couverture_pct", "surface_m2") else f"{round(value):d}"
    return str(value)


def operat_csv(rows: Iterable[Mapping]) -> bytes:
    """``rows``: dicts keyed by ``OPERAT_COLUMNS`` (a missing key is an empty cell)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(OPERAT_COLUMNS)
    for r in rows:
        unknown = set(r) - set(OPERAT_COLUMNS)
        if unknown:
            raise ValueError(f"OPERAT row: unknown columns {sorted(unknown)}")
        w.writerow(_cell(c, r.get(c)) for c in OPERAT_COLUMNS)
    return buf.getvalue().encode("utf-8-sig")


def write_operat_csv(rows: Iterable[Mapping], path: Path) -> Path:
    path.write_bytes(operat_csv(rows))
    return path
