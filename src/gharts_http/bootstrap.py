"""The composition root: settings in, services wired to real adapters out.

Every entry point (the HTTP app, the worker, the CLI) calls :func:`bootstrap` once. Tests pass
fakes for any port (``identity``, ``github``, ``store``, ``clock``); whatever is not passed is
built from the settings, and :meth:`Services.aclose` releases only what bootstrap built.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

import attrs
import httpx

from gharts_adapters.github import GitHubSettings as GitHubAdapterSettings
from gharts_adapters.github import build_runner_platform
from gharts_adapters.github.simulator import GitHubSimulator, wire_simulator
from gharts_adapters.identity import JwtVerifier
from gharts_adapters.identity.addresses import normalized_email_address
from gharts_adapters.storage import create_store
from gharts_core.drift import DriftSettings, StuckProvisioningAction
from gharts_core.ports.clock import Clock, SystemClock
from gharts_core.ports.github import RunnerPlatform
from gharts_core.ports.identity import TokenVerifier
from gharts_core.ports.storage import Store
from gharts_core.services.admin_access import AdminAccess
from gharts_core.services.admin_audit import AuditAdminService
from gharts_core.services.admin_clients import ClientAdminService
from gharts_core.services.admin_teams import TeamAdminService
from gharts_core.services.admin_users import UserAdminService
from gharts_core.services.auth import AuthenticationSettings, AuthService
from gharts_core.services.policy_check import PolicyCheckService
from gharts_core.services.provision import ProvisioningService, ProvisioningSettings
from gharts_core.services.runners import RunnerService
from gharts_core.services.sync import SyncService, SyncSettings
from gharts_core.services.team_views import TeamViewService
from gharts_core.services.webhook import WebhookEnforcement, WebhookService, WebhookSettings
from gharts_http.metrics.github import MeteredRunnerPlatform
from gharts_http.metrics.identity import MeteredTokenVerifier
from gharts_http.metrics.provisioning import MeteredProvisioning
from gharts_http.metrics.registry import Metrics
from gharts_http.settings import GitHubMode, Settings
from gharts_http.sync_requests import SyncRequests


@attrs.define(kw_only=True)
class Services:
    """The wired application: ports, use cases, and what must be closed at shutdown."""

    settings: Settings
    clock: Clock
    store: Store
    github: RunnerPlatform
    identity: TokenVerifier
    auth: AuthService
    provisioning: MeteredProvisioning
    runners: RunnerService
    policy: PolicyCheckService
    webhooks: WebhookService
    sync: SyncService
    users: UserAdminService
    teams: TeamAdminService
    clients: ClientAdminService
    audit: AuditAdminService
    team_views: TeamViewService
    admin_access: AdminAccess
    simulator: GitHubSimulator | None = None
    metrics: Metrics = attrs.field(factory=Metrics)
    sync_requests: SyncRequests = attrs.field(factory=SyncRequests)
    resources: AsyncExitStack = attrs.field(factory=AsyncExitStack)

    async def aclose(self) -> None:
        """Close the clients and the store bootstrap created (never the ones passed in)."""
        await self.resources.aclose()


def _simulated_github(
    settings: Settings, clock: Clock, resources: AsyncExitStack
) -> tuple[RunnerPlatform, GitHubSimulator, GitHubAdapterSettings]:
    github = wire_simulator(
        scope=settings.github.scope,
        web_url=settings.github.web_url or "https://github.com",
        clock=clock,
    )
    resources.push_async_callback(github.client.aclose)
    return github.platform, github.simulator, github.settings


def _drift_settings(settings: Settings) -> DriftSettings:
    sync = settings.sync
    offline_ttl = sync.offline_ttl_seconds
    return DriftSettings(
        pending_ttl=timedelta(seconds=sync.pending_ttl_seconds),
        provisioning_grace=timedelta(seconds=sync.provisioning_grace_seconds),
        stuck_provisioning_action=StuckProvisioningAction(sync.stuck_provisioning_action.value),
        offline_ttl=timedelta(seconds=offline_ttl) if offline_ttl else None,
        delete_busy_drifted=sync.delete_busy_drifted,
    )


def _real_github(
    settings: Settings, clock: Clock, resources: AsyncExitStack
) -> tuple[RunnerPlatform, GitHubAdapterSettings]:
    github = settings.github
    if github.app_id is None or github.installation_id is None or not github.private_key:
        raise ValueError("github.app_id, installation_id and the private key are required")
    client = httpx.AsyncClient()
    resources.push_async_callback(client.aclose)
    adapter_settings = GitHubAdapterSettings(
        scope=github.scope,
        app_id=github.app_id,
        installation_id=github.installation_id,
        private_key_pem=github.private_key,
        api_url=github.api_url,
        web_url=github.web_url,
    )
    return build_runner_platform(adapter_settings, client, clock=clock), adapter_settings


def _verifier(settings: Settings, clock: Clock, resources: AsyncExitStack) -> TokenVerifier:
    client = httpx.AsyncClient()
    resources.push_async_callback(client.aclose)
    issuers = [issuer.to_config() for issuer in settings.auth.issuers]
    verifier = JwtVerifier(issuers, client, clock=clock)
    resources.push_async_callback(verifier.aclose)  # the clients of issuers with a CA bundle
    return verifier


def bootstrap(
    settings: Settings,
    *,
    identity: TokenVerifier | None = None,
    github: RunnerPlatform | None = None,
    store: Store | None = None,
    clock: Clock | None = None,
) -> Services:
    """Wire every service; ports not passed are built from ``settings`` (and closed by us)."""
    resources = AsyncExitStack()
    clock = clock or SystemClock()
    simulator: GitHubSimulator | None = None
    # How long a JIT call can take is known only of the adapter built here, not of one passed in.
    longest_jit_call: timedelta | None = None
    if github is None:
        if settings.github.mode is GitHubMode.SIMULATOR:
            github, simulator, adapter = _simulated_github(settings, clock, resources)
        else:
            github, adapter = _real_github(settings, clock, resources)
        longest_jit_call = timedelta(seconds=adapter.longest_jit_call)
    if identity is None:
        identity = _verifier(settings, clock, resources)
    if store is None:
        store = create_store(
            settings.database.url,
            sqlite_busy_timeout=settings.database.sqlite_busy_timeout_seconds,
        )
        resources.push_async_callback(store.close)
    pending_ttl = timedelta(seconds=settings.sync.pending_ttl_seconds)
    sync_settings = SyncSettings(
        drift=_drift_settings(settings),
        audit_retention_days=settings.audit.retention_days,
        first_cycle_provisioning_grace=longest_jit_call,
    )
    enforcement = WebhookEnforcement(settings.sync.webhook_enforcement.value)
    # Every GitHub call and token check is metered, whoever makes it (API, worker, CLI).
    metrics = Metrics()
    github = MeteredRunnerPlatform(github, metrics.github)
    identity = MeteredTokenVerifier(identity, metrics.tokens)
    return Services(
        settings=settings,
        clock=clock,
        store=store,
        github=github,
        identity=identity,
        auth=AuthService(
            store,
            identity,
            clock,
            AuthenticationSettings(bootstrap_admins=settings.auth.bootstrap_admins),
        ),
        provisioning=MeteredProvisioning(
            ProvisioningService(
                store, github, clock, ProvisioningSettings(pending_ttl=pending_ttl)
            ),
            metrics.provisioning,
        ),
        runners=RunnerService(store, github, clock),
        policy=PolicyCheckService(store, clock),
        webhooks=WebhookService(store, github, clock, WebhookSettings(enforcement=enforcement)),
        sync=SyncService(store, github, clock, sync_settings),
        users=UserAdminService(store, clock, check_email=normalized_email_address),
        teams=TeamAdminService(store, clock),
        # The configured issuers are the verifier's (its readiness is keyed by them).
        clients=ClientAdminService(
            store, clock, trusted_issuers=lambda: frozenset(identity.readiness())
        ),
        audit=AuditAdminService(store, clock),
        team_views=TeamViewService(store, clock),
        admin_access=AdminAccess(store, clock),
        simulator=simulator,
        metrics=metrics,
        resources=resources,
    )
