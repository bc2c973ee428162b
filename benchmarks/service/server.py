"""The server under test: `sobriete serve` in a subprocess on a loopback port, and the
databases it runs on (a SQLite file, or a PostgreSQL database created and dropped here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = os.environ.get("SOBRIETE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KEPT_PG = "sobriete_bench_service"  # the database --keep leaves for --reuse


@contextmanager
def database(pg: bool, workdir: Path, *, keep: bool = False, reuse: bool = False):
    """The store URL of a fresh database, removed afterwards; ``keep``: left in place (for a
    later ``reuse``, which opens it as it is and leaves it too)."""
    if not pg:
        path = workdir / "service-bench.sqlite"
        if not reuse:
            path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    from sqlalchemy import create_engine

    name = KEPT_PG if keep or reuse else f"sobriete_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    if not reuse:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        if not (keep or reuse):
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _sobriete() -> list[str]:
    exe = Path(sys.executable).with_name("sobriete")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sobriete.cli"]


def _started(log: Path) -> int:
    return log.read_text(encoding="utf-8", errors="replace").count(
        "Application startup complete")


@contextmanager
def serve(db_url: str, workdir: Path, *, workers: int = 1, timeout_s: float = 90.0):
    """Run `sobriete serve --workers N` until the block ends; yields (base URL, pid of the
    supervising process, whose children are the workers). The scheduler is off
    (no daily job may start during a measurement) and cookies are allowed over plain HTTP on
    loopback; everything else is the default configuration, access logs included (to a
    file)."""
    port = free_port()
    env = dict(os.environ, SOBRIETE_SCHEDULER="false", SOBRIETE_COOKIE_SECURE="false",
               SOBRIETE_PUBLIC_URL=f"http://127.0.0.1:{port}")
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([*_sobriete(), "serve", "--db", db_url, "--port", str(port),
                             "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sobriete serve exited ({proc.returncode}); see "
                                   f"{workdir / 'server.log'}")
            try:
                # every worker must be up: one that is still starting gets no connection,
                # and the others would carry its share for the whole measurement
                if (httpx.get(f"{url}/health", timeout=2).status_code == 200
                        and _started(workdir / "server.log") >= workers):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sobriete serve not healthy after {timeout_s} s")
            time.sleep(0.3)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
