"""Bodies of the runner, policy and identity endpoints (the ARC contract of seed 004)."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from gharts_core.model import ObservedRunner, RunnerRecord, RunnerStatus
from gharts_core.ports.storage import PageResult
from gharts_core.services.auth import Identity
from gharts_core.services.policy_check import PolicyCheckResult
from gharts_core.services.provision import (
    JitProvisioned,
    ProvisionJitRunner,
    ProvisionRegistrationToken,
    RegistrationTokenIssued,
)
from gharts_core.services.runners import RunnerRefreshed
from gharts_http.api.converters import to_command
from gharts_http.api.errors import PolicyViolationBody


@attrs.frozen(kw_only=True)
class ProvisionJitBody:
    """``POST /api/v1/runners/jit``: exactly one of ``runner_name`` and ``runner_name_prefix``."""

    labels: list[str]
    runner_name: str | None = None
    runner_name_prefix: str | None = None
    team_name: str | None = None
    team_id: uuid.UUID | None = None
    runner_group_id: int | None = None
    work_folder: str = "_work"

    def command(self) -> ProvisionJitRunner:
        """Return the service command with the same fields (the command validates them)."""
        return to_command(self, ProvisionJitRunner)


@attrs.frozen(kw_only=True)
class ProvisionTokenBody:
    """``POST /api/v1/runners/provision``: the legacy registration-token flow."""

    labels: list[str]
    runner_name: str | None = None
    runner_name_prefix: str | None = None
    team_name: str | None = None
    team_id: uuid.UUID | None = None
    runner_group_id: int | None = None

    def command(self) -> ProvisionRegistrationToken:
        """Return the service command with the same fields (the command validates them)."""
        return to_command(self, ProvisionRegistrationToken)


@attrs.frozen(kw_only=True)
class JitRunnerResponse:
    """A provisioned JIT runner; ``encoded_jit_config`` is shown once and never stored."""

    runner_id: uuid.UUID
    runner_name: str
    encoded_jit_config: str = attrs.field(repr=False)
    labels: list[str]
    team_name: str
    runner_group_id: int
    github_runner_id: int | None
    expires_at: datetime
    run_command: str = attrs.field(repr=False)

    @classmethod
    def of(cls, result: JitProvisioned) -> JitRunnerResponse:
        """Build the response from the service's result."""
        return cls(
            runner_id=result.runner.id,
            runner_name=result.runner.name,
            encoded_jit_config=result.encoded_jit_config,
            labels=list(result.runner.labels),
            team_name=result.team.name,
            runner_group_id=result.runner.runner_group_id,
            github_runner_id=result.runner.github_runner_id,
            expires_at=result.expires_at,
            run_command=result.run_command,
        )


@attrs.frozen(kw_only=True)
class RegistrationTokenResponse:
    """A registration token for one runner, with the ``config.sh`` command that uses it."""

    runner_id: uuid.UUID
    token: str = attrs.field(repr=False)
    expires_at: datetime
    runner_name: str
    labels: list[str]
    team_name: str
    runner_group_id: int
    github_url: str
    config_command: str = attrs.field(repr=False)

    @classmethod
    def of(cls, result: RegistrationTokenIssued) -> RegistrationTokenResponse:
        """Build the response from the service's result."""
        return cls(
            runner_id=result.runner.id,
            token=result.token,
            expires_at=result.expires_at,
            runner_name=result.runner_name,
            labels=list(result.labels),
            team_name=result.team.name,
            runner_group_id=result.runner.runner_group_id,
            github_url=result.github_url,
            config_command=result.config_command,
        )


@attrs.frozen(kw_only=True)
class RunnerResponse:
    """One runner record as the API shows it."""

    runner_id: uuid.UUID
    runner_name: str
    team_id: uuid.UUID
    team_name: str
    labels: list[str]
    runner_group_id: int
    status: RunnerStatus
    method: str
    github_runner_id: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    deleted_at: datetime | None
    deleted_reason: str | None

    @classmethod
    def of(cls, runner: RunnerRecord) -> RunnerResponse:
        """Build the response from a runner record."""
        return cls(
            runner_id=runner.id,
            runner_name=runner.name,
            team_id=runner.team_id,
            team_name=runner.team_name,
            labels=list(runner.labels),
            runner_group_id=runner.runner_group_id,
            status=runner.status,
            method=str(runner.method),
            github_runner_id=runner.github_runner_id,
            created_by=runner.created_by.name,
            created_at=runner.created_at,
            updated_at=runner.updated_at,
            expires_at=runner.expires_at,
            deleted_at=runner.deleted_at,
            deleted_reason=runner.deleted_reason,
        )


