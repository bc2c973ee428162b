"""`sobriete control simulate`: the controller against the building's schedule, one day of the
simulated school (no real building is driven); `sobriete control run`: the loop on a stored
building, dry run and advise mode by default."""

from __future__ import annotations

import json
import math
import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from sobriete.cli import _db_option, _lang, console, err_console, fail, main
from sobriete.cli.diagnose import num
from sobriete.cli.plan import solver_banner_to_stderr, stdout_to_stderr, when
from sobriete.control.drivers import (
    BacnetDriver,
    Driver,
    DryRunDriver,
    ModbusDriver,
    MqttDriver,
    ZonePoints,
    ZoneRegisters,
)
from sobriete.control.interface import Mode
from sobriete.domain.errors import SobrieteError
from sobriete.reporting.control_plots import control_day_png
from sobriete.services.control_run import (
    ControlRunError,
    RunOptions,
    StepOutcome,
    check_dispatch,
    run_on_store,
)
from sobriete.services.control_simulate import (
    BASE_EUR_PER_KWH,
    RED_EUR_PER_KWH,
    SimulationOutcome,
    simulate_day,
)
from sobriete.services.plan_inputs import PlanOptions
from sobriete.services.store import open_store
from sobriete.services.store.control import reasons

TIMEZONE = "Europe/Paris"
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
    solver_banner_to_stderr()
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


_DISPATCH_FR = {"not_sent": "non envoyé", "pending": "en attente d'approbation",
                "sent": "envoyé"}
_MODE_FR = {"advise": "conseil", "approve": "approbation", "automatic": "automatique"}


def _host_port(target: str | None, default_port: int, what: str) -> tuple[str, int]:
    if not target:
        raise ControlRunError(f"driver {what} needs --target HOST:PORT")
    host, _, port = target.rpartition(":")
    if not host:
        return target, default_port
    try:
        return host, int(port)
    except ValueError:
        raise ControlRunError(f"--target {target!r}: expected HOST:PORT") from None


