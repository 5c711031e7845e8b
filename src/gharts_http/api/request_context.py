"""The request id: taken from ``X-Request-ID`` when the client sent a sane one, made otherwise.

It is stored in the ASGI scope state (for handlers, the error table and the access log), bound to
structlog's context variables for the whole request by the access-log middleware, and echoed on
every response by :func:`add_request_id_header`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import Message, Scope

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """Return the request id of ``scope`` (empty outside a request)."""
    state: dict[str, Any] = scope.get("state", {})
    return str(state.get("request_id", ""))


def ensure_request_id(scope: Scope) -> str:
    """Return the request id of ``scope``, assigning it on first use."""
    state: dict[str, Any] = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        request_id = uuid.uuid4().hex
        for name, value in scope.get("headers", []):
            if name == REQUEST_ID_HEADER.encode():
                candidate = value.decode("latin-1")
                if _SANE_ID.fullmatch(candidate):
                    request_id = candidate
        state["request_id"] = request_id
    return str(request_id)


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every response, routed or not, carries ``X-Request-ID``."""
    if message["type"] == "http.response.start" and scope["type"] == ScopeType.HTTP:
        header = (REQUEST_ID_HEADER.encode(), ensure_request_id(scope).encode())
        headers = [item for item in message.get("headers", []) if item[0].lower() != header[0]]
        message["headers"] = [*headers, header]
