"""`sobriete actions`: recommended actions, their follow-up and what they really saved."""

from __future__ import annotations

import click
from rich.table import Table

from sobriete.advice import CATALOGUE, Recommendation, rank
from sobriete.cli import _db_option, _lang, console, fail, main
from sobriete.cli.diagnose import findings_table, interval, num
from sobriete.cli.mv import _bar, _date, _weather
from sobriete.domain.errors import SobrieteError
from sobriete.services.actions_run import (
    mark_action,
    measure_realised,
    recommend_buildings,
)
from sobriete.services.store import open_store
from sobriete.services.store.actions import ACTION_STATUSES, TrackedAction, load_tracked
from sobriete.services.store.findings import load_findings
from sobriete.services.tertiaire_run import tertiaire_buildings

STATUS_FR = {"to_do": "à faire", "in_progress": "en cours", "done": "réalisée"}
TYPE_EN = {"réglage": "setting", "travaux": "works"}


def action_name(code: str, lang: str) -> str:
    spec = CATALOGUE.get(code)
    if spec is None:
        return code
    return spec.name_fr if lang == "fr" else spec.name_en


def span(q: dict | None, lang: str) -> str:
    """``value [low–high]`` of a stored quantity (a dict with value, low, high): the JSON
    twin of ``cli.diagnose.interval``."""
    if not q:
        return "—"
    return f"{num(q['value'], lang)} [{num(q['low'], lang)}–{num(q['high'], lang)}]"


def status_label(status: str | None, lang: str) -> str:
    if status is None:
        return "—"
    return STATUS_FR.get(status, status) if lang == "fr" else status.replace("_", " ")


def _recommend(ctx, db_url, **scope) -> tuple:
    """Recommendations of ``scope`` computed and stored, and the follow-up of each action."""
    lang = _lang(ctx)
    try:
        store = open_store(db_url)
        with _bar() as bar:
            task = bar.add_task("actions", total=None)
            out = recommend_buildings(
                store, progress=lambda done, total: bar.update(task, completed=done,
                                                                total=total), **scope)
        tracked = _tracked_status(store)
    except SobrieteError as exc:
        fail(exc, lang)
    for code, why in sorted(out.errors.items()):
        console.print(f"[yellow]⚠ {code} : {why}[/]")
    return out, tracked


def recommendations_table(recs: list[Recommendation], title: str, lang: str,
                          tracked: dict[tuple[str, str], str], with_building: bool) -> Table:
    fr = lang == "fr"
    table = Table(title=title, caption=(
        "€/€ : € gagnés sur la durée de vie de l'action par € dépensé, net des CEE" if fr else
        "EUR/EUR: EUR saved over the action's life per EUR spent, net of CEE"))
    cols = [("#", "#")] + ([("Bâtiment", "Building")] if with_building else []) + [
        ("Action", "Action"), ("kWh/an", "kWh/yr"), ("€/an \\[intervalle]", "EUR/yr \\[interval]"),
        ("Coût net €", "Net cost EUR"), ("Retour (ans)", "Payback (yr)"),
        ("€/€", "EUR/EUR"), ("Suivi", "Status")]
    for c in cols:
        table.add_column(c[0] if fr else c[1],
                         justify="left" if c[0] in ("Bâtiment", "Action", "Suivi") else "right")
    for i, r in enumerate(recs, 1):
        table.add_row(
            str(i), *([r.building_code] if with_building else []),
            f"{action_name(r.action_code, lang)}\n[dim]{r.action_code} · "
            f"{r.action_type.value if fr else TYPE_EN.get(r.action_type.value, '')}[/]",
            num(r.kwh_per_year.value, lang), interval(r.eur_per_year, lang),
            num(r.net_cost_eur, lang),
            "—" if r.payback_years is None else num(r.payback_years, lang, 1),
            num(r.eur_saved_per_eur_spent, lang, 1),
            status_label(tracked.get((r.building_code, r.action_code)), lang))
    return table


@main.group()
def actions() -> None:
    """Actions recommandées, leur suivi et les économies réellement mesurées."""


