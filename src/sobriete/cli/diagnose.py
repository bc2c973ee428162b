"""`sobriete diagnose`: find waste in the stored data, list it by € and show its evidence."""

from __future__ import annotations

import json
from datetime import date

import click
from rich.progress import Progress
from rich.table import Table

from sobriete.advice.explain import fmt_en, fmt_fr
from sobriete.cli import _db_option, _lang, console, err_console, fail, main
from sobriete.cli.mv import _bar, _date, _weather
from sobriete.domain.errors import SobrieteError
from sobriete.domain.findings import Finding, Quantity
from sobriete.reporting.i18n import LABELS
from sobriete.services.diagnose_run import diagnose as run_diagnosis
from sobriete.services.store import open_store
from sobriete.services.store.findings import (
    StoredFinding,
    get_finding,
    load_findings,
    set_finding_status,
)

STATUS_FR = {"open": "ouvert", "dismissed": "écarté"}


def label(key: str, lang: str, default: str) -> str:
    """A shared label (``reporting.i18n``) or ``default`` when the table has none."""
    fr, en = LABELS.get(key, (default, default))
    return fr if lang == "fr" else en


def num(x: float | None, lang: str, decimals: int = 0) -> str:
    """French numbers with narrow spaces for thousands and a decimal comma, English plain."""
    if x is None:
        return "—"
    return (fmt_fr if lang == "fr" else fmt_en)(x, decimals)


def interval(q: Quantity | None, lang: str) -> str:
    if q is None:
        return "—"
    return f"{num(q.value, lang)} [{num(q.low, lang)}–{num(q.high, lang)}]"


def confidence(f: Finding, lang: str) -> str:
    level = label("conf_" + f.confidence.value, lang, f.confidence.value)
    return f"{level} ({num(f.score, lang, 2)})"


def _closures(_ctx, _param, values: tuple[str, ...]) -> dict[str, list[tuple[date, date]]]:
    """``BUILDING:YYYY-MM-DD:YYYY-MM-DD`` (first and last closed day, inclusive)."""
    out: dict[str, list[tuple[date, date]]] = {}
    for v in values:
        parts = v.split(":")
        if len(parts) != 3:
            raise click.BadParameter(f"{v!r}: use BUILDING:YYYY-MM-DD:YYYY-MM-DD")
        a, b = (_date(None, None, p) for p in parts[1:])
        if b < a:
            raise click.BadParameter(f"{v!r}: the closure ends before it starts")
        out.setdefault(parts[0], []).append((a, b))
    return out


@main.group(invoke_without_command=True)
@click.option("--building", default=None, help="Seulement ce bâtiment (code).")
@click.option("--meter", "meters", multiple=True, help="Seulement ces compteurs (clés).")
@click.option("--start", callback=_date, default=None,
              help="Premier jour analysé (défaut : les 12 derniers mois complets).")
@click.option("--end", callback=_date, default=None, help="Lendemain du dernier jour analysé.")
@click.option("--closure", "closures", multiple=True, callback=_closures,
              metavar="BÂTIMENT:DÉBUT:FIN", help="Fermeture déclarée (jours inclus).")
@click.option("--weather", multiple=True, callback=_weather, metavar="KEY|BUILDING=KEY")
@click.option("--json", "as_json", is_flag=True, help="Constats en JSON (pour d'autres outils).")
@_db_option
@click.pass_context
def diagnose(ctx, building, meters, start, end, closures, weather, as_json, db_url) -> None:
    """Cherche les gaspillages et dérives (constats classés par € perdus par an)."""
    if ctx.invoked_subcommand is not None:
        return
    lang = _lang(ctx)
    try:
        store = open_store(db_url)
        # The bar goes to stderr with --json so that stdout stays valid JSON.
        with Progress(*_bar().columns, console=err_console if as_json else console) as bar:
            task = bar.add_task("diagnostic" if lang == "fr" else "diagnosis", total=None)
            out = run_diagnosis(
                store, building=building, meters=meters or None, start=start, end=end,
                closures=closures, weather=weather,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        with store.read() as conn:
            found = [f for f in load_findings(conn, building=building, include_dismissed=True)
                     if f.last_run_id == out.run_id]
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps([_doc(f) for f in found], ensure_ascii=False, indent=2))
        return
    findings_table(found, lang)
    fr = lang == "fr"
    windows = ", ".join(f"{b} {a}→{e}" for b, (a, e) in sorted(out.windows.items()))
    console.print((f"Diagnostic n°{out.run_id} : {out.n_series} séries, {len(found)} constats "
                   f"({out.new} nouveaux), {out.not_seen} plus observés ; période {windows}")
                  if fr else
                  (f"Diagnosis #{out.run_id}: {out.n_series} series, {len(found)} findings "
                   f"({out.new} new), {out.not_seen} no longer seen; window {windows}"))
    for key, why in sorted(out.errors.items()):
        console.print(f"[yellow]⚠ {key} : {why}[/]")


def _doc(f: StoredFinding) -> dict:
    return {**f.finding.to_json(), "status": f.status, "seen_in_last_run": f.seen_last}


