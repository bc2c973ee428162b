"""``/imports``: upload a file, import it as a background job and follow its progress (the
page polls ``GET /api/v1/jobs/{job_id}``).

- A building's readings (meter CSV, Enedis): the form posts to ``POST /api/v1/jobs/imports``
  (scope checked there on the building, readings of other buildings refused), for anyone who
  may write on some building; the building list is ``building_refs(write)``.
- Reference files (registry, Tempo, EcoWatt) write to the whole store (a registry can add
  buildings anywhere): only principals who may write at portfolio level."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from sobriete.api.web.common import (
    NotVisible,
    allows,
    page_principal,
    principal_for_form,
    render,
)
from sobriete.domain.access import ALLOWED, Action, Principal, ScopeLevel
from sobriete.domain.errors import SobrieteError
from sobriete.services.imports import import_file
from sobriete.services.scoped import building_refs

router = APIRouter()
# Formats whose reader needs no option beyond the file (meter CSVs need a column mapping:
# `sobriete import` on the command line).
FORMATS = ("registry", "enedis", "tempo", "ecowatt")


def may_import(who: Principal) -> bool:
    return any(g.scope.level is ScopeLevel.PORTFOLIO and Action.WRITE in ALLOWED[g.role]
               for g in who.grants)


def _job(store, path: Path, fmt: str, folder: str):
    def run(progress=None):
        try:
            if progress:
                progress(0, 1, f"lecture de {path.name}")
            out = import_file(store, path, fmt)
            if progress:
                progress(1, 1, f"{out.counts.rows_new} lignes nouvelles, "
                               f"{out.counts.rows_unchanged} inchangées")
            return {"batch_id": out.batch_id, "rows_in": out.counts.rows_in,
                    "rows_new": out.counts.rows_new}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return run


@router.get("/imports")
def imports_page(request: Request, who: Annotated[Principal, Depends(page_principal)],
                 job: str = "", msg: str = ""):
    if not allows(who, Action.WRITE):
        raise NotVisible(403)
    with request.app.state.store.read() as conn:
        refs = building_refs(conn, who, Action.WRITE)
    return render(request, "imports.html", who, formats=FORMATS, job=job, msg=msg,
                  refs=refs[:5000], reference_files=may_import(who),
                  has_jobs=getattr(request.app.state, "jobs", None) is not None)


@router.post("/imports")
async def upload(request: Request, who: Annotated[Principal, Depends(principal_for_form)],
                 file: Annotated[UploadFile, File()], fmt: Annotated[str, Form()]):
    if not may_import(who):
        raise NotVisible(403)
    if fmt not in FORMATS:
        return RedirectResponse(f"/imports?msg=format+{fmt}+?", status_code=303)
    folder = tempfile.mkdtemp(prefix="sobriete-upload-")
    path = Path(folder) / Path(file.filename or "upload").name
    with path.open("wb") as f:
        shutil.copyfileobj(file.file, f)
    store = request.app.state.store
    jobs = getattr(request.app.state, "jobs", None)
    run = _job(store, path, fmt, folder)
    if jobs is not None:
        job_id = jobs.submit("import", who.account_id, run, label=f"import {fmt} {path.name}")
        return RedirectResponse(f"/imports?job={job_id}", status_code=303)
    try:  # no job registry in this process: import now, the answer waits for it
        out = run()
    except SobrieteError as exc:
        return RedirectResponse(f"/imports?msg=err:{_q(str(exc))}", status_code=303)
    return RedirectResponse(f"/imports?msg=ok:{out['rows_new']}", status_code=303)


def _q(s: str) -> str:
    from urllib.parse import quote
    return quote(s[:300])