def _tracked_status(store) -> dict[tuple[str, str], str]:
    with store.read() as conn:
        return {(t.building_code, t.action_code): t.status for t in load_tracked(conn)}


@actions.command("list")
@click.option("--building", default=None, help="Seulement ce bâtiment (code).")
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY")
@_db_option
@click.pass_context
def list_(ctx, building, weather, db_url) -> None:
    """Actions recommandées par bâtiment, classées par € gagnés par € dépensés."""
    lang, fr = _lang(ctx), _lang(ctx) == "fr"
    out, tracked = _recommend(ctx, db_url, building=building, weather=weather)
    for code, recs in out.ranked.items():
        title = f"{code} : actions recommandées" if fr else f"{code}: recommended actions"
        console.print(recommendations_table(recs, title, lang, tracked, with_building=False))


@actions.command("rank")
@click.option("--commune", default=None, help="Code INSEE de la commune (défaut : toutes).")
@click.option("--by", type=click.Choice(["eur", "co2"]), default="eur", show_default=True,
              help="Classer par € ou par kg CO2e économisés par € dépensé.")
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY")
@_db_option
@click.pass_context
def rank_(ctx, commune, by, weather, db_url) -> None:
    """Classe les actions de tous les bâtiments d'une commune."""
    lang, fr = _lang(ctx), _lang(ctx) == "fr"
    out, tracked = _recommend(ctx, db_url, commune=commune, weather=weather)
    recs = rank([r for rs in out.ranked.values() for r in rs],
                "eur_per_eur" if by == "eur" else "co2_per_eur")
    where = commune or ("toutes communes" if fr else "all communes")
    title = (f"Actions classées ({where}), par € gagné par € dépensé" if fr else
             f"Ranked actions ({where}), by EUR saved per EUR spent")
    console.print(recommendations_table(recs, title, lang, tracked, with_building=True))
    if by == "co2":
        console.print("Classement par kg CO2e évités par € dépensé." if fr else
                      "Ranked by kg CO2e avoided per EUR spent.")


def _mark(ctx, building, action, status, done_date, note, db_url) -> None:
    lang, fr = _lang(ctx), _lang(ctx) == "fr"
    try:
        t = mark_action(open_store(db_url), building, action, status, done_date=done_date,
                        note=note)
    except SobrieteError as exc:
        fail(exc, lang)
    when = f" le {t.done_date}" if fr and t.done_date else (f" on {t.done_date}"
                                                             if t.done_date else "")
    console.print((f"{t.building_code} · {action_name(t.action_code, lang)} : "
                   f"{status_label(t.status, lang)}{when}") if fr else
                  f"{t.building_code} · {action_name(t.action_code, lang)}: "
                  f"{status_label(t.status, lang)}{when}")
    if t.estimated is None:
        console.print("Aucune estimation enregistrée pour cette action (non recommandée) : "
                      "seul le mesuré sera affiché." if fr else
                      "No estimate stored for this action (not recommended): only the "
                      "measured saving will be shown.")


@actions.command("done")
@click.argument("building")
@click.argument("action")
@click.option("--date", "done_date", required=True, callback=_date,
              help="Date de réalisation (AAAA-MM-JJ).")
@click.option("--note", default=None, help="Commentaire (qui, quoi, facture...).")
@_db_option
@click.pass_context
def done(ctx, building, action, done_date, note, db_url) -> None:
    """Marque une action réalisée à une date (les économies seront mesurées après)."""
    _mark(ctx, building, action, "done", done_date, note, db_url)


@actions.command("status")
@click.argument("building")
@click.argument("action")
@click.argument("status", type=click.Choice(ACTION_STATUSES))
@click.option("--note", default=None)
@_db_option
@click.pass_context
def status(ctx, building, action, status, note, db_url) -> None:
    """Change le suivi d'une action : to_do, in_progress (done : voir `actions done`)."""
    if status == "done":
        raise click.UsageError("use `sobriete actions done BUILDING ACTION --date YYYY-MM-DD`")
    _mark(ctx, building, action, status, None, note, db_url)


