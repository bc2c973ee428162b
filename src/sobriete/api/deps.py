"""Who is asking and what they may touch: the dependencies every endpoint uses.

- ``principal``: an ``Authorization: Bearer <token>`` header (API clients) or the session
  cookie set by ``POST /api/v1/session`` (the dashboard). No credential: 401.
- Cookie sessions must send the CSRF token (header ``X-CSRF-Token`` or form field
  ``csrf_token``) on every unsafe method; bearer tokens need none (a browser never adds them).
- ``authorize(request, action, building)``: the building's scope checked with
  ``domain.access.can``. A building the principal may not see at all is a 404, as if it did
  not exist (codes of other communes do not leak); one it may see but not change is a 403.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from sobriete.api.settings import ServiceSettings
from sobriete.domain.access import Action, Principal, can
from sobriete.services.accounts import (
    AuthenticationError,
    principal_for_token,
    remembered_principal,
)
from sobriete.services.scoped import BuildingRef, building_ref
from sobriete.services.store import Store

SESSION_COOKIE = "sobriete_session"
CSRF_COOKIE = "sobriete_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ScopeDenied(HTTPException):
    """Refused by scope: problem type ``out-of-scope`` (404: not visible; 403: visible, not
    allowed), told apart from a resource that is merely absent (``http-404``)."""

    kind = "out-of-scope"


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def csrf_token_for(session_token: str) -> str:
    """The CSRF token bound to one session (double submit: the page carries it, the cookie
    proves the session; a third-party site knows neither)."""
    return hashlib.sha256(b"sobriete-csrf:" + session_token.encode()).hexdigest()


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _csrf_sent(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(CSRF_FIELD)
    return sent if isinstance(sent, str) else None


def _credential(request: Request) -> tuple[str | None, bool]:
    """(token, from_cookie)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    return request.cookies.get(SESSION_COOKIE), True


def optional_principal(request: Request) -> Principal | None:
    """The principal, or None when no valid credential came (pages that redirect to login)."""
    token, _ = _credential(request)
    if not token:
        return None
    try:
        p = principal_for_token(get_store(request), token,
                                cache_s=get_settings(request).principal_cache_s)
    except AuthenticationError:
        return None
    request.state.principal = p
    return p


async def principal(request: Request) -> Principal:
    token, from_cookie = _credential(request)
    if not token:
        raise HTTPException(401, "authentication required: log in, or send "
                                 "'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    cache_s = get_settings(request).principal_cache_s
    try:
        p = remembered_principal(get_store(request), token) if cache_s > 0 else None
        if p is None:
            # Blocking database work off the event loop (an async dependency runs on it).
            p = await run_in_threadpool(principal_for_token, get_store(request), token,
                                        cache_s=cache_s)
    except AuthenticationError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.principal = p
    if from_cookie and request.method in UNSAFE:
        sent = await _csrf_sent(request)
        if sent is None or not hmac.compare_digest(sent, csrf_token_for(token)):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and retry")
    return p


def authorize(request: Request, who: Principal, action: Action | str,
              building_code: str) -> BuildingRef:
    """The building if ``who`` may do ``action`` on it; else 404 (cannot see it) or 403."""
    with get_store(request).read() as conn:
        ref = building_ref(conn, building_code)
    if ref is None or not any(can(who, a, ref.commune_code, ref.territory_code)
                              for a in (Action.READ, Action.FLEX_READ)):
        raise ScopeDenied(404, f"no building {building_code!r} (or not in your scope)")
    if not can(who, action, ref.commune_code, ref.territory_code):
        raise ScopeDenied(403, f"{who.login!r} may not {Action(action).value} building "
                               f"{building_code!r} (commune {ref.commune_code})")
    return ref


def access(action: Action | str | None, *, example: dict | None = None) -> dict:
    """``openapi_extra`` of a route: the action it needs (``x-sobriete-action``; None for the
    few public routes) and an example request for the access-matrix test
    (``x-sobriete-example``: ``{"path": {...}, "query": {...}, "body": {...}}``)."""
    extra: dict = {"x-sobriete-action": None if action is None else Action(action).value}
    if example is not None:
        extra["x-sobriete-example"] = example
    return extra
