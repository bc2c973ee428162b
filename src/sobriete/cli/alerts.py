"""`sobriete alerts send | digest`: the e-mail alerts by hand (the scheduler of `sobriete
serve` runs them by itself: immediate every 15 min, the digest once a day)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from sobriete.api.settings import load_settings
from sobriete.cli import _lang, console, fail, main
from sobriete.domain.errors import SobrieteError


def _options(f):
    f = click.option("--json", "as_json", is_flag=True, help="Compte rendu en JSON.")(f)
    f = click.option("--db", "db_url", default=None,
                     help="URL de la base (sinon configuration, puis $SOBRIETE_DB_URL).")(f)
    return click.option("--config", type=click.Path(exists=True, dir_okay=False,
                                                    path_type=Path), default=None,
                        help="Configuration TOML de `sobriete serve` (SMTP, adresse publique)."
                        )(f)


@main.group()
def alerts() -> None:
    """Alertes par e-mail : immédiates et résumé quotidien."""


def _render(report, lang: str, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    fr = lang == "fr"
    if not report.smtp:
        console.print("Pas de serveur SMTP (smtp_host) : alertes gardées pour le tableau de "
                      "bord, aucun e-mail." if fr else
                      "No SMTP server (smtp_host): alerts kept for the dashboard, no e-mail.")
    console.print((f"{report.events} événement(s), {report.emails_sent} e-mail(s) envoyé(s), "
                   f"{report.alerts_recorded} alerte(s) enregistrée(s)") if fr else
                  (f"{report.events} event(s), {report.emails_sent} e-mail(s) sent, "
                   f"{report.alerts_recorded} alert(s) recorded"))
    for login, err in report.failed.items():
        console.print(f"[red]{'Échec' if fr else 'Failed'}[/] {login} : {err}"
                      + (" (réessayé au prochain passage)" if fr else " (retried next run)"))


def _run(ctx, config, db_url, as_json, call) -> None:
    lang = _lang(ctx)
    try:
        from sobriete.services.store import open_store
        settings = load_settings(config, db_url=db_url)
        store = open_store(settings.db_url)
        try:
            report = call(store, settings)
        finally:
            store.close()
    except SobrieteError as exc:
        fail(exc, lang)
    _render(report, lang, as_json)
    if report.failed:
        ctx.exit(1)


@alerts.command("send")
@_options
@click.pass_context
def send(ctx, config, db_url, as_json) -> None:
    """Envoie les alertes immédiates nouvelles (jamais deux fois la même)."""
    from sobriete.services.alerts import send_immediate
    _run(ctx, config, db_url, as_json, send_immediate)


@alerts.command("digest")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Jour du résumé, AAAA-MM-JJ (défaut : aujourd'hui, heure de Paris).")
@_options
@click.pass_context
def digest(ctx, day, config, db_url, as_json) -> None:
    """Envoie le résumé quotidien (un e-mail par compte)."""
    from sobriete.services.alerts import send_digest
    the_day: date | None = day.date() if day else None
    _run(ctx, config, db_url, as_json, lambda st, s: send_digest(st, s, the_day))
