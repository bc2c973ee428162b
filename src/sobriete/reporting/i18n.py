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
    "mv_title": ("Mesure des économies (IPMVP option C, ASHRAE Guideline 14)",
                 "Measured savings (IPMVP option C, ASHRAE Guideline 14)"),
    "mv_intro": ("Consommation mesurée comparée au modèle de référence ajusté sur la période "
                 "de référence et rejoué sur les conditions de la période de suivi. Les écarts "
                 "durables (fermetures, changements d'usage) sont détectés comme événements non "
                 "routiniers et exclus du calcul, montant à l'appui.",
                 "Metered consumption against the baseline model fitted on the baseline period "
                 "and replayed on the reporting period's conditions. Sustained departures "
                 "(closures, changes of use) are detected as non-routine events and excluded "
                 "from the sum, with their amount shown."),
    "savings": ("Économie (kWh)", "Savings (kWh)"),
    "uncertainty": ("Incertitude ± (kWh)", "Uncertainty ± (kWh)"),
    "significant": ("Significative", "Significant"),
    "events": ("Événements non routiniers", "Non-routine events"),
    "model": ("Modèle", "Model"),
    "run": ("Calcul n°", "Run #"),
    "factors_note": ("€ et CO2 : facteurs datés et sourcés (domain/factors.py) ; prix par défaut à "
                     "remplacer par ceux des contrats de la commune.",
                     "EUR and CO2: dated, sourced factors (domain/factors.py); default prices to "
                     "be replaced by the commune's contract prices."),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "electricity": ("électricité", "electricity"),
    "gas": ("gaz", "gas"),
    "heat": ("chaleur", "heat"),
    "water": ("eau", "water"),
}


def t(key: str, lang: str = "fr") -> str:
    fr, en = LABELS[key]
    return en if lang == "en" else fr
