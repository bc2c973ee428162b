"""Long work off the request: imports of big files and the daily analysis run in a small
thread pool of the process that submits them, and report their progress.

Jobs are rows of the store (``job`` table): any process of the service (several web workers,
the scheduler's) reads a job another one runs, its progress, result or error, and a restart
keeps the record. The work itself is not handed over: a job queued or running in a process
that stopped never ends; once its heartbeat is older than ``STALE_AFTER`` it reads as failed,
interrupted by the restart. Two workers at most, so a 5,000-building analysis does not starve
the web requests of CPU and database connections. Progress is written at most every
``FLUSH_S`` per job (the latest values always are), so a loop reporting each of 100,000 rows
does not write 100,000 times.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from sobriete.domain.errors import SobrieteError
from sobriete.services.store import Store
from sobriete.services.store import schema as S
from sobriete.services.store.paging import one_page

log = logging.getLogger("sobriete.jobs")
Progress = Callable[[int, int, str], None]
STATES = ("queued", "running", "done", "failed")
UNFINISHED = ("queued", "running")
FLUSH_S = 0.5  # at most one progress write per job per half second
HEARTBEAT_S = 60.0  # the jobs of a live registry say so every minute, queued ones too
STALE_AFTER = timedelta(minutes=10)  # no heartbeat for that long: the process is gone
INTERRUPTED = "interrompu : le service a redémarré / interrupted: the service restarted"


@dataclass
class Job:
    id: str
    kind: str
    label: str
    owner: int | None  # account id; None: the scheduler
    state: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    result: Any = None  # JSON-able
    error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "id", "kind", "label", "owner", "state", "done", "total", "message", "result",
            "error", "created_at", "started_at", "finished_at")}


@dataclass
class _Live:
    """A job of this registry not finished yet: its latest progress, maybe not written."""

    done: int = 0
    total: int = 0
    message: str = ""
    dirty: bool = False
    flushed_at: float = float("-inf")  # time.monotonic() of the last progress write
    writing: threading.Lock = field(default_factory=threading.Lock)  # one write at a time


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _owned_by(owners: list[int | None]):
    """Jobs of these account ids, None standing for the scheduler's (no owner)."""
    owner = S.job.c.owner_account_id
    return or_(owner.in_([o for o in owners if o is not None]),
               *([owner.is_(None)] if None in owners else []))


