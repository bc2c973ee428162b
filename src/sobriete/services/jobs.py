"""Long work off the request: imports of big files and the daily analysis run in a small
thread pool of this process, and report their progress.

Jobs live in memory: a restart forgets them (the store keeps what they wrote: import batches,
diagnosis runs, building status). Two workers at most, so a 5,000-building analysis does not
starve the web requests of CPU and database connections.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sobriete.domain.errors import SobrieteError
from sobriete.services.store import Store

log = logging.getLogger("sobriete.jobs")
Progress = Callable[[int, int, str], None]
STATES = ("queued", "running", "done", "failed")


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


class JobRegistry:
    """``submit`` work, then ``get`` its state. The newest ``keep`` jobs are remembered."""

    def __init__(self, workers: int = 2, keep: int = 500) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sobriete-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def submit(self, kind: str, owner_account_id: int | None,
               fn: Callable[[Progress], Any], label: str = "") -> str:
        job = Job(uuid.uuid4().hex, kind, label or kind, owner_account_id)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].state in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, fn)
        return job.id

    def _run(self, job: Job, fn: Callable[[Progress], Any]) -> None:
        def progress(done: int, total: int, message: str = "") -> None:
            with self._lock:
                job.done, job.total, job.message = done, total, message

        with self._lock:
            job.state, job.started_at = "running", datetime.now(UTC)
        try:
            result = fn(progress)
        except Exception as exc:  # noqa: BLE001 — the job reports it; the worker lives on
            kind = "" if isinstance(exc, SobrieteError) else f"{type(exc).__name__}: "
            with self._lock:
                job.state, job.error = "failed", f"{kind}{exc}"
                job.finished_at = datetime.now(UTC)
            log.warning("job failed", extra={"job": job.id, "kind": job.kind,
                                             "error": job.error})
            return
        with self._lock:
            job.state, job.result, job.finished_at = "done", result, datetime.now(UTC)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else Job(**job.__dict__)  # a snapshot

    def list(self, owner_account_id: int | None = None) -> list[Job]:
        """Jobs of one owner (all when None), newest first."""
        with self._lock:
            return [Job(**j.__dict__) for j in reversed(self._jobs.values())
                    if owner_account_id is None or j.owner == owner_account_id]

    def wait(self, job_id: str, timeout_s: float = 60.0) -> Job | None:
        """Block until the job ends (tests, the CLI)."""
        import time
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job is None or job.state in ("done", "failed"):
                return job
            time.sleep(0.02)
        return self.get(job_id)

    def shutdown(self, wait: bool = False) -> None:
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
