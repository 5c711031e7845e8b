"""Authentication: from a bearer token to a :class:`Principal`, and back to "who am I".

A verified token only proves who the caller is; gharts decides what they are. Machine tokens must
belong to an active registered client. User tokens must match an active user, by (issuer,
subject) once bound, or by a verified email on the first login, when the (issuer, subject) is
bound to the admin-created row. A row already bound to another subject is never taken over by
email. Refusals of verified callers are security events; bad tokens are not (they are noise).

The lookup is a read-only unit of work (it never takes SQLite's write lock); only a first login
or a refusal writes. A principal resolved from a bearer token is kept for ``principal_ttl`` (5 s
by default, at most ``principal_cache_size`` of them): a deactivated user, a disabled client or a
changed membership takes effect within that bound in every process, and at once in a process
that calls :meth:`AuthService.forget_principals`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

import attrs

from gharts_core.errors import Conflict, UserNotAuthorized
from gharts_core.model import (
    Actor,
    AuditAction,
    Capabilities,
    Principal,
    PrincipalKind,
    SecurityEventType,
    Severity,
    User,
    new_id,
)
from gharts_core.ports.clock import Clock
from gharts_core.ports.identity import TokenKind, TokenVerifier, VerifiedToken
from gharts_core.ports.storage import Store, UnitOfWork
from gharts_core.services._events import audit_event, security_event
from gharts_core.services._principal_cache import PrincipalCache

__all__ = ["AuthService", "AuthenticationSettings", "Identity", "TeamMembership"]


def _emails(values: Iterable[str]) -> frozenset[str]:
    return frozenset(value.strip().lower() for value in values)


def _not_negative(_instance: object, _attribute: object, value: timedelta) -> None:
    if value < timedelta(0):
        raise ValueError("principal_ttl must not be negative")


@attrs.frozen(kw_only=True)
class AuthenticationSettings:
    """How callers are recognised.

    ``bootstrap_admins``: emails made admins on their first verified login when absent.
    ``principal_ttl``: how long a principal resolved from a bearer token is reused without
    reading its row again (zero turns the cache off); ``principal_cache_size``: how many
    principals are kept at most.
    """

    bootstrap_admins: frozenset[str] = attrs.field(default=frozenset(), converter=_emails)
    principal_ttl: timedelta = attrs.field(default=timedelta(seconds=5), validator=_not_negative)
    principal_cache_size: int = attrs.field(default=10_000, validator=attrs.validators.ge(0))


@attrs.frozen(kw_only=True)
class TeamMembership:
    """One team the caller belongs to, as ``/auth/me`` shows it."""

    id: uuid.UUID
    name: str
    is_active: bool


@attrs.frozen(kw_only=True)
class Identity:
    """What ``GET /api/v1/auth/me`` answers."""

    kind: PrincipalKind
    id: uuid.UUID | None
    name: str
    email: str | None
    issuer: str | None
    subject: str | None
    is_admin: bool
    capabilities: Capabilities
    teams: tuple[TeamMembership, ...]


@attrs.frozen
class _Refusal:
    actor: Actor
    reason: str
    severity: Severity = Severity.WARNING


class AuthService:
    """Turn bearer tokens into principals; describe a principal."""

    def __init__(
        self,
        store: Store,
        verifier: TokenVerifier,
        clock: Clock,
        settings: AuthenticationSettings | None = None,
    ) -> None:
        self._store = store
        self._verifier = verifier
        self._clock = clock
        self._settings = settings or AuthenticationSettings()
        self._principals = PrincipalCache(
            self._settings.principal_ttl, self._settings.principal_cache_size
        )

    def forget_principals(self) -> None:
        """Forget every cached principal, so each caller's next request reads its row again."""
        self._principals.clear()

    async def authenticate(self, token: str) -> Principal:
        """Verify ``token`` and return the principal it stands for.

        Raise ``InvalidToken`` for a token the verifier refuses and ``UserNotAuthorized`` for a
        verified caller gharts does not know or has disabled (within ``principal_ttl`` of the
        change: a resolved principal is reused that long).
        """
        verified = await self._verifier.verify(token)
        key = (verified.kind, verified.issuer, verified.subject)
        cached = self._principals.get(key, self._clock.now())
        if cached is not None:
            return cached
        principal = await self._resolve(verified)
        self._principals.put(key, principal, self._clock.now())
        return principal

    async def sign_in(self, verified: VerifiedToken) -> Principal:
        """Return the person an already verified ID token stands for (the dashboard's login).

        The same rules as :meth:`authenticate` apply ((issuer, subject) binding, email only when
        verified, bootstrap admins); machine tokens are refused, machines have no dashboard.
        """
        if verified.kind is not TokenKind.USER:
            raise UserNotAuthorized("Machine clients cannot log in to the dashboard.")
        return await self._resolve(verified)

    async def resume(self, user_id: uuid.UUID, issuer: str, subject: str) -> Principal:
        """Return the principal of a stored login, read afresh on every request.

        Raise ``UserNotAuthorized`` when the user is gone, deactivated, or no longer bound to the
        identity that logged in, so such a change ends the login at its next request.
        """
        async with self._store.unit_of_work(read_only=True) as uow:
            user = await uow.users.get(user_id)
            if user is None or (user.oidc_issuer, user.oidc_subject) != (issuer, subject):
                raise UserNotAuthorized("This login is no longer valid.")
            if not user.is_active:
                raise UserNotAuthorized("This user is deactivated.")
            return await self._principal(uow, user, issuer, subject)

    async def _resolve(self, verified: VerifiedToken) -> Principal:
        # A known caller is resolved reading only; a first login or a refusal writes.
        async with self._store.unit_of_work(read_only=True) as uow:
            known = await self._look_up(uow, verified)
        if isinstance(known, Principal):
            return known
        async with self._store.unit_of_work() as uow:
            if verified.kind is TokenKind.MACHINE:
                outcome = await self._machine(uow, verified)
            else:
                outcome = await self._user(uow, verified)
            if isinstance(outcome, _Refusal):
                await uow.security_events.append(
                    security_event(
                        self._clock,
                        outcome.actor,
                        SecurityEventType.UNAUTHORIZED_ACCESS,
                        outcome.reason,
                        severity=outcome.severity,
                        details={
                            "issuer": verified.issuer,
                            "subject": verified.subject,
                            "kind": verified.kind.value,
                        },
                    )
                )
        if isinstance(outcome, _Refusal):
            raise UserNotAuthorized(outcome.reason)
        return outcome

    async def _look_up(self, uow: UnitOfWork, verified: VerifiedToken) -> Principal | None:
        """Return the principal of a known, active caller; ``None`` when a write is needed."""
        if verified.kind is TokenKind.MACHINE:
            machine = await self._machine(uow, verified)
            return machine if isinstance(machine, Principal) else None
        user = await uow.users.get_by_subject(verified.issuer, verified.subject)
        if user is None or not user.is_active:
            return None
        return await self._principal(uow, user, verified.issuer, verified.subject)

    async def describe(self, principal: Principal) -> Identity:
        """Return the caller's identity, capabilities and teams (with their active flag)."""
        async with self._store.unit_of_work(read_only=True) as uow:
            teams = [await uow.teams.get(team_id) for team_id in principal.team_ids]
        memberships = sorted(
            (TeamMembership(id=t.id, name=t.name, is_active=t.is_active) for t in teams if t),
            key=lambda membership: membership.name,
        )
        return Identity(
            kind=principal.kind,
            id=principal.id,
            name=principal.name,
            email=principal.email,
            issuer=principal.issuer,
            subject=principal.subject,
            is_admin=principal.is_admin,
            capabilities=principal.capabilities,
            teams=tuple(memberships),
        )

    async def _machine(self, uow: UnitOfWork, verified: VerifiedToken) -> Principal | _Refusal:
        client = await uow.clients.get_active(verified.issuer, verified.subject)
        if client is None:
            actor = Actor(kind=PrincipalKind.MACHINE, id=None, name=verified.subject)
            reason = "This machine client is not registered or is disabled."
            return _Refusal(actor, reason, Severity.INFO)
        return Principal(
            kind=PrincipalKind.MACHINE,
            id=client.id,
            name=verified.subject,
            is_admin=False,
            capabilities=client.capabilities,
            team_ids=frozenset({client.team_id}),
            issuer=verified.issuer,
            subject=verified.subject,
        )

    async def _user(self, uow: UnitOfWork, verified: VerifiedToken) -> Principal | _Refusal:
        user = await uow.users.get_by_subject(verified.issuer, verified.subject)
        if user is None:
            found = await self._first_login(uow, verified)
            if isinstance(found, _Refusal):
                return found
            user = found
        if not user.is_active:
            return _Refusal(_actor(user), "This user is deactivated.")
        return await self._principal(uow, user, verified.issuer, verified.subject)

    async def _principal(self, uow: UnitOfWork, user: User, issuer: str, subject: str) -> Principal:
        return Principal(
            kind=PrincipalKind.USER,
            id=user.id,
            name=user.email,
            is_admin=user.is_admin,
            capabilities=user.capabilities,
            team_ids=await uow.memberships.team_ids_of(user.id),
            email=user.email,
            issuer=issuer,
            subject=subject,
        )

    async def _first_login(self, uow: UnitOfWork, verified: VerifiedToken) -> User | _Refusal:
        anonymous = Actor(kind=PrincipalKind.USER, id=None, name=verified.email or verified.subject)
        unknown = _Refusal(anonymous, "This user is not registered with gharts.", Severity.INFO)
        if verified.email is None or not verified.email_verified:
            return unknown
        user = await uow.users.get_by_email(verified.email)
        if user is None:
            if verified.email not in self._settings.bootstrap_admins:
                return unknown
            return await self._create_bootstrap_admin(uow, verified, verified.email)
        if user.oidc_subject is None and user.is_active:
            bound = await self._bind(uow, user, verified)
            if bound is not None:
                return bound
            # Another first login bound the row since it was read: judge the row as it is now.
            current = await uow.users.get(user.id)
            if current is None:
                return unknown
            user = current
        return _claimed(user, verified)

    async def _bind(self, uow: UnitOfWork, user: User, verified: VerifiedToken) -> User | None:
        """Bind the unbound ``user`` to the login and audit it; ``None`` if bound meanwhile."""
        bound = await uow.users.bind_identity(
            user, verified.issuer, verified.subject, self._clock.now()
        )
        if bound is not None:
            await uow.audit.append(
                audit_event(
                    self._clock,
                    _actor(bound),
                    AuditAction.USER_BIND,
                    target_type="user",
                    target_id=bound.id,
                    details={"issuer": verified.issuer, "subject": verified.subject},
                )
            )
        return bound

    async def _create_bootstrap_admin(
        self, uow: UnitOfWork, verified: VerifiedToken, email: str
    ) -> User:
        now = self._clock.now()
        admin = User(
            id=new_id(),
            email=email,
            display_name=verified.name or email,
            is_admin=True,
            capabilities=Capabilities(),
            created_at=now,
            updated_at=now,
            oidc_issuer=verified.issuer,
            oidc_subject=verified.subject,
        )
        try:
            await uow.users.add(admin)
        except Conflict:
            # A concurrent first request of this login created the row first: use it.
            created = await uow.users.get_by_subject(verified.issuer, verified.subject)
            if created is None:
                raise
            return created
        await uow.audit.append(
            audit_event(
                self._clock,
                Actor.system(),
                AuditAction.USER_CREATE,
                target_type="user",
                target_id=admin.id,
                details={"email": email, "is_admin": True, "bootstrap": True},
            )
        )
        return admin


def _claimed(user: User, verified: VerifiedToken) -> User | _Refusal:
    """Judge a first login's row that it did not bind: bound to this login, another, or none."""
    if user.oidc_subject is None:
        return _Refusal(_actor(user), "This user is deactivated.")
    if (user.oidc_issuer, user.oidc_subject) == (verified.issuer, verified.subject):
        return user  # bound a moment ago by a concurrent first request of this same login
    return _Refusal(
        _actor(user),
        "This email belongs to a user bound to another identity; "
        "it cannot be claimed by a different login.",
    )


def _actor(user: User) -> Actor:
    return Actor(kind=PrincipalKind.USER, id=user.id, name=user.email)
