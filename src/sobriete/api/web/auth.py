"""Login and logout forms (the session itself is ``api.routes.session``'s)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from sobriete.api.deps import optional_principal, principal
from sobriete.api.routes.session import close_session, open_session
from sobriete.api.web.common import render
from sobriete.domain.access import Principal

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # only a path of this site: an open redirect would make the login page a phishing relay
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
def login(request: Request, login: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = "/"):
    response = RedirectResponse(_safe_next(next), status_code=303)
    try:
        open_session(request, response, login, password)
    except HTTPException as exc:
        return render(request, "login.html", None, status_code=exc.status_code,
                      next=_safe_next(next), error=exc.status_code,
                      error_detail=str(exc.detail), login=login)
    return response


@router.post("/logout")
def logout(request: Request, _who: Annotated[Principal, Depends(principal)]):
    response = RedirectResponse("/login", status_code=303)
    close_session(request, response)
    return response


@router.get("/logout")
def logout_get(request: Request):
    # a GET cannot log out (no CSRF token): show the form instead of acting
    who = optional_principal(request)
    return RedirectResponse("/" if who else "/login", status_code=303)
