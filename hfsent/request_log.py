"""The access log of ``hfsent serve``: one Common Log Format line per request on the
``hfsent.access`` logger, plus its duration in milliseconds.  A client's method and target are
escaped (quotes, backslashes, unprintables), so no request can forge or break a log line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

access_log = logging.getLogger("hfsent.access")


def _escaped(text: str) -> str:
    """A client's string for one log line: quotes, backslashes and unprintables as escapes."""
    return "".join("\\" + c if c in '"\\' else c if c.isprintable()
                   else c.encode("unicode_escape").decode("ascii") for c in text)


class AccessLog:
    """ASGI middleware: one Common Log Format line per request, with the duration appended:
    ``127.0.0.1 - - [05/Dec/2026:23:59:01 +0000] "POST / HTTP/1.1" 200 87 6.1ms``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status, size = time.perf_counter(), 500, 0

        async def sending(message: dict) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            client = scope.get("client")
            line = _escaped(f"{scope['method']} {target} HTTP/{scope['http_version']}")
            access_log.info('%s - - [%s] "%s" %d %s %.1fms', client[0] if client else "-",
                            time.strftime("%d/%b/%Y:%H:%M:%S %z"), line, status, size or "-",
                            (time.perf_counter() - start) * 1000)
