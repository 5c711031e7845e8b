"""Admin changes take effect at once in the process that made them.

The core keeps resolved principals for a few seconds (``AuthenticationSettings.principal_ttl``).
A successful unsafe request made by an admin may have deactivated a user, disabled a client or
changed a membership or capabilities, so this ``before_send`` hook forgets every cached principal
before that response leaves: the next request of anyone in this process reads its row again.
Other processes (replicas, ``gharts admin ...``) see the change within the TTL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.types import Message, Scope

from gharts_core.model import Principal

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def forget_principals_after_admin_change(message: Message, scope: Scope) -> None:
    """``before_send`` hook: an admin's successful write empties the principal cache."""
    if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
        return
    if scope["method"] in _SAFE_METHODS or message["status"] >= 400:
        return
    state: Mapping[str, Any] = scope.get("state", {})
    principal = state.get("principal")
    if isinstance(principal, Principal) and principal.is_admin:
        scope["app"].state.services.auth.forget_principals()
