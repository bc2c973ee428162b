"""`sobriete serve`: the HTTP service (API; dashboard and scheduler come with issue 6)."""

from __future__ import annotations

from pathlib import Path

import click

from sobriete.api.app import create_app
from sobriete.api.logs import configure
from sobriete.api.settings import load_settings
from sobriete.cli import _lang, fail, main
from sobriete.domain.errors import SobrieteError


@main.command()
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Fichier de configuration TOML (les variables SOBRIETE_* "
              "l'emportent).")
@click.option("--db", "db_url", default=None, help="URL de la base (sinon configuration).")
@click.option("--host", default=None, help="Adresse d'écoute (défaut 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port d'écoute (défaut 8000).")
@click.option("--no-scheduler", is_flag=True, default=False,
              help="Sans les tâches planifiées (analyse quotidienne, alertes, import du "
              "dossier). La boucle de contrôle n'est jamais lancée ici : `sobriete control "
              "run`.")
@click.pass_context
def serve(ctx: click.Context, config: Path | None, db_url: str | None, host: str | None,
          port: int | None, no_scheduler: bool) -> None:
    """Lance le service HTTP (API, /health, /docs, tableau de bord, tâches planifiées)."""
    import uvicorn

    try:
        settings = load_settings(config, db_url=db_url, host=host, port=port,
                                 scheduler=False if no_scheduler else None)
        app = create_app(settings)
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    log_config = configure(settings.log_level)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config)
