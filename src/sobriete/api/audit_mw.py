"""The audit of every write as a plain ASGI middleware: each unsafe request, allowed or
refused (or failed: a 500), leaves one ``audit_log`` row with who asked, what, and the
answer's status. Safe methods pass straight through, at no cost (a Starlette
``BaseHTTPMiddleware`` would wrap every read in extra tasks and streams)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sobriete.api.deps import UNSAFE
from sobriete.services.audit import record_write

log = logging.getLogger("sobriete.api")


class AuditWrites:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        status = 500  # unless the application answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # ``request.state`` lives in the scope: the principal set by ``deps.principal``
            who = scope.get("state", {}).get("principal")
            client = scope.get("client")
            try:
                await run_in_threadpool(record_write, scope["app"].state.store, who,
                                        scope["method"], scope["path"], status,
                                        client[0] if client else None)
            except SQLAlchemyError as exc:  # the answer is given; say loudly it is unaudited
                log.error("audit log write failed", extra={"error": str(exc),
                                                          "path": scope["path"]})