@actions.command("realised")
@click.option("--building", default=None)
@click.option("--action", default=None)
@click.option("--refresh", is_flag=True, help="Remesure même si un résultat existe.")
@click.option("--until", callback=_date, default=None,
              help="Arrête la mesure avant ce jour (fermeture, autre action) ; implique --refresh.")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.90,
              show_default=True)
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY")
@_db_option
@click.pass_context
def realised(ctx, building, action, refresh, until, confidence, weather, db_url) -> None:
    """Économies estimées et mesurées (IPMVP option C) côte à côte, par action réalisée."""
    lang = _lang(ctx)
    try:
        store = open_store(db_url)
        with store.read() as conn:
            todo = [t for t in load_tracked(conn, building=building, action=action)
                    if t.status == "done"]
        shown = [measure_realised(store, t.building_code, t.action_code,
                                  confidence=confidence, until=until, weather=weather)
                 if refresh or until or t.realised is None else t for t in todo]
    except SobrieteError as exc:
        fail(exc, lang)
    if not shown:
        console.print("Aucune action réalisée enregistrée." if lang == "fr" else
                      "No action marked done yet.")
    for t in shown:
        print_comparison(t, lang)


def print_comparison(t: TrackedAction, lang: str) -> None:
    fr = lang == "fr"
    r = t.realised or {}
    months = r.get("months")
    title = (f"{t.building_code} · {action_name(t.action_code, lang)} — "
             + (f"réalisée le {t.done_date}, {num(months, lang, 1)} mois mesurés" if fr else
                f"done on {t.done_date}, {num(months, lang, 1)} months measured"))
    console.print(f"\n[bold]{title}[/]")  # above, not as a title: a narrow table would wrap it
    table = Table()
    pct = f"{r.get('confidence', 0.9):.0%}".replace("%", " %")
    for c in (("", ""), ("Estimé \\[intervalle]", "Estimated \\[interval]"),
              (f"Mesuré \\[intervalle à {pct}]", f"Measured \\[{pct} interval]")):
        table.add_column(c[0] if fr else c[1], justify="left" if not c[0] else "right")
    est, total = t.estimated or {}, r.get("total") or {}
    for key, fr_l, en_l in (("kwh_per_year", "kWh/an", "kWh/yr"),
                            ("eur_per_year", "€/an", "EUR/yr"),
                            ("co2_kg_per_year", "kg CO2e/an", "kg CO2e/yr")):
        table.add_row(fr_l if fr else en_l, span(est.get(key), lang), span(total.get(key), lang))
    console.print(table)
    if r:
        console.print(("Référence " if fr else "Baseline ") + " → ".join(r["baseline"])
                      + ("  ·  suivi " if fr else "  ·  reporting ") + " → ".join(r["reporting"]))
    for w in r.get("warnings", []):
        console.print(f"[yellow]⚠ {w['message_fr'] if fr else w['message_en']}[/]")
    for m in r.get("meters", []):
        for w in m.get("warnings", []):
            text = w["message_fr"] if fr else w["message_en"]
            console.print(f"[yellow]⚠ {m['meter']} : {text}[/]")