def findings_table(found: list[StoredFinding], lang: str) -> None:
    fr = lang == "fr"
    shown = [f for f in found if f.status == "open"]
    table = Table(title="Constats (classés par € de gaspillage par an)" if fr else
                  "Findings (ranked by EUR wasted per year)")
    for c in (("#", "#"), ("Constat", "Finding"), ("€/an", "EUR/yr"), ("kWh/an", "kWh/yr"),
              ("Confiance", "Confidence")):
        table.add_column(c[0] if fr else c[1], justify="left" if c[0] == "Constat" else "right",
                         max_width=26 if c[0] == "Constat" else None)
    table.add_column("Message", ratio=1, min_width=30)
    for i, s in enumerate(shown, 1):
        f, w = s.finding, s.finding.waste
        eur = w.eur_per_year if w else None
        table.add_row(
            str(i),
            f"[bold]{label('kind_' + f.kind.value, lang, f.kind.value)}[/]\n"
            f"{f.building_code} · {f.evidence.series_key}\n"
            + ("clé " if fr else "key ") + s.key[:8],
            "—" if eur is None else f"{num(eur.value, lang)}\n[{num(eur.low, lang)}–"
                                    f"{num(eur.high, lang)}]",
            num(w.kwh_per_year.value if w else None, lang), confidence(f, lang),
            f.message_fr if fr else f.message_en)
    console.print(table)
    if len(shown) < len(found):
        n = len(found) - len(shown)
        console.print(f"{n} constat(s) écarté(s) non affiché(s)." if fr else
                      f"{n} dismissed finding(s) not shown.")
    if not found:
        console.print("Aucun constat sur cette période." if fr else
                      "No finding in this window.")


@diagnose.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@_db_option
@click.pass_context
def show(ctx, key: str, as_json: bool, db_url) -> None:
    """Toutes les preuves d'un constat (clé ou début de clé, 6 caractères au moins)."""
    lang = _lang(ctx)
    try:
        with open_store(db_url).read() as conn:
            s = get_finding(conn, key)
    except SobrieteError as exc:
        fail(exc, lang)
    if as_json:
        click.echo(json.dumps(_doc(s), ensure_ascii=False, indent=2))
        return
    print_finding(s, lang)


def print_finding(s: StoredFinding, lang: str) -> None:
    fr, f = lang == "fr", s.finding
    ev, w = f.evidence, f.waste
    rows = [
        ("Constat" if fr else "Finding", label("kind_" + f.kind.value, lang, f.kind.value)),
        ("Clé" if fr else "Key", s.key),
        ("Bâtiment" if fr else "Building", f.building_code),
        ("Série" if fr else "Series", f"{ev.series_key} ({ev.quantity})"),
        ("Période" if fr else "Period",
         f"{f.start_utc:%Y-%m-%d %H:%M} → {f.end_utc:%Y-%m-%d %H:%M} UTC"),
        ("Confiance" if fr else "Confidence", confidence(f, lang)),
        ("Détecteur" if fr else "Detector", f"{f.detector} v{f.detector_version}"),
        ("Statut" if fr else "Status", _status(s, lang)),
        ("Message", f.message_fr if fr else f.message_en),
        ("Données" if fr else "Data", f"{ev.n_points} points, {ev.data_start_utc:%Y-%m-%d} → "
                                      f"{ev.data_end_utc:%Y-%m-%d}"),
    ]
    if w is not None:
        rows += [("kWh/an" if fr else "kWh/yr", interval(w.kwh_per_year, lang)),
                 ("€/an" if fr else "EUR/yr", interval(w.eur_per_year, lang)),
                 ("kg CO2e/an" if fr else "kg CO2e/yr", interval(w.co2_kg_per_year, lang)),
                 ("Énergie" if fr else "Carrier", w.carrier),
                 ("kWh observés" if fr else "kWh observed", num(w.kwh_observed, lang)),
                 ("Méthode" if fr else "Method", w.method)]
    for name, part in (("Mesuré" if fr else "Measured", ev.values),
                       ("Référence" if fr else "Reference", ev.reference),
                       ("Paramètres" if fr else "Parameters", ev.parameters)):
        rows += [(f"{name} · {k}", _scalar(v, lang)) for k, v in part.items()]
    if w is not None:
        rows += [(("Facteur" if fr else "Factor") + f" · {k}", _scalar(v, lang))
                 for k, v in w.factors.items()]
    rows += [("Actions", ", ".join(f.actions) or "—"),
             ("Graphique" if fr else "Plot", ev.plot or "—")]
    rows += [("Avertissement" if fr else "Warning", x) for x in f.warnings]
    table = Table(show_header=False, title=("Constat " if fr else "Finding ") + s.key)
    table.add_column(style="bold")
    table.add_column()
    for r in rows:
        table.add_row(*r)
    console.print(table)


def _status(s: StoredFinding, lang: str) -> str:
    fr = lang == "fr"
    text = STATUS_FR.get(s.status, s.status) if fr else s.status
    if not s.seen_last:
        text += " — non revu au dernier diagnostic" if fr else " — not seen by the last diagnosis"
    return text


def _scalar(v, lang: str) -> str:
    if isinstance(v, bool):
        return ("oui" if v else "non") if lang == "fr" else ("yes" if v else "no")
    if isinstance(v, float):
        return num(v, lang, 0 if abs(v) >= 100 else 2 if abs(v) >= 1 else 3)
    return "—" if v is None else str(v)


def _set_status(ctx, key: str, status: str, db_url) -> None:
    lang = _lang(ctx)
    try:
        with open_store(db_url).engine.begin() as conn:
            s = set_finding_status(conn, key, status)
    except SobrieteError as exc:
        fail(exc, lang)
    console.print(f"{s.key} : {s.status}")


@diagnose.command("dismiss")
@click.argument("key")
@_db_option
@click.pass_context
def dismiss(ctx, key: str, db_url) -> None:
    """Écarte un constat (jugé sans objet) ; il reste en base et n'est plus listé."""
    _set_status(ctx, key, "dismissed", db_url)


@diagnose.command("reopen")
@click.argument("key")
@_db_option
@click.pass_context
def reopen(ctx, key: str, db_url) -> None:
    """Rouvre un constat écarté."""
    _set_status(ctx, key, "open", db_url)
