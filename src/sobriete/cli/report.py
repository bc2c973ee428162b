"""`sobriete report monthly | operat | tertiaire`: the monthly report (HTML, PDF), the
OPERAT-ready CSV and the Décret tertiaire trajectories, from the store."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from sobriete.cli import _db_option, _lang, console, err_console, fail, main
from sobriete.cli.diagnose import num
from sobriete.domain.errors import SobrieteError
from sobriete.reporting.operat import write_operat_csv
from sobriete.services.monthly_report import monthly_report_file
from sobriete.services.store import open_store
from sobriete.services.tertiaire_trajectory import operat_rows, trajectories

STATUS = {"target_met": ("objectif 2030 atteint", "2030 target met"),
          "on_track": ("dans la trajectoire", "on track"), "late": ("en retard", "late"),
          "no_data": ("pas d'année après la référence", "no year after the reference")}


ABSOLUTE = {"met": ("atteinte", "met"), "not_met": ("non atteinte", "not met"),
            "unknown": ("—", "—")}


@main.group()
def report() -> None:
    """Rapports : mensuel (HTML/PDF), export OPERAT, trajectoire Décret tertiaire."""


@report.command("monthly")
@click.option("--building", default=None, help="Code du bâtiment.")
@click.option("--commune", default=None, help="Code INSEE de la commune.")
@click.option("--month", required=True, help="Mois, AAAA-MM (ex. 2019-03).")
@click.option("--pdf/--no-pdf", default=False, help="Écrire aussi le PDF.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Dossier de sortie.")
@_db_option
@click.pass_context
def monthly(ctx, building, commune, month, pdf, out_dir, db_url) -> None:
    """Rapport mensuel d'un bâtiment ou d'une commune."""
    lang = _lang(ctx)
    if (building is None) == (commune is None):
        raise click.UsageError("--building ou --commune (l'un des deux)")
    try:
        files = monthly_report_file(open_store(db_url), month, out_dir, building=building,
                                    commune=commune, pdf=pdf, lang=lang)
    except SobrieteError as exc:
        fail(exc, lang)
    console.print(f"HTML : {files.html}")
    if files.pdf:
        console.print(f"PDF : {files.pdf}")


@report.command("operat")
@click.option("--year", type=int, required=True, help="Année de consommation déclarée.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Fichier CSV à écrire.")
@click.option("--commune", default=None, help="Seulement cette commune.")
@click.option("--reference-year", type=int, default=None,
              help="Année de référence (sinon la meilleure année complète 2010-2019).")
@_db_option
@click.pass_context
def operat(ctx, year, out_file, commune, reference_year, db_url) -> None:
    """Export CSV prêt pour OPERAT (une ligne par entité fonctionnelle)."""
    lang = _lang(ctx)
    try:
        rows, errors = operat_rows(open_store(db_url), year, commune=commune,
                                   reference_year=reference_year)
    except SobrieteError as exc:
        fail(exc, lang)
    write_operat_csv(rows, out_file)
    console.print(f"{out_file} : {len(rows)} " + ("ligne(s)" if lang == "fr" else "row(s)"))
    for code, why in sorted(errors.items()):
        err_console.print(f"[yellow]{code}[/] : {why}")


def _cabs(items: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in items:
        activity, _, value = item.partition("=")
        try:
            out[activity.strip()] = float(value.replace(",", "."))
        except ValueError:
            raise click.BadParameter(f"{item!r} : attendu ACTIVITE=KWH_M2, ex. school=95",
                                     param_hint="--cabs") from None
    return out


@report.command("tertiaire")
@click.option("--building", default=None, help="Code du bâtiment.")
@click.option("--commune", default=None, help="Code INSEE de la commune.")
@click.option("--reference-year", type=int, default=None,
              help="Année de référence (sinon la meilleure année complète 2010-2019).")
@click.option("--until", "until_year", type=int, default=None,
              help="Dernière année prise en compte (ex. 2019 : laisser de côté 2020, année de "
                   "fermetures).")
@click.option("--cabs", "cabs", multiple=True, metavar="ACTIVITE=KWH_M2",
              help="Valeur absolue Cabs (kWh/m²/an) d'une activité, ex. school=95 ; répétable.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@_db_option
@click.pass_context
def tertiaire(ctx, building, commune, reference_year, until_year, cabs, as_json,
              db_url) -> None:
    """Trajectoire Décret tertiaire par entité fonctionnelle (un bâtiment)."""
    lang = _lang(ctx)
    try:
        out = trajectories(open_store(db_url), building=building, commune=commune,
                           reference_year=reference_year, until_year=until_year,
                           cabs_kwh_m2=_cabs(cabs))
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    fr = lang == "fr"
    table = Table(title="Décret tertiaire : trajectoire (corrigée du climat)" if fr else
                  "Décret tertiaire: trajectory (climate-adjusted)")
    for col in (("Bâtiment", "Building"), ("Réf.", "Ref."), ("Réf. kWh", "Ref. kWh"),
                ("Objectif 2030 kWh", "2030 target kWh"), ("Année", "Year"),
                ("kWh corrigés", "Adjusted kWh"), ("Baisse", "Reduction"),
                ("Statut", "Status"), ("Cabs", "Cabs")):
        table.add_column(col[0] if fr else col[1],
                         justify="left" if col[0] in ("Bâtiment", "Statut") else "right")
    for code, t in out.trajectories.items():
        table.add_row(code, str(t.reference_year), num(t.reference_kwh, lang),
                      num(t.targets_kwh[min(t.targets_kwh)], lang), str(t.latest_year or "—"),
                      num(t.latest_adjusted_kwh, lang),
                      "—" if t.reduction_pct is None else f"{num(t.reduction_pct, lang, 1)} %",
                      STATUS[t.status][0 if fr else 1], ABSOLUTE[t.absolute_status][0 if fr else 1])
    console.print(table)
    for code, why in sorted(out.errors.items()):
        err_console.print(f"[yellow]{code}[/] : {why}")