def print_demo(result, lang: str, top: int = 5) -> None:
    """The demo's diagnostics: how many findings, the most expensive ones, the best actions
    and the demonstration action measured against its estimate."""
    fr = lang == "fr"
    d = result.diagnosis
    with result.store.read() as conn:
        found = [f for f in load_findings(conn) if f.last_run_id == d.run_id]
    waste = sum(f.finding.waste.eur_per_year.value for f in found
                if f.finding.waste and f.finding.waste.eur_per_year)
    console.print((f"Diagnostic 2019 (référence 2018) : {len(found)} constats sur "
                   f"{d.n_series} compteurs, gaspillage estimé {num(waste, lang)} €/an "
                   f"(constats cumulés, ils peuvent se recouvrir)") if fr else
                  (f"2019 diagnosis (2018 reference): {len(found)} findings on {d.n_series} "
                   f"meters, estimated waste {num(waste, lang)} EUR/yr (findings summed, they "
                   "may overlap)"))
    findings_table(found[:top], lang)
    recs = rank(r for rs in result.advice.ranked.values() for r in rs)
    tracked = _tracked_status(result.store)
    console.print(recommendations_table(
        recs[:top], f"Meilleures actions ({len(recs)} proposées)" if fr else
        f"Best actions ({len(recs)} proposed)", lang, tracked, with_building=True))
    if result.demo_action is not None:
        console.print("[bold]Démonstration[/] : action fictive marquée réalisée pour montrer le "
                      "suivi des économies (estimé / mesuré)." if fr else
                      "[bold]Demonstration[/]: a fictitious action marked done to show the "
                      "savings follow-up (estimated / measured).")
        print_comparison(result.demo_action, lang)


def _not_subject(r, lang: str) -> str:
    area = "—" if r.floor_area_m2 is None else num(r.floor_area_m2, lang)
    if r.subject:
        return area
    return area + ("\n[dim]non assujetti[/]" if lang == "fr" else "\n[dim]not subject[/]")


def tertiaire_table(runs, year: int, reference_year: int, lang: str) -> Table:
    """One row per building: adjusted reference and current kWh/yr, the ``year`` target, the
    gap and the cheapest actions closing it."""
    fr = lang == "fr"
    table = Table(title=(f"Décret tertiaire : objectif {year}, référence {reference_year} "
                         "(kWh/an corrigés du climat)") if fr else
                  (f"Décret tertiaire: {year} target, {reference_year} reference "
                   "(climate-adjusted kWh/yr)"))
    for c in (("Bâtiment", "Building"), ("m²", "m²"), ("Référence", "Reference"),
              ("Actuel", "Current"), (f"Objectif {year}", f"{year} target"),
              ("Écart", "Gap"), ("Actions les moins chères", "Cheapest actions"),
              ("Coût net €", "Net cost EUR"), ("Écart restant", "Remaining gap")):
        table.add_column(c[0] if fr else c[1],
                         justify="left" if c[0] in ("Bâtiment", "Actions les moins chères")
                         else "right")
    for code, run in runs.items():
        r = run.result
        table.add_row(code, _not_subject(r, lang), num(r.reference_kwh, lang),
                      num(r.current_kwh, lang), num(r.targets_kwh[r.year], lang),
                      num(r.gap_kwh, lang),
                      "\n".join(action_name(a, lang) for a in r.chosen) or "—",
                      num(r.chosen_cost_eur, lang) if r.chosen else "—",
                      num(r.remaining_gap_kwh, lang))
    return table


def tertiaire_line(code: str, run, lang: str) -> str:
    """One line per building for the demo: the gap and what closes it, at what cost."""
    r, fr = run.result, lang == "fr"
    head = (f"Décret tertiaire (référence {run.reference_year}, corrigée du climat) : {code} "
            f"{num(r.reference_kwh, lang)} → {num(r.current_kwh, lang)} kWh/an, " if fr else
            f"Décret tertiaire ({run.reference_year} reference, climate-adjusted): {code} "
            f"{num(r.reference_kwh, lang)} → {num(r.current_kwh, lang)} kWh/yr, ")
    if r.gap_kwh <= 0:
        return head + (f"objectif {r.year} déjà atteint" if fr else f"{r.year} target already met")
    actions = " + ".join(action_name(a, lang) for a in r.chosen) or "—"
    gap = (f"écart {r.year} {num(r.gap_kwh, lang)} kWh/an" if fr else
           f"{r.year} gap {num(r.gap_kwh, lang)} kWh/yr")
    if r.closes_gap:
        return head + gap + (f", comblé par {actions} pour {num(r.chosen_cost_eur, lang)} €"
                             if fr else f", closed by {actions} for EUR "
                             f"{num(r.chosen_cost_eur, lang)}")
    # Not closed: every costed action is in the set, too many to name on one line.
    return head + gap + (f", non comblé : les {len(r.chosen)} actions chiffrées "
                         f"({num(r.chosen_cost_eur, lang)} €) laissent "
                         f"{num(r.remaining_gap_kwh, lang)} kWh/an" if fr else
                         f", not closed: the {len(r.chosen)} costed actions (EUR "
                         f"{num(r.chosen_cost_eur, lang)}) leave "
                         f"{num(r.remaining_gap_kwh, lang)} kWh/yr")


