"""Labels shown to people, French first. One table so wording stays consistent."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    # key: (français, English)
    "title": ("Synthèse des données énergétiques", "Energy data summary"),
    "building": ("Bâtiment", "Building"),
    "commune": ("Commune", "Commune"),
    "activity": ("Activité", "Activity"),
    "area": ("Surface (m²)", "Floor area (m²)"),
    "meter": ("Compteur", "Meter"),
    "kind": ("Énergie", "Energy"),
    "period": ("Période", "Period"),
    "readings": ("Relevés", "Readings"),
    "coverage": ("Complétude (%)", "Coverage (%)"),
    "year_kwh": ("12 derniers mois (kWh)", "Last 12 months (kWh)"),
    "kwh_m2": ("kWh/m²/an", "kWh/m²/yr"),
    "issues": ("Anomalies de données", "Data issues"),
    "none": ("aucune", "none"),
    "generated": ("Généré le", "Generated on"),
    "sources": ("Sources des données", "Data sources"),
    "footprint": ("Coût de calcul de cette synthèse", "Computing cost of this summary"),
    "job": ("Tâche", "Job"),
    "wall": ("Durée (s)", "Wall time (s)"),
    "cpu": ("CPU (s)", "CPU (s)"),
    "mem": ("Mémoire max (Mo)", "Peak memory (MB)"),
    "energy": ("Énergie (Wh)", "Energy (Wh)"),
    "co2": ("CO2 (g)", "CO2 (g)"),
    "method": ("Méthode", "Method"),
    "electricity": ("électricité", "electricity"),
    "gas": ("gaz", "gas"),
    "heat": ("chaleur", "heat"),
    "water": ("eau", "water"),
}


def t(key: str, lang: str = "fr") -> str:
    fr, en = LABELS[key]
    return en if lang == "en" else fr
