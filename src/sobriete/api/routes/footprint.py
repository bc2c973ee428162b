"""The platform's own footprint: CPU, kWh and CO2 of its computations per kind of job,
against the energy savings it measured, in the caller's scope (``services.api_footprint``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from sobriete.api.deps import access, get_store, principal
from sobriete.api.routes.control import Moment
from sobriete.domain.access import Principal
from sobriete.domain.factors import COMPUTE_W_PER_CORE, COMPUTE_W_PER_GB_RAM
from sobriete.services.api_footprint import footprint_view

router = APIRouter(tags=["footprint"])


class JobKind(BaseModel):
    job: str
    n_jobs: int
    n_failed: int
    wall_s: float
    cpu_s: float
    energy_kwh: float
    co2_kgco2e: float
    methods: list[str] = Field(description="measured (RAPL) or estimate")


class SavingsByEnergy(BaseModel):
    energy: str
    n_series: int
    savings_kwh: float
    co2_avoided_kgco2e: float | None
    co2_factor_source: str | None


class FootprintOut(BaseModel):
    scope: str = Field(description="portfolio (every job) or buildings_in_view (jobs of "
                                    "your buildings only)")
    n_buildings_in_view: int
    jobs: list[JobKind]
    computing_kwh: float
    computing_kgco2e: float
    cpu_s: float
    savings: list[SavingsByEnergy]
    savings_kwh: float
    co2_avoided_kgco2e: float | None
    computing_per_saved_pct: float | None = Field(description="computing kWh per 100 kWh "
                                                              "saved")
    co2_computing_per_avoided_pct: float | None
    provenance: dict[str, Any]


@router.get("/footprint", response_model=FootprintOut,
            openapi_extra=access("read", example={"query": {
                "since": "2024-01-01T00:00:00+01:00"}}),
            summary="Empreinte numérique de la plateforme / the platform's computing footprint")
def footprint(request: Request, who: Annotated[Principal, Depends(principal)],
              since: Annotated[Moment | None, Query(description="jobs from")] = None,
              until: Annotated[Moment | None, Query(description="jobs before")] = None):
    if since is not None and until is not None and until <= since:
        raise HTTPException(422, f"until {until.isoformat()} is not after since "
                                 f"{since.isoformat()}")
    v = footprint_view(get_store(request), who, since=since, until=until)
    return FootprintOut(**v, provenance={
        "jobs": "job_footprint rows (services.footprint.measured): RAPL when readable, else "
                f"CPU s x {COMPUTE_W_PER_CORE.value:g} W/core + memory x "
                f"{COMPUTE_W_PER_GB_RAM.value:g} W/GB",
        "savings": "savings_result of the latest M&V run of each series (sobriete savings)",
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None})