@attrs.frozen(kw_only=True)
class RunnerListResponse:
    """One page of runners and how many match the filters in all."""

    runners: list[RunnerResponse]
    total: int

    @classmethod
    def of(cls, page: PageResult[RunnerRecord]) -> RunnerListResponse:
        """Build the response from one page of runner records."""
        return cls(runners=[RunnerResponse.of(runner) for runner in page.items], total=page.total)


@attrs.frozen(kw_only=True)
class ObservedRunnerResponse:
    """What GitHub reported for a runner on refresh."""

    id: int
    name: str
    status: str
    busy: bool
    labels: list[str]

    @classmethod
    def of(cls, observed: ObservedRunner) -> ObservedRunnerResponse:
        """Build the response from what GitHub reported."""
        return cls(
            id=observed.id,
            name=observed.name,
            status=observed.status,
            busy=observed.busy,
            labels=[label.name for label in observed.labels],
        )


@attrs.frozen(kw_only=True)
class RefreshedRunnerResponse:
    """A runner after re-reading it from GitHub; ``github`` is null when GitHub has none."""

    runner: RunnerResponse
    github: ObservedRunnerResponse | None

    @classmethod
    def of(cls, result: RunnerRefreshed) -> RefreshedRunnerResponse:
        """Build the response from the service's refreshed runner."""
        observed = result.observed
        return cls(
            runner=RunnerResponse.of(result.runner),
            github=None if observed is None else ObservedRunnerResponse.of(observed),
        )


@attrs.frozen(kw_only=True)
class PolicyCheckBody:
    """``POST /api/v1/policy/check``: labels to evaluate against a team's policy."""

    labels: list[str]
    team_name: str | None = None
    team_id: uuid.UUID | None = None


@attrs.frozen(kw_only=True)
class PolicyCheckResponse:
    """The policy's decision: final labels when allowed, violations otherwise."""

    team_name: str
    allowed: bool
    labels: list[str]
    violations: list[PolicyViolationBody]

    @classmethod
    def of(cls, result: PolicyCheckResult) -> PolicyCheckResponse:
        """Build the response from the service's result."""
        decision = result.decision
        return cls(
            team_name=result.team.name,
            allowed=decision.allowed,
            labels=list(decision.labels),
            violations=[
                PolicyViolationBody(label=v.label, reason=str(v.reason), message=v.message)
                for v in decision.violations
            ],
        )


@attrs.frozen(kw_only=True)
class CapabilitiesResponse:
    """What a principal may provision with."""

    can_use_jit: bool
    can_use_registration_token: bool


@attrs.frozen(kw_only=True)
class TeamMembershipResponse:
    """A team the caller belongs to."""

    id: uuid.UUID
    name: str
    is_active: bool


@attrs.frozen(kw_only=True)
class IdentityResponse:
    """``GET /api/v1/auth/me``."""

    kind: str
    id: uuid.UUID | None
    name: str
    email: str | None
    issuer: str | None
    subject: str | None
    is_admin: bool
    capabilities: CapabilitiesResponse
    teams: list[TeamMembershipResponse]

    @classmethod
    def of(cls, identity: Identity) -> IdentityResponse:
        """Build the response from the service's identity."""
        return cls(
            kind=str(identity.kind),
            id=identity.id,
            name=identity.name,
            email=identity.email,
            issuer=identity.issuer,
            subject=identity.subject,
            is_admin=identity.is_admin,
            capabilities=CapabilitiesResponse(
                can_use_jit=identity.capabilities.can_use_jit,
                can_use_registration_token=identity.capabilities.can_use_registration_token,
            ),
            teams=[
                TeamMembershipResponse(id=team.id, name=team.name, is_active=team.is_active)
                for team in identity.teams
            ],
        )
