"""The platform's own computing footprint (``job_footprint``) against the savings it measured
(``savings_result``), as one principal may see them.

A job row whose details name a building (plans, control runs), a meter (settlements) or a
commune (capacity of one commune) counts for whoever may read that building or commune; any
other row (imports, fits, portfolio-wide runs) is portfolio-wide and counts only for a
principal with a portfolio-level read grant. Savings are those of the latest M&V run of each
series of a building in view, so that a series re-computed is not counted twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from sobriete.domain.access import ALLOWED, Action, Principal, ScopeLevel
from sobriete.domain.factors import CO2_KG_PER_KWH
from sobriete.services.scoped import building_refs, scope_clause
from sobriete.services.store import Store
from sobriete.services.store import schema as S


def _attribution(details: dict, codes: set[str], meter_of: dict[str, str],
                 communes: set[str], territories: set[str], portfolio: bool) -> bool:
    if details.get("building"):
        return details["building"] in codes
    if details.get("meter"):
        return meter_of.get(details["meter"]) in codes
    if details.get("commune"):
        return portfolio or details["commune"] in communes
    if details.get("territory"):
        return portfolio or details["territory"] in territories
    return portfolio


def _add(out: dict[str, dict], job: str, method: str, n: int, n_failed: int, wall: float,
         cpu: float, wh: float, co2_g: float) -> None:
    kind = job.split(":", 1)[0]
    agg = out.setdefault(kind, {"job": kind, "n_jobs": 0, "n_failed": 0, "wall_s": 0.0,
                                "cpu_s": 0.0, "energy_kwh": 0.0, "co2_kgco2e": 0.0,
                                "methods": set()})
    agg["n_jobs"] += n
    agg["n_failed"] += n_failed
    agg["wall_s"] += wall
    agg["cpu_s"] += cpu
    agg["energy_kwh"] += wh / 1000
    agg["co2_kgco2e"] += co2_g / 1000
    agg["methods"].add(method.split(";")[0].split(":")[0])


def _all_jobs(conn, since, until) -> dict[str, dict]:
    """Every job, summed in SQL: the ledger grows with every run, nothing to attribute."""
    f = S.job_footprint.c
    failed = func.sum(case((f.details_json.like('%"failed":%'), 1), else_=0))
    q = (select(f.job, f.method, func.count(), failed, func.sum(f.wall_s), func.sum(f.cpu_s),
                func.sum(f.energy_wh), func.sum(f.co2_g)).group_by(f.job, f.method))
    if since is not None:
        q = q.where(f.started_at >= since)
    if until is not None:
        q = q.where(f.started_at < until)
    out: dict[str, dict] = {}
    for job, method, n, nf, wall, cpu, wh, co2 in conn.execute(q):
        _add(out, job, method, int(n), int(nf or 0), float(wall), float(cpu), float(wh),
             float(co2))
    for agg in out.values():
        agg["methods"] = sorted(agg["methods"])
    return out


def _jobs(conn, codes, communes, territories, portfolio, since, until) -> dict[str, dict]:
    if portfolio:
        return _all_jobs(conn, since, until)
    f = S.job_footprint.c
    q = select(f.job, f.wall_s, f.cpu_s, f.energy_wh, f.co2_g, f.method, f.details_json)
    if since is not None:
        q = q.where(f.started_at >= since)
    if until is not None:
        q = q.where(f.started_at < until)
    s, b = S.series.c, S.building.c
    meter_of = {k: c for k, c in conn.execute(
        select(s.key, b.code).select_from(S.series.join(S.building, s.building_id == b.id))
        .where(s.kind == "meter"))} if codes else {}
    out: dict[str, dict] = {}
    for job, wall, cpu, wh, co2, method, dj in conn.execute(q):
        details = json.loads(dj) if dj else {}
        if not _attribution(details, codes, meter_of, communes, territories, portfolio):
            continue
        _add(out, job, method, 1, 1 if details.get("failed") else 0, wall, cpu, wh, co2)
    for agg in out.values():
        agg["methods"] = sorted(agg["methods"])
    return out


def _savings(conn, clause) -> dict[str, dict]:
    """kWh saved per energy (series subkind), latest run of each series in view."""
    r, s = S.savings_result.c, S.series.c
    latest = (select(r.series_id, func.max(r.run_id).label("run_id"))
              .group_by(r.series_id).subquery())
    b = S.building.c
    j = (S.savings_result
         .join(latest, (latest.c.series_id == r.series_id) & (latest.c.run_id == r.run_id))
         .join(S.series, s.id == r.series_id).join(S.building, s.building_id == b.id)
         .join(S.site, b.site_id == S.site.c.id)
         .join(S.commune, S.site.c.commune_id == S.commune.c.id)
         .join(S.territory, S.commune.c.territory_id == S.territory.c.id))
    q = (select(s.subkind, func.count(func.distinct(r.series_id)),
                func.coalesce(func.sum(r.savings_kwh), 0.0))
         .select_from(j).where(r.savings_kwh.is_not(None)).group_by(s.subkind))
    if clause is not None:
        q = q.where(clause)
    out = {}
    for sub, n, kwh in conn.execute(q):
        factor = CO2_KG_PER_KWH.get(sub or "")
        out[sub or "unknown"] = {
            "energy": sub or "unknown", "n_series": n, "savings_kwh": float(kwh),
            "co2_avoided_kgco2e": None if factor is None else float(kwh) * factor.value,
            "co2_factor_source": None if factor is None else factor.source}
    return out


def footprint_view(store: Store, who: Principal, *, since: datetime | None = None,
                   until: datetime | None = None) -> dict[str, Any]:
    clause = scope_clause(who, Action.READ)
    portfolio = clause is None
    with store.read() as conn:
        refs = building_refs(conn, who, Action.READ)
        codes = {r.code for r in refs}
        communes = {r.commune_code for r in refs}
        territories = {g.scope.code for g in who.grants if g.scope.level is ScopeLevel.TERRITORY
                       and Action.READ in ALLOWED[g.role]}
        jobs = _jobs(conn, codes, communes, territories, portfolio, since, until)
        savings = _savings(conn, clause) if codes else {}
    kwh = sum(j["energy_kwh"] for j in jobs.values())
    co2 = sum(j["co2_kgco2e"] for j in jobs.values())
    saved = sum(x["savings_kwh"] for x in savings.values())
    avoided = [x["co2_avoided_kgco2e"] for x in savings.values()
               if x["co2_avoided_kgco2e"] is not None]
    avoided_kg = sum(avoided) if avoided else None
    return {
        "scope": "portfolio" if portfolio else "buildings_in_view",
        "n_buildings_in_view": len(codes),
        "jobs": sorted(jobs.values(), key=lambda j: -j["energy_kwh"]),
        "computing_kwh": kwh, "computing_kgco2e": co2,
        "cpu_s": sum(j["cpu_s"] for j in jobs.values()),
        "savings": sorted(savings.values(), key=lambda x: x["energy"]),
        "savings_kwh": saved, "co2_avoided_kgco2e": avoided_kg,
        "computing_per_saved_pct": 100 * kwh / saved if saved > 0 else None,
        "co2_computing_per_avoided_pct": (100 * co2 / avoided_kg
                                          if avoided_kg and avoided_kg > 0 else None),
    }