class JobRegistry:
    """``submit`` work, then ``get`` its state, from this process or any other on the same
    store. The newest ``keep`` finished jobs are kept (older ones are deleted at submit)."""

    def __init__(self, store: Store, workers: int = 2, keep: int = 500) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sobriete-job")
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()
        self._keep = keep
        # host:pid and a nonce: a restarted container often gets the same pid again
        self.runner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    # -- writing ---------------------------------------------------------------------------

    def submit(self, kind: str, owner_account_id: int | None,
               fn: Callable[[Progress], Any], label: str = "") -> str:
        job_id, now = uuid.uuid4().hex, datetime.now(UTC)
        j = S.job.c
        with self._store.engine.begin() as conn:
            older = (select(j.id).where(self._finished(now)).order_by(j.created_at.desc())
                     .offset(self._keep))
            conn.execute(delete(S.job).where(j.id.in_(older)))
            conn.execute(insert(S.job).values(
                id=job_id, kind=kind, label=label or kind, owner_account_id=owner_account_id,
                state="queued", done=0, total=0, message="", created_at=now, heartbeat_at=now,
                runner=self.runner))
        with self._lock:
            self._live[job_id] = _Live()
            if self._keeper is None:
                self._keeper = threading.Thread(target=self._keep_alive, daemon=True,
                                                name="sobriete-job-heartbeat")
                self._keeper.start()
        self._pool.submit(self._run, job_id, kind, fn)
        return job_id

    def _finished(self, now: datetime):
        """Rows that are over: done, failed, or left unfinished by another, gone, process."""
        j = S.job.c
        return or_(j.state.in_(("done", "failed")), and_(
            j.state.in_(UNFINISHED), j.runner != self.runner,
            j.heartbeat_at < now - STALE_AFTER))

    def _write(self, job_id: str, *where, **values) -> None:
        with self._store.engine.begin() as conn:
            conn.execute(update(S.job).where(S.job.c.id == job_id, *where).values(**values))

    def _flush(self, job_id: str, live: _Live) -> None:
        """Write the latest progress of a running job (and its heartbeat), if not written."""
        if not live.writing.acquire(blocking=False):
            return  # being written by the other thread: what is left stays dirty
        try:
            with self._lock:
                if not live.dirty:
                    return
                values = {"done": live.done, "total": live.total, "message": live.message}
                live.dirty, live.flushed_at = False, time.monotonic()
            try:
                self._write(job_id, S.job.c.state == "running", **values,
                            heartbeat_at=datetime.now(UTC))
            except SQLAlchemyError as exc:  # the job goes on; the next write says it all
                log.warning("job progress not saved", extra={"job": job_id, "error": repr(exc)})
                with self._lock:
                    live.dirty = True
        finally:
            live.writing.release()

    def _keep_alive(self) -> None:
        """Write the progress a job left unwritten (throttled), and beat for every job of
        this registry not finished yet, queued ones included."""
        beat = time.monotonic()
        while not self._stop.wait(FLUSH_S):
            try:
                with self._lock:
                    live = list(self._live.items())
                for job_id, one in live:
                    if one.dirty and time.monotonic() - one.flushed_at >= FLUSH_S:
                        self._flush(job_id, one)
                if live and time.monotonic() - beat >= HEARTBEAT_S:
                    beat = time.monotonic()
                    j = S.job.c
                    with self._store.engine.begin() as conn:
                        conn.execute(update(S.job).where(
                            j.id.in_([i for i, _ in live]), j.state.in_(UNFINISHED))
                            .values(heartbeat_at=datetime.now(UTC)))
            except Exception as exc:  # noqa: BLE001 — the database may be back next time
                log.warning("job heartbeat failed", extra={"error": repr(exc)})

    def _run(self, job_id: str, kind: str, fn: Callable[[Progress], Any]) -> None:
        live = self._live[job_id]

        def progress(done: int, total: int, message: str = "") -> None:
            with self._lock:
                live.done, live.total, live.message = int(done), int(total), str(message)
                live.dirty = True
                due = time.monotonic() - live.flushed_at >= FLUSH_S
            if due:
                self._flush(job_id, live)

        try:
            now = datetime.now(UTC)
            self._write(job_id, S.job.c.state == "queued", state="running", started_at=now,
                        heartbeat_at=now)
            try:
                result = json.dumps(fn(progress), default=_json_default)
                end = {"state": "done", "result_json": result}
            except Exception as exc:  # noqa: BLE001 — the job reports it; the worker lives on
                prefix = "" if isinstance(exc, SobrieteError) else f"{type(exc).__name__}: "
                end = {"state": "failed", "error": f"{prefix}{exc}"}
                log.warning("job failed", extra={"job": job_id, "kind": kind,
                                                 "error": end["error"]})
            with live.writing:  # the final values, whatever was throttled
                with self._lock:
                    latest = {"done": live.done, "total": live.total, "message": live.message}
                    live.dirty = False
                now = datetime.now(UTC)
                self._write(job_id, **end, **latest, finished_at=now, heartbeat_at=now)
        except SQLAlchemyError as exc:
            log.error("job state not saved", extra={"job": job_id, "error": repr(exc)})
        finally:
            with self._lock:
                self._live.pop(job_id, None)

    # -- reading ---------------------------------------------------------------------------

    def _job(self, row, now: datetime) -> Job:
        state, error = row.state, row.error
        if (state in UNFINISHED and row.runner != self.runner
                and row.heartbeat_at < now - STALE_AFTER):
            state, error = "failed", INTERRUPTED
        return Job(row.id, row.kind, row.label, row.owner_account_id, state, row.done,
                   row.total, row.message,
                   None if row.result_json is None else json.loads(row.result_json), error,
                   row.created_at, row.started_at, row.finished_at)

    def get(self, job_id: str) -> Job | None:
        with self._store.read() as conn:
            row = conn.execute(select(S.job).where(S.job.c.id == job_id)).first()
        return None if row is None else self._job(row, datetime.now(UTC))

    def list(self, owner_account_id: int | None = None) -> list[Job]:
        """Jobs of one owner (all when None), newest first."""
        return self.page(None if owner_account_id is None else [owner_account_id])[1]

    def page(self, owners: list[int | None] | None = None, limit: int | None = None,
             offset: int = 0) -> tuple[int, list[Job]]:
        """(how many, one page newest first) of the jobs of ``owners`` (an account id, or
        None for the scheduler's jobs, which have no owner); every job when ``owners`` is
        None. Filtered and paged in SQL: a job keeps its result document."""
        j = S.job.c
        where = [] if owners is None else [_owned_by(owners)]
        q = one_page(select(S.job).where(*where).order_by(j.created_at.desc(), j.id),
                     limit, offset)
        with self._store.read() as conn:
            total = conn.execute(select(func.count()).select_from(S.job).where(*where)
                                 ).scalar_one()
            rows = conn.execute(q).all()
        now = datetime.now(UTC)
        return total, [self._job(r, now) for r in rows]

    def newest(self, kind: str, owner_account_id: int | None = None) -> datetime | None:
        """When the newest kept job of ``kind`` of that owner (None: the scheduler's) was
        created; None when there is none."""
        j = S.job.c
        with self._store.read() as conn:
            return conn.execute(select(func.max(j.created_at)).where(
                j.kind == kind, _owned_by([owner_account_id]))).scalar_one()

    def wait(self, job_id: str, timeout_s: float = 60.0) -> Job | None:
        """Block until the job ends (tests, the CLI)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job is None or job.state in ("done", "failed"):
                return job
            time.sleep(0.02)
        return self.get(job_id)

    def shutdown(self, wait: bool = False) -> None:
        self._stop.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)


# -- the job functions ---------------------------------------------------------------------

def import_job(store: Store, path: str | Path | list, fmt: str, options: dict | None = None,
               progress: Progress | None = None) -> dict:
    """Import one file (or several, in order) with ``services.imports.import_file``; a
    rejected file raises (the job fails with the typed error, the store is unchanged for it)."""
    from sobriete.services.imports import import_file

    paths = [Path(p) for p in (path if isinstance(path, list) else [path])]
    progress = progress or (lambda d, t, m="": None)
    out = []
    for i, p in enumerate(paths):
        progress(i, len(paths), f"import de {p.name}")
        o = import_file(store, p, fmt, **(options or {}))
        out.append({"file": p.name, "format": o.format, "batch_id": o.batch_id,
                    "status": o.status, "rows_in": o.counts.rows_in,
                    "rows_new": o.counts.rows_new, "rows_unchanged": o.counts.rows_unchanged,
                    "rows_revised": o.counts.rows_revised, "warnings": list(o.warnings)})
    progress(len(paths), len(paths), "import terminé")
    return {"files": out}


STEPS = ("diagnosis", "status", "alerts")


def analysis_job(store: Store, settings=None, progress: Progress | None = None,
                 steps: tuple[str, ...] | list[str] = STEPS) -> dict:
    """The daily analysis: diagnosis of every series, the portfolio status of every building,
    then the immediate alerts (``alerts`` needs ``settings``); ``steps`` picks some."""
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise SobrieteError(f"unknown analysis step {unknown}: known {', '.join(STEPS)}")
    progress = progress or (lambda d, t, m="": None)
    result: dict[str, Any] = {"steps": [x for x in STEPS if x in steps]}
    # Three stages on one bar: diagnosis 0-60 %, status 60-90 %, alerts 90-100 %.
    progress(0, 100, "analyse")
    if "diagnosis" in steps:
        from sobriete.services.diagnose_run import diagnose
        d = diagnose(store, progress=lambda done, total: progress(
            int(60 * done / total) if total else 60, 100, f"diagnostic {done}/{total} séries"))
        result["diagnosis"] = {
            "run_id": d.run_id, "series": d.n_series, "failed": d.n_failed,
            "findings": len(d.findings), "new": d.new, "errors": dict(d.errors)}
    if "status" in steps:
        from sobriete.services import portfolio_status
        counts = portfolio_status.refresh(
            store, tertiaire_reference=settings.tertiaire_reference_year if settings else None,
            progress=lambda done, total, _m="": progress(
                60 + (int(30 * done / total) if total else 30), 100,
                f"état {done}/{total} bâtiments"))
        result["status"] = {"buildings": counts.buildings, "by_status": counts.by_status,
                            "errors": dict(counts.errors)}
    if "alerts" in steps and settings is not None:
        from sobriete.services.alerts import send_immediate
        progress(90, 100, "alertes")
        result["alerts"] = send_immediate(store, settings).as_dict()
    progress(100, 100, "analyse terminée")
    return result
