"""The access log and the HTTP request metrics: one line and one observation per request.

:class:`AccessLogMiddleware` wraps the whole ASGI handler of the app (outside Litestar's exception
handling), so unknown routes, refused tokens and crashes are logged like any other request. The
line names the route template (``/api/v1/runners/{runner_id:uuid}``, never the raw path with
ids), the authenticated principal (kind and name) and the outcome: ``ok`` for successes, the
``error_code`` of the error body otherwise. Operations endpoints are logged at debug level so
that probes do not drown the log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gharts_core.model import Principal
from gharts_core.request_origin import RequestOrigin, serving
from gharts_http.api.request_context import ensure_request_id, request_id_of

_log = structlog.get_logger("gharts.access")

UNMATCHED_ROUTE = "<unmatched>"
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_MAX_ERROR_BODY = 64 * 1024


class RequestObserver(Protocol):
    """Something that records finished requests (the HTTP metrics)."""

    def observe(self, *, route: str, method: str, status: int, duration: float) -> None:
        """Record one request that ended with ``status`` after ``duration`` seconds."""
        ...


def route_template(scope: Scope) -> str:
    """Return the matched route's template, or :data:`UNMATCHED_ROUTE`."""
    return str(scope.get("path_template") or "") or UNMATCHED_ROUTE


def principal_fields(scope: Scope) -> dict[str, str] | None:
    """Return ``{"kind", "name"}`` of the authenticated principal, ``None`` when anonymous."""
    state: Mapping[str, Any] = scope.get("state", {})
    principal = state.get("principal")
    if not isinstance(principal, Principal):
        return None
    return {"kind": principal.kind.value, "name": principal.name}


def origin_of(scope: Scope) -> RequestOrigin:
    """Return the caller's address and user agent: the audit rows written meanwhile keep them.

    The address is the ASGI client's, which the server took from ``X-Forwarded-For`` only when
    the peer is one of ``server.forwarded_allow_ips``.
    """
    client = scope.get("client")
    agent = next(
        (
            value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name == b"user-agent"
        ),
        None,
    )
    return RequestOrigin(address=client[0] if client else None, user_agent=agent)


def error_code_of(body: bytes) -> str | None:
    """Return the ``error_code`` of a JSON error body, if it has one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    code = document.get("error_code") if isinstance(document, dict) else None
    return code if isinstance(code, str) else None


class _Exchange:
    """What the middleware learns from the response messages of one request."""

    def __init__(self) -> None:
        self.status = 500  # if the app dies before answering, the server answers 500
        self.error_body = bytearray()
        self.capture = False

    def see(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.capture = self.status >= 400 and _is_json(message.get("headers", ()))
        elif message["type"] == "http.response.body" and self.capture:
            room = _MAX_ERROR_BODY - len(self.error_body)
            self.error_body.extend(message.get("body", b"")[: max(room, 0)])

    def outcome(self) -> str:
        if self.status < 400:
            return "ok"
        return error_code_of(bytes(self.error_body)) or f"HTTP_{self.status}"


def _is_json(headers: Any) -> bool:
    for name, value in headers:
        if bytes(name).lower() == b"content-type":
            return b"json" in bytes(value).lower()
    return False


class AccessLogMiddleware:
    """Log one line per HTTP request and report it to ``observer``; other scopes pass through."""

    def __init__(self, app: ASGIApp, observer: RequestObserver | None = None) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, then log it with its duration, principal and outcome."""
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        exchange = _Exchange()

        async def observe_send(message: Message) -> None:
            exchange.see(message)
            await send(message)

        request_id = ensure_request_id(scope)
        started = time.perf_counter()
        with (
            structlog.contextvars.bound_contextvars(request_id=request_id),
            serving(origin_of(scope)),
        ):
            try:
                await self.app(scope, receive, observe_send)
            finally:
                self._record(scope, exchange, time.perf_counter() - started)

    def _record(self, scope: Scope, exchange: _Exchange, duration: float) -> None:
        route = route_template(scope)
        method = str(scope.get("method", ""))
        if self.observer is not None:
            self.observer.observe(
                route=route, method=method, status=exchange.status, duration=duration
            )
        status = exchange.status
        if status >= 500:
            log = _log.warning
        elif route in QUIET_ROUTES:
            log = _log.debug
        else:
            log = _log.info
        log(
            "http_request",
            request_id=request_id_of(scope),
            method=method,
            route=route,
            status=status,
            duration_ms=round(duration * 1000, 3),
            principal=principal_fields(scope),
            outcome=exchange.outcome(),
        )
