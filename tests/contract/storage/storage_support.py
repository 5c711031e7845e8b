"""Backends and builders for the storage contract suite.

A :class:`Backend` opens stores on one database: the in-memory fake (every ``open`` returns the
same store), a migrated SQLite file, or a migrated PostgreSQL database. Builders make valid domain
objects with fixed ids where a test needs a known order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gharts_adapters.storage import create_store
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Capabilities,
    Deactivation,
    MachineClient,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    SecurityEvent,
    SecurityEventType,
    Severity,
    Team,
    User,
    new_id,
)
from gharts_core.policy import LabelPolicy
from gharts_core.ports.storage import Store
from gharts_core.testing.fake_store import FakeStore

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ALICE = Actor(kind=PrincipalKind.USER, id=uuid.UUID(int=1), name="alice@example.com")
BOB = Actor(kind=PrincipalKind.USER, id=uuid.UUID(int=2), name="bob@example.com")


def minutes(n: float) -> datetime:
    """Return ``n`` minutes after :data:`T0`."""
    return T0 + timedelta(minutes=n)


class Backend:
    """Where the stores of one test live; ``open`` may be called several times."""

    def __init__(self, name: str, url: str | None) -> None:
        self.name = name
        self._url = url
        self._fake = FakeStore() if url is None else None
        self._opened: list[Store] = []

    def open(self) -> Store:
        """Return a store on this backend's database (a new connection pool for SQL ones)."""
        if self._fake is not None:
            return self._fake
        assert self._url is not None
        store = create_store(self._url)
        self._opened.append(store)
        return store

    async def close(self) -> None:
        """Close every store this backend opened."""
        for store in self._opened:
            await store.close()


def make_team(
    name: str = "team-a",
    *,
    max_runners: int | None = None,
    active: bool = True,
    team_id: uuid.UUID | None = None,
    at: datetime = T0,
) -> Team:
    """Return a valid team."""
    return Team(
        id=team_id or new_id(),
        name=name,
        description=f"The {name} team",
        policy=LabelPolicy(required_labels=[name], optional_label_patterns=["gpu-[a-z0-9]+"]),
        allowed_runner_group_ids=(1, 7),
        default_runner_group_id=1,
        max_runners=max_runners,
        created_at=at,
        updated_at=at,
        deactivation=None if active else Deactivation(reason="closed", at=at, by="admin"),
    )


def make_user(
    email: str = "alice@example.com",
    *,
    admin: bool = False,
    active: bool = True,
    issuer: str | None = None,
    subject: str | None = None,
) -> User:
    """Return a valid user."""
    return User(
        id=new_id(),
        email=email,
        display_name=email.split("@", maxsplit=1)[0].title(),
        is_admin=admin,
        capabilities=Capabilities(can_use_jit=True, can_use_registration_token=admin),
        created_at=T0,
        updated_at=T0,
        oidc_issuer=issuer,
        oidc_subject=subject,
        deactivation=None if active else Deactivation(reason="left", at=T0, by="admin"),
    )


def make_client(
    team: Team,
    *,
    subject: str = "ci",
    issuer: str = "https://idp.example.com/",
    active: bool = True,
    at: datetime = T0,
    client_id: uuid.UUID | None = None,
) -> MachineClient:
    """Return a valid machine client of ``team``."""
    return MachineClient(
        id=client_id or new_id(),
        issuer=issuer,
        subject=subject,
        team_id=team.id,
        description=f"{subject} of {team.name}",
        capabilities=Capabilities(),
        is_active=active,
        created_at=at,
        updated_at=at,
    )


def make_runner(
    team: Team,
    name: str,
    *,
    labels: Sequence[str] = ("linux-build",),
    status: RunnerStatus = RunnerStatus.PROVISIONING,
    at: datetime = T0,
    runner_id: uuid.UUID | None = None,
) -> RunnerRecord:
    """Return a runner record of ``team``."""
    return RunnerRecord(
        id=runner_id or new_id(),
        name=name,
        team_id=team.id,
        team_name=team.name,
        labels=labels,
        runner_group_id=1,
        status=status,
        method=ProvisionMethod.JIT,
        created_by=ALICE,
        created_at=at,
        updated_at=at,
        expires_at=at + timedelta(hours=1),
    )


def make_audit(
    at: datetime,
    *,
    actor: Actor = ALICE,
    action: AuditAction = AuditAction.RUNNER_PROVISION,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    team: Team | None = None,
    target_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Return an audit event."""
    return AuditEvent(
        id=new_id(),
        at=at,
        actor=actor,
        action=action.value,
        outcome=outcome,
        target_type="runner",
        target_id=target_id,
        team_id=None if team is None else team.id,
        team_name=None if team is None else team.name,
        details=details or {},
    )


def make_security(
    at: datetime,
    *,
    kind: SecurityEventType = SecurityEventType.LABEL_POLICY_VIOLATION,
    severity: Severity = Severity.WARNING,
    team: Team | None = None,
    details: Mapping[str, Any] | None = None,
) -> SecurityEvent:
    """Return a security event."""
    return SecurityEvent(
        id=new_id(),
        at=at,
        type=kind,
        severity=severity,
        actor=BOB,
        message=f"{kind.value} seen",
        team_id=None if team is None else team.id,
        team_name=None if team is None else team.name,
        runner_id=None,
        details=details or {},
    )


async def add_teams(store: Store, *teams: Team) -> None:
    """Store the teams in one unit of work."""
    async with store.unit_of_work() as uow:
        for team in teams:
            await uow.teams.add(team)
