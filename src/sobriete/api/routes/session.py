"""Log in and out (the dashboard's session cookie), and ``/me``.

A login is refused before its password is checked once the login, or the address, has had
too many failures (429 with ``Retry-After``). A session is a short-lived API token kept in an
HttpOnly, SameSite=Lax cookie (Secure unless the settings say otherwise); its CSRF token is
returned in the body and in a readable cookie for the pages' forms.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from sobriete.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    access,
    client_address,
    csrf_token_for,
    get_settings,
    get_store,
    principal,
)
from sobriete.domain.access import Principal
from sobriete.services import accounts as A

router = APIRouter(tags=["session"])


class Credentials(BaseModel):
    login: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class SessionOut(BaseModel):
    login: str
    csrf_token: str
    expires_in_s: int


class GrantOut(BaseModel):
    role: str
    scope_level: str
    scope_code: str


class MeOut(BaseModel):
    account_id: int
    login: str
    grants: list[GrantOut]


def open_session(request: Request, response: Response, login: str, password: str) -> str:
    """Check the rate, the password, then set the session cookies; returns the CSRF token.
    Shared by the JSON endpoint and the dashboard's login form."""
    settings, store = get_settings(request), get_store(request)
    client = client_address(request)
    try:
        A.check_login_rate(store, login, client, max_failures=settings.login_max_failures,
                           window_s=settings.login_window_s)
    except A.TooManyAttemptsError as exc:
        raise HTTPException(429, str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from None
    try:
        who = A.authenticate(store, login, password, client=client)
    except A.AuthenticationError as exc:
        raise HTTPException(401, str(exc)) from None
    token = A.issue_token(store, who.account_id, "session", ttl_days=settings.session_hours / 24)
    max_age = int(settings.session_hours * 3600)
    csrf = csrf_token_for(token)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True,
                        secure=settings.cookie_secure, samesite="lax", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False,
                        secure=settings.cookie_secure, samesite="lax", path="/")
    request.state.principal = who
    return csrf


def close_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        A.revoke_token(get_store(request), token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.post("/session", response_model=SessionOut, openapi_extra=access(None),
             summary="Se connecter / log in (cookie de session)")
def login(body: Credentials, request: Request, response: Response) -> SessionOut:
    csrf = open_session(request, response, body.login, body.password)
    return SessionOut(login=body.login, csrf_token=csrf,
                      expires_in_s=int(get_settings(request).session_hours * 3600))


@router.delete("/session", status_code=204, openapi_extra=access(None),
               summary="Se déconnecter / log out")
def logout(request: Request, response: Response,
           _who: Annotated[Principal, Depends(principal)]) -> Response:
    close_session(request, response)
    response.status_code = 204
    return response


@router.get("/me", response_model=MeOut, openapi_extra=access(None),
            summary="Mon compte et mes droits / my account and grants")
def me(who: Annotated[Principal, Depends(principal)]) -> MeOut:
    return MeOut(account_id=who.account_id, login=who.login, grants=[
        GrantOut(role=g.role.value, scope_level=g.scope.level.value, scope_code=g.scope.code)
        for g in who.grants])
