"""`sobriete flex settle`: how much load an event shed on a stored meter, against which
reference (X of Y days or the hourly M&V model), with its 90 % interval and warnings."""

from __future__ import annotations

import json
from datetime import date

import click
import pandas as pd
from rich.table import Table

from sobriete.cli import _db_option, _lang, console, fail, main
from sobriete.cli.diagnose import num
from sobriete.cli.mv import _date
from sobriete.domain.errors import SobrieteError
from sobriete.services.flex_run import settle_event
from sobriete.services.store import open_store

TIMEZONE = "Europe/Paris"


def _dates(ctx, param, values: tuple[str, ...]) -> list[date]:
    return [_date(ctx, param, v) for v in values]


def _when(value: str, timezone: str) -> pd.Timestamp:
    """ISO date-time; local clock time in ``timezone`` unless it carries an offset."""
    try:
        t = pd.Timestamp(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date-time YYYY-MM-DDTHH:MM") from None
    if t is pd.NaT or t.tz is not None:
        return t
    try:
        return t.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
    except Exception:  # pytz/zoneinfo errors at DST changes
        raise click.BadParameter(f"{value!r} does not exist or is ambiguous in {timezone} "
                                 "(DST change): give an offset, e.g. +01:00") from None


@main.group()
def flex() -> None:
    """Flexibilité : effacements de consommation et leur valorisation."""


@flex.command("settle")
@click.argument("meter")
@click.option("--start", required=True, help="Début de l'effacement (2019-11-14T18:00, heure "
              "locale Europe/Paris sauf décalage donné, ex. +01:00).")
@click.option("--end", required=True, help="Fin de l'effacement (exclue).")
@click.option("--method", type=click.Choice(["x_of_y", "mv"]), default="x_of_y",
              show_default=True, help="Référence : X jours sur Y, ou modèle horaire M&V.")
@click.option("--x", "x", type=click.IntRange(1, 20), default=4, show_default=True,
              help="Jours moyennés (les plus hauts sur la fenêtre).")
@click.option("--y", "y", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Jours comparables précédents examinés.")
@click.option("--exclude", "exclude", multiple=True, callback=_dates, metavar="YYYY-MM-DD",
              help="Autre jour d'effacement, jamais pris comme référence (répétable).")
@click.option("--json", "as_json", is_flag=True, help="Résultat en JSON (pour d'autres outils).")
@_db_option
@click.pass_context
def settle(ctx, meter, start, end, method, x, y, exclude, as_json, db_url) -> None:
    """Règlement d'un effacement : puissance effacée = référence − mesure."""
    lang = _lang(ctx)
    a = _when(start, TIMEZONE)
    b = _when(end, TIMEZONE)
    try:
        res = settle_event(open_store(db_url), meter, a, b, method=method, x=x, y=y,
                           exclude_days=exclude, timezone=TIMEZONE)
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps(res.to_json(), ensure_ascii=False, indent=2, default=str))
        return
    fr = lang == "fr"
    console.print(f"[bold]{meter}[/] — " + (res.sentence_fr if fr else res.sentence_en))
    table = Table(title=("Effacement par intervalle (kW)" if fr else
                         "Shed per interval (kW)"))
    for c in (("Intervalle", "Interval"), ("Mesure kW", "Actual kW"),
              ("Référence kW", "Reference kW"), ("Effacé kW", "Delivered kW")):
        table.add_column(c[0] if fr else c[1], justify="left" if c[0] == "Intervalle"
                         else "right")
    iv = res.intervals
    step = pd.Timedelta(seconds=res.parameters["step_s"])
    for t in iv.index:
        lt = t.tz_convert(res.timezone)
        table.add_row(f"{lt:%Y-%m-%d %H:%M}–{lt + step:%H:%M}",
                      *(_kw(iv.at[t, col], lang) for col in
                        ("actual_kw", "reference_kw", "delivered_kw")))
    console.print(table)
    lo, hi = res.interval_kw
    pct = round(100 * res.confidence)
    console.print((f"Intervalle à {pct} % : {_kw(lo, lang)} à {_kw(hi, lang)} kW "
                   f"({_kw(res.delivered_kwh, lang)} kWh ± {_kw(res.half_width_kwh, lang)}) ; "
                   + ("effacement significatif" if res.significant else
                      "effacement non distinguable de zéro")) if fr else
                  (f"{pct} % interval: {_kw(lo, lang)} to {_kw(hi, lang)} kW "
                   f"({_kw(res.delivered_kwh, lang)} kWh ± {_kw(res.half_width_kwh, lang)}); "
                   + ("significant shed" if res.significant else
                      "shed not distinguishable from zero")))
    if res.reference_days:
        days = ", ".join(f"{d:%d/%m/%Y}" if fr else d.isoformat()
                         for d in sorted(res.reference_days))
        console.print(("Jours de référence : " if fr else "Reference days: ") + days)
    else:
        p, tz = res.parameters, res.timezone
        first = pd.Timestamp(p["fit_period"][0]).tz_convert(tz)
        last = pd.Timestamp(p["fit_period"][1]).tz_convert(tz)  # last hour used
        console.print((f"Modèle {p.get('model')} ajusté du {first:%d/%m/%Y} au "
                       f"{last:%d/%m/%Y} ({p.get('fit_days')} jours)") if fr else
                      (f"Model {p.get('model')} fitted from {first:%Y-%m-%d} to "
                       f"{last:%Y-%m-%d} ({p.get('fit_days')} days)"))
    for w in res.warnings:
        console.print(f"[yellow]⚠ {w.code} : {w.message_fr if fr else w.message_en}[/]")


def _kw(v: float, lang: str) -> str:
    return num(None if pd.isna(v) else float(v), lang, 1)
