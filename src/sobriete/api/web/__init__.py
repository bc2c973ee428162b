"""The dashboard (server-rendered, French by default, ``?lang=en``): ``install(app)`` mounts
its pages and static files. Pages use the session cookie of ``api.routes.session``; every
list starts from ``services.scoped`` and every building page from ``deps.authorize``, so a
page never shows a building outside the principal's scope (it answers 404 as if it did not
exist). Charts: uPlot; map: Leaflet (both vendored under ``static/vendor``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from sobriete.api.web import auth, boards, building, imports, portfolio
from sobriete.api.web.common import HERE, LoginRequired, NotVisible, render


def install(app: FastAPI) -> None:
    """Mount the dashboard's routes and static files on ``app``."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (auth, portfolio, building, boards, imports):
        app.include_router(module.router, include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        from urllib.parse import quote
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(NotVisible)
    async def _not_visible(request: Request, exc: NotVisible):
        who = getattr(request.state, "principal", None)
        return render(request, "error.html", who, status_code=exc.status,
                      status=exc.status, message=exc.message)
