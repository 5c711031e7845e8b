"""Admin reads: audit log query and export, security events, statistics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gharts_core.errors import AdminRequired, TeamNotFound, ValidationFailed
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    SecurityEventType,
    Severity,
    Team,
)
from gharts_core.ports.storage import Page
from gharts_core.services._events import audit_event, security_event
from gharts_core.services.admin_audit import AuditQuery, SecurityEventQuery
from gharts_core.services.admin_clients import CreateClient
from tests.unit.admin_support import World, outsider

OPS = Actor(PrincipalKind.USER, uuid.UUID(int=7), "ops@example.com")


@pytest.fixture
def world() -> World:
    return World()


async def record(
    world: World,
    action: AuditAction = AuditAction.RUNNER_PROVISION,
    *,
    team: Team | None = None,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    target: str = "r-1",
    actor: Actor = OPS,
) -> AuditEvent:
    event = audit_event(
        world.clock,
        actor,
        action,
        target_type="runner",
        target_id=target,
        outcome=outcome,
        team=team,
    )
    async with world.store.unit_of_work() as uow:
        await uow.audit.append(event)
    return event


async def alert(
    world: World,
    type_: SecurityEventType = SecurityEventType.LABEL_POLICY_VIOLATION,
    *,
    severity: Severity = Severity.WARNING,
    team: Team | None = None,
) -> None:
    async with world.store.unit_of_work() as uow:
        await uow.security_events.append(
            security_event(world.clock, OPS, type_, "something", severity=severity, team=team)
        )


async def runner(world: World, team: Team, status: RunnerStatus) -> None:
    now = world.clock.now()
    record_ = RunnerRecord(
        id=uuid.uuid4(),
        name=f"runner-{uuid.uuid4().hex[:8]}",
        team_id=team.id,
        team_name=team.name,
        labels=[team.name],
        runner_group_id=1,
        status=status,
        method=ProvisionMethod.JIT,
        created_by=OPS,
        created_at=now,
        updated_at=now,
    )
    async with world.store.unit_of_work() as uow:
        await uow.runners.reserve(record_, None)


async def test_list_audit_filters_by_every_field(world: World) -> None:
    admin = await world.admin()
    web = await world.team(admin, "web")
    world.clock.advance(60)
    start = world.clock.now()
    hit = await record(world, team=web, outcome=AuditOutcome.DENIED, target="r-9")
    await record(world, team=web, target="r-9")
    await record(world, AuditAction.RUNNER_DEPROVISION, team=web, outcome=AuditOutcome.DENIED)
    await record(world, outcome=AuditOutcome.DENIED, target="r-9")
    await record(world, team=web, outcome=AuditOutcome.DENIED, target="r-9", actor=Actor.system())

    query = AuditQuery(
        actor=OPS.name,
        action="runner.provision",
        team="web",
        target="r-9",
        outcome=AuditOutcome.DENIED,
        since=start,
        until=start + timedelta(seconds=1),
    )
    found = await world.audit.list_audit(admin, query)

    assert (1, [hit.id]) == (found.total, [e.id for e in found.items])


async def test_list_audit_pages_newest_first(world: World) -> None:
    admin = await world.admin()
    world.clock.advance(1)
    older = await record(world, target="old")
    world.clock.advance(1)
    newer = await record(world, target="new")

    found = await world.audit.list_audit(admin, page=Page(limit=2))

    assert (3, [newer.id, older.id]) == (found.total, [e.id for e in found.items])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (AuditQuery(action="runner.explode"), "action"),
        (AuditQuery(since=datetime(2026, 1, 1)), "since"),  # noqa: DTZ001 - naive on purpose
        (AuditQuery(until=datetime(2026, 1, 1)), "until"),  # noqa: DTZ001 - naive on purpose
        (
            AuditQuery(
                since=datetime(2026, 1, 2, tzinfo=UTC), until=datetime(2026, 1, 2, tzinfo=UTC)
            ),
            "until",
        ),
    ],
)
async def test_list_audit_refuses_bad_filters(world: World, query: AuditQuery, field: str) -> None:
    admin = await world.admin()

    with pytest.raises(ValidationFailed) as raised:
        await world.audit.list_audit(admin, query)

    assert [field] == list(raised.value.field_errors)


async def test_list_audit_of_an_unknown_team_is_team_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await world.audit.list_audit(admin, AuditQuery(team="nope"))


async def test_audit_reads_refuse_non_admins_before_anything_is_read(world: World) -> None:
    await world.admin()

    with pytest.raises(AdminRequired):
        await world.audit.export_audit(outsider())
    with pytest.raises(AdminRequired):
        await world.audit.stats(outsider())

    operations = {e.details["operation"] for e in await world.security_events()}
    assert {"audit.export", "stats"} == operations


@pytest.mark.parametrize("rows", [0, 3, 4, 5])
async def test_export_audit_reads_every_match_page_by_page(world: World, rows: int) -> None:
    admin = await world.admin()
    events = []
    for index in range(rows):
        world.clock.advance(1)
        events.append(await record(world, target=f"r-{index}"))

    exported = await world.audit.export_audit(
        admin, AuditQuery(action="runner.provision"), page_size=2
    )

    assert [e.id for e in reversed(events)] == [e.id async for e in exported]


async def test_export_audit_leaves_out_rows_recorded_after_it_started(world: World) -> None:
    admin = await world.admin()
    for index in range(3):
        await record(world, target=f"r-{index}")

    exported = await world.audit.export_audit(
        admin, AuditQuery(action="runner.provision"), page_size=1
    )
    seen: list[str] = []
    async for event in exported:
        seen.append(str(event.target_id))
        world.clock.advance(1)
        await record(world, target="late")
        if len(seen) > 5:  # without the bound, late rows would keep the export going
            break

    expected = ["r-0", "r-1", "r-2"]
    assert expected == sorted(seen)


async def test_export_audit_keeps_an_earlier_until(world: World) -> None:
    admin = await world.admin()
    world.clock.advance(10)
    cutoff = world.clock.now()
    world.clock.advance(10)
    await record(world)

    exported = await world.audit.export_audit(admin, AuditQuery(until=cutoff))

    assert [AuditAction.USER_CREATE.value] == [e.action async for e in exported]


@pytest.mark.parametrize("page_size", [0, 501])
async def test_export_audit_refuses_a_bad_page_size(world: World, page_size: int) -> None:
    admin = await world.admin()

    with pytest.raises(ValidationFailed):
        await world.audit.export_audit(admin, page_size=page_size)


async def test_export_audit_checks_the_filters_before_streaming(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await world.audit.export_audit(admin, AuditQuery(team="nope"))


async def test_list_security_events_filters_by_type_severity_team_and_time(world: World) -> None:
    admin = await world.admin()
    web = await world.team(admin, "web")
    await alert(world, team=web, severity=Severity.CRITICAL)
    world.clock.advance(60)
    start = world.clock.now()
    await alert(world, team=web, severity=Severity.CRITICAL)
    await alert(world, team=web)
    await alert(world, SecurityEventType.LABEL_DRIFT, team=web, severity=Severity.CRITICAL)
    await alert(world, severity=Severity.CRITICAL)

    query = SecurityEventQuery(
        type=SecurityEventType.LABEL_POLICY_VIOLATION,
        severity=Severity.CRITICAL,
        team="web",
        since=start,
    )
    found = await world.audit.list_security_events(admin, query)
    everything = await world.audit.list_security_events(admin, page=Page(limit=1))

    assert (1, start) == (found.total, found.items[0].at)
    expected = (5, 1)
    assert expected == (everything.total, len(everything.items))


async def test_list_security_events_refuses_an_empty_time_range(world: World) -> None:
    admin = await world.admin()
    moment = world.clock.now()

    with pytest.raises(ValidationFailed):
        await world.audit.list_security_events(
            admin, SecurityEventQuery(since=moment, until=moment - timedelta(seconds=1))
        )


async def test_stats_counts_runners_people_teams_clients_and_recent_violations(
    world: World,
) -> None:
    admin = await world.admin()
    web = await world.team(admin, "web")
    api = await world.team(admin, "api")
    await world.teams.deactivate_team(admin, "api", "done")
    dev = await world.user(admin, "dev@example.com")
    await world.users.deactivate_user(admin, dev.id, "left")
    await world.clients.create_client(admin, _client("a", "web"))
    disabled = await world.clients.create_client(admin, _client("b", "web"))
    await world.clients.disable_client(admin, disabled.client.id)
    for status in (RunnerStatus.ONLINE, RunnerStatus.ONLINE, RunnerStatus.BUSY):
        await runner(world, web, status)
    await runner(world, api, RunnerStatus.PENDING)
    await runner(world, api, RunnerStatus.DELETED)
    await alert(world)
    world.clock.advance(timedelta(hours=25))
    await alert(world)

    stats = await world.audit.stats(admin)

    by_status = {
        RunnerStatus.PROVISIONING: 0,
        RunnerStatus.PENDING: 1,
        RunnerStatus.ONLINE: 2,
        RunnerStatus.BUSY: 1,
        RunnerStatus.OFFLINE: 0,
    }
    by_team = {
        "web": {RunnerStatus.ONLINE: 2, RunnerStatus.BUSY: 1},
        "api": {RunnerStatus.PENDING: 1},
    }
    assert (by_status, by_team) == (stats.runners_by_status, stats.runners_by_team)
    counts = (
        stats.live_runners,
        stats.users,
        stats.active_users,
        stats.active_admins,
        stats.teams,
        stats.active_teams,
        stats.clients,
        stats.active_clients,
        stats.recent_violations,
    )
    expected = (4, 2, 1, 1, 2, 1, 2, 1, 1)
    assert expected == counts
    now = world.clock.now()
    assert (now, now - timedelta(hours=24)) == (stats.generated_at, stats.recent_since)


def _client(subject: str, team: str) -> CreateClient:
    return CreateClient("https://issuer.example.com/", subject, team)
