"""The portfolio runner: fit a baseline for every meter of a portfolio, then measure savings.

Work goes to an ``Executor`` (a process pool by default); each worker opens the store
itself and loads only its meter, so nothing large crosses processes. Results are written by
the parent, one short transaction each, as they arrive: an interrupted run keeps what it
finished, and ``resume`` does only what is missing. Every run is measured in the ledger.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import lru_cache, partial

from sqlalchemy import select, update

from sobriete.analytics.mv.base import BaselineModel, FitResult
from sobriete.analytics.mv.billing import BillingModel
from sobriete.analytics.mv.changepoint import ChangePointModel
from sobriete.analytics.mv.hourly import HourlyModel
from sobriete.analytics.mv.sufficiency import baseline_sufficiency
from sobriete.domain.errors import SobrieteError
from sobriete.services.executors import Executor, default_executor
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import MeterRef, choose_frequency, load_frames, meter_refs
from sobriete.services.store import Store, open_store
from sobriete.services.store import schema as S

MODELS: dict[str, type[BaselineModel]] = {
    "hourly": HourlyModel, "daily": ChangePointModel, "billing": BillingModel,
}
BY_NAME = {m.name: m for m in MODELS.values()}


@dataclass(frozen=True)
class FitSettings:
    baseline_start: date  # first local date of the baseline
    baseline_end: date  # day after the last one
    frequency: str = "auto"  # auto | hourly | daily | billing


@dataclass
class RunSummary:
    run_id: int
    n_tasks: int
    n_done: int
    n_failed: int
    seconds: float


@lru_cache(maxsize=4)
def _worker_store(url: str) -> Store:
    return open_store(url, migrate=False)


def fit_one(url: str, settings: FitSettings, run_id: int, ref: MeterRef) -> dict:
    """Fit one meter (runs in a worker). Never raises: a failure is a result too."""
    t0 = time.perf_counter()
    try:
        freq = choose_frequency(ref.step_s, settings.frequency, ref.subkind)
        with _worker_store(url).read() as conn:
            frame, cal_warnings = load_frames(conn, ref, settings.baseline_start,
                                              settings.baseline_end, freq, run=run_id)
        model = MODELS[freq]()
        fit = model.fit(frame)
        if freq == "daily":
            fit.warnings.extend(baseline_sufficiency(
                frame, fuel=ref.subkind or "electricity",
                start=settings.baseline_start, end=settings.baseline_end))
        doc = fit.to_json()
        doc["calendar_warnings"] = list(cal_warnings)
        return {"series_id": ref.series_id, "status": "ok", "model": model.name,
                "model_version": model.version, "frequency": freq,
                "model_json": json.dumps(model.to_json()), "result_json": json.dumps(doc),
                "disqualified": int(fit.disqualified), "error": None,
                "seconds": time.perf_counter() - t0}
    except Exception as exc:  # noqa: BLE001 — one bad meter must not stop a portfolio
        return {"series_id": ref.series_id, "status": "failed", "model": None,
                "model_version": None, "frequency": settings.frequency, "model_json": None,
                "result_json": None, "disqualified": None,
                "error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}


def fit_portfolio(
    store: Store,
    settings: FitSettings,
    *,
    weather: str | dict[str, str] | None = None,
    keys: list[str] | None = None,
    executor: Executor | None = None,
    resume: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RunSummary:
    """Fit every meter (or ``keys``); ``resume=RUN_ID`` finishes an interrupted run."""
    if settings.baseline_end <= settings.baseline_start:
        raise SobrieteError("the baseline must end after it starts")
    t0 = time.perf_counter()
    with measured("baseline fit", store) as fp:
        with store.read() as conn:
            refs = meter_refs(conn, weather, keys)
        run_id, done_ids = _open_run(store, settings, len(refs), resume)
        todo = [r for r in refs if r.series_id not in done_ids]
        url = store.engine.url.render_as_string(hide_password=False)
        n_done, n_failed = len(done_ids), 0
        progress(n_done, len(refs))
        for res in (executor or default_executor()).map_unordered(
                partial(fit_one, url, settings, run_id), todo):
            _save_fit(store, run_id, settings, res)
            n_done += 1
            n_failed += res["status"] == "failed"
            progress(n_done, len(refs))
        _close_run(store, run_id, n_done, n_failed)
        fp.details.update(run_id=run_id, meters=len(todo))
    return RunSummary(run_id, len(refs), n_done, n_failed, time.perf_counter() - t0)


def _open_run(store: Store, settings: FitSettings, n: int, resume: int | None):
    with store.engine.begin() as conn:
        if resume is not None:
            row = conn.execute(select(S.mv_run).where(S.mv_run.c.id == resume)).mappings().first()
            if row is None or row["kind"] != "fit":
                raise SobrieteError(f"no baseline-fit run #{resume} to resume")
            if json.loads(row["settings_json"]) != settings_doc(settings):
                raise SobrieteError(f"run #{resume} was started with other settings")
            done = {r[0] for r in conn.execute(
                select(S.baseline_fit.c.series_id).where(S.baseline_fit.c.run_id == resume))}
            conn.execute(update(S.mv_run).where(S.mv_run.c.id == resume)
                         .values(status="running", n_tasks=n))
            return resume, done
        run_id = conn.execute(S.mv_run.insert().values(
            kind="fit", started_at=datetime.now(UTC), status="running",
            settings_json=json.dumps(settings_doc(settings)), n_tasks=n, n_done=0,
            n_failed=0)).inserted_primary_key[0]
    return run_id, set()


def settings_doc(settings) -> dict:
    """A run's settings as stored: JSON types, dates as ISO strings."""
    return json.loads(json.dumps(asdict(settings), default=str))


def _save_fit(store: Store, run_id: int, settings: FitSettings, res: dict) -> None:
    row = {k: res[k] for k in ("series_id", "status", "model", "model_version", "frequency",
                               "model_json", "result_json", "disqualified", "error")}
    with store.engine.begin() as conn:
        conn.execute(S.baseline_fit.insert().values(
            run_id=run_id, baseline_start=settings.baseline_start,
            baseline_end=settings.baseline_end, created_at=datetime.now(UTC), **row))
        conn.execute(update(S.mv_run).where(S.mv_run.c.id == run_id).values(
            n_done=S.mv_run.c.n_done + 1,
            n_failed=S.mv_run.c.n_failed + int(res["status"] == "failed")))


def _close_run(store: Store, run_id: int, n_done: int, n_failed: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(S.mv_run).where(S.mv_run.c.id == run_id).values(
            status="done", finished_at=datetime.now(UTC), n_done=n_done, n_failed=n_failed))


def load_model(model_json: str, result_json: str | None = None) -> BaselineModel:
    """A stored model ready to predict, with its fit result (needed for uncertainty)."""
    doc = json.loads(model_json)
    model = BY_NAME[doc["model"]].from_json(doc)
    if result_json:
        fit = json.loads(result_json)
        fit.pop("calendar_warnings", None)
        model.fit_result = FitResult.from_json(fit)
    return model
