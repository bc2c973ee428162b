"""API routes: long work as jobs — an import of a big meter file, the daily analysis — and
their progress.

A job belongs to whoever started it: another account asking for it gets a 404, as if it did
not exist. Jobs are kept in the store: any process of the service answers for a job another
one runs, and a restart keeps them (a job the restart interrupted reads as failed). Portfolio
administrators also see the scheduler's jobs (no owner).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import AwareDatetime, BaseModel, Field

from sobriete.api.deps import access, authorize, get_store, principal
from sobriete.api.lists import ListParams, Page, list_params, read_page
from sobriete.domain.access import Action, Principal, Role, ScopeLevel
from sobriete.services import api_readings as R
from sobriete.services.jobs import STEPS, Job, JobRegistry, analysis_job

router = APIRouter(tags=["jobs"])
Who = Annotated[Principal, Depends(principal)]
MAX_UPLOAD_BYTES = 200 * 2**20  # a year of 15-min readings of a few hundred meters


class JobOut(BaseModel):
    id: str
    kind: str
    label: str
    state: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    progress_pct: float | None
    message: str
    result: Any = None
    error: str | None
    created_at: AwareDatetime
    started_at: AwareDatetime | None
    finished_at: AwareDatetime | None
    url: str


class AnalysisIn(BaseModel):
    steps: list[Literal["diagnosis", "status", "alerts"]] = Field(
        default_factory=lambda: list(STEPS),
        description="diagnostic, état du parc, alertes immédiates (défaut : les trois)")


def _jobs(request: Request) -> JobRegistry:
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is None:
        raise HTTPException(503, "the job runner is not started: restart `sobriete serve`")
    return jobs


def _portfolio_admin(who: Principal) -> bool:
    return any(g.role is Role.ADMIN and g.scope.level is ScopeLevel.PORTFOLIO
               for g in who.grants)


def _out(job: Job) -> JobOut:
    pct = round(100 * job.done / job.total, 1) if job.total else None
    return JobOut(**{k: v for k, v in job.as_dict().items() if k != "owner"},
                  progress_pct=pct, url=f"/api/v1/jobs/{job.id}")


def _owners(who: Principal) -> list[int | None]:
    """Whose jobs ``who`` sees: their own, and the scheduler's (None) for an administrator
    of the whole portfolio."""
    return [who.account_id, *([None] if _portfolio_admin(who) else [])]


def _mine(job: Job | None, who: Principal) -> bool:
    return job is not None and job.owner in _owners(who)


@router.post("/jobs/imports", response_model=JobOut, status_code=202,
             openapi_extra=access("write", example={
                 "body": {"building_code": "A", "format": "meter-csv",
                          "options": '{"timezone": "UTC"}'},
                 "files": {"file": ["releves.csv",
                                    "meter,timestamp,value\nA-elec,2019-03-01T00:00:00Z,1.5\n"
                                    "A-elec,2019-03-01T01:00:00Z,1.5\n"]}}),
             summary="Importer un gros fichier en tâche de fond / import a file as a job")
async def import_as_job(
    request: Request, who: Who,
    building_code: Annotated[str, Form(description="le bâtiment dont le fichier contient "
                                                   "les relevés (droit d'écriture requis)")],
    file: Annotated[UploadFile, File(description="le fichier (CSV, gzip accepté)")],
    format: Annotated[Literal["meter-csv", "enedis"], Form(description="format du fichier")],
    options: Annotated[str | None, Form(description="options du lecteur, objet JSON")] = None,
) -> JobOut:
    ref = authorize(request, who, Action.WRITE, building_code)
    opts = R.parse_options(options)  # a bad option is a 422 now, not a failed job later
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"file larger than {MAX_UPLOAD_BYTES // 2**20} MB: split it")
    store, name = get_store(request), file.filename

    def run(progress) -> dict:
        progress(0, 1, f"import de {name}")
        # The building's own series only: a file naming another building's is refused whole.
        out = R.upload(store, ref.id, building_code, name, content, format, opts)
        progress(1, 1, "import terminé")
        c = out.counts
        return {"batch_id": out.batch_id, "building_code": building_code, "file": name,
                "format": out.format, "status": out.status, "rows_in": c.rows_in,
                "rows_new": c.rows_new, "rows_unchanged": c.rows_unchanged,
                "rows_revised": c.rows_revised, "warnings": list(out.warnings)}

    jobs = _jobs(request)
    job_id = jobs.submit("import", who.account_id, run, f"import {name} ({building_code})")
    return _out(jobs.get(job_id))


@router.post("/jobs/analysis", response_model=JobOut, status_code=202,
             openapi_extra=access("admin", example={"body": {"steps": ["alerts"]}}),
             summary="Lancer l'analyse du parc / start the portfolio analysis")
def start_analysis(request: Request, who: Who, body: AnalysisIn | None = None) -> JobOut:
    if not _portfolio_admin(who):
        raise HTTPException(403, f"{who.login!r} may not start the analysis of the whole "
                                 "portfolio: an administrator of the portfolio can")
    store, settings = get_store(request), request.app.state.settings
    steps = tuple((body or AnalysisIn()).steps)
    jobs = _jobs(request)
    job_id = jobs.submit("analysis", who.account_id,
                         lambda p: analysis_job(store, settings, p, steps),
                         f"analyse ({', '.join(steps)})")
    return _out(jobs.get(job_id))


@router.get("/jobs/{job_id}", response_model=JobOut,
            openapi_extra=access("read", example={"path": {"job_id": "0" * 32}}),
            summary="État d'une tâche / a job's state")
def get_job(job_id: str, request: Request, who: Who) -> JobOut:
    job = _jobs(request).get(job_id)
    if not _mine(job, who):
        raise HTTPException(404, f"no job {job_id!r} of yours (only the latest finished "
                                 "jobs are kept)")
    return _out(job)


@router.get("/jobs", response_model=Page[JobOut], openapi_extra=access("read"),
            summary="Mes tâches / my jobs")
def list_jobs(request: Request, who: Who,
              params: Annotated[ListParams, Depends(list_params)]):
    def read(limit: int | None, offset: int) -> tuple[int, list[JobOut]]:
        total, jobs = _jobs(request).page(_owners(who), limit, offset)
        return total, [_out(j) for j in jobs]

    return read_page(params, read, "taches")
