"""`sobriete baseline fit` and `sobriete savings`: the M&V portfolio runner from the CLI."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select

from sobriete.cli import _db_option, _lang, console, fail, main
from sobriete.domain.errors import SobrieteError
from sobriete.services.executors import default_executor
from sobriete.services.mv_report import savings_views
from sobriete.services.mv_run import FitSettings, fit_portfolio
from sobriete.services.mv_savings_run import SavingsSettings, compute_savings
from sobriete.services.store import open_store
from sobriete.services.store import schema as S


def _date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def _weather(_ctx, _param, values: tuple[str, ...]) -> str | dict[str, str] | None:
    """``KEY`` for every building, or ``BUILDING=KEY`` pairs (``*=KEY`` as the default)."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    pairs = {}
    for v in values:
        building, sep, key = v.partition("=")
        if not sep:
            raise click.BadParameter(f"{v!r}: use KEY alone or BUILDING=KEY")
        pairs[building] = key
    return pairs


def _bar() -> Progress:
    return Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


@main.group()
def baseline() -> None:
    """Modèles de référence (IPMVP option C, ASHRAE Guideline 14)."""


@baseline.command("fit")
@click.option("--start", required=True, callback=_date,
              help="Premier jour de la période de référence.")
@click.option("--end", required=True, callback=_date, help="Lendemain du dernier jour.")
@click.option("--frequency", type=click.Choice(["auto", "hourly", "daily", "billing"]),
              default="auto", show_default=True)
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY",
              help="Station météo (clé de série) pour tous les bâtiments ou par bâtiment.")
