"""The main job on the embedded default: bundled real data -> SQLite -> checks -> summary.

Re-running it is harmless: every import is idempotent, so a second run reports 0 new rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

import pandas as pd

from sobriete.advice import ActionType, rank
from sobriete.domain.access import Grant, Role, Scope, ScopeLevel
from sobriete.reporting.control_plots import plan_png
from sobriete.services import control_demo
from sobriete.services.accounts import create_account, list_accounts, set_active, set_password
from sobriete.services.actions_run import (
    RecommendOutcome,
    mark_action,
    measure_realised,
    recommend_buildings,
)
from sobriete.services.diagnose_run import DiagnosisOutcome, diagnose
from sobriete.services.footprint import ledger
from sobriete.services.imports import ImportOutcome, import_file
from sobriete.services.monthly_report import ReportFiles, monthly_report_file
from sobriete.services.mv_run import FitSettings, RunSummary, fit_portfolio
from sobriete.services.mv_savings_run import SavingsSettings, compute_savings
from sobriete.services.plan_run import PlanResult, make_plan
from sobriete.services.portfolio_status import refresh as refresh_status
from sobriete.services.quality_run import QualityOutcome, run_quality
from sobriete.services.store import Store, open_store
from sobriete.services.store.actions import TrackedAction
from sobriete.services.summary_run import SummaryOutcome, write_summary
from sobriete.services.tertiaire_run import TertiaireOutcome, tertiaire_buildings

DATA = resources.files("sobriete") / "data"
CAMBRIDGE_KEYS = ("b0", "b4", "b8")


@dataclass(frozen=True)
class DemoStep:
    label_fr: str
    label_en: str
    path: str  # relative to the bundled data folder
    fmt: str
    options: dict = field(default_factory=dict)
    rename: dict | None = None


def demo_steps() -> list[DemoStep]:
    wide_utc = {"layout": "wide", "timestamp_column": "timestamp_utc", "timezone": "UTC",
                "timestamps": "start"}
    return [
        DemoStep("Registre des bâtiments", "Building registry", "registry_demo.csv", "registry"),
        DemoStep("Électricité Cambridge (horaire)", "Cambridge electricity (hourly)",
                 "cambridge/electricity_kwh_hourly.csv.gz", "meter-csv", wide_utc,
                 {k: f"{k}-elec" for k in CAMBRIDGE_KEYS}),
        DemoStep("Gaz Cambridge (horaire)", "Cambridge gas (hourly)",
                 "cambridge/gas_kwh_hourly.csv.gz", "meter-csv", wide_utc,
                 {k: f"{k}-gas" for k in CAMBRIDGE_KEYS}),
        DemoStep("Météo Bedford (horaire)", "Bedford weather (hourly)",
                 "cambridge/weather_bedford_hourly.csv.gz", "weather-csv",
                 {"time_column": "timestamp_utc", "timezone": "UTC", "station": "bedford",
                  "columns": {"air_temperature_c": "temp_air_c",
                              "relative_humidity_pct": "relative_humidity_pct",
                              "global_irradiance_w_m2": "ghi_w_m2"}}),
        DemoStep("Courbe de charge Enedis", "Enedis load curve",
                 "france/enedis_courbe_de_charge_example.csv", "enedis"),
        DemoStep("Météo-France Paris-Orly (SYNOP)", "Météo-France Paris-Orly (SYNOP)",
                 "france/meteofrance_synop_paris_orly_3h_2015_2019.csv.gz", "synop",
                 {"station": "07149-paris-orly"}),
        DemoStep("Calendrier Tempo", "Tempo calendar", "france/tempo_calendar_2014_2023.csv",
                 "tempo"),
    ]


@dataclass
class DemoOutcome:
    store: Store
    imports: list[ImportOutcome]
    quality: QualityOutcome
    fit_run: RunSummary
    savings_run: int
    diagnosis: DiagnosisOutcome
    advice: RecommendOutcome
    demo_action: TrackedAction | None
    summary: SummaryOutcome
    tertiaire: TertiaireOutcome | None = None
    plan: PlanResult | None = None  # the simulated school's plan (second AI brick)
    plan_png: Path | None = None
    jobs_measured: int = 0  # footprint ledger rows written by this run
    report: ReportFiles | None = None  # the commune's monthly report (HTML and PDF)


# M&V on the Cambridge meters: 2019 as baseline, 2020 (the COVID closure) as reporting year.
# The Linky example has a single year and no matching weather, so it is not in this part.
MV_BASELINE = FitSettings(date(2019, 1, 1), date(2020, 1, 1))
MV_REPORTING = SavingsSettings(date(2020, 1, 1), date(2021, 1, 1))
MV_METERS = [f"{k}-{kind}" for k in CAMBRIDGE_KEYS for kind in ("elec", "gas")]
# Diagnostics: 2019 analysed, 2018 (the year before) as the reference history.
DIAGNOSIS_WINDOW = (date(2019, 1, 1), date(2020, 1, 1))
CAMBRIDGE_COMMUNE = "CAM"
# A DEMONSTRATION, not a fact: nobody told us what Cambridge did. The best-ranked setting is
# marked done on 2020-01-01 so the realised-vs-estimated view has content; it is measured up to
# 2020-03-01 only, before the COVID closure of mid-March 2020 that would read as a saving.
DEMO_DONE = date(2020, 1, 1)
DEMO_UNTIL = date(2020, 3, 1)
# Décret tertiaire: the bundled data cover 2015-2020; 2015 is the only reference year (2010-2019)
# they allow far from the current one, 2019 the last full year before the COVID closure.
TERTIAIRE_REFERENCE = 2015
TERTIAIRE_CURRENT = 2019
# The monthly report of the Cambridge commune: February 2020 has the demonstration action done
# (1 January) and its measured saving, and is before the COVID closure.
REPORT_MONTH = "2020-02"
# Stages of run_demo after the imports (quality ... plan, dashboard status, monthly report): one
# progress step each.
ANALYSIS_STAGES = 11
# The heating planner on a simulated school (no measured zone temperature is bundled): 14 days
# of its own schedule stored through the import path, then the next 48 h planned around a
# fictitious red Tempo day (Monday 22 January 2024).
PILOT_START = pd.Timestamp("2024-01-08", tz="UTC")
DEMO_PORTFOLIO = ("DEMO", "Démonstration sobriete (données réelles publiques)")  # the registry's
PILOT_TEMPO = {date(2024, 1, 21): "BLEU", date(2024, 1, 22): "ROUGE", date(2024, 1, 23): "BLANC"}
DEMO_NOTE = ("Démonstration : action fictive marquée réalisée pour illustrer le suivi "
             "(mesure arrêtée avant la fermeture COVID de mars 2020)")


def run_demo(
    out: Path,
    *,
    db_url: str | None = None,
    lang: str = "fr",
    progress: Callable[[str], None] = lambda _msg: None,
) -> DemoOutcome:
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(db_url or f"sqlite:///{out / 'sobriete-demo.sqlite'}")
    jobs_before = len(ledger(store))
    imports = []
    for step in demo_steps():
        progress(step.label_fr if lang == "fr" else step.label_en)
        with resources.as_file(DATA / step.path) as path:
            imports.append(import_file(store, path, step.fmt, rename=step.rename,
                                       **step.options))
    progress("Contrôle qualité des données" if lang == "fr" else "Data quality checks")
    quality = run_quality(store)
    progress("Modèles de référence 2019" if lang == "fr" else "2019 baselines")
    fit_run = fit_portfolio(store, MV_BASELINE, keys=MV_METERS)
    progress("Économies 2020" if lang == "fr" else "2020 savings")
    savings_run = compute_savings(store, fit_run.run_id, MV_REPORTING)
    progress("Diagnostic 2019" if lang == "fr" else "2019 diagnosis")
    diagnosis = diagnose(store, meters=MV_METERS, start=DIAGNOSIS_WINDOW[0],
                         end=DIAGNOSIS_WINDOW[1])
    progress("Actions recommandées" if lang == "fr" else "Recommended actions")
    advice = recommend_buildings(store, commune=CAMBRIDGE_COMMUNE)
    progress("Action de démonstration" if lang == "fr" else "Demonstration action")
    demo_action = _demo_action(store, advice)
    progress("Décret tertiaire")
    tertiaire = tertiaire_buildings(store, TERTIAIRE_REFERENCE, commune=CAMBRIDGE_COMMUNE,
                                    current_year=TERTIAIRE_CURRENT)
    progress("Synthèse HTML" if lang == "fr" else "HTML summary")
    summary = write_summary(store, out / "synthese.html", lang=lang,
                            sources=(DATA / "README.md").read_text(encoding="utf-8"))
    progress("Plan de chauffage (école simulée)" if lang == "fr" else
             "Heating plan (simulated school)")
    plan, png = _demo_plan(store, out, lang)
    progress("État des bâtiments (tableau de bord)" if lang == "fr" else
             "Building status (dashboard)")
    refresh_status(store, tertiaire_reference=TERTIAIRE_REFERENCE)
    progress(f"Rapport mensuel {REPORT_MONTH}" if lang == "fr" else
             f"Monthly report {REPORT_MONTH}")
    report = monthly_report_file(store, REPORT_MONTH, out, commune=CAMBRIDGE_COMMUNE, lang=lang)
    return DemoOutcome(store, imports, quality, fit_run, savings_run, diagnosis, advice,
                       demo_action, summary, tertiaire, plan, png,
                       len(ledger(store)) - jobs_before, report)


def _demo_plan(store: Store, out: Path, lang: str) -> tuple[PlanResult, Path]:
    """The simulated school stored as a commune's files would be, and its next 48 h planned
    (appended to the audit trail in advise mode: nothing is sent anywhere)."""
    files = control_demo.write_files(out / "ecole_simulee", PILOT_START, 14, weather_days=16,
                                     tempo=PILOT_TEMPO, portfolio=DEMO_PORTFOLIO)
    control_demo.import_files(store, files)
    plan = make_plan(store, control_demo.BUILDING)
    png = out / "plan_ecole_simulee.png"
    plan_png(plan.steps, lang=lang, path=png, title=plan.title(lang))
    return plan, png


def _demo_action(store: Store, advice: RecommendOutcome) -> TrackedAction | None:
    """Mark the best-ranked setting (no works: a setting is what a manager does in a week)
    done, as a labelled demonstration, and measure it."""
    settings = [r for r in rank(r for rs in advice.ranked.values() for r in rs)
                if r.action_type is ActionType.SETTING and r.eur_saved_per_eur_spent > 0]
    if not settings:
        return None
    best = settings[0]
    mark_action(store, best.building_code, best.action_code, done_date=DEMO_DONE,
                note=DEMO_NOTE)
    return measure_realised(store, best.building_code, best.action_code, until=DEMO_UNTIL)


DEMO_LOGIN = "demo"


def demo_account(store: Store) -> tuple[str, str]:
    """The demo's admin account with a fresh random password (printed once by `make demo`; a
    re-run replaces it, so no password is ever written in the repository)."""
    password = secrets.token_urlsafe(12)
    for acc, _p in list_accounts(store):
        if acc.login == DEMO_LOGIN:
            set_password(store, acc.id, password)
            set_active(store, acc.id, True)
            return DEMO_LOGIN, password
    create_account(store, DEMO_LOGIN, password, "Démonstration",
                   [Grant(Role.ADMIN, Scope(ScopeLevel.PORTFOLIO, DEMO_PORTFOLIO[0]))])
    return DEMO_LOGIN, password
