"""Errors as RFC 9457 ``application/problem+json``: a type, a title, the HTTP status and a
detail a person can act on, in the service's language when the error carries both."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sobriete.domain.errors import InputError, SobrieteError, StoreError

PROBLEM = "application/problem+json"
_TYPE = "https://sobriete.example/problems/"  # documented in docs/api.md


def problem(status: int, kind: str, title: str, detail: str, **extra) -> JSONResponse:
    body = {"type": _TYPE + kind, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    """Every error the application can raise leaves as problem+json."""

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

    @app.exception_handler(SobrieteError)
    async def _domain(_req: Request, exc: SobrieteError) -> JSONResponse:
        return problem(400, "refused", "Request refused", str(exc))
