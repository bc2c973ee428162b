"""`sobriete plan`: the next 48 h of heating of a stored building zone, explained, against
the building's own schedule, with a plot; nothing is sent (advise)."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from sobriete.cli import _db_option, _lang, console, err_console, fail, main
from sobriete.cli.diagnose import num
from sobriete.domain.errors import SobrieteError
from sobriete.reporting.control_plots import plan_png
from sobriete.services.plan_inputs import TEMPO_SOURCE_FR, PlanOptions
from sobriete.services.plan_run import PlanResult, make_plan
from sobriete.services.store import open_store

TIMEZONE = "Europe/Paris"


def _n(x: float | None, decimals: int, lang: str) -> str:
    return num(x if x is not None and math.isfinite(x) else None, lang, decimals)


def when(_ctx, _param, value: str | None) -> pd.Timestamp | None:
    """ISO date-time, Europe/Paris clock time unless it carries an offset."""
    if value is None:
        return None
    try:
        t = pd.Timestamp(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} : attendu AAAA-MM-JJTHH:MM") from None
    if t.tz is not None:
        return t
    try:
        return t.tz_localize(TIMEZONE, ambiguous="raise", nonexistent="raise")
    except Exception:  # at DST changes
        raise click.BadParameter(f"{value!r} n'existe pas ou est ambiguë en {TIMEZONE} "
                                 "(changement d'heure) : donner le décalage, ex. +01:00") from None


@contextmanager
def stdout_to_stderr(active: bool = True) -> Iterator[None]:
    """File descriptor 1 sent to stderr while active: the HiGHS library prints its banner
    straight to fd 1, which would break a ``--json`` document piped to another tool."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def solver_banner_to_stderr() -> None:
    """The HiGHS library prints a banner on stdout the first time a solver is created in the
    process: create that first one with stdout sent to stderr, so tables and JSON stay clean."""
    import highspy  # the optimiser's solver; imported here only for its banner

    with stdout_to_stderr():
        highspy.Highs()


def steps_table(r: PlanResult, lang: str) -> Table:
    fr = lang == "fr"
    table = Table(title="Étapes du plan (heure locale)" if fr else "Plan steps (local time)")
    keys = r.key_steps()
    capped = any(k["cap_kw"] is not None for k in keys)
    for c in (("Période", "Period"), ("Chauffage kW", "Heating kW"),
              ("Température °C", "Temperature °C"), ("Prix €/kWh", "Price EUR/kWh"),
              ("Tarif", "Tariff"), ("Occupé", "Occupied"), ("Plafond kW", "Cap kW"),
              ("Coût €", "Cost EUR")):
        if c[0] == "Plafond kW" and not capped:
            continue
        table.add_column(c[0] if fr else c[1],
                         justify="left" if c[0] in ("Période", "Tarif")
                         else "right")
    for k in keys:
        a, b = k["start_local"], k["end_local"]
        span = f"{a}–{b[6:]}" if a[:5] == b[:5] else f"{a}–{b}"
        row = [span, _n(k["mean_power_kw"], 1, lang),
               f"{_n(k['temp_start_c'], 1, lang)} → {_n(k['temp_end_c'], 1, lang)}",
               _n(k["price_eur_per_kwh"], 4, lang), k["tariff_label"] or "—",
               ("oui" if fr else "yes") if k["occupied"] else ("non" if fr else "no")]
        if capped:
            row.append(_n(k["cap_kw"], 1, lang))
        table.add_row(*row, _n(k["cost_eur"], 2, lang))
    return table


def comparison_table(r: PlanResult, lang: str) -> Table:
    fr = lang == "fr"
    table = Table(title=(f"Sur {r.hours} h : plan contre programme du bâtiment" if fr else
                         f"Over {r.hours} h: plan against the building schedule"))
    for i, c in enumerate((("Stratégie", "Strategy"), ("Coût €", "Cost EUR"), ("kWh", "kWh"),
                           ("Inconfort K·h", "Discomfort K·h"))):
        table.add_column(c[0] if fr else c[1], justify="left" if i == 0 else "right")
    table.add_row("Programme du bâtiment" if fr else "Building schedule",
                  _n(r.schedule_cost_eur, 2, lang), _n(r.schedule_energy_kwh, 1, lang),
                  _n(r.schedule_discomfort_kh, 2, lang))
    table.add_row("Plan (régulateur)" if fr else "Plan (controller)",
                  _n(r.plan.cost_eur, 2, lang), _n(r.plan.energy_kwh, 1, lang),
                  _n(r.plan_discomfort_kh, 2, lang))
    return table


