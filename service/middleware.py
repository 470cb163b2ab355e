"""Pure ASGI middleware: what must happen before a body is read or after any response starts.

Pure ASGI (not BaseHTTPMiddleware) so streaming bodies are untouched and nothing is buffered:
the request id, the early `Content-Length` refusal, security headers and the access log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.body import declared_length, too_large_message
from service.errors import error_body
from service.metrics import Metrics

access_log = logging.getLogger("bitext.access")

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
}
# For HTML the route did not give a policy of its own (error pages, /docs is exempt: it loads its UI from a CDN).
DEFAULT_CSP = b"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"


class RequestContextMiddleware:
    """Request id in and out, early 413 on a declared oversize body, security headers, access log."""

    def __init__(self, app: ASGIApp, body_limit: Callable[[str], int], metrics: Metrics | None = None) -> None:
        self.app = app
        self.body_limit = body_limit
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _SAFE_ID.fullmatch(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(b"x-request-id", request_id.encode())]
                extra += [(name, value) for name, value in SECURITY_HEADERS.items() if name not in present]
                is_html = any(
                    n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in message.get("headers", [])
                )
                if is_html and b"content-security-policy" not in present and not scope["path"].startswith("/docs"):
                    extra.append((b"content-security-policy", DEFAULT_CSP))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            declared = declared_length(headers.get(b"content-length", b""))
            limit = self.body_limit(scope["path"])
            if declared is not None and declared > limit:
                await self._refuse(send_with_headers, declared, limit)
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"  # templates only: bounded label values
            if self.metrics is not None:
                self.metrics.observe_request(route, scope["method"], status, seconds)
            access_log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "route": route,
                        "ms": round(seconds * 1000, 1),
                        "client": (scope.get("client") or ("", 0))[0],
                    }
                )
            )

    @staticmethod
    async def _refuse(send: Send, declared: int, limit: int) -> None:
        body = json.dumps(error_body("payload_too_large", too_large_message(declared, limit), limit=limit)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
