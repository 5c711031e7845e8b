"""Domain values: frozen attrs classes and closed enums, no I/O.

Identifiers are :class:`uuid.UUID` created by the core (``new_id``), so every storage backend and
the in-memory fakes agree on them. Timestamps are timezone-aware UTC datetimes. Labels are stored
in lower case (GitHub compares labels case-insensitively).
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from gharts_core.policy import LabelPolicy

TEAM_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$")


def new_id() -> uuid.UUID:
    """Return a fresh random identifier for any entity."""
    return uuid.uuid4()


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    # ``tzinfo is UTC`` first: every stored timestamp is UTC, and this runs for each of the
    # 100,000 records a sync cycle loads.
    if value is not None and value.tzinfo is not UTC and value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def _team_name(_instance: object, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not TEAM_NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"team name {value!r} must match {TEAM_NAME_PATTERN.pattern} "
            "(lower-case letters, digits and dashes, 2-50 characters)"
        )


def _lower(value: str) -> str:
    return value.lower()


def _frozen_ids(values: Iterable[uuid.UUID]) -> frozenset[uuid.UUID]:
    return frozenset(values)


def _sorted_labels(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _group_ids(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(values)


def _observed_labels(values: Iterable[ObservedLabel]) -> tuple[ObservedLabel, ...]:
    return tuple(values)


class RunnerStatus(enum.StrEnum):
    """Where a runner is in its lifecycle."""

    PROVISIONING = "provisioning"
    PENDING = "pending"
    ONLINE = "online"
    BUSY = "busy"
    OFFLINE = "offline"
    DELETED = "deleted"

    @property
    def is_live(self) -> bool:
        """Whether the runner counts towards the quota (every status but ``deleted``)."""
        return self is not RunnerStatus.DELETED


class TransitionSource(enum.StrEnum):
    """Who moved a runner from one status to another."""

    API = "api"
    SYNC = "sync"
    WEBHOOK = "webhook"
    ADMIN = "admin"


class ProvisionMethod(enum.StrEnum):
    """How the runner was handed its credentials."""

    JIT = "jit"
    REGISTRATION_TOKEN = "registration_token"  # noqa: S105 - a method name, not a secret


class PrincipalKind(enum.StrEnum):
    """The kinds of caller: the three of the API, and the operator of the ``gharts`` command."""

    USER = "user"
    MACHINE = "machine"
    SYSTEM = "system"
    OPERATOR = "operator"


class LabelType(enum.StrEnum):
    """GitHub's label types: ``read-only`` labels are GitHub's own, ``custom`` ones are ours."""

    READ_ONLY = "read-only"
    CUSTOM = "custom"


class AuditOutcome(enum.StrEnum):
    """How an audited action ended."""

    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


class AuditAction(enum.StrEnum):
    """The actions the audit log records."""

    RUNNER_PROVISION = "runner.provision"
    RUNNER_DEPROVISION = "runner.deprovision"
    RUNNER_REFRESH = "runner.refresh"
    RUNNER_STATUS = "runner.status"
    RUNNER_DRIFT = "runner.drift"
    RUNNER_ADOPT = "runner.adopt"
    POLICY_CHECK = "policy.check"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DEACTIVATE = "user.deactivate"
    USER_REACTIVATE = "user.reactivate"
    USER_BIND = "user.bind"
    TEAM_CREATE = "team.create"
    TEAM_UPDATE = "team.update"
    TEAM_DEACTIVATE = "team.deactivate"
    TEAM_REACTIVATE = "team.reactivate"
    TEAM_MEMBER_ADD = "team.member_add"
    TEAM_MEMBER_REMOVE = "team.member_remove"
    CLIENT_CREATE = "client.create"
    CLIENT_UPDATE = "client.update"
    CLIENT_DISABLE = "client.disable"
    CLIENT_ENABLE = "client.enable"
    SYNC_CYCLE = "sync.cycle"
    SYNC_TRIGGER = "sync.trigger"
    AUDIT_PURGE = "audit.purge"
    WEBHOOK_JOB = "webhook.workflow_job"


class Severity(enum.StrEnum):
    """Severity of a security event."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class SecurityEventType(enum.StrEnum):
    """What kind of security-relevant thing happened."""

    LABEL_POLICY_VIOLATION = "label_policy_violation"
    RUNNER_GROUP_VIOLATION = "runner_group_violation"
    QUOTA_EXCEEDED = "quota_exceeded"
    UNAUTHORIZED_ACCESS = "unauthorized_access"
    LABEL_DRIFT = "label_drift"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    WEBHOOK_LABEL_VIOLATION = "webhook_label_violation"


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""A patch field the caller did not send, as opposed to one sent as ``null``."""


@attrs.frozen
class Capabilities:
    """Which provisioning flows a principal may use."""

    can_use_jit: bool = True
    can_use_registration_token: bool = False


@attrs.frozen
class Deactivation:
    """Why, when and by whom something was deactivated."""

    reason: str
    at: datetime = attrs.field(validator=_aware)
    by: str


@attrs.frozen
class Team:
    """A team: its label policy, runner groups and quota."""

    id: uuid.UUID
    name: str = attrs.field(validator=_team_name)
    description: str
    policy: LabelPolicy
    allowed_runner_group_ids: tuple[int, ...] = attrs.field(converter=_group_ids)
    default_runner_group_id: int
    max_runners: int | None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    deactivation: Deactivation | None = None

    @property
    def is_active(self) -> bool:
        """Whether the team may provision runners."""
        return self.deactivation is None


@attrs.frozen
class User:
    """A person, matched by (issuer, subject) once bound, or by email on first login."""

    id: uuid.UUID
    email: str = attrs.field(converter=_lower)
    display_name: str
    is_admin: bool
    capabilities: Capabilities
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    oidc_issuer: str | None = None
    oidc_subject: str | None = None
    deactivation: Deactivation | None = None

    @property
    def is_active(self) -> bool:
        """Whether the user may call gharts at all."""
        return self.deactivation is None


@attrs.frozen
class MachineClient:
    """An M2M or workload identity registered by an admin and bound to exactly one team."""

    id: uuid.UUID
    issuer: str
    subject: str
    team_id: uuid.UUID
    description: str
    capabilities: Capabilities
    is_active: bool
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen
class Actor:
    """Who did something, as recorded in audit rows and runner records."""

    kind: PrincipalKind
    id: uuid.UUID | None
    name: str

    @classmethod
    def system(cls) -> Actor:
        """Return the actor of the sync worker and other internal processes."""
        return cls(kind=PrincipalKind.SYSTEM, id=None, name="system")


@attrs.frozen
class Principal:
    """An authenticated caller with what it may do, resolved from a verified token."""

    kind: PrincipalKind
    id: uuid.UUID | None
    name: str
    is_admin: bool
    capabilities: Capabilities
    team_ids: frozenset[uuid.UUID] = attrs.field(converter=_frozen_ids)
    email: str | None = None
    issuer: str | None = None
    subject: str | None = None

    @property
    def actor(self) -> Actor:
        """The audit identity of this principal."""
        return Actor(kind=self.kind, id=self.id, name=self.name)

    @classmethod
    def system(cls) -> Principal:
        """Return the worker principal: sees and may do everything, belongs to no team."""
        return cls(
            kind=PrincipalKind.SYSTEM,
            id=None,
            name="system",
            is_admin=True,
            capabilities=Capabilities(can_use_jit=True, can_use_registration_token=True),
            team_ids=frozenset(),
        )

    @classmethod
    def operator(cls, name: str) -> Principal:
        """Return a person at the ``gharts`` command line: an admin, audited under ``name``.

        The command reaches the database directly, so whoever runs it may do what an admin may;
        ``name`` (``--actor``, or ``user@host``) is what audit rows and deactivations record.
        """
        return attrs.evolve(cls.system(), kind=PrincipalKind.OPERATOR, name=name)


@attrs.frozen
class RunnerRecord:
    """What gharts knows of one runner it provisioned."""

    id: uuid.UUID
    name: str
    team_id: uuid.UUID
    team_name: str
    labels: tuple[str, ...] = attrs.field(converter=_sorted_labels)
    runner_group_id: int
    status: RunnerStatus
    method: ProvisionMethod
    created_by: Actor
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    github_runner_id: int | None = None
    expires_at: datetime | None = attrs.field(default=None, validator=_aware)
    deleted_at: datetime | None = attrs.field(default=None, validator=_aware)
    deleted_reason: str | None = None


@attrs.frozen
class RunnerTransition:
    """One recorded status change of a runner."""

    runner_id: uuid.UUID
    from_status: RunnerStatus | None
    to_status: RunnerStatus
    source: TransitionSource
    at: datetime = attrs.field(validator=_aware)
    reason: str | None = None


@attrs.frozen
class ObservedLabel:
    """A label as GitHub reports it on a runner."""

    name: str
    type: LabelType


@attrs.frozen
class ObservedRunner:
    """A self-hosted runner as GitHub reports it."""

    id: int
    name: str
    os: str
    status: str  # GitHub's "online" / "offline"
    busy: bool
    labels: tuple[ObservedLabel, ...] = attrs.field(converter=_observed_labels)
    runner_group_id: int | None = None
    ephemeral: bool | None = None

    @property
    def custom_labels(self) -> frozenset[str]:
        """The lower-cased ``custom`` labels: the only ones drift is judged on."""
        return frozenset(lb.name.lower() for lb in self.labels if lb.type is LabelType.CUSTOM)


@attrs.frozen
class AuditEvent:
    """One append-only audit row."""

    id: uuid.UUID
    at: datetime = attrs.field(validator=_aware)
    actor: Actor
    action: str
    outcome: AuditOutcome
    target_type: str
    target_id: str | None = None
    team_id: uuid.UUID | None = None
    team_name: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)
    #: The caller's address and user agent when the row was written serving a request.
    source_ip: str | None = None
    user_agent: str | None = None


@attrs.frozen
class SecurityEvent:
    """One append-only security event."""

    id: uuid.UUID
    at: datetime = attrs.field(validator=_aware)
    type: SecurityEventType
    severity: Severity
    actor: Actor
    message: str
    team_id: uuid.UUID | None = None
    team_name: str | None = None
    runner_id: uuid.UUID | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class SyncReport:
    """What one sync cycle did."""

    started_at: datetime = attrs.field(validator=_aware)
    finished_at: datetime = attrs.field(validator=_aware)
    observed: int
    unmanaged: int
    actions: Mapping[str, int] = attrs.field(factory=dict)
    errors: tuple[str, ...] = ()
    purged_audit_rows: int = 0

    @property
    def duration_seconds(self) -> float:
        """Wall time of the cycle."""
        return (self.finished_at - self.started_at).total_seconds()


@attrs.frozen
class SyncState:
    """The worker's shared state: who leads, when it last beat, what the last cycle did."""

    leader: str | None = None
    heartbeat_at: datetime | None = attrs.field(default=None, validator=_aware)
    last_report: SyncReport | None = None
    cycles: int = 0
