"""Builders for domain objects and a seeding helper, shared by the service tests.

Every builder has defaults that make a valid object, so a test names only what it is about::

    team = make_team("backend", max_runners=2)
    alice = make_user("alice@example.com")
    await seed(store, team, alice, members=[(team, alice)])
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from gharts_core.model import (
    Actor,
    AuditEvent,
    Capabilities,
    Deactivation,
    MachineClient,
    ObservedRunner,
    Principal,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    SecurityEvent,
    Team,
    TransitionSource,
    User,
    new_id,
)
from gharts_core.policy import LabelPolicy
from gharts_core.ports.github import JitConfig, JitRequest, RegistrationToken
from gharts_core.ports.storage import AuditFilter, Page, RunnerFilter, SecurityEventFilter, Store
from gharts_core.testing.fake_github import FakeRunnerPlatform
from gharts_core.testing.fake_identity import FAKE_ISSUER

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
"""The start time of :class:`gharts_core.testing.clock.FakeClock`, used as a default stamp."""


def make_team(
    name: str = "backend",
    *,
    required_labels: Sequence[str] | None = None,
    patterns: Sequence[str] = ("gpu-[a-z0-9]+", "size-(small|large)"),
    allowed_runner_group_ids: Sequence[int] = (1, 2),
    default_runner_group_id: int = 1,
    max_runners: int | None = None,
    deactivated: str | None = None,
    at: datetime = T0,
) -> Team:
    """Return a team; its required label is its own name unless told otherwise."""
    return Team(
        id=new_id(),
        name=name,
        description=f"The {name} team",
        policy=LabelPolicy(
            required_labels=(name,) if required_labels is None else tuple(required_labels),
            optional_label_patterns=tuple(patterns),
        ),
        allowed_runner_group_ids=tuple(allowed_runner_group_ids),
        default_runner_group_id=default_runner_group_id,
        max_runners=max_runners,
        created_at=at,
        updated_at=at,
        deactivation=None if deactivated is None else Deactivation(deactivated, at, "admin"),
    )


def make_user(
    email: str = "alice@example.com",
    *,
    is_admin: bool = False,
    can_use_jit: bool = True,
    can_use_registration_token: bool = False,
    issuer: str | None = None,
    subject: str | None = None,
    deactivated: str | None = None,
    at: datetime = T0,
) -> User:
    """Return a user, unbound (no issuer/subject) unless told otherwise."""
    return User(
        id=new_id(),
        email=email,
        display_name=email.split("@", maxsplit=1)[0].title(),
        is_admin=is_admin,
        capabilities=Capabilities(can_use_jit, can_use_registration_token),
        created_at=at,
        updated_at=at,
        oidc_issuer=issuer,
        oidc_subject=subject,
        deactivation=None if deactivated is None else Deactivation(deactivated, at, "admin"),
    )


def make_client(
    team: Team,
    *,
    subject: str = "ci-bot",
    issuer: str = FAKE_ISSUER,
    is_active: bool = True,
    can_use_jit: bool = True,
    can_use_registration_token: bool = False,
    at: datetime = T0,
) -> MachineClient:
    """Return a machine client bound to ``team``."""
    return MachineClient(
        id=new_id(),
        issuer=issuer,
        subject=subject,
        team_id=team.id,
        description=f"{subject} of {team.name}",
        capabilities=Capabilities(can_use_jit, can_use_registration_token),
        is_active=is_active,
        created_at=at,
        updated_at=at,
    )


def make_runner(
    team: Team,
    name: str = "runner-1",
    *,
    status: RunnerStatus = RunnerStatus.PENDING,
    labels: Iterable[str] | None = None,
    github_runner_id: int | None = None,
    method: ProvisionMethod = ProvisionMethod.JIT,
    runner_group_id: int | None = None,
    at: datetime = T0,
) -> RunnerRecord:
    """Return a runner record of ``team``; its labels default to the team's required labels."""
    return RunnerRecord(
        id=new_id(),
        name=name,
        team_id=team.id,
        team_name=team.name,
        labels=tuple(team.policy.required_labels if labels is None else labels),
        runner_group_id=team.default_runner_group_id
        if runner_group_id is None
        else runner_group_id,
        status=status,
        method=method,
        created_by=Actor(kind=PrincipalKind.USER, id=None, name="seed"),
        created_at=at,
        updated_at=at,
        github_runner_id=github_runner_id,
    )


