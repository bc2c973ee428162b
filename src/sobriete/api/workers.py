"""Several processes serving one port: ``sobriete serve --workers N``.

Each worker opens its own listening socket on the same address with ``SO_REUSEPORT``, so the
kernel spreads new connections over the workers. uvicorn's own ``--workers`` shares one
socket, and the first worker to wake accepts every waiting connection at once: 50 clients
that keep their connection open all landed on one worker of two in our benchmark, which then
did the whole work. The supervisor (this module, in the calling process) starts the workers,
starts again one that dies, and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time

from sobriete.api.settings import ServiceSettings
from sobriete.domain.errors import InputError, SobrieteError

log = logging.getLogger("sobriete.api")
STOP_GRACE_S = 15.0
START_S = 20.0  # a worker dead sooner than this after its start failed to start: no retry


class WorkerStartError(SobrieteError):
    """A worker process exited while starting (its log says why)."""


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) that other processes of this user may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         field="port", found=str(port)) from None
    return sock


def _worker(settings_json: str) -> None:
    """One serving process (a spawned interpreter: no state shared with the supervisor, its
    logging included: configured here, or the application's own records would leave as bare
    text and its INFO records not at all)."""
    import uvicorn

    from sobriete.api.app import create_app, freeze_startup_heap
    from sobriete.api.logs import configure

    settings = ServiceSettings.model_validate_json(settings_json)
    log_config = configure(settings.log_level)
    sock = listening_socket(settings.host, settings.port)
    config = uvicorn.Config(create_app(settings), log_config=log_config)
    freeze_startup_heap()
    uvicorn.Server(config).run(sockets=[sock])


def run(settings: ServiceSettings) -> None:
    """Serve with ``settings.workers`` processes until SIGINT/SIGTERM; the scheduler is not
    started in them (the caller runs it)."""
    listening_socket(settings.host, settings.port).close()  # a taken port fails here, once
    worker_settings = settings.model_copy(update={"scheduler": False}).model_dump_json()
    ctx = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    started: dict[int, float] = {}

    def start() -> multiprocessing.Process:
        p = ctx.Process(target=_worker, args=(worker_settings,),
                        name="sobriete-worker", daemon=False)
        p.start()
        started[p.pid] = time.monotonic()
        return p

    def stop(_signum, _frame) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    procs = [start() for _ in range(settings.workers)]
    log.info("workers started", extra={"workers": [p.pid for p in procs],
                                       "url": f"http://{settings.host}:{settings.port}"})
    try:
        while not stopping.wait(0.5):
            for i, p in enumerate(procs):
                if not p.is_alive():
                    if time.monotonic() - started[p.pid] < START_S:
                        raise WorkerStartError(f"a worker exited while starting (exit code "
                                               f"{p.exitcode}): see its log above")
                    log.warning("worker died, starting another",
                                extra={"pid": p.pid, "exitcode": p.exitcode})
                    procs[i] = start()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # uvicorn ends its requests in progress on SIGTERM
        for p in procs:
            p.join(STOP_GRACE_S)
            if p.is_alive():
                p.kill()
                p.join()
        for s, h in previous.items():
            signal.signal(s, h)
