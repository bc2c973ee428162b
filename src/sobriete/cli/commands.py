"""Commands of the `sobriete` group."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sobriete.cli import _counts_table, _db_option, _lang, console, fail, main
from sobriete.cli.mv import fits_table, savings_table
from sobriete.domain.errors import SobrieteError
from sobriete.reporting.docs import PAGES
from sobriete.services.footprint import ledger
from sobriete.services.imports import FORMATS, import_file
from sobriete.services.quality_run import run_quality
from sobriete.services.store import open_store
from sobriete.services.summary_run import write_summary


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                    console=console, transient=False)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("build/demo"),
              show_default=True, help="Dossier de sortie (base SQLite, synthèse HTML).")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Ouvrir ensuite le tableau de bord sur 127.0.0.1 (Ctrl+C pour arrêter).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port du tableau de bord (0 ou occupé : un port libre).")
@_db_option
@click.pass_context
def demo(ctx: click.Context, out: Path, serve: bool, port: int, db_url: str | None) -> None:
    """Importe les données réelles fournies, les analyse, écrit une synthèse HTML et un rapport
    mensuel, puis ouvre le tableau de bord (sauf --no-serve)."""
    from sobriete.cli.actions import print_demo, tertiaire_line
    from sobriete.services.demo import ANALYSIS_STAGES, demo_steps, run_demo

    lang = _lang(ctx)
    n_steps = len(demo_steps()) + ANALYSIS_STAGES
    try:
        with _progress() as bar:
            task = bar.add_task("sobriete demo", total=n_steps)
            result = run_demo(out, db_url=db_url, lang=lang,
                              progress=lambda m: bar.update(task, description=m, advance=1))
            bar.update(task, completed=n_steps)
    except SobrieteError as exc:
        fail(exc, lang)
    console.print(_counts_table(result.imports, lang))
    _print_buildings(result.summary.buildings, lang)
    fr = lang == "fr"
    q = result.quality
    console.print(("Contrôle qualité : " if fr else "Quality checks: ")
                  + f"{q.series_checked} séries, " + ", ".join(
                      f"{k}={v}" for k, v in sorted(q.issues_by_kind.items())))
    fits_table(result.store, result.fit_run.run_id, lang)
    savings_table(result.store, result.savings_run, lang)
    print_demo(result, lang)
    for code, run in result.tertiaire.runs.items() if result.tertiaire else ():
        console.print(tertiaire_line(code, run, lang))
    if result.plan is not None:
        console.print(("[bold]Pilotage (école simulée, jour rouge Tempo fictif)[/] : " if fr else
                       "[bold]Control (simulated school, fictitious red Tempo day)[/]: ")
                      + result.plan.headline(lang))
        console.print(("Graphique du plan : " if fr else "Plan plot: ")
                      + str(result.plan_png.resolve()))
    _print_footprint(result.store, lang, last=result.jobs_measured)
    console.print(("Synthèse écrite : " if fr else "Summary written: ")
                  + f"[bold]{result.summary.path.resolve()}[/]")
    if result.report is not None:
        console.print(("Rapport mensuel : " if fr else "Monthly report: ") + ", ".join(
            f"[bold]{p.resolve()}[/]" for p in (result.report.html, result.report.pdf) if p))
    if serve:
        _serve_demo(result.store, port, lang)


def _free_port(port: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_demo(store, port: int, lang: str) -> None:
    """The dashboard on the demo's store, loopback only, with a demo admin whose fresh
    password is printed here (plain http on 127.0.0.1: the session cookie is not marked
    Secure, which a browser would refuse to send back over http elsewhere)."""
    import uvicorn

    from sobriete.api.app import create_app
    from sobriete.api.logs import configure
    from sobriete.api.settings import ServiceSettings
    from sobriete.services.demo import demo_account

    login, password = demo_account(store)
    port = _free_port(port)
    settings = ServiceSettings(db_url=str(store.engine.url.render_as_string(
        hide_password=False)), port=port, cookie_secure=False, scheduler=False,
        public_url=f"http://127.0.0.1:{port}", log_level="warning")
    fr = lang == "fr"
    console.print(("[bold green]Tableau de bord[/] : " if fr else "[bold green]Dashboard[/]: ")
                  + f"[bold]http://127.0.0.1:{port}/[/]  "
                  + (f"identifiant [bold]{login}[/], mot de passe [bold]{password}[/]  "
                     "(Ctrl+C pour arrêter ; `make demo SERVE=0` pour ne pas servir)" if fr else
                     f"login [bold]{login}[/], password [bold]{password}[/]  "
                     "(Ctrl+C to stop; `make demo SERVE=0` not to serve)"))
    uvicorn.run(create_app(settings, store=store), host="127.0.0.1", port=port,
                log_config=configure(settings.log_level))


def _print_buildings(buildings, lang: str) -> None:
    fr = lang == "fr"
    table = Table(title="Bâtiments" if fr else "Buildings")
    for c in (("Bâtiment", "Building"), ("Compteur", "Meter"), ("Complétude %", "Coverage %"),
              ("kWh 12 mois", "kWh 12 months"), ("kWh/m²/an", "kWh/m²/yr"),
              ("Anomalies", "Issues")):
        table.add_column(c[0] if fr else c[1])
    for b in buildings:
        for m in b.meters:
            table.add_row(
                b.code, f"{m.code} ({m.kind})",
                "—" if m.coverage_pct is None else f"{m.coverage_pct:.1f}",
                "—" if m.last_12m_kwh is None else f"{m.last_12m_kwh:,.0f}",
                "—" if m.kwh_per_m2_year is None else f"{m.kwh_per_m2_year:.1f}",
                str(sum(m.issues_by_kind.values())),
            )
    console.print(table)


def _print_footprint(store, lang: str, last: int | None = None) -> None:
    jobs = ledger(store)
    if jobs.empty:
        console.print("Aucune tâche mesurée." if lang == "fr" else "No job measured yet.")
        return
    if last:
        jobs = jobs.tail(last)
    fr = lang == "fr"
    table = Table(title="Empreinte de calcul" if fr else "Computing footprint")
    for c in (("Tâche", "Job"), ("Durée s", "Wall s"), ("CPU s", "CPU s"),
              ("Mém. max Mo", "Peak MB"), ("Wh", "Wh"), ("g CO2", "g CO2")):
        table.add_column(c[0] if fr else c[1], justify="right")
    for r in jobs.itertuples():
        table.add_row(r.job, f"{r.wall_s:.2f}", f"{r.cpu_s:.2f}", f"{r.peak_rss_mb:.0f}",
                      f"{r.energy_wh:.4f}", f"{r.co2_g:.4f}")
    table.add_row("total", f"{jobs.wall_s.sum():.2f}", f"{jobs.cpu_s.sum():.2f}",
                  f"{jobs.peak_rss_mb.max():.0f}", f"{jobs.energy_wh.sum():.4f}",
                  f"{jobs.co2_g.sum():.4f}")
    console.print(table)
    console.print(("Méthode : " if fr else "Method: ") + str(jobs["method"].iloc[-1]))


@main.command(name="import")
@click.argument("fmt", type=click.Choice(sorted(FORMATS)))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE",
              help="Option du lecteur (JSON accepté pour la valeur), p. ex. -o timestamps=end.")
@_db_option
@click.pass_context
def import_(ctx, fmt: str, files: tuple[Path, ...], options: tuple[str, ...], db_url) -> None:
    """Importe des fichiers (transaction par fichier ; réimporter ne change rien)."""
    lang = _lang(ctx)
    opts = {}
    for o in options:
        key, _, raw = o.partition("=")
        try:
            opts[key] = json.loads(raw)
        except json.JSONDecodeError:
            opts[key] = raw
    try:
        store = open_store(db_url)
        outcomes = []
        with _progress() as bar:
            task = bar.add_task("import", total=len(files))
            for f in files:
                bar.update(task, description=str(f))
                outcomes.append(import_file(store, f, fmt, **opts))
                bar.advance(task)
    except SobrieteError as exc:
        fail(exc, lang)
    console.print(_counts_table(outcomes, lang))
    for o in outcomes:
        for w in o.warnings:
            console.print(f"[yellow]⚠ {Path(o.path).name}: {w}[/]")


@main.command()
@_db_option
@click.pass_context
def quality(ctx, db_url) -> None:
    """Contrôle la qualité de toutes les séries stockées et enregistre les anomalies."""
    lang = _lang(ctx)
    try:
        result = run_quality(open_store(db_url))
    except SobrieteError as exc:
        fail(exc, lang)
    fr = lang == "fr"
    table = Table(title="Anomalies de données" if fr else "Data issues")
    table.add_column("Série" if fr else "Series")
    table.add_column("Type" if fr else "Kind")
    table.add_column("Message")
    for key, issues in result.issues.items():
        for i in issues[:20]:
            table.add_row(key, i.kind.value, i.message_fr if fr else i.message_en)
    console.print(table)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("synthese.html"),
              show_default=True)
@_db_option
@click.pass_context
def summary(ctx, out: Path, db_url) -> None:
    """Écrit la synthèse HTML par bâtiment (complétude, kWh/m², courbe de charge)."""
    lang = _lang(ctx)
    try:
        result = write_summary(open_store(db_url), out, lang=lang)
    except SobrieteError as exc:
        fail(exc, lang)
    _print_buildings(result.buildings, lang)
    console.print(f"[bold]{result.path.resolve()}[/]")


@main.command()
@_db_option
@click.pass_context
def footprint(ctx, db_url) -> None:
    """Ce que le calcul de la plateforme a coûté (temps, mémoire, Wh, CO2), tâche par tâche."""
    try:
        _print_footprint(open_store(db_url), _lang(ctx))
    except SobrieteError as exc:
        fail(exc, _lang(ctx))


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs"),
              show_default=True)
def docs(out: Path) -> None:
    """Régénère les pages de documentation issues du code (glossaire, réglages)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, page in PAGES.items():
        (out / name).write_text(page(), encoding="utf-8")
        click.echo(out / name)