def provenance_lines(r: PlanResult, lang: str) -> list[str]:
    fr = lang == "fr"
    p, ident = r.provenance, r.identification
    src = p["sources"]
    a = pd.Timestamp(p["data_start_utc"]).tz_convert(TIMEZONE)
    b = pd.Timestamp(p["data_end_utc"]).tz_convert(TIMEZONE)
    days = (b - a).total_seconds() / 86400
    rmse = _n(ident.rmse_24h_c, 2, lang)
    model = p["model"]
    fc = {"stored": ("météo stockée", "stored weather")}.get(
        r.forecast_source, ("persistance des 48 dernières heures", "persistence of the last 48 h"))
    if fr:
        return [
            f"Modèle {model} identifié sur {_n(days, 1, lang)} jours ({a:%d/%m/%Y %H:%M} → "
            f"{b:%d/%m/%Y %H:%M}) : erreur de prévision à 24 h {rmse} °C (validation).",
            f"Données : température {src['temp_key']}, chauffage {src['heating_key']} "
            f"({src['heating_quantity']} ; {src['heating_choice_fr']}), météo "
            f"{src['weather_key']} "
            f"(prévision : {fc[0]}).",
            f"Prix : {TEMPO_SOURCE_FR} ; puissance max "
            f"{_n(p['max_power_w'] / 1000, 1, lang)} kW ({p['max_power_source_fr']}).",
        ]
    return [
        f"Model {model} identified on {_n(days, 1, lang)} days ({a:%Y-%m-%d %H:%M} → "
        f"{b:%Y-%m-%d %H:%M}): 24-h forecast error {rmse} °C (validation).",
        f"Data: temperature {src['temp_key']}, heating {src['heating_key']} "
        f"({src['heating_quantity']}; {src['heating_choice']}), weather {src['weather_key']} "
        f"(forecast: {fc[1]}).",
        f"Prices: Tempo ({p['tempo_prices_source']}); max power "
        f"{_n(p['max_power_w'] / 1000, 1, lang)} kW ({p['max_power_source']}).",
    ]


def print_plan(r: PlanResult, lang: str) -> None:
    fr = lang == "fr"
    a = pd.Timestamp(r.start_utc).tz_convert(TIMEZONE)
    b = a + pd.Timedelta(hours=r.hours)
    console.print(
        (f"[bold]Plan de chauffage — {r.building_code} / zone {r.zone_code}[/], du "
         f"{a:%d/%m/%Y %H:%M} au {b:%d/%m/%Y %H:%M} (heure de Paris), départ "
         f"{_n(r.temp0_c, 1, lang)} °C mesurés") if fr else
        (f"[bold]Heating plan — {r.building_code} / zone {r.zone_code}[/], from "
         f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} (Paris time), starting from "
         f"{_n(r.temp0_c, 1, lang)} °C measured"))
    console.print(r.headline(lang), highlight=False)
    console.print(steps_table(r, lang))
    console.print(comparison_table(r, lang))
    for line in provenance_lines(r, lang):
        console.print(line, highlight=False)
    for n in r.notes:
        console.print(f"[yellow]⚠ {n.code} : {n.fr if fr else n.en}[/]", highlight=False)
    if r.plan_id is not None:
        console.print((f"Plan n° {r.plan_id} ajouté au journal (mode conseil : rien n'est "
                       "envoyé au bâtiment).") if fr else
                      (f"Plan #{r.plan_id} added to the audit trail (advise mode: nothing is "
                       "sent to the building)."), highlight=False)


@main.command("plan")
@click.option("--building", "building", required=True, help="Code du bâtiment (registre).")
@click.option("--zone", default=None, help="Zone (par défaut : la seule zone avec une sonde).")
@click.option("--hours", type=click.IntRange(2, 96), default=48, show_default=True,
              help="Horizon du plan (heures).")
@click.option("--days", type=click.IntRange(7, 90), default=14, show_default=True,
              help="Jours d'historique pour identifier le modèle (7 au moins).")
@click.option("--at", "at", callback=when, default=None, metavar="AAAA-MM-JJTHH:MM",
              help="Début du plan (défaut : dernière mesure de température de la zone).")
@click.option("--heating", default=None, metavar="SÉRIE",
              help="Série de puissance/énergie de chauffage (défaut : compteur de chaleur, ou "
                   "compteur électrique d'un bâtiment chauffé à l'électricité).")
@click.option("--max-power-kw", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Puissance de chauffage installée (défaut : maximum observé).")
@click.option("--lang", "lang_opt", type=click.Choice(["fr", "en"]), default=None,
              help="Langue (défaut : celle de sobriete --lang, sinon fr).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FICHIER.png", help="Écrit le graphique température / puissance / prix.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (outils).")
@_db_option
@click.pass_context
def plan_cmd(ctx, building, zone, hours, days, at, heating, max_power_kw, lang_opt, plot,
             as_json, db_url) -> None:
    """Plan de chauffage des prochaines heures d'une zone, expliqué (rien n'est envoyé)."""
    lang = lang_opt or _lang(ctx)
    options = PlanOptions(hours=hours, days=days, heating_series=heating,
                          max_power_kw=max_power_kw)
    solver_banner_to_stderr()
    try:
        with stdout_to_stderr(as_json), err_console.status(
                "Identification et plan…" if lang == "fr" else "Identifying and planning…"):
            result = make_plan(open_store(db_url), building, zone, at=at, options=options)
    except SobrieteError as exc:
        fail(exc, lang)
    if plot is not None:
        plot.parent.mkdir(parents=True, exist_ok=True)
        plan_png(result.steps, lang=lang, path=plot, title=result.title(lang))
    if as_json:
        doc = result.to_dict()
        if plot is not None:
            doc["plot"] = str(plot.resolve())
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return
    print_plan(result, lang)
    if plot is not None:
        console.print(str(plot.resolve()), highlight=False)
