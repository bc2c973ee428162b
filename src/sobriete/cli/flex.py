"""`sobriete flex capacity|dispatch|settle`: the kW each building can shed in a window (per
commune and in total), a portfolio request split fairly across buildings, and how much load
an event shed on a stored meter, against which reference (X of Y days or the hourly M&V
model), with its 90 % interval and warnings."""

from __future__ import annotations

import json
from datetime import date

import click
import pandas as pd
from rich.table import Table

from sobriete.cli import _db_option, _lang, console, fail, main
from sobriete.cli.mv import _date
from sobriete.cli.plan import solver_banner_to_stderr
from sobriete.control.flex import Capacity, CapacitySum
from sobriete.control.flex_meter import Inertia
from sobriete.domain.errors import SobrieteError
from sobriete.domain.numbers import fmt_en, fmt_fr
from sobriete.services.flex_portfolio import (
    CapacityReport,
    DispatchReport,
    Scope,
    dispatch_event,
    portfolio_capacity,
)
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
        table.add_row(f"{lt:%d/%m/%Y %H:%M}–{lt + step:%H:%M}" if fr else
                      f"{lt:%Y-%m-%d %H:%M}–{lt + step:%H:%M}",
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


def num(x: float | None, lang: str, decimals: int = 0) -> str:
    """French numbers (12 346,5) by default, English (12,346.5) with --lang en."""
    if x is None or pd.isna(x):
        return "—"
    return (fmt_fr if lang == "fr" else fmt_en)(float(x), decimals)


def _kw(v: float, lang: str) -> str:
    return num(v, lang, 1)


def _instant(ctx, param, value: str | None) -> pd.Timestamp | None:
    """ISO-8601 date-time; a naive one is passed on and refused by the service with
    ``NaiveTimeError`` (local clock times are ambiguous at DST changes)."""
    if value is None:
        return None
    try:
        t = pd.Timestamp(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date-time "
                                 "(2019-01-22T09:00+01:00)") from None
    if t is pd.NaT:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date-time")
    return t


def _window_text(a: pd.Timestamp, b: pd.Timestamp, lang: str) -> str:
    la, lb = a.tz_convert(TIMEZONE), b.tz_convert(TIMEZONE)
    same = la.date() == lb.date()
    if lang == "fr":
        end = f"{lb:%H:%M}" if same else f"{lb:%d/%m/%Y %H:%M}"
        return f"du {la:%d/%m/%Y} de {la:%H:%M} à {end} ({TIMEZONE})"
    end = f"{lb:%H:%M}" if same else f"{lb:%Y-%m-%d %H:%M}"
    return f"on {la:%Y-%m-%d} from {la:%H:%M} to {end} ({TIMEZONE})"


_METHOD = {"meter-only": ("compteur", "meter"), "model": ("modèle", "model")}


def _confidence(c: float, lang: str) -> str:
    if c <= 0:
        return "—"
    level = ("élevée", "high") if c >= 0.7 else ("moyenne", "medium") if c >= 0.4 else (
        "faible", "low")
    return f"{level[0] if lang == 'fr' else level[1]} {num(c, lang, 2)}"


def _scope_options(f):
    for opt in (
        click.option("--building", default=None, help="Un seul bâtiment (code)."),
        click.option("--territory", default=None, help="Un territoire (code)."),
        click.option("--commune", default=None, help="Une commune (code INSEE)."),
        click.option("--temp-ext", "temp_ext", type=float, default=None, metavar="°C",
                     help="Température extérieure prévue pendant la fenêtre, là où la station "
                     "n'a pas de mesure (fenêtre future)."),
        click.option("--fit-days", type=click.IntRange(28, 3660), default=365,
                     show_default=True, help="Jours de relevés avant la fenêtre pour "
                     "l'ajustement."),
        click.option("--lang", "lang_opt", type=click.Choice(["fr", "en"]), default=None,
                     help="Langue (par défaut : celle de sobriete --lang, sinon fr)."),
        click.option("--json", "as_json", is_flag=True, help="Résultat en JSON."),
        click.option("--end", required=True, callback=_instant,
                     help="Fin de la fenêtre (exclue), ISO-8601 avec décalage."),
        click.option("--start", required=True, callback=_instant,
                     help="Début de la fenêtre, ISO-8601 avec décalage "
                     "(2019-01-22T09:00+01:00)."),
    ):
        f = opt(f)
    return _db_option(f)


def _capacity_table(rep: CapacityReport, lang: str) -> Table:
    fr = lang == "fr"
    table = Table(title=("Capacité d'effacement " if fr else "Shed capacity ")
                  + _window_text(rep.window_start_utc, rep.window_end_utc, lang))
    cols = (("Commune", "Commune", "left"), ("Bâtiment", "Building", "left"),
            ("Effaçable kW", "Shed kW", "right"), ("kWh", "kWh", "right"),
            ("Baisse max K", "Max drop K", "right"), ("Rebond kWh", "Rebound kWh", "right"),
            ("Méthode", "Method", "left"), ("Confiance", "Confidence", "left"),
            ("Alertes", "Warnings", "left"))
    for c_fr, c_en, just in cols:
        table.add_column(c_fr if fr else c_en, justify=just)  # type: ignore[arg-type]

    def row(c: Capacity) -> list[str]:
        m = _METHOD.get(c.method, (c.method, c.method))
        return [c.commune_code, c.building_code, _kw(c.shed_kw, lang), _kw(c.shed_kwh, lang),
                num(c.provenance.get("max_drop_k"), lang, 1) if c.shed_kw > 0 else "—",
                _kw(c.rebound_kwh, lang), m[0] if fr else m[1],
                _confidence(c.confidence, lang), ", ".join(w.code for w in c.warnings)]

    def total(label: str, what: str, s: CapacitySum) -> list[str]:
        return [f"[bold]{label}[/]", f"[bold]{what}[/]", f"[bold]{_kw(s.shed_kw, lang)}[/]",
                _kw(s.shed_kwh, lang), "", _kw(s.rebound_kwh, lang), "", "", ""]

    for code, sub in rep.by_commune.items():
        for c in rep.capacities:
            if c.commune_code == code:
                table.add_row(*row(c))
        table.add_row(*total("Sous-total" if fr else "Subtotal", code, sub),
                      end_section=True)
    table.add_row(*total("Total", f"{rep.total.n_buildings} " + ("bât." if fr else "bldg"),
                         rep.total))
    return table


_INERTIA = {Inertia.LIGHT: ("léger", "light"), Inertia.MEDIUM: ("moyen", "medium"),
            Inertia.HEAVY: ("lourd", "heavy")}


def _assumptions(rep: CapacityReport, lang: str) -> str:
    methods = {c.method for c in rep.capacities}
    model = (("Modèle : modèle thermique identifié sur les mesures de la zone (comme "
              "`sobriete plan`), plafond de puissance le plus bas qui tient le confort "
              "(tolérance 0,5 K·h)." if lang == "fr" else
              "Model: thermal model identified on the zone's measurements (as `sobriete "
              "plan`), the lowest power cap that keeps comfort (0.5 K·h tolerance).")
             if "model" in methods else "")
    meter = _meter_assumptions(rep, lang) if "meter-only" in methods else ""
    return "\n".join(t for t in (model, meter) if t)


def _meter_assumptions(rep: CapacityReport, lang: str) -> str:
    s = rep.settings
    tau = ", ".join(f"{_INERTIA[k][0 if lang == 'fr' else 1]} {num(v, lang)} h"
                    for k, v in s.time_constant_h.items())
    if lang == "fr":
        return (f"Compteur seul : part de la consommation qui suit la température (ajustée sur "
                f"{rep.fit_days} jours avant la fenêtre) ; constante de temps supposée ({tau}, "
                f"à confirmer) ; baisse tolérée {num(s.occupied_tolerance_k, lang, 1)} K en "
                f"occupation, {num(s.unoccupied_tolerance_k, lang, 1)} K hors occupation.")
    return (f"Meter only: the part of the load that follows the outdoor temperature (fitted on "
            f"{rep.fit_days} days before the window); time constant assumed ({tau}, to "
            f"confirm); drop allowed {num(s.occupied_tolerance_k, lang, 1)} K occupied, "
            f"{num(s.unoccupied_tolerance_k, lang, 1)} K unoccupied.")


def _warnings(rep: CapacityReport, lang: str) -> None:
    for c in rep.capacities:
        for w in c.warnings:
            msg = w.message_fr if lang == "fr" else w.message_en
            sep = " : " if lang == "fr" else ": "
            console.print(f"[yellow]⚠ {c.building_code} {w.code}{sep}{msg}[/]")


@flex.command("capacity")
@_scope_options
@click.pass_context
def capacity(ctx, start, end, as_json, lang_opt, fit_days, temp_ext, commune, territory,
             building, db_url) -> None:
    """Capacité d'effacement par bâtiment, par commune et au total, sur une fenêtre."""
    lang = lang_opt or _lang(ctx)
    solver_banner_to_stderr()  # model capacities plan with HiGHS
    try:
        rep = portfolio_capacity(open_store(db_url), start, end,
                                 scope=Scope(commune, territory, building),
                                 fit_days=fit_days, forecast_temp_c=temp_ext)
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps(rep.to_json(), ensure_ascii=False, indent=2, default=str))
        return
    console.print(_capacity_table(rep, lang))
    console.print(_assumptions(rep, lang))
    _warnings(rep, lang)


