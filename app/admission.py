"""Admission control for the HTTP API: at most N requests in flight; the rest wait briefly, then 429.

A pure ASGI middleware (so a streamed answer holds its slot until the last byte is sent). Only
/api/* and /v1/* are limited; the chat page, /docs and /healthz are not. Why not uvicorn's own
`limit_concurrency`: it counts open connections (idle keep-alive clients and the chat page's
included), applies to every path and answers a plain-text 503 without Retry-After; a client of
this API needs a JSON error and a hint when to come back. Admitted requests are answered at once,
each in its own worker thread (nothing serialises them); this bounds how many share the cores, so
overload is answered in milliseconds instead of slowing every answer down.
"""

from __future__ import annotations

import asyncio
import json

from app.errors import error_body

LIMITED_PREFIXES = ("/api/", "/v1/")
RETRY_AFTER_SECONDS = 1


class AdmissionLimit:
    def __init__(self, app, max_concurrent: int, queue_timeout: float):
        self.app = app
        self.queue_timeout = queue_timeout
        self.slots = asyncio.Semaphore(max_concurrent)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if not await self._admit():
            await _too_many(send, scope["path"])
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _admit(self) -> bool:
        if not self.slots.locked():
            await self.slots.acquire()  # a free slot: returns at once
            return True
        if self.queue_timeout <= 0:
            return False
        try:
            await asyncio.wait_for(self.slots.acquire(), self.queue_timeout)
            return True
        except TimeoutError:
            return False


async def _too_many(send, path: str) -> None:
    body = json.dumps(error_body(path, 429, "too many requests in flight; retry after a second")).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
    await send({"type": "http.response.body", "body": body})
