"""Labels of the dashboard, French first; ``?lang=en`` switches to English and is remembered
in a cookie. Numbers are written the French way in French (narrow no-break space between
thousands, decimal comma)."""

from __future__ import annotations

from fastapi import Request

from sobriete.reporting.i18n import LANGS

LANG_COOKIE = "sobriete_lang"

LABELS: dict[str, tuple[str, str]] = {
    "app": ("Sobriété énergétique", "Energy sobriety"),
    "portfolio": ("Patrimoine", "Portfolio"),
    "actions": ("Actions", "Actions"),
    "flex": ("Flexibilité", "Flexibility"),
    "footprint": ("Empreinte", "Footprint"),
    "imports": ("Imports", "Imports"),
    "logout": ("Se déconnecter", "Log out"),
    "login": ("Se connecter", "Log in"),
    "login_title": ("Connexion", "Log in"),
    "user": ("Identifiant", "Login"),
    "password": ("Mot de passe", "Password"),
    "bad_login": ("Identifiant ou mot de passe incorrect.", "Wrong login or password."),
    "building": ("Bâtiment", "Building"),
    "buildings": ("bâtiments", "buildings"),
    "commune": ("Commune", "Commune"),
    "activity": ("Activité", "Activity"),
    "status": ("État", "Status"),
    "all": ("Toutes", "All"),
    "filter": ("Filtrer", "Filter"),
    "sort": ("Tri", "Sort"),
    "search": ("Recherche", "Search"),
    "yr": ("an", "yr"),
    "interval": ("intervalle", "interval"),
    "issues": ("anomalies de données (les plus récentes d'abord)", "data issues (newest first)"),
    "meter_readings": ("Relevés d'un bâtiment", "A building's readings"),
    "reference_files": ("Référentiels (registre, Tempo, EcoWatt)",
                        "Reference files (registry, Tempo, EcoWatt)"),
    "meter_help": ("Le fichier ne doit contenir que les compteurs de ce bâtiment ; les options "
                   "décrivent les colonnes (voir docs/formats.md).",
                   "The file must hold this building's meters only; the options describe its "
                   "columns (see docs/formats.md)."),
    "no_jobs": ("Le service de tâches de fond n'est pas démarré : les imports de relevés "
                "sont indisponibles.", "The job runner is not started: reading imports are "
                "unavailable."),
    "not_measured": ("pas encore mesurée", "not measured yet"),
    "kwh_m2": ("kWh/m²", "kWh/m²"),
    "kwh_m2_dd": ("kWh/m²/DJU", "kWh/m²/DD"),
    "trend": ("Tendance", "Trend"),
    "open_findings": ("Anomalies ouvertes", "Open findings"),
    "tertiaire": ("Décret tertiaire", "Décret tertiaire"),
    "energy": ("Consommation 12 mois", "12-month consumption"),
    "coverage": ("Couverture des données", "Data coverage"),
    "st_ok": ("correct", "ok"),
    "st_watch": ("à surveiller", "watch"),
    "st_alert": ("alerte", "alert"),
    "st_no_data": ("sans données", "no data"),
    "st_none": ("non calculé", "not computed"),
    "tt_on_track": ("sur la trajectoire", "on track"),
    "tt_late": ("en retard", "late"),
    "tt_no_reference": ("sans référence", "no reference"),
    "tt_unknown": ("inconnu", "unknown"),
    "vs_baseline": ("vs référence", "vs baseline"),
    "vs_previous_year": ("vs N-1", "vs previous year"),
    "export": ("Exporter", "Export"),
    "page": ("Page", "Page"),
    "previous": ("Précédente", "Previous"),
    "next": ("Suivante", "Next"),
    "no_coords": ("Bâtiments sans coordonnées", "Buildings without coordinates"),
    "map": ("Carte", "Map"),
    "load_curve": ("Courbe de charge", "Load curve"),
    "signature": ("Signature énergétique", "Energy signature"),
    "n_vs_n1": ("Année N contre N-1", "Year N vs N-1"),
    "findings": ("Anomalies détectées", "Findings"),
    "evidence": ("Preuves", "Evidence"),
    "recommended": ("Actions recommandées et suivies", "Recommended and tracked actions"),
    "estimated": ("Économie estimée", "Estimated saving"),
    "realised": ("Économie mesurée", "Measured saving"),
    "to_do": ("à faire", "to do"),
    "in_progress": ("en cours", "in progress"),
    "done": ("fait", "done"),
    "done_date": ("Date de réalisation", "Date done"),
    "note": ("Note", "Note"),
    "save": ("Enregistrer", "Save"),
    "heating": ("Plan de chauffage et confort", "Heating plan and comfort"),
    "quality": ("Qualité des données", "Data quality"),
    "none": ("Aucun(e)", "None"),
    "not_found": ("Page introuvable", "Page not found"),
    "not_found_text": ("Ce bâtiment n'existe pas ou n'est pas dans votre périmètre.",
                       "This building does not exist or is not in your scope."),
    "forbidden": ("Accès refusé", "Access denied"),
    "hourly": ("horaire", "hourly"),
    "daily": ("journalière", "daily"),
    "view_hourly": ("4 dernières semaines (horaire)", "last 4 weeks (hourly)"),
    "view_year": ("12 derniers mois (journalier)", "last 12 months (daily)"),
    "baseline": ("Référence", "Baseline"),
    "band": ("Bande de la référence", "Baseline band"),
    "events": ("Événements d'effacement", "Demand-response events"),
    "capacity": ("Capacité par commune", "Capacity per commune"),
    "allocations": ("Répartition de l'effacement", "Dispatch allocations"),
    "settlement": ("Règlement (mesure de l'effacement)", "Settlement (measured shed)"),
    "platform_footprint": ("Empreinte de la plateforme", "The platform's footprint"),
    "jobs": ("Traitements", "Jobs"),
    "savings_measured": ("Économies mesurées", "Measured savings"),
    "upload": ("Téléverser", "Upload"),
    "file": ("Fichier", "File"),
    "format": ("Format", "Format"),
    "progress": ("Avancement", "Progress"),
    "provenance": ("Provenance", "Provenance"),
    "computed_at": ("calculé le", "computed on"),
    "period": ("Période", "Period"),
    "nothing": ("Rien à afficher.", "Nothing to show."),
    "no_status": ("Indicateurs pas encore calculés (analyse quotidienne).",
                  "Figures not computed yet (daily analysis)."),
    "degree_days": ("Degrés-jours unifiés", "Heating degree-days"),
    "window": ("Fenêtre", "Window"),
    "action_saved": ("Action enregistrée.", "Action saved."),
    "measuring": ("L'économie réalisée est mesurée en tâche de fond (rechargez la page dans "
                  "quelques instants).", "The realised saving is being measured in the "
                  "background (reload the page in a moment)."),
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGS:
        return kept
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "lang", "fr") or "fr"


def translator(lang: str):
    i = 0 if lang == "fr" else 1

    def t(key: str) -> str:
        pair = LABELS.get(key)
        return key if pair is None else pair[i]
    return t


def number(value, digits: int = 0, lang: str = "fr") -> str:
    """``1234.5`` -> ``1 234,5`` (fr) or ``1,234.5`` (en); None -> an en dash."""
    if value is None:
        return "–"
    s = f"{value:,.{digits}f}"
    if lang == "fr":
        s = s.replace(",", "\u202f").replace(".", ",")
    return s