@flex.command("dispatch")
@click.option("--event-id", required=True, help="Identifiant de l'événement (relancer le même "
              "identifiant remplace la répartition enregistrée).")
@click.option("--kw", "request_kw", type=float, required=True,
              help="Puissance demandée au portefeuille [kW].")
@click.option("--dry-run", is_flag=True, help="Calculer sans rien enregistrer.")
@click.option("--half-life-days", type=click.FloatRange(min=1), default=90.0,
              show_default=True, help="Demi-vie de la mémoire des effacements passés [jours].")
@_scope_options
@click.pass_context
def dispatch_cmd(ctx, event_id, request_kw, dry_run, half_life_days, start, end, as_json,
                 lang_opt, fit_days, temp_ext, commune, territory, building, db_url) -> None:
    """Répartition équitable d'une demande d'effacement entre les bâtiments."""
    lang = lang_opt or _lang(ctx)
    solver_banner_to_stderr()  # model capacities plan with HiGHS
    try:
        rep = dispatch_event(open_store(db_url), event_id, start, end, request_kw,
                             scope=Scope(commune, territory, building), dry_run=dry_run,
                             half_life_days=half_life_days, fit_days=fit_days,
                             forecast_temp_c=temp_ext)
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps(rep.to_json(), ensure_ascii=False, indent=2, default=str))
        return
    console.print(_dispatch_table(rep, lang))
    _dispatch_summary(rep, lang)


