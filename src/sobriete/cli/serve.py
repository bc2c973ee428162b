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
@click.pass_context
def serve(ctx: click.Context, config: Path | None, db_url: str | None, host: str | None,
          port: int | None) -> None:
    """Lance le service HTTP (API, /health, /docs)."""
    import uvicorn

    try:
        settings = load_settings(config, db_url=db_url, host=host, port=port)
        app = create_app(settings)
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    log_config = configure(settings.log_level)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config)