def _zone_map(path: Path | None, what: str) -> dict:
    if path is None:
        raise ControlRunError(f"driver {what} needs --map FILE.json (zone -> registers/objects)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ControlRunError(f"--map {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ControlRunError(f"--map {path}: a JSON object zone -> mapping is expected")
    return doc


def make_driver(name: str, target: str | None, map_path: Path | None) -> Driver:
    """The driver named on the command line; ``--map`` is JSON, per zone: Modbus
    ``{"setpoint_register", "power_register", "device_id"}``, BACnet ``{"address",
    "setpoint_object", "power_object"}``."""
    if name == "dry-run":
        return DryRunDriver()
    if name == "mqtt":
        return MqttDriver(*_host_port(target, 1883, "mqtt"))
    try:
        if name == "modbus":
            host, port = _host_port(target, 502, "modbus")
            regs = {z: ZoneRegisters(**m) for z, m in _zone_map(map_path, "modbus").items()}
            return ModbusDriver(host, port, regs)
        points = {z: ZonePoints(**m) for z, m in _zone_map(map_path, "bacnet").items()}
        return BacnetDriver(points)
    except TypeError as exc:
        raise ControlRunError(f"--map {map_path}: {exc}") from None


def step_line(s: StepOutcome, lang: str, driver: str = "dry-run") -> str:
    """One line of progress: when, what was proposed and applied, sent or not, why."""
    fr = lang == "fr"
    r = s.record
    t = r.time_utc.astimezone(ZoneInfo(TIMEZONE))
    z = r.applied.zones[0] if r.applied.zones else None
    proposed = (r.proposed.zones[0].heating_power_w if r.proposed and r.proposed.zones
                else None)
    if z is not None and z.heating_power_w is not None:
        applied = f"{_num(z.heating_power_w / 1000, 1, lang)} kW"
    elif z is not None and z.setpoint_c is not None:
        applied = f"{_num(z.setpoint_c, 1, lang)} °C"
    else:
        applied = "—"
    kind = (("programme" if fr else "schedule") if r.applied.fallback else
            ("plan" if fr else "plan"))
    plan = (f"{_num(proposed / 1000, 1, lang)} kW" if proposed is not None else "—")
    status = _DISPATCH_FR[str(r.dispatch)] if fr else str(r.dispatch).replace("_", " ")
    if s.sent and driver == "dry-run":
        status += (" au pilote dry-run (rien ne sort)" if fr else
                   " to the dry-run driver (nothing leaves)")
    if s.driver_error:
        status += f" ({'erreur' if fr else 'error'} : {s.driver_error})"
    why = reasons(r)[0 if fr else 1]
    if fr:
        return (f"[{s.index}/{s.n_steps}] {t:%d/%m %H:%M} — plan {plan}, appliqué {applied} "
                f"({kind}), {status} — {why}")
    return (f"[{s.index}/{s.n_steps}] {t:%Y-%m-%d %H:%M} — plan {plan}, applied {applied} "
            f"({kind}), {status} — {why}")


@control.command("run")
@click.option("--building", required=True, help="Code du bâtiment (registre).")
@click.option("--zone", default=None, help="Zone (par défaut : la seule zone avec une sonde).")
@click.option("--driver", "driver_name", type=click.Choice(["dry-run", "mqtt", "modbus",
                                                             "bacnet"]),
              default="dry-run", show_default=True,
              help="Où vont les décisions ; dry-run : nulle part (défaut).")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="advise",
              show_default=True, help="advise : conseil seul ; approve : en attente d'une "
              "approbation ; automatic : envoyé.")
@click.option("--apply", "apply", is_flag=True,
              help="Obligatoire (avec --mode automatic) pour tout pilote autre que dry-run.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Nombre de pas (défaut : 1).")
@click.option("--until", "until", callback=when, default=None, metavar="AAAA-MM-JJTHH:MM",
              help="Ou : jusqu'à cette heure (heure de Paris sauf décalage).")
@click.option("--interval-s", type=click.IntRange(min=900), default=900, show_default=True,
              help="Intervalle entre deux pas (multiple de 900 s).")
@click.option("--at", "at", callback=when, default=None, metavar="AAAA-MM-JJTHH:MM",
              help="Rejoue les données stockées à partir de cette heure, sans attendre "
                   "(défaut : en direct, à partir du quart d'heure en cours).")
@click.option("--hours", type=click.IntRange(2, 96), default=24, show_default=True,
              help="Horizon de chaque plan (heures).")
@click.option("--days", type=click.IntRange(7, 90), default=14, show_default=True,
              help="Jours d'historique pour identifier le modèle.")
@click.option("--heating", default=None, metavar="SÉRIE", help="Série de chauffage.")
@click.option("--max-power-kw", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Puissance installée (défaut : maximum observé).")
@click.option("--target", default=None, metavar="HÔTE:PORT", help="Broker MQTT ou passerelle "
              "Modbus TCP.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, metavar="FICHIER.json",
              help="Modbus / BACnet : registres ou objets par zone (JSON).")
@click.option("--jsonl", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FICHIER.jsonl", help="Journal JSON Lines (ajout seul ; défaut : "
              "journal_pilotage_<bâtiment>.jsonl).")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (outils).")
@_db_option
@click.pass_context
def run(ctx, building, zone, driver_name, mode, apply, steps, until, interval_s, at, hours,
        days, heating, max_power_kw, target, map_path, jsonl, as_json, db_url) -> None:
    """Boucle de pilotage sur un bâtiment stocké : observe, planifie, sécurise, journalise."""
    lang = _lang(ctx)
    fr = lang == "fr"
    options = RunOptions(
        mode=Mode(mode), steps=steps, until=until, interval_s=interval_s, at=at, apply=apply,
        jsonl=jsonl or Path(f"journal_pilotage_{building}.jsonl"),
        plan=PlanOptions(hours=hours, days=days, heating_series=heating,
                         max_power_kw=max_power_kw))
    out = err_console if as_json else console
    solver_banner_to_stderr()
    try:
        driver = make_driver(driver_name, target, map_path)
        check_dispatch(driver, options)
        if not as_json:
            console.print(
                (f"[bold]Pilotage — {building}[/] : mode {_MODE_FR[mode]}, pilote "
                 f"{driver_name}" + (" (rien ne quitte le programme)" if driver_name ==
                                     "dry-run" else "") + (", rejeu des données stockées"
                                                           if at is not None else ", en direct"))
                if fr else
                (f"[bold]Control — {building}[/]: mode {mode}, driver {driver_name}"
                 + (" (nothing leaves the process)" if driver_name == "dry-run" else "")
                 + (", replay of stored data" if at is not None else ", live")))
        with stdout_to_stderr(as_json):
            result = run_on_store(open_store(db_url), building, zone, driver, options,
                                  progress=lambda s: out.print(
                                      step_line(s, lang, driver_name), highlight=False))
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    n = len(result.steps)
    console.print(
        (f"{n} pas : {result.plans_solved} plans résolus en "
         f"{_num(result.solve_time_s, 1, lang)} s, {result.fallbacks} repli(s) sur le "
         f"programme, {result.sent} décision(s) remise(s) au pilote {result.driver}. Journal : "
         f"plan n° {result.plan_id} dans la base, {result.jsonl}.") if fr else
        (f"{n} steps: {result.plans_solved} plans solved in "
         f"{_num(result.solve_time_s, 1, lang)} s, {result.fallbacks} fallback(s) to the "
         f"schedule, {result.sent} decision(s) handed to the {result.driver} driver. Audit: "
         f"run #{result.plan_id} in the store, {result.jsonl}."), highlight=False)
    for w in result.notes:
        console.print(f"[yellow]⚠ {w.code} : {w.fr if fr else w.en}[/]", highlight=False)
