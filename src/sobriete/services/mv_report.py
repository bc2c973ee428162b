"""Views of a savings run for people: per meter, the stored numbers and the figures that
show them (metered vs baseline with the band and events, CUSUM, energy signature).

The figures are drawn from the stored model re-run on the stored data with the run's own
settings (deterministic), so plot and table come from the same computation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import select

from sobriete.analytics.mv.base import ENERGY, PREDICTED
from sobriete.analytics.mv.events import cusum
from sobriete.analytics.mv.savings import avoided_energy
from sobriete.reporting import mv_plots as P
from sobriete.services.mv_inputs import load_frames, meter_refs
from sobriete.services.mv_run import load_model
from sobriete.services.store import Store
from sobriete.services.store import schema as S


@dataclass
class MeterSavingsView:
    key: str
    model: str
    frequency: str
    result: dict  # SavingsResult.to_dict() as stored
    fit: dict  # FitResult as stored
    plot_png: bytes | None
    cusum_png: bytes | None
    signature_png: bytes | None


def latest_savings_run(store: Store) -> int | None:
    with store.read() as conn:
        return conn.execute(select(S.mv_run.c.id).where(
            S.mv_run.c.kind == "savings", S.mv_run.c.status == "done")
            .order_by(S.mv_run.c.id.desc()).limit(1)).scalar_one_or_none()


def savings_views(store: Store, run_id: int, *, weather=None, lang: str = "fr"
                  ) -> list[MeterSavingsView]:
    with store.read() as conn:
        run = conn.execute(select(S.mv_run).where(S.mv_run.c.id == run_id)).mappings().one()
        settings = json.loads(run["settings_json"])
        rows = conn.execute(
            select(S.series.c.key, S.savings_result.c.result_json.label("savings_json"),
                   S.baseline_fit)
            .join(S.savings_result, S.savings_result.c.series_id == S.series.c.id)
            .join(S.baseline_fit, S.baseline_fit.c.id == S.savings_result.c.fit_id)
            .where(S.savings_result.c.run_id == run_id).order_by(S.series.c.key)
        ).mappings().all()
        refs = {r.series_id: r for r in meter_refs(conn, weather)}
        return [_view(conn, r, refs[r["series_id"]], settings, lang) for r in rows
                if r["series_id"] in refs]


def _view(conn, row, ref, settings: dict, lang: str) -> MeterSavingsView:
    doc = json.loads(row["savings_json"])
    fit = json.loads(row["result_json"]) if row["result_json"] else {}
    if "error" in doc or row["model_json"] is None:
        return MeterSavingsView(row["key"], row["model"] or "—", row["frequency"] or "—", doc,
                                fit, None, None, None)
    model = load_model(row["model_json"], row["result_json"])
    freq = row["frequency"]
    base, _ = load_frames(conn, ref, row["baseline_start"], row["baseline_end"], freq)
    start = date.fromisoformat(settings["reporting_start"])
    end = date.fromisoformat(settings["reporting_end"])
    rep, _ = load_frames(conn, ref, start, end, freq)
    result = avoided_energy(model, rep, confidence=settings["confidence"],
                            detect_events=settings["detect_events"] and freq != "billing")
    frames = pd.concat([base, rep])
    pred = model.predict(frames)
    plot = P.baseline_vs_actual_png(frames[ENERGY], pred[PREDICTED], result=result,
                                    reporting_start=rep.index.min(), meter=row["key"],
                                    lang=lang)
    rep_pred = pred[PREDICTED].reindex(rep.index)
    cus = P.cusum_png(cusum(rep[ENERGY], rep_pred), meter=row["key"], source=result,
                      lang=lang) if freq != "billing" else None
    sig = (P.energy_signature_png(base, model, meter=row["key"], lang=lang)
           if freq == "daily" else None)
    return MeterSavingsView(row["key"], row["model"], freq, doc, fit, plot, cus, sig)
