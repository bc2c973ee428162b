"""Savings for every fitted meter of a baseline run, over a reporting period."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import select

from sobriete.analytics.conversions import co2_kg, cost_eur
from sobriete.analytics.mv.savings import avoided_energy
from sobriete.domain.errors import SobrieteError
from sobriete.services.executors import Executor, default_executor
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import MeterRef, load_frames, meter_refs
from sobriete.services.mv_run import _worker_store, load_model, settings_doc
from sobriete.services.store import Store
from sobriete.services.store import schema as S


@dataclass(frozen=True)
class SavingsSettings:
    reporting_start: date
    reporting_end: date  # exclusive
    confidence: float = 0.90
    detect_events: bool = True


@dataclass(frozen=True)
class _Task:
    fit_id: int
    ref: MeterRef
    frequency: str
    model_json: str
    result_json: str


def savings_one(url: str, settings: SavingsSettings, run_id: int, task: _Task) -> dict:
    """Savings of one meter (runs in a worker). Never raises."""
    try:
        model = load_model(task.model_json, task.result_json)
        with _worker_store(url).read() as conn:
            frame, _ = load_frames(conn, task.ref, settings.reporting_start,
                                   settings.reporting_end, task.frequency, run=run_id)
        result = avoided_energy(
            model, frame, confidence=settings.confidence,
            detect_events=settings.detect_events and task.frequency != "billing")
        doc = result.to_dict()
        # Savings in CO2 and EUR, each with the dated factor behind it.
        doc["co2_kg"] = co2_kg(result.savings_kwh, task.ref.subkind).to_dict()
        doc["cost_eur"] = cost_eur(result.savings_kwh, task.ref.subkind).to_dict()
        return {"fit_id": task.fit_id, "series_id": task.ref.series_id, "status": "ok",
                "savings_kwh": doc["savings_kwh"], "uncertainty_kwh": doc["uncertainty_kwh"],
                "result_json": json.dumps(doc, allow_nan=False)}
    except Exception as exc:  # noqa: BLE001 — recorded, the portfolio goes on
        return {"fit_id": task.fit_id, "series_id": task.ref.series_id, "status": "failed",
                "savings_kwh": None, "uncertainty_kwh": None,
                "result_json": json.dumps({"error": f"{type(exc).__name__}: {exc}"})}


def compute_savings(
    store: Store,
    fit_run: int,
    settings: SavingsSettings,
    *,
    weather: str | dict[str, str] | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Savings of every successful fit of ``fit_run``; returns the savings run id."""
    with measured("savings", store) as fp:
        run_id, tasks = _open_run(store, fit_run, settings, weather)
        url = store.engine.url.render_as_string(hide_password=False)
        done = failed = 0
        for res in (executor or default_executor()).map_unordered(
                partial(savings_one, url, settings, run_id), tasks):
            with store.engine.begin() as conn:
                conn.execute(S.savings_result.insert().values(
                    run_id=run_id, fit_id=res["fit_id"], series_id=res["series_id"],
                    reporting_start=settings.reporting_start,
                    reporting_end=settings.reporting_end, savings_kwh=res["savings_kwh"],
                    uncertainty_kwh=res["uncertainty_kwh"], result_json=res["result_json"],
                    created_at=datetime.now(UTC)))
            done += 1
            failed += res["status"] == "failed"
            progress(done, len(tasks))
        with store.engine.begin() as conn:
            conn.execute(S.mv_run.update().where(S.mv_run.c.id == run_id).values(
                status="done", finished_at=datetime.now(UTC), n_done=done, n_failed=failed))
        fp.details.update(run_id=run_id, meters=len(tasks), failed=failed)
    return run_id


def _open_run(store: Store, fit_run: int, settings: SavingsSettings, weather):
    with store.engine.begin() as conn:
        fits = conn.execute(select(S.baseline_fit).where(
            S.baseline_fit.c.run_id == fit_run, S.baseline_fit.c.status == "ok")).mappings().all()
        if not fits:
            raise SobrieteError(f"baseline-fit run #{fit_run} has no successful fit")
        refs = {r.series_id: r for r in meter_refs(conn, weather)}
        tasks = [_Task(f["id"], refs[f["series_id"]], f["frequency"], f["model_json"],
                       f["result_json"]) for f in fits if f["series_id"] in refs]
        run_id = conn.execute(S.mv_run.insert().values(
            kind="savings", started_at=datetime.now(UTC), status="running",
            settings_json=json.dumps({"fit_run": fit_run, **settings_doc(settings)}),
            n_tasks=len(tasks), n_done=0, n_failed=0)).inserted_primary_key[0]
    return run_id, tasks
