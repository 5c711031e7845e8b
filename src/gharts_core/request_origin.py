"""Where the current request came from, for the audit rows written while serving it.

An edge that serves a caller (the HTTP API) sets :data:`current_origin` for the duration of the
request, through :func:`serving`; every audit row built meanwhile records the address and user
agent (see ``services._events.audit_event``). The services' signatures stay about the domain: the
origin is context, like the request id in the logs. Outside a request (the worker, the command
line) there is none and the columns stay empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

__all__ = ["MAX_USER_AGENT_LENGTH", "RequestOrigin", "current_origin", "serving"]

MAX_USER_AGENT_LENGTH = 512
_MAX_ADDRESS_LENGTH = 64


def _printable(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    kept = "".join(char for char in value if char.isprintable())[:limit]
    return kept or None


def _address(value: str | None) -> str | None:
    return _printable(value, _MAX_ADDRESS_LENGTH)


def _user_agent(value: str | None) -> str | None:
    return _printable(value, MAX_USER_AGENT_LENGTH)


@attrs.frozen
class RequestOrigin:
    """The caller's network address (as the trusted proxies report it) and user agent.

    Both are cut to what the audit columns hold and keep printable characters only.
    """

    address: str | None = attrs.field(default=None, converter=_address)
    user_agent: str | None = attrs.field(default=None, converter=_user_agent)


current_origin: ContextVar[RequestOrigin | None] = ContextVar("gharts_request_origin", default=None)


@contextmanager
def serving(origin: RequestOrigin) -> Iterator[None]:
    """Make ``origin`` the current one for the block (and for tasks started inside it)."""
    token = current_origin.set(origin)
    try:
        yield
    finally:
        current_origin.reset(token)