def print_tertiaire_details(runs, lang: str) -> None:
    """Per building: the sentence, how the climate was adjusted, and the warnings."""
    fr = lang == "fr"
    for code, run in runs.items():
        r = run.result
        console.print(f"[bold]{code}[/] : {r.message_fr}" if fr else
                      f"[bold]{code}[/]: {r.message_en}")
        basis = (f"DJU de {run.reference_year}" if run.dju_ref_basis == "reference_year"
                 else run.dju_ref_basis.replace("mean of", "moyenne").replace("years", "ans"))
        console.print(
            (f"  [dim]DJU {run.dju_method} ; référence {num(run.dju_ref, lang)} ({basis}), "
             f"{run.reference.start.year} {num(run.reference.dju, lang)}, actuel "
             f"{run.current.start} → {run.current.end} {num(run.current.dju, lang)} ; "
             f"méthode {run.climate_method} ; recommandations "
             f"{'enregistrées' if run.recommendations == 'stored' else 'calculées'}[/]") if fr
            else (f"  [dim]DJU {run.dju_method}; reference {num(run.dju_ref, lang)} "
                  f"({run.dju_ref_basis.replace('_', ' ')}), {run.reference.start.year} "
                  f"{num(run.reference.dju, lang)}, current {run.current.start} → "
                  f"{run.current.end} {num(run.current.dju, lang)}; method "
                  f"{run.climate_method}; recommendations {run.recommendations}[/]"))
        for w in run.warnings:
            console.print(f"  [yellow]⚠ {w['message_fr'] if fr else w['message_en']}[/]")


@actions.command("tertiaire")
@click.option("--reference-year", type=int, required=True,
              help="Année de référence (2010 à 2019), année civile.")
@click.option("--building", default=None, help="Seulement ce bâtiment (code).")
@click.option("--commune", default=None, help="Code INSEE de la commune (défaut : toutes).")
@click.option("--year", type=click.Choice(["2030", "2040", "2050"]), default="2030",
              show_default=True, help="Échéance de l'objectif (−40 / −50 / −60 %).")
@click.option("--current-year", type=int, default=None,
              help="Année civile comparée (défaut : les 12 derniers mois complets).")
@click.option("--climate-ref", type=click.Choice(["reference_year", "mean"]),
              default="reference_year", show_default=True,
              help="DJU de référence : ceux de l'année de référence, ou la moyenne des années.")
@click.option("--prudent", is_flag=True, help="Combler l'écart avec les bas des intervalles.")
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY")
@click.option("--json", "as_json", is_flag=True, help="Résultats en JSON.")
@_db_option
@click.pass_context
def tertiaire(ctx, reference_year, building, commune, year, current_year, climate_ref,
              prudent, weather, as_json, db_url) -> None:
    """Écart à l'objectif du décret tertiaire et actions les moins chères pour le combler."""
    lang = _lang(ctx)
    if building is not None and commune is not None:
        raise click.UsageError("--building and --commune cannot be used together")
    try:
        out = tertiaire_buildings(open_store(db_url), reference_year, building=building,
                                  commune=commune, year=int(year), current_year=current_year,
                                  prudent=prudent, climate_ref=climate_ref, weather=weather)
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(out.model_dump_json(indent=2))
        return
    for code, why in sorted(out.errors.items()):
        console.print(f"[yellow]⚠ {code} : {why}[/]")
    if out.runs:
        console.print(tertiaire_table(out.runs, out.year, out.reference_year, lang))
        print_tertiaire_details(out.runs, lang)
