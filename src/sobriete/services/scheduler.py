"""The clock of `sobriete serve`: APScheduler 3 in the settings' time zone (Europe/Paris).

===================  ===============================  ===========================================
job id               when                             what
===================  ===============================  ===========================================
daily_analysis       every day at daily_analysis_at   diagnosis, portfolio status, alerts (a job)
alert_digest         every day at digest_at           the daily digest e-mails
immediate_alerts     every 15 min                     immediate e-mails
folder_ingest        every 5 min (with ingest_dir)    import the files dropped in ingest_dir
control_advise       every 15 min (control_buildings) one step of the control loop per building
===================  ===============================  ===========================================

A daily analysis missed while the service was down (its time fell after the newest analysis
the scheduler started, and before the service started again) runs at start. Not the digest:
the day's alerts then go out in the next one.

The control loop runs here in advise mode only, to the dry-run driver: each step's decision
and its explanation are recorded (audit trail, dashboard), nothing is sent to any heating.
Acting on heating needs an explicit ``sobriete control run --mode automatic --apply``.

Folder ingest: a file goes in ``<ingest_dir>/<format>/`` (``enedis``, ``meter-csv``,
``registry``, ... : the formats of ``services.imports``; reader options, if any, in
``<format>/options.json``). Imported, it moves to ``done/<format>/``; refused, to
``failed/<format>/`` with ``<name>.error.txt`` beside it (the typed error). A file that fails
for another reason (database down) stays where it is and is tried again. Files younger than
``min_age_s`` may still be being copied and wait for the next pass.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined
from sqlalchemy.exc import SQLAlchemyError

from sobriete.control.drivers import DryRunDriver
from sobriete.control.interface import Mode
from sobriete.domain.errors import SobrieteError
from sobriete.services.alerts import send_digest, send_immediate
from sobriete.services.control_run import RunOptions, run_on_store
from sobriete.services.jobs import JobRegistry, analysis_job
from sobriete.services.store import Store

log = logging.getLogger("sobriete.scheduler")
SKIPPED_SUFFIXES = (".part", ".tmp", ".crdownload", ".error.txt")


def _at(hhmm: str) -> dict[str, int]:
    h, m = hhmm.split(":")
    return {"hour": int(h), "minute": int(m)}


def _daily(hhmm: str, tz: ZoneInfo) -> CronTrigger:
    return CronTrigger(**_at(hhmm), timezone=tz)


def missed(last: datetime | None, hhmm: str, tz: ZoneInfo, now: datetime) -> bool:
    """Whether the daily trigger at ``hhmm`` (local) fired after ``last`` (the newest run the
    scheduler started, a moment after its own firing) and by ``now``. Never when it has not
    run yet: a new store has nothing to catch up."""
    if last is None:
        return False
    due = _daily(hhmm, tz).get_next_fire_time(None, last + timedelta(seconds=1))
    return due is not None and due <= now


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name`` with a numeric suffix when a file of that name is there."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return target


def ingest_folder(store: Store, folder: str | Path, *, min_age_s: float = 30.0) -> dict:
    """One pass over ``folder`` (see the module docstring); returns what happened per file."""
    from sobriete.services.imports import FORMATS, import_file

    root = Path(folder)
    report: dict = {"imported": [], "failed": [], "kept": [], "ignored": []}
    if not root.is_dir():
        report["ignored"].append(f"{root}: not a folder")
        return report
    for f in sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")):
        report["ignored"].append(f"{f.name}: put it in a folder named after its format "
                                 f"({', '.join(sorted(FORMATS))})")
    for fmt in sorted(FORMATS):
        sub = root / fmt
        if not sub.is_dir():
            continue
        options_file = sub / "options.json"
        try:
            options = json.loads(options_file.read_text("utf-8")) if options_file.exists() else {}
        except (OSError, json.JSONDecodeError) as exc:
            report["kept"].append({"file": str(options_file), "error": str(exc)})
            continue
        for f in sorted(sub.iterdir()):
            if (not f.is_file() or f.name.startswith(".") or f == options_file
                    or f.name.endswith(SKIPPED_SUFFIXES)
                    or time.time() - f.stat().st_mtime < min_age_s):
                continue
            try:
                out = import_file(store, f, fmt, **options)
            except SobrieteError as exc:
                target = _free_name(root / "failed" / fmt, f.name)
                shutil.move(f, target)
                target.with_name(target.name + ".error.txt").write_text(
                    f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
                report["failed"].append({"file": f.name, "format": fmt, "moved_to": str(target),
                                         "error": f"{type(exc).__name__}: {exc}"})
                continue
            except Exception as exc:  # noqa: BLE001 — not the file's fault: keep it, retry
                log.error("folder ingest failed", extra={"file": str(f), "error": repr(exc)})
                report["kept"].append({"file": f.name, "format": fmt, "error": repr(exc)})
                continue
            target = _free_name(root / "done" / fmt, f.name)
            shutil.move(f, target)
            report["imported"].append({"file": f.name, "format": fmt, "batch_id": out.batch_id,
                                       "rows_new": out.counts.rows_new,
                                       "moved_to": str(target)})
    if report["imported"] or report["failed"]:
        log.info("folder ingest", extra={"imported": len(report["imported"]),
                                         "failed": len(report["failed"])})
    return report


def control_advise(store: Store, buildings: list[str], *, at: datetime | None = None
                   ) -> dict[str, str]:
    """One advise-mode step of the control loop for each building (``at``: a stored time
    instead of now), to the dry-run driver. building -> decision id, or the reason it was
    refused (a building's error never stops the others)."""
    out = {}
    for code in buildings:
        try:
            res = run_on_store(store, code, None, DryRunDriver(),
                               RunOptions(mode=Mode.ADVISE, steps=1, at=at))
            out[code] = f"decision {res.steps[-1].decision_id}"
        except SobrieteError as exc:
            log.warning("control step refused", extra={"building": code, "error": str(exc)})
            out[code] = str(exc)
    return out


def _logged(name: str, fn):
    """A scheduled call that logs its failure instead of losing it in a thread."""
    def run():
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            log.error("scheduled job failed", extra={"job": name, "error": repr(exc)})
            return None
    return run


def start(store: Store, settings, jobs: JobRegistry, *, paused: bool = False,
          ) -> BackgroundScheduler:
    """Register the jobs of the table above and start the scheduler (``paused``: registered
    but not running, for tests that read the triggers)."""
    tz = ZoneInfo(settings.timezone)
    sched = BackgroundScheduler(timezone=tz, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})

    def analysis():
        return jobs.submit("analysis", None, lambda p: analysis_job(store, settings, p),
                           "analyse quotidienne")

    try:
        last = jobs.newest("analysis")
    except SQLAlchemyError as exc:  # a store behind the code: /health says so, serve anyway
        log.warning("last daily analysis unknown: none caught up", extra={"error": str(exc)})
        last = None
    late = missed(last, settings.daily_analysis_at, tz, datetime.now(tz))
    if late:
        log.warning("daily analysis missed while the service was down: running it now")
    sched.add_job(_logged("daily_analysis", analysis), _daily(settings.daily_analysis_at, tz),
                  id="daily_analysis", name="analyse quotidienne (diagnostic, état du parc, "
                  "alertes)", next_run_time=datetime.now(tz) if late else undefined)
    sched.add_job(_logged("alert_digest", lambda: send_digest(store, settings)),
                  _daily(settings.digest_at, tz), id="alert_digest",
                  name="résumé quotidien des alertes")
    sched.add_job(_logged("immediate_alerts", lambda: send_immediate(store, settings)),
                  IntervalTrigger(minutes=15, timezone=tz), id="immediate_alerts",
                  name="alertes immédiates")
    if settings.ingest_dir:
        sched.add_job(_logged("folder_ingest", lambda: ingest_folder(store,
                                                                      settings.ingest_dir)),
                      IntervalTrigger(minutes=5, timezone=tz), id="folder_ingest",
                      name=f"import du dossier {settings.ingest_dir}",
                      # at start too: files dropped while the service was down wait no longer
                      next_run_time=datetime.now(tz))
    if settings.control_buildings:
        sched.add_job(_logged("control_advise", lambda: control_advise(
            store, settings.control_buildings)), IntervalTrigger(minutes=15, timezone=tz),
            id="control_advise", name="boucle de pilotage (conseil, rien n'est envoyé)")
    sched.start(paused=paused)
    log.info("scheduler started", extra={"jobs": [j.id for j in sched.get_jobs()],
                                         "at": datetime.now(UTC).isoformat()})
    return sched


def stop(scheduler: BackgroundScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)