@click.option("--meter", "meters", multiple=True, help="Seulement ces compteurs (clés).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processus de calcul (défaut : un par cœur ; 1 = sans processus).")
@click.option("--resume", type=int, default=None, help="Termine le calcul interrompu n°.")
@_db_option
@click.pass_context
def baseline_fit(ctx, start, end, frequency, weather, meters, workers, resume, db_url) -> None:
    """Ajuste un modèle de référence pour chaque compteur."""
    lang = _lang(ctx)
    try:
        store = open_store(db_url)
        with _bar() as bar:
            task = bar.add_task("baseline", total=None)
            summary = fit_portfolio(
                store, FitSettings(start, end, frequency), weather=weather,
                keys=list(meters) or None, executor=default_executor(workers), resume=resume,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
    except SobrieteError as exc:
        fail(exc, lang)
    fits_table(store, summary.run_id, lang)
    fr = lang == "fr"
    console.print((f"Calcul n°{summary.run_id} : {summary.n_done} compteurs, "
                   f"{summary.n_failed} échecs, {summary.seconds:.1f} s") if fr else
                  (f"Run #{summary.run_id}: {summary.n_done} meters, {summary.n_failed} "
                   f"failed, {summary.seconds:.1f} s"))


def fits_table(store, run_id: int, lang: str) -> None:
    fr = lang == "fr"
    table = Table(title=("Modèles de référence" if fr else "Baselines") + f" (n°{run_id})")
    for c in (("Compteur", "Meter"), ("Modèle", "Model"), ("CV(RMSE)", "CV(RMSE)"),
              ("NMBE", "NMBE"), ("Utilisable", "Usable"), ("Avertissements", "Warnings")):
        table.add_column(c[0] if fr else c[1])
    q = (select(S.series.c.key, S.baseline_fit)
         .join(S.baseline_fit, S.baseline_fit.c.series_id == S.series.c.id)
         .where(S.baseline_fit.c.run_id == run_id).order_by(S.series.c.key))
    with store.read() as conn:
        rows = conn.execute(q).mappings().all()
    for r in rows:
        if r["status"] != "ok":
            table.add_row(r["key"], "—", "—", "—", "non" if fr else "no", r["error"] or "")
            continue
        doc = json.loads(r["result_json"])
        m = doc.get("metrics") or {}
        codes = sorted({w["code"] for w in doc.get("warnings", [])})
        usable = ("non" if fr else "no") if r["disqualified"] else ("oui" if fr else "yes")
        table.add_row(r["key"], f"{r['model']} ({r['frequency']})", _pct(m.get("cvrmse")),
                      _pct(m.get("nmbe")), usable, ", ".join(codes))
    console.print(table)


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


@main.command()
@click.option("--fit-run", type=int, required=True, help="Calcul de référence (n°).")
@click.option("--start", required=True, callback=_date, help="Premier jour du suivi.")
@click.option("--end", required=True, callback=_date, help="Lendemain du dernier jour.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.90,
              show_default=True, help="Niveau de confiance de l'incertitude.")
@click.option("--no-events", is_flag=True, help="Ne pas détecter d'événements non routiniers.")
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY")
@click.option("--workers", type=click.IntRange(1, 64), default=None)
@click.option("--plots", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossier où écrire les graphiques (référence/mesure, CUSUM, signature).")
@_db_option
@click.pass_context
def savings(ctx, fit_run, start, end, confidence, no_events, weather, workers, plots,
            db_url) -> None:
    """Économies mesurées (énergie évitée) sur une période de suivi, avec leur incertitude."""
    lang = _lang(ctx)
    try:
        store = open_store(db_url)
        with _bar() as bar:
            task = bar.add_task("savings", total=None)
            run_id = compute_savings(
                store, fit_run, SavingsSettings(start, end, confidence, not no_events),
                weather=weather, executor=default_executor(workers),
                progress=lambda done, total: bar.update(task, completed=done, total=total))
    except SobrieteError as exc:
        fail(exc, lang)
    savings_table(store, run_id, lang)
    if plots:
        _write_plots(store, run_id, plots, weather, lang)


def _write_plots(store, run_id: int, folder: Path, weather, lang: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for view in savings_views(store, run_id, weather=weather, lang=lang):
        for kind, png in (("baseline-vs-actual", view.plot_png), ("cusum", view.cusum_png),
                          ("signature", view.signature_png)):
            if png:
                path = folder / f"{view.key}-{kind}.png"
                path.write_bytes(png)
                console.print(str(path.resolve()))


def savings_table(store, run_id: int, lang: str) -> None:
    fr = lang == "fr"
    table = Table(title=("Économies mesurées" if fr else "Measured savings") + f" (n°{run_id})")
    for c in (("Compteur", "Meter"), ("Économie kWh", "Savings kWh"), ("± kWh", "± kWh"),
              ("%", "%"), ("Significative", "Significant"), ("€", "EUR"), ("kg CO2", "kg CO2"),
              ("Événements", "Events")):
        table.add_column(c[0] if fr else c[1], justify="left" if c[0] == "Compteur" else "right")
    q = (select(S.series.c.key, S.savings_result)
         .join(S.savings_result, S.savings_result.c.series_id == S.series.c.id)
         .where(S.savings_result.c.run_id == run_id).order_by(S.series.c.key))
    with store.read() as conn:
        rows = conn.execute(q).mappings().all()
    for r in rows:
        doc = json.loads(r["result_json"])
        if "error" in doc:
            table.add_row(r["key"], "—", "—", "—", "—", "—", "—", doc["error"])
            continue
        sig = doc.get("significant")
        table.add_row(
            r["key"], f"{doc['savings_kwh']:,.0f}", _num(doc.get("uncertainty_kwh")),
            _num(doc.get("savings_pct"), ".1f"),
            "—" if sig is None else (("oui" if fr else "yes") if sig else ("non" if fr else "no")),
            _num((doc.get("cost_eur") or {}).get("value")),
            _num((doc.get("co2_kg") or {}).get("value")),
            str(len(doc.get("events", []))))
    console.print(table)
    console.print(f"{confidence_note(lang)}")
    console.print("€ et CO2 : facteurs datés et sourcés de domain/factors.py (prix par défaut à "
                  "remplacer par ceux des contrats)." if fr else
                  "EUR and CO2: dated, sourced factors of domain/factors.py (default prices to "
                  "be replaced by the contracts' own).")


def confidence_note(lang: str) -> str:
    return ("Incertitude : ASHRAE Guideline 14 (autocorrélation d'ordre 1 corrigée), au niveau "
            "de confiance demandé." if lang == "fr" else
            "Uncertainty: ASHRAE Guideline 14 (lag-1 autocorrelation corrected), at the "
            "requested confidence level.")


def _num(x, fmt: str = ",.0f") -> str:
    return "—" if x is None else format(x, fmt)
