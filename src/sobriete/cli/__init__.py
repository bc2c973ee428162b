"""The `sobriete` command line: thin — parse, call a service, render."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from sobriete.domain.errors import InputError, SobrieteError

# Piped or logged output gets room for the tables instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
LANG_ENV = "SOBRIETE_LANG"


def _lang(ctx: click.Context) -> str:
    return ctx.obj["lang"]


@click.group()
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Langue des messages / language of messages (default: $SOBRIETE_LANG or fr).")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """sobriete — suivi énergétique sobre et explicable des bâtiments publics."""
    ctx.ensure_object(dict)
    ctx.obj["lang"] = lang or os.environ.get(LANG_ENV, "fr")


def fail(exc: SobrieteError, lang: str) -> None:
    head = "Erreur" if lang == "fr" else "Error"
    if isinstance(exc, InputError):
        head = "Fichier refusé" if lang == "fr" else "File rejected"
    err_console.print(f"[bold red]{head}[/] : {exc}")
    sys.exit(2)


def _db_option(f):
    return click.option("--db", "db_url", default=None, envvar="SOBRIETE_DB_URL",
                        help="URL de la base (sqlite:///f.sqlite ou postgresql://...).")(f)


def _counts_table(outcomes, lang: str) -> Table:
    fr = lang == "fr"
    table = Table(title="Imports" if not fr else "Imports de données")
    for col in (("Fichier", "File"), ("Format", "Format"), ("Lignes", "Rows"),
                ("Nouvelles", "New"), ("Inchangées", "Unchanged"), ("Révisées", "Revised")):
        justify = "left" if col[0] == "Fichier" else "right"
        table.add_column(col[0] if fr else col[1], justify=justify)
    for o in outcomes:
        c = o.counts
        table.add_row(Path(o.path).name, o.format, f"{c.rows_in:,}", f"{c.rows_new:,}",
                      f"{c.rows_unchanged:,}", f"{c.rows_revised:,}")
    return table


from sobriete.cli import commands  # noqa: E402,F401  (registers the commands on `main`)
from sobriete.cli.ingest import ingest  # noqa: E402

main.add_command(ingest)
from sobriete.cli import (  # noqa: E402,F401  (each module registers its commands on `main`)
    account,  # `account create | grant | token | deactivate | list`
    actions,  # `actions`
    alerts,  # `alerts send | digest`
    control,  # `control simulate | run`
    diagnose,  # `diagnose`
    flex,  # `flex capacity | dispatch | settle`
    mv,  # `baseline` and `savings`
    plan,  # `plan`
    report,  # `report monthly | operat | tertiaire`
    serve,  # `serve`
)