def _dispatch_table(rep: DispatchReport, lang: str) -> Table:
    fr = lang == "fr"
    d = rep.dispatch
    table = Table(title=(f"Événement {rep.event_id} — " if fr else f"Event {rep.event_id} — ")
                  + _window_text(d.window_start_utc, d.window_end_utc, lang))
    cols = (("Bâtiment", "Building"), ("Commune", "Commune"), ("Capacité kW", "Capacity kW"),
            ("Demandé kW", "Asked kW"), ("Part", "Share"), ("Baisse max K", "Max drop K"),
            ("Inconfort K·h", "Discomfort K·h"), ("Rebond kWh", "Rebound kWh"),
            ("Charge h", "Burden h"))
    for c_fr, c_en in cols:
        table.add_column(c_fr if fr else c_en,
                         justify="left" if c_en in ("Building", "Commune") else "right")
    for a in rep.allocations:
        table.add_row(a.building_code, a.commune_code, _kw(a.capacity_kw, lang),
                      f"[bold]{_kw(a.allocated_kw, lang)}[/]", f"{num(100 * a.share, lang)} %",
                      num(a.max_drop_k, lang, 1), num(a.discomfort_kh, lang, 1),
                      _kw(a.rebound_kwh, lang),
                      f"{num(a.burden_before_h, lang, 2)} → {num(a.burden_after_h, lang, 2)}")
    return table


def _dispatch_summary(rep: DispatchReport, lang: str) -> None:
    d = rep.dispatch
    fr = lang == "fr"
    cap = rep.capacity.total.shed_kw
    if fr:
        console.print(f"Demande {_kw(d.request_kw, lang)} kW : {_kw(d.served_kw, lang)} kW "
                      f"répartis sur {sum(a.allocated_kw > 0 for a in rep.allocations)} "
                      f"bâtiment(s) (capacité totale {_kw(cap, lang)} kW).")
        if d.unmet_kw > 0:
            console.print(f"[bold red]{_kw(d.unmet_kw, lang)} kW non couverts[/] : la capacité "
                          "des bâtiments ne suffit pas pour cette fenêtre.")
        console.print(f"Équité (indice de Jain des charges cumulées, 1 = égales) : "
                      f"{num(d.jain_before, lang, 2)} avant, {num(d.jain_after, lang, 2)} après ; "
                      f"{rep.history_records} effacement(s) passé(s) pris en compte "
                      f"(demi-vie {num(rep.half_life_days, lang)} jours).")
        console.print("Simulation (--dry-run) : rien n'est enregistré." if rep.dry_run else
                      f"Événement {rep.event_id} enregistré"
                      + (" (remplace la répartition précédente)." if rep.replaced else "."))
    else:
        console.print(f"Request {_kw(d.request_kw, lang)} kW: {_kw(d.served_kw, lang)} kW "
                      f"split over {sum(a.allocated_kw > 0 for a in rep.allocations)} "
                      f"building(s) (total capacity {_kw(cap, lang)} kW).")
        if d.unmet_kw > 0:
            console.print(f"[bold red]{_kw(d.unmet_kw, lang)} kW unmet[/]: the buildings' "
                          "capacity is not enough for this window.")
        console.print(f"Fairness (Jain's index of cumulative burdens, 1 = equal): "
                      f"{num(d.jain_before, lang, 2)} before, {num(d.jain_after, lang, 2)} "
                      f"after; {rep.history_records} past shed(s) counted (half-life "
                      f"{num(rep.half_life_days, lang)} days).")
        console.print("Dry run: nothing stored." if rep.dry_run else
                      f"Event {rep.event_id} stored"
                      + (" (replaces the previous allocation)." if rep.replaced else "."))
    _warnings(rep.capacity, lang)
