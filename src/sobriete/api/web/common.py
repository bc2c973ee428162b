"""What every page shares: the signed-in principal (or a redirect to /login), the menu the
principal's roles allow, the CSRF token of the session for forms, the language, rendering."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from sobriete.api.deps import SESSION_COOKIE, csrf_token_for, optional_principal, principal
from sobriete.api.web.i18n import LANG_COOKIE, lang_of, number, translator
from sobriete.domain.access import ALLOWED, Action, Principal

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class NotVisible(Exception):
    """A page about something outside the principal's scope: an HTML 404 (or 403)."""

    def __init__(self, status: int = 404, message: str = "") -> None:
        self.status = status
        self.message = message


def page_principal(request: Request) -> Principal:
    who = optional_principal(request)
    if who is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return who


async def principal_for_form(request: Request) -> Principal:
    """For the pages' forms: no session -> the login page; a wrong CSRF token -> a 403 page
    saying so (``deps.principal`` checks it)."""
    if optional_principal(request) is None:
        raise LoginRequired("/")
    try:
        return await principal(request)
    except HTTPException as exc:
        raise NotVisible(exc.status_code, str(exc.detail)) from None


def allows(who: Principal, action: Action) -> bool:
    """Some grant of ``who`` allows ``action`` somewhere (menus; scope is checked per item)."""
    return any(action in ALLOWED[g.role] for g in who.grants)


def menu(who: Principal | None) -> list[tuple[str, str]]:
    """(label key, path) of the pages ``who`` may open; an aggregator sees flexibility only."""
    if who is None:
        return []
    items = []
    if allows(who, Action.READ):
        items += [("portfolio", "/"), ("actions", "/actions")]
    if allows(who, Action.FLEX_READ):
        items.append(("flex", "/flexibilite"))
    if allows(who, Action.READ):
        items.append(("footprint", "/empreinte"))
    if allows(who, Action.WRITE):
        items.append(("imports", "/imports"))
    return items


def quantity(value, unit: str, digits: int = 0, lang: str = "fr", title: str = "") -> Markup:
    """A number with its unit, its provenance in the tooltip."""
    if value is None:
        return Markup("–")
    text = number(value, digits, lang) + f"\u202f{unit}"
    if title:
        return Markup(f'<span class="q" title="{escape(title)}">{escape(text)}</span>')
    return Markup(f'<span class="q">{escape(text)}</span>')


def render(request: Request, name: str, who: Principal | None, status_code: int = 200,
           **context) -> HTMLResponse:
    lang = lang_of(request)
    t = translator(lang)
    token = request.cookies.get(SESSION_COOKIE)
    ctx = {
        "request": request, "who": who, "lang": lang, "t": t, "menu": menu(who),
        "csrf": csrf_token_for(token) if token else "",
        "num": lambda v, d=0: number(v, d, lang),
        "q": lambda v, unit, d=0, title="": quantity(v, unit, d, lang, title),
        "path": request.url.path,
        "other_lang": "en" if lang == "fr" else "fr",
        "tojson": lambda v: Markup(json.dumps(v, default=str).replace("</", "<\\/")),
        "quote": quote,
        **context,
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
