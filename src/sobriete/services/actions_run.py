"""Recommendations per building (the advice layer fed from the store) and action tracking:
mark an action done on a date, then measure what it really saved with the M&V engine.

Realised savings follow IPMVP option C on each meter the action acts on: a baseline fitted on
the 12 months before the done date, replayed on the months after (avoided energy, ASHRAE
Guideline 14 uncertainty). Non-routine events are not detected there: the action *is* the
change, and detection would exclude it as an event and measure nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd

from sobriete.advice import (
    AdviceSettings,
    Recommendation,
    UnknownActionError,
    get_action,
    rank,
    recommend,
)
from sobriete.analytics.conversions import co2_kg, cost_eur
from sobriete.analytics.diagnostics.base import CARRIER
from sobriete.analytics.mv.savings import avoided_energy
from sobriete.domain.errors import SobrieteError
from sobriete.domain.portfolio import Building
from sobriete.services.building_energy import annual_kwh, energy_meters, heating_kwh
from sobriete.services.diagnose_run import (
    YEAR,
    buildings_by_code,
    check_building,
    last_full_year,
    latest_diagnosis,
)
from sobriete.services.footprint import measured
from sobriete.services.mv_inputs import load_frames, meter_refs
from sobriete.services.mv_run import FitSettings, fit_one, load_model
from sobriete.services.store import Store
from sobriete.services.store.actions import (
    ACTION_STATUSES,
    TrackedAction,
    load_recommendations,
    load_tracked,
    replace_recommendations,
    save_realised,
    save_status,
)
from sobriete.services.store.estate import load_portfolio
from sobriete.services.store.findings import load_findings

FULL_YEAR_MONTHS = 12.0
DAYS_PER_MONTH = 365.25 / 12
MIN_DAYS_AFTER = 28  # below, an average saving says more about the weeks than the action


class ActionError(SobrieteError):
    """An action code, status or date that cannot be used."""


class UnknownCommuneError(SobrieteError):
    """A commune code (INSEE) that is not in the stored registry."""


@dataclass
class RecommendOutcome:
    ranked: dict[str, list[Recommendation]]  # building code -> best first
    errors: dict[str, str] = field(default_factory=dict)


def _window(conn, b: Building) -> tuple[int | None, tuple[date, date] | None]:
    """The latest diagnosis window of the building (so advice and findings speak of the same
    12 months), else its last 12 full months of data."""
    last = latest_diagnosis(conn, b.code)
    if last is not None:
        return last[0], last[1]
    ids = [r.series_id for r in meter_refs(conn, None, [m.code for m in b.meters])]
    return None, last_full_year(conn, ids, b.occupancy().timezone) if ids else None


def communes(conn) -> dict[str, str]:
    """Building code -> commune (INSEE) code."""
    pf = load_portfolio(conn)
    return {b.code: c.code for _, c, _, b in pf.buildings()} if pf else {}


def select_buildings(store: Store, building: str | None,
                     commune: str | None) -> list[Building]:
    """The stored buildings asked for: one by code, those of a commune, or all (sorted);
    an unknown building or commune is a typed error naming what is stored."""
    with store.read() as conn:
        known, where = buildings_by_code(conn), communes(conn)
    check_building(known, building)
    if commune is not None and commune not in where.values():
        listed = ", ".join(sorted(set(where.values()))) or "none"
        raise UnknownCommuneError(f"unknown commune {commune!r}; communes stored: {listed}")
    return [b for code, b in sorted(known.items())
            if building in (None, code) and commune in (None, where.get(code))]


def recommend_buildings(
    store: Store, *, building: str | None = None, commune: str | None = None,
    settings: AdviceSettings | None = None, weather=None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RecommendOutcome:
    """Recommendations for every building (or one, or those of a commune), ranked by € saved
    per € spent and stored (one transaction per building, replacing its previous ones)."""
    out = RecommendOutcome({})
    with measured("recommendations", store) as fp:
        todo = select_buildings(store, building, commune)
        for i, b in enumerate(todo):
            try:
                with store.engine.begin() as conn:
                    run_id, window = _window(conn, b)
                    findings = [s.finding for s in load_findings(conn, building=b.code)]
                    annual = annual_kwh(conn, b, *window) if window else {}
                    heating = heating_kwh(conn, b, *window, annual, weather) if window else None
                    recs = rank(recommend(b, findings, annual_kwh=annual, heating_kwh=heating,
                                          settings=settings))
                    replace_recommendations(conn, b.code, recs, run_id)
                out.ranked[b.code] = recs
            except (SobrieteError, ValueError) as exc:  # a building fails alone, with why
                out.errors[b.code] = f"{type(exc).__name__}: {exc}"
            progress(i + 1, len(todo))
        fp.details.update(buildings=len(todo), failed=len(out.errors))
    return out


def mark_action(store: Store, building: str, action: str, status: str = "done", *,
                done_date: date | None = None, note: str | None = None,
                today: date | None = None) -> TrackedAction:
    """Record an action's status; ``done`` needs the date it was done (not in the future).
    The current recommendation's estimate is kept with it, for the realised-vs-estimated
    comparison later (the advice may change; what was promised should not)."""
    if status not in ACTION_STATUSES:
        raise ActionError(f"action status {status!r}: expected one of "
                          f"{', '.join(ACTION_STATUSES)}")
    try:
        get_action(action)
    except UnknownActionError as exc:
        raise ActionError(str(exc)) from None
    if status == "done" and done_date is None:
        raise ActionError(f"marking {action!r} done needs the date it was done (--date)")
    if done_date is not None and done_date > (today or date.today()):
        raise ActionError(f"done date {done_date} is in the future")
    with store.engine.begin() as conn:
        check_building(buildings_by_code(conn), building)
        recs = [r for r in load_recommendations(conn, building=building)
                if r.rec.action_code == action]
        estimated = recs[0].rec.model_dump(mode="json") if recs else None
        return save_status(conn, building, action, status,
                           done_date=done_date if status == "done" else None, note=note,
                           estimated=estimated)


def _carriers(t: TrackedAction) -> set[str] | None:
    """Carriers the estimate said the action acts on (None: no estimate, measure them all)."""
    if not t.estimated:
        return None
    parts = t.estimated.get("parts") or []
    return {p["carrier"] for p in parts if not p.get("added")} or None


def _per_year(kwh: float, half: float, months: float, carrier: str) -> dict:
    scale = FULL_YEAR_MONTHS / months
    v, h = kwh * scale, half * scale

    def conv(fn) -> dict | None:
        c = fn(1.0, carrier)
        if c.value is None:
            return None
        return {"value": v * c.value, "low": (v - h) * c.value, "high": (v + h) * c.value,
                "factor": c.to_dict()["factor"]}

    return {"kwh_per_year": {"value": v, "low": v - h, "high": v + h},
            "eur_per_year": conv(cost_eur), "co2_kg_per_year": conv(co2_kg)}


def _measure_meter(store: Store, ref, fit_settings: FitSettings, start: date, end: date,
                   months: float, confidence: float) -> dict:
    """One meter's avoided energy after the action, per year with its interval. A meter
    whose baseline cannot be fitted is a result too (with the reason)."""
    carrier = CARRIER.get(ref.subkind, ref.subkind or "electricity")
    url = store.engine.url.render_as_string(hide_password=False)
    # No run token: nothing cached, the weather read is the store's current one.
    fit = fit_one(url, fit_settings, None, ref)  # type: ignore[arg-type]
    if fit["status"] != "ok":
        return {"meter": ref.key, "carrier": carrier, "error": fit["error"]}
    model = load_model(fit["model_json"], fit["result_json"])
    with store.read() as conn:
        frame, _ = load_frames(conn, ref, start, end, fit["frequency"])
    r = avoided_energy(model, frame, confidence=confidence)
    half = r.uncertainty_kwh if math.isfinite(r.uncertainty_kwh) else None
    return {"meter": ref.key, "carrier": carrier, "model": model.name,
            "frequency": fit["frequency"], "savings_kwh": r.savings_kwh,
            "uncertainty_kwh": half, "savings_pct": _finite(r.savings_pct),
            "significant": r.significant, "m": r.m, "cvrmse": _finite(r.cvrmse),
            "warnings": [w.model_dump(mode="json", include={"code", "message_fr", "message_en"})
                         for w in r.warnings],
            **_per_year(r.savings_kwh, half or 0.0, months, carrier)}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _total(meters: list[dict], name: str) -> dict | None:
    """Sum over meters; half-widths add in quadrature (meters' model errors independent)."""
    parts = [m[name] for m in meters if m.get(name)]
    if not parts:
        return None
    v = sum(p["value"] for p in parts)
    h = math.sqrt(sum(((p["high"] - p["low"]) / 2) ** 2 for p in parts))
    return {"value": v, "low": v - h, "high": v + h}


def warning_doc(code: str, fr: str, en: str) -> dict:
    return {"code": code, "message_fr": fr, "message_en": en}


def measure_realised(store: Store, building: str, action: str, *, confidence: float = 0.90,
                     until: date | None = None, weather=None) -> TrackedAction:
    """Realised savings of an action marked done (see the module doc), stored with it: over
    the 12 months after the done date, or up to the last full month of data, or ``until``
    (exclusive) when a later period must be left out (a closure, another action)."""
    with measured("realised savings", store) as fp:
        with store.read() as conn:
            known = buildings_by_code(conn)
            check_building(known, building)
            tracked = load_tracked(conn, building=building, action=action)
            if not tracked or tracked[0].status != "done":
                raise ActionError(
                    f"action {action!r} of building {building!r} is not marked done: "
                    f"`sobriete actions done {building} {action} --date YYYY-MM-DD` first")
            t, b = tracked[0], known[building]
            carriers = _carriers(t)
            keys = [m.code for m in energy_meters(b)
                    if carriers is None or CARRIER[m.kind] in carriers]
            refs = meter_refs(conn, weather, keys) if keys else []
            if not refs:
                raise ActionError(f"building {building!r} has no meter of "
                                  f"{', '.join(sorted(carriers or [])) or 'energy'} to measure")
            data = last_full_year(conn, [r.series_id for r in refs], b.occupancy().timezone)
        done = t.done_date
        end = min((pd.Timestamp(done) + YEAR).date(), data[1]) if data else done
        end = min(end, until) if until else end
        if (end - done).days < MIN_DAYS_AFTER:
            raise ActionError(f"less than a month of data after the done date {done} (data "
                              f"up to {end}): measure again later")
        months = (end - done).days / DAYS_PER_MONTH
        fit_settings = FitSettings((pd.Timestamp(done) - YEAR).date(), done)
        meters = [_measure_meter(store, r, fit_settings, done, end, months, confidence)
                  for r in refs]
        warnings = [warning_doc("meter_failed", f"{m['meter']} : non mesuré ({m['error']})",
                          f"{m['meter']}: not measured ({m['error']})")
                    for m in meters if "error" in m]
        if months < FULL_YEAR_MONTHS - 0.5:
            warnings.append(warning_doc(
                "less_than_12_months",
                f"Moins de 12 mois mesurés ({months:.1f}".replace(".", ",")
                + ") : le chiffre annuel est extrapolé "
                "et toutes les saisons ne sont pas couvertes.",
                f"Less than 12 months measured ({months:.1f}): the yearly figure is "
                "extrapolated and not every season is covered."))
        ok = [m for m in meters if "error" not in m]
        total = {k: _total(ok, k) for k in ("kwh_per_year", "eur_per_year", "co2_kg_per_year")}
        kwh = total["kwh_per_year"]
        if kwh and kwh["low"] <= 0 <= kwh["high"]:
            warnings.append(warning_doc(
                "not_significant", f"Économie non significative à {100 * confidence:.0f} % : "
                "l'intervalle contient zéro.", f"Saving not significant at {confidence:.0%}: "
                "the interval contains zero."))
        realised = {"computed_at": datetime.now(UTC).isoformat(), "confidence": confidence,
                    "until": until.isoformat() if until else None,
                    "baseline": [fit_settings.baseline_start.isoformat(), done.isoformat()],
                    "reporting": [done.isoformat(), end.isoformat()], "months": months,
                    "meters": meters, "total": total, "warnings": warnings}
        with store.engine.begin() as conn:
            save_realised(conn, building, action, realised)
            t = load_tracked(conn, building=building, action=action)[0]
        fp.details.update(building=building, action=action, meters=len(meters))
    return t
