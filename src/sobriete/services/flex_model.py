"""Shed capacity of a building whose zone temperature is measured: planned on its thermal model.

The same model ``sobriete plan`` identifies (``services.plan_run.prepare``) is planned from the
latest zone reading before the window to ``REBOUND_H`` hours after it, with the stored
weather (or persistence) and the stored Tempo/EcoWatt prices, and ``control.flex.shed_capacity``
finds the lowest power cap over the window that keeps comfort. More faithful than the
meter-only estimate (``control.flex_meter``), which only knows the load shape: the portfolio
service uses it whenever it can, and says why when it cannot.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from sobriete.control.flex import MODEL_CONFIDENCE, Capacity, CapacityWarning, shed_capacity
from sobriete.domain.portfolio import Building, SensorKind
from sobriete.services.plan_inputs import (
    STEP,
    PlanError,
    PlanOptions,
    latest_zone_temperature,
)
from sobriete.services.plan_run import horizon_inputs, prepare
from sobriete.services.store import Store

REBOUND_H = 12  # planned after the window, so the rebound is seen
MAX_LEAD_H = 48  # a window further than this from the last zone reading: no model capacity


class ModelCapacityError(PlanError):
    """The model-based capacity cannot be computed (the message says why)."""


def has_zone_sensor(building: Building) -> bool:
    return any(s.kind is SensorKind.TEMPERATURE for z in building.zones for s in z.sensors)


def model_capacity(store: Store, building: Building, commune_code: str,
                   window: tuple[pd.Timestamp, pd.Timestamp]) -> Capacity:
    """Capacity over ``window`` (UTC, [start, end)) from the building's identified model.
    Raises ``PlanError`` (missing or short data) or ``ModelCapacityError``."""
    start, end = window
    options = PlanOptions()
    # A past window: the model and the state from the data before it.
    ctx, at = prepare(store, building.code, None, None, options, not_after=start)
    lead_h = (start - at).total_seconds() / 3600
    if lead_h > MAX_LEAD_H:
        raise ModelCapacityError(
            f"building {building.code!r}: the last zone reading ({at:%Y-%m-%d %H:%M} UTC) is "
            f"{lead_h:.0f} h before the window (at most {MAX_LEAD_H} h)")
    index = pd.date_range(at, end + pd.Timedelta(hours=REBOUND_H), freq=STEP, inclusive="left")
    with store.read() as conn:
        temp0 = latest_zone_temperature(conn, ctx.sources, at)
        if temp0 is None:
            raise ModelCapacityError(f"building {building.code!r}: no zone temperature at "
                                     f"{at:%Y-%m-%d %H:%M} UTC")
        h = horizon_inputs(ctx, conn, index, temp0[1])
    cap = shed_capacity(ctx.identification.model, h.x0, h.forecast, h.envelope, h.prices,
                        window, ctx.settings, building_code=building.code,
                        commune_code=commune_code)
    warnings = tuple(CapacityWarning(n.code, n.fr, n.en) for n in [*ctx.notes, *h.notes])
    provenance = {**ctx.provenance(), **h.price_provenance, "forecast": h.forecast_source,
                  "planned_from_utc": at.isoformat(), "rebound_hours": REBOUND_H,
                  "start_temp_c": temp0[1]}
    return dataclasses.replace(cap, method="model", confidence=MODEL_CONFIDENCE,
                               warnings=warnings, provenance=provenance)
