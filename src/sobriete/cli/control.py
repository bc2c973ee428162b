"""`sobriete control simulate`: the controller against the building's schedule, one day of the
simulated school (no real building is driven)."""

from __future__ import annotations

import json
import math
import re
from datetime import time
from pathlib import Path

import click
from rich.table import Table

from sobriete.cli import _lang, console, err_console, main
from sobriete.cli.diagnose import num
from sobriete.reporting.control_plots import control_day_png
from sobriete.services.control_run import (
    BASE_EUR_PER_KWH,
    RED_EUR_PER_KWH,
    SimulationOutcome,
    simulate_day,
)

_WINDOW = re.compile(r"^(\d{1,2})[:h](\d{2})-(\d{1,2})[:h](\d{2})$")


def _window(_ctx, _param, value: str | None) -> tuple[time, time] | None:
    if value is None:
        return None
    m = _WINDOW.match(value.strip())
    try:
        if not m:
            raise ValueError
        h0, m0, h1, m1 = (int(g) for g in m.groups())
        start, end = time(h0, m0), time(h1, m1)
    except ValueError:
        raise click.BadParameter(f"{value!r} : attendu HH:MM-HH:MM (ex. 18:00-20:00)") from None
    if not start < end:
        raise click.BadParameter(f"{value!r} : le début doit précéder la fin (même jour)")
    return start, end


@main.group()
def control() -> None:
    """Pilotage du chauffage (régulateur prédictif, enveloppe de sécurité, journal)."""


def _num(x: float | None, decimals: int, lang: str) -> str:
    return num(x if x is not None and math.isfinite(x) else None, lang, decimals)


def _hm(w: tuple[time, time]) -> str:
    return f"{w[0]:%H:%M}-{w[1]:%H:%M}"


def outcome_table(o: SimulationOutcome, lang: str) -> Table:
    fr = lang == "fr"
    day = o.day.strftime("%d/%m/%Y")
    kind = (("jour rouge Tempo" if fr else "Tempo red day") if o.red_day else
            ("jour bleu (prix constant)" if fr else "blue day (flat price)"))
    table = Table(title=(f"Simulation (bâtiment simulé) — école {day}, {kind}" if fr else
                         f"Simulation (simulated building) — school {day}, {kind}"))
    cols = [("Stratégie", "Strategy"), ("Coût €", "Cost EUR"), ("kWh", "kWh"),
            ("Pointe kW", "Peak kW")]
    if o.red_day:
        cols.append((f"kWh heures rouges {_hm(o.red_window)}",
                     f"kWh red hours {_hm(o.red_window)}"))
    if o.shed_window is not None:
        cols.append((f"kWh effacement {_hm(o.shed_window)}",
                     f"kWh demand response {_hm(o.shed_window)}"))
    cols.append(("Inconfort K·h", "Discomfort K·h"))
    for i, c in enumerate(cols):
        table.add_column(c[0] if fr else c[1], justify="left" if i == 0 else "right")
    for name, r in ((("Programme du bâtiment", "Building schedule"), o.schedule),
                    (("Pilotage (régulateur)", "Controller"), o.controller)):
        row = [name[0] if fr else name[1], _num(r.cost_eur, 2, lang), _num(r.energy_kwh, 1, lang),
               _num(r.peak_kw, 1, lang)]
        if o.red_day:
            row.append(_num(r.kwh_red, 1, lang))
        if o.shed_window is not None:
            row.append(_num(r.kwh_shed, 1, lang))
        row.append(_num(r.discomfort_kh, 2, lang))
        table.add_row(*row)
    return table


def print_outcome(o: SimulationOutcome, lang: str) -> None:
    fr = lang == "fr"
    console.print(outcome_table(o, lang))
    s, c = o.schedule, o.controller
    gain = s.cost_eur - c.cost_eur
    pct = 100 * gain / s.cost_eur if s.cost_eur else float("nan")
    console.print(
        (f"Écart : {_num(gain, 2, lang)} € ({_num(pct, 0, lang)} %) ; {o.plans_solved} plans "
         f"résolus en {_num(o.solve_time_s, 1, lang)} s, {o.fallbacks} repli(s) sur le "
         "programme.") if fr else
        (f"Difference: {_num(gain, 2, lang)} EUR ({_num(pct, 0, lang)} %); {o.plans_solved} "
         f"plans solved in {_num(o.solve_time_s, 1, lang)} s, {o.fallbacks} fallback(s) to the "
         "schedule."))
    console.print("Pourquoi (journal du régulateur) :" if fr else
                  "Why (controller's audit log):")
    for k in o.key_steps[:3]:
        what = k.what_fr if fr else k.what_en
        text = k.explanation_fr if fr else k.explanation_en
        console.print(f"  {k.time_local} ({what}, {_num(k.temp_c, 1, lang)} °C, "
                      f"{_num(k.power_kw, 1, lang)} kW) : {text}", highlight=False)
    prices = (f"{_num(RED_EUR_PER_KWH, 2, lang)} €/kWh 06:00-22:00, "
              f"{_num(BASE_EUR_PER_KWH, 2, lang)} €/kWh sinon" if o.red_day else
              f"{_num(BASE_EUR_PER_KWH, 2, lang)} €/kWh")
    console.print(
        (f"Simulation : école d'une zone (modèle RC, 40 kW) apprise sur {o.days_learning} jours "
         f"de son programme, météo synthétique (graine {o.seed}), prévision parfaite ; prix "
         f"d'exemple {prices} ; inconfort = K·h sous 18,5 °C en occupation. Aucun bâtiment "
         "réel n'est piloté.") if fr else
        (f"Simulation: one-zone school (RC model, 40 kW) learnt from {o.days_learning} days of "
         f"its schedule, synthetic weather (seed {o.seed}), perfect forecast; example prices "
         f"{prices.replace('€', 'EUR').replace('sinon', 'otherwise')}; discomfort = K·h below "
         "18.5 °C while occupied. No real building is driven."), highlight=False)


@control.command("simulate")
@click.option("--red-day/--no-red-day", default=True, show_default=True,
              help="Jour rouge Tempo (06:00-22:00 au prix rouge) ou prix constant.")
@click.option("--shed", callback=_window, default=None, metavar="HH:MM-HH:MM",
              help="Fenêtre d'effacement (heure locale) : puissance plafonnée.")
@click.option("--shed-cap-kw", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Puissance autorisée pendant l'effacement (kW).")
@click.option("--seed", type=int, default=3, show_default=True,
              help="Graine de la météo synthétique.")
@click.option("--days-learning", type=click.IntRange(2, 28), default=7, show_default=True,
              help="Jours d'historique pour apprendre le modèle du bâtiment.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FICHIER.png", help="Écrit le graphique température / puissance.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (outils).")
@click.pass_context
def simulate(ctx, red_day, shed, shed_cap_kw, seed, days_learning, plot, as_json) -> None:
    """Simule une journée de l'école : programme du bâtiment contre régulateur."""
    lang = _lang(ctx)
    with err_console.status("Simulation…" if lang == "fr" else "Simulating…"):
        outcome = simulate_day(red_day=red_day, seed=seed, days_learning=days_learning,
                               shed_window=shed, shed_cap_w=shed_cap_kw * 1000)
    if plot is not None:
        plot.parent.mkdir(parents=True, exist_ok=True)
        control_day_png(outcome.steps, lang=lang, path=plot)
    if as_json:
        doc = outcome.to_dict()
        if plot is not None:
            doc["plot"] = str(plot.resolve())
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    print_outcome(outcome, lang)
    if plot is not None:
        console.print(str(plot.resolve()), highlight=False)
