"""Slow requests logged: an answer that took longer than ``slow_request_ms`` to start leaves
a warning with its method, path, status and duration, so that an operator sees which pages
are slow and when, without a log line per request. A plain ASGI middleware (no extra task
per request)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("sobriete.api")


class LogSlowRequests:
    def __init__(self, app: ASGIApp, threshold_ms: float) -> None:
        self.app = app
        self.threshold_s = threshold_ms / 1000.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.threshold_s <= 0:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = time.perf_counter() - started
                if took >= self.threshold_s:
                    log.warning("slow request", extra={
                        "method": scope["method"], "path": scope["path"],
                        "status": message["status"], "duration_ms": round(took * 1000, 1)})
            await send(message)

        await self.app(scope, receive, timed)
