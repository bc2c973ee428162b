"""`sobriete serve`: the HTTP service (API, dashboard) and its scheduler.

One worker (the default): one process serves and schedules. ``--workers N``: N serving
processes, each a uvicorn server on its own socket of the same port (``api.workers``), and
this process supervises them and runs the scheduler alone, so that a daily job never starts N
times; jobs and their progress are in the database, so any worker answers for any of them.
"""

from __future__ import annotations

from pathlib import Path

import click

from sobriete.api.app import create_app, freeze_startup_heap
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
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processus qui servent les requêtes (défaut 1 ; environ un par cœur). Au-delà "
              "d'un, les tâches planifiées tournent dans le processus qui les surveille.")
@click.option("--no-scheduler", is_flag=True, default=False,
              help="Sans les tâches planifiées (analyse quotidienne, alertes, import du "
              "dossier). La boucle de contrôle n'est jamais lancée ici : `sobriete control "
              "run`.")
@click.pass_context
def serve(ctx: click.Context, config: Path | None, db_url: str | None, host: str | None,
          port: int | None, workers: int | None, no_scheduler: bool) -> None:
    """Lance le service HTTP (API, /health, /docs, tableau de bord, tâches planifiées)."""
    import uvicorn

    try:
        settings = load_settings(config, db_url=db_url, host=host, port=port, workers=workers,
                                 scheduler=False if no_scheduler else None)
        app = create_app(settings) if settings.workers == 1 else None
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    log_config = configure(settings.log_level)
    if app is not None:
        freeze_startup_heap()
        uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config)
        return
    _serve_with_workers(ctx, settings)


def _serve_with_workers(ctx: click.Context, settings) -> None:
    from sobriete.api import workers as W
    from sobriete.services import scheduler as clock
    from sobriete.services.jobs import JobRegistry
    from sobriete.services.store import open_store

    if not W.reuse_port_supported():
        fail(SobrieteError("--workers needs SO_REUSEPORT (Linux, BSD): use one worker here"),
             _lang(ctx))
    try:
        store = open_store(settings.db_url)  # migrated here once, before any worker opens it
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    jobs = JobRegistry(store)
    sched = clock.start(store, settings, jobs) if settings.scheduler else None
    try:
        W.run(settings)
    except SobrieteError as exc:
        fail(exc, _lang(ctx))
    finally:
        if sched is not None:
            clock.stop(sched)
        jobs.shutdown()
        store.close()
