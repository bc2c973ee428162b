"""Baselines and savings of one building as the API shows them: the stored M&V results
(``mv_run``, ``baseline_fit``, ``savings_result``) with the run settings and the model
documents behind each number, newest run first. Nothing is recomputed here."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Connection, select

from sobriete.services.store import schema as S


def finite(doc: Any) -> Any:
    """``doc`` with NaN and infinities as None: stored model documents may hold them (an
    undefined metric), JSON may not."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: finite(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [finite(v) for v in doc]
    return doc


def _doc(text: str | None) -> dict | None:
    return None if not text else finite(json.loads(text))


def baselines(conn: Connection, building_id: int) -> list[dict]:
    f, r, s = S.baseline_fit.c, S.mv_run.c, S.series.c
    q = (select(f.id, f.run_id, s.key, s.quantity, f.status, f.model, f.model_version,
                f.frequency, f.baseline_start, f.baseline_end, f.result_json, f.disqualified,
                f.error, f.created_at, r.settings_json, r.status.label("run_status"))
         .join(S.series, s.id == f.series_id).join(S.mv_run, r.id == f.run_id)
         .where(s.building_id == building_id).order_by(f.run_id.desc(), s.key))
    return [{
        "fit_id": x["id"], "run_id": x["run_id"], "run_status": x["run_status"],
        "series_key": x["key"], "quantity": x["quantity"], "status": x["status"],
        "model": x["model"], "model_version": x["model_version"],
        "frequency": x["frequency"], "baseline_start": x["baseline_start"],
        "baseline_end": x["baseline_end"],
        "disqualified": None if x["disqualified"] is None else bool(x["disqualified"]),
        "error": x["error"], "created_at": x["created_at"],
        "settings": _doc(x["settings_json"]) or {}, "result": _doc(x["result_json"]),
    } for x in conn.execute(q).mappings()]


def savings(conn: Connection, building_id: int) -> list[dict]:
    v, f, r, s = S.savings_result.c, S.baseline_fit.c, S.mv_run.c, S.series.c
    q = (select(v.id, v.run_id, v.fit_id, s.key, s.quantity, v.reporting_start,
                v.reporting_end, v.savings_kwh, v.uncertainty_kwh, v.result_json,
                v.created_at, f.model, f.baseline_start, f.baseline_end, r.settings_json)
         .join(S.series, s.id == v.series_id).join(S.baseline_fit, f.id == v.fit_id)
         .join(S.mv_run, r.id == v.run_id)
         .where(s.building_id == building_id).order_by(v.run_id.desc(), s.key))
    return [{
        "savings_id": x["id"], "run_id": x["run_id"], "fit_id": x["fit_id"],
        "series_key": x["key"], "quantity": x["quantity"],
        "reporting_start": x["reporting_start"], "reporting_end": x["reporting_end"],
        "savings_kwh": finite(x["savings_kwh"]), "uncertainty_kwh": finite(x["uncertainty_kwh"]),
        "model": x["model"], "baseline_start": x["baseline_start"],
        "baseline_end": x["baseline_end"], "created_at": x["created_at"],
        "settings": _doc(x["settings_json"]) or {}, "result": _doc(x["result_json"]) or {},
    } for x in conn.execute(q).mappings()]