async def seed(
    store: Store,
    *objects: Team | User | MachineClient | RunnerRecord,
    members: Iterable[tuple[Team, User]] = (),
) -> None:
    """Write domain objects through the repositories, in the order given, then memberships.

    Runners are reserved as ``provisioning`` and then saved in their own status, the way the
    services create them.
    """
    async with store.unit_of_work() as uow:
        for obj in objects:
            if isinstance(obj, Team):
                await uow.teams.add(obj)
            elif isinstance(obj, User):
                await uow.users.add(obj)
            elif isinstance(obj, MachineClient):
                await uow.clients.add(obj)
            else:
                reserved = attrs.evolve(
                    obj, status=RunnerStatus.PROVISIONING, github_runner_id=None
                )
                await uow.runners.reserve(reserved, None)
                if reserved != obj:
                    transition = RunnerTransition(
                        runner_id=obj.id,
                        from_status=RunnerStatus.PROVISIONING,
                        to_status=obj.status,
                        source=TransitionSource.API,
                        at=obj.created_at,
                    )
                    await uow.runners.save(obj, transition)
        for team, user in members:
            await uow.memberships.add(team.id, user.id)


def user_principal(user: User, *teams: Team) -> Principal:
    """Return the principal a token of ``user`` resolves to when a member of ``teams``."""
    return Principal(
        kind=PrincipalKind.USER,
        id=user.id,
        name=user.email,
        is_admin=user.is_admin,
        capabilities=user.capabilities,
        team_ids=frozenset(team.id for team in teams),
        email=user.email,
        issuer=user.oidc_issuer,
        subject=user.oidc_subject,
    )


def machine_principal(client: MachineClient) -> Principal:
    """Return the principal a token of ``client`` resolves to."""
    return Principal(
        kind=PrincipalKind.MACHINE,
        id=client.id,
        name=client.subject,
        is_admin=False,
        capabilities=client.capabilities,
        team_ids=frozenset({client.team_id}),
        issuer=client.issuer,
        subject=client.subject,
    )


def new_uuid() -> uuid.UUID:
    """Return an id nothing in the store has."""
    return uuid.uuid4()


async def audit_rows(store: Store, action: str | None = None) -> list[AuditEvent]:
    """Return every audit row (of one action when given), oldest first."""
    async with store.unit_of_work() as uow:
        found = await uow.audit.list(AuditFilter(action=action), Page(limit=500))
    return list(reversed(found.items))


async def security_events(store: Store) -> list[SecurityEvent]:
    """Return every security event, oldest first."""
    async with store.unit_of_work() as uow:
        found = await uow.security_events.list(SecurityEventFilter(), Page(limit=500))
    return list(reversed(found.items))


async def stored_runner(store: Store, runner_id: uuid.UUID) -> RunnerRecord | None:
    """Return the stored record of one runner."""
    async with store.unit_of_work() as uow:
        return await uow.runners.get(runner_id)


async def transitions(store: Store, runner_id: uuid.UUID) -> list[RunnerTransition]:
    """Return the recorded transitions of one runner, oldest first."""
    async with store.unit_of_work() as uow:
        return list(await uow.runners.transitions(runner_id))


async def update_runner(store: Store, runner_id: uuid.UUID, **changes: Any) -> RunnerRecord:
    """Change a stored runner behind the services' back (what a concurrent request would do)."""
    async with store.unit_of_work() as uow:
        current = await uow.runners.get(runner_id)
        assert current is not None
        changed = attrs.evolve(current, **changes)
        await uow.runners.save(changed)
    return changed


async def runner_named(store: Store, name: str) -> RunnerRecord:
    """Return the one stored runner with this name (deleted ones included)."""
    async with store.unit_of_work() as uow:
        found = await uow.runners.list(RunnerFilter(), Page(limit=500))
    (runner,) = [r for r in found.items if r.name == name]
    return runner


async def all_runners(store: Store) -> list[RunnerRecord]:
    """Return every stored runner, deleted ones included."""
    async with store.unit_of_work() as uow:
        found = await uow.runners.list(RunnerFilter(), Page(limit=500))
    return list(found.items)


Hook = Callable[[], Awaitable[None]]


class HookedPlatform(FakeRunnerPlatform):
    """The fake GitHub, running a test's callback when a port method is entered.

    Lets a test change the store while a service waits for GitHub (a concurrent request, the sync
    worker) or make the call end in a way the fake's fault injection does not offer.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.before: dict[str, Hook] = {}

    async def _hook(self, method: str) -> None:
        hook = self.before.pop(method, None)
        if hook is not None:
            await hook()

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        """Run the hook, then behave like the fake."""
        await self._hook("create_jit_config")
        return await super().create_jit_config(request)

    async def create_registration_token(self) -> RegistrationToken:
        """Run the hook, then behave like the fake."""
        await self._hook("create_registration_token")
        return await super().create_registration_token()

    async def get_runner(self, github_runner_id: int) -> ObservedRunner | None:
        """Run the hook, then behave like the fake."""
        await self._hook("get_runner")
        return await super().get_runner(github_runner_id)

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Run the hook, then behave like the fake."""
        await self._hook("delete_runner")
        return await super().delete_runner(github_runner_id)
