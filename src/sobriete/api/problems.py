"""Errors as RFC 9457 ``application/problem+json``: a type, a title, the HTTP status and a
detail a person can act on, in the service's language when the error carries both."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from sobriete.domain.errors import InputError, SobrieteError, StoreError

log = logging.getLogger("sobriete.api")

PROBLEM = "application/problem+json"
_TYPE = "https://sobriete.example/problems/"  # documented in docs/api.md


def problem(status: int, kind: str, title: str, detail: str, *,
            headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    body = {"type": _TYPE + kind, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


PROBLEM_SCHEMA = {
    "title": "Problem", "type": "object",
    "description": "RFC 9457 problem details: `detail` says what went wrong and what to do "
                   "/ ce qui ne va pas et quoi faire.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "URI of the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "description": "every invalid field of a request",
                   "items": {"type": "object", "required": ["field", "message"],
                             "properties": {"field": {"type": "string"},
                                            "message": {"type": "string"}}}},
        "file": {"type": ["string", "null"], "description": "file of an invalid input"},
        "line": {"type": ["integer", "null"]},
        "field": {"type": ["string", "null"]},
    },
}
_WHY = {401: "Authentification requise / authentication required",
        403: "Rôle ou périmètre insuffisant / role or scope not allowed",
        404: "Inconnu ou hors de votre périmètre / unknown or out of your scope",
        422: "Requête invalide / invalid request",
        "default": "Autre erreur / other error (400, 409, 429, 503 ...)"}


def _error_responses(path: str, op: dict) -> dict:
    """The problem+json answers an operation can give, from what it declares: an action
    (``x-sobriete-action``: the caller must be known and allowed), a path parameter (a
    building or key that may be out of sight), parameters or a body (which may be invalid)."""
    codes: list = []
    if op.get("x-sobriete-action"):
        codes += [401, 403]
    if "{" in path:
        codes.append(404)
    if op.get("parameters") or op.get("requestBody"):
        codes.append(422)
    ref = {"$ref": "#/components/schemas/Problem"}
    return {str(c): {"description": _WHY[c], "content": {PROBLEM: {"schema": ref}}}
            for c in [*codes, "default"]}


def document(app: FastAPI) -> None:
    """Declare in the OpenAPI document the problem+json errors of every operation, in place
    of FastAPI's own 422 (a body the handlers below never send)."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        for path, ops in doc.get("paths", {}).items():
            for op in ops.values():
                responses = op.setdefault("responses", {})
                responses.pop("422", None)
                responses.update(_error_responses(path, op))
        return doc

    app.openapi = openapi


def install(app: FastAPI) -> None:
    """Every error the application can raise leaves as problem+json, and is documented."""
    document(app)

    @app.exception_handler(HTTPException)
    async def _http(_req: Request, exc: HTTPException) -> JSONResponse:
        titles = {401: "Authentication required", 403: "Forbidden", 404: "Not found",
                  405: "Method not allowed", 409: "Conflict", 429: "Too many requests"}
        resp = problem(exc.status_code, getattr(exc, "kind", f"http-{exc.status_code}"),
                       titles.get(exc.status_code, "HTTP error"), str(exc.detail))
        for k, v in (exc.headers or {}).items():  # WWW-Authenticate, Retry-After
            resp.headers[k] = v
        return resp

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": "?", "message": "invalid"}
        return problem(422, "invalid-request", "Invalid request",
                       f"{first['field']}: {first['message']}", errors=errors)

    @app.exception_handler(InputError)
    async def _input(_req: Request, exc: InputError) -> JSONResponse:
        return problem(422, "invalid-input", "Invalid input", str(exc),
                       file=exc.file, line=exc.line, field=exc.field)

    @app.exception_handler(StoreError)
    async def _store(_req: Request, exc: StoreError) -> JSONResponse:
        return problem(503, "store-unavailable", "Store unavailable", str(exc))

    @app.exception_handler(OperationalError)
    async def _database(req: Request, exc: OperationalError) -> JSONResponse:
        # The database could not answer: its connection lost in a restart (the pool then
        # lets go of its connections and the next request opens new ones), or busy, or
        # behind the code. Told to the person as retryable; the cause goes to the log.
        log.error("database error", extra={"path": req.url.path, "error": str(exc.orig)})
        return problem(503, "store-unavailable", "Store unavailable",
                       "the database could not answer this request: try again in a moment; "
                       "if it keeps failing, check the database server and /health",
                       headers={"Retry-After": "1"})

    @app.exception_handler(SobrieteError)
    async def _domain(_req: Request, exc: SobrieteError) -> JSONResponse:
        return problem(400, "refused", "Request refused", str(exc))
