"""`sobriete actions`: recommended actions, their follow-up and what they really saved."""

from __future__ import annotations

import click
from rich.table import Table

from sobriete.advice import CATALOGUE, Recommendation, rank
from sobriete.cli import _db_option, _lang, console, fail, main
from sobriete.cli.diagnose import findings_table, num
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

STATUS_FR = {"to_do": "à faire", "in_progress": "en cours", "done": "réalisée"}
TYPE_EN = {"réglage": "setting", "travaux": "works"}


def action_name(code: str, lang: str) -> str:
    spec = CATALOGUE.get(code)
    if spec is None:
        return code
    return spec.name_fr if lang == "fr" else spec.name_en


def span(q: dict | None, lang: str) -> str:
    """``value [low–high]`` of a stored quantity (a dict with value, low, high)."""
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
            num(r.kwh_per_year.value, lang), span(r.eur_per_year.model_dump(), lang),
            num(r.net_cost_eur, lang),
            "—" if r.payback_years is None else num(r.payback_years, lang, 1),
            num(r.eur_saved_per_eur_spent, lang, 1),
            status_label(tracked.get((r.building_code, r.action_code)), lang))
    return table


@main.group()
def actions() -> None:
    """Actions recommandées, leur suivi et les économies réellement mesurées."""


def _tracked_status(store) -> dict[tuple[str, str], str]:
    with store.engine.connect() as conn:
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
        with store.engine.connect() as conn:
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
    with result.store.engine.connect() as conn:
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
