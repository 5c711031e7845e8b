"""Server-side dashboard sessions: created at login, read on every request, ended at logout.

The cookie holds a random token; the database holds its keyed digest, the user and the identity
that logged in, and when the session expires. Every request reads the user afresh through
:meth:`AuthService.resume`, so a deactivation or a changed binding ends the session at once.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from gharts_core.errors import UserNotAuthorized
from gharts_core.model import Principal
from gharts_core.ports.storage import DashboardSession
from gharts_http.bootstrap import Services
from gharts_http.dashboard.signing import Signer, new_token


class SessionEnded(Exception):
    """The session cookie no longer stands for a login; the message says why."""


class UnknownSession(SessionEnded):
    """The cookie names no stored session (logged out, purged, or never issued by us)."""


@attrs.frozen(kw_only=True)
class Viewer:
    """The person looking at a page: their principal, their session token and its CSRF token."""

    principal: Principal
    token: str = attrs.field(repr=False)
    csrf_token: str = attrs.field(repr=False)

    @property
    def email(self) -> str:
        """Who is logged in, as the header shows it."""
        return self.principal.email or self.principal.name


class Sessions:
    """Open, read and end dashboard sessions in the store."""

    def __init__(self, services: Services, signer: Signer, ttl_seconds: int) -> None:
        self._services = services
        self._signer = signer
        self._ttl = timedelta(seconds=ttl_seconds)

    async def open(self, principal: Principal, *, replacing: str | None = None) -> str:
        """Store a new session for ``principal``; return the cookie's token.

        The token is always new (no session fixation); ``replacing``, the token the browser
        had before, is ended in the same unit of work. Expired sessions are purged on the way.
        """
        if principal.id is None or principal.issuer is None or principal.subject is None:
            raise UserNotAuthorized("Only people can log in to the dashboard.")
        token = new_token()
        now = self._services.clock.now()
        session = DashboardSession(
            key=self._signer.session_key(token),
            user_id=principal.id,
            issuer=principal.issuer,
            subject=principal.subject,
            created_at=now,
            expires_at=now + self._ttl,
        )
        async with self._services.store.unit_of_work() as uow:
            if replacing:
                await uow.dashboard_sessions.delete(self._signer.session_key(replacing))
            await uow.dashboard_sessions.purge_expired(now)
            await uow.dashboard_sessions.add(session)
        return token

    async def viewer(self, token: str) -> Viewer:
        """Return who holds the session ``token``; raise ``SessionEnded`` when it is over."""
        key = self._signer.session_key(token)
        async with self._services.store.unit_of_work(read_only=True) as uow:
            session = await uow.dashboard_sessions.get(key)
        if session is None:
            raise UnknownSession("You are not logged in.")
        if session.expires_at <= self._services.clock.now():
            await self.close(token)
            raise SessionEnded("Your session has expired.")
        try:
            principal = await self._services.auth.resume(
                session.user_id, session.issuer, session.subject
            )
        except UserNotAuthorized as error:
            await self.close(token)
            raise SessionEnded(str(error)) from error
        return Viewer(principal=principal, token=token, csrf_token=self._signer.csrf_token(token))

    async def close(self, token: str) -> None:
        """End the session ``token`` (logout); nothing happens when there is none."""
        async with self._services.store.unit_of_work() as uow:
            await uow.dashboard_sessions.delete(self._signer.session_key(token))
