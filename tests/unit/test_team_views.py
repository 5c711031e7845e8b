"""Team members read their own teams, audit logs and security events; nobody else's."""

from __future__ import annotations

import pytest

from gharts_core.errors import NotTeamMember, TeamNotFound, ValidationFailed
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditOutcome,
    Principal,
    SecurityEventType,
    Severity,
    Team,
)
from gharts_core.ports.storage import Page
from gharts_core.services._events import audit_event, security_event
from gharts_core.services.team_views import TeamAuditQuery, TeamSecurityEventQuery
from tests.unit.admin_support import World, machine_principal, outsider, principal_for


@pytest.fixture
def world() -> World:
    return World()


async def setup(world: World) -> tuple[Principal, Principal, Team, Team]:
    admin = await world.admin()
    web = await world.team(admin, "web")
    api = await world.team(admin, "api")
    await world.team(admin, "ml")
    dev = await world.user(admin, teams=["web", "api"])
    return admin, principal_for(dev, [web, api]), web, api


async def alert(world: World, team: Team, severity: Severity = Severity.WARNING) -> None:
    event = security_event(
        world.clock,
        Actor.system(),
        SecurityEventType.LABEL_DRIFT,
        "drifted",
        severity=severity,
        team=team,
    )
    async with world.store.unit_of_work() as uow:
        await uow.security_events.append(event)


async def test_a_member_lists_only_its_teams(world: World) -> None:
    _, dev, _, _ = await setup(world)

    found = await world.views.list_teams(dev)
    first = await world.views.list_teams(dev, Page(limit=1))

    expected = (["api", "web"], 2, ["api"])
    actual = ([t.name for t in found.items], first.total, [t.name for t in first.items])
    assert expected == actual


async def test_an_admin_lists_every_team_and_a_machine_client_its_own(world: World) -> None:
    admin, _, web, _ = await setup(world)

    everything = await world.views.list_teams(admin)
    machine = await world.views.list_teams(machine_principal(web))

    expected = ["api", "ml", "web"]
    assert expected == [t.name for t in everything.items]
    expected = ["web"]
    assert expected == [t.name for t in machine.items]


async def test_a_member_reads_its_team_even_when_deactivated(world: World) -> None:
    admin, dev, _, _ = await setup(world)
    await world.teams.deactivate_team(admin, "web", "pause")

    team = await world.views.get_team(dev, "web")

    expected = ("web", False)
    assert expected == (team.name, team.is_active)


async def test_an_admin_reads_any_team(world: World) -> None:
    admin, _, _, _ = await setup(world)

    expected = "ml"
    assert expected == (await world.views.get_team(admin, "ml")).name


async def test_a_non_member_is_refused_and_the_attempt_recorded(world: World) -> None:
    _, dev, _, _ = await setup(world)

    with pytest.raises(NotTeamMember):
        await world.views.get_team(dev, "ml")

    [event] = await world.security_events()
    expected = (SecurityEventType.UNAUTHORIZED_ACCESS, "ml", dev.name, "team.get")
    assert expected == (event.type, event.team_name, event.actor.name, event.details["operation"])


async def test_an_unknown_team_is_team_not_found(world: World) -> None:
    _, dev, _, _ = await setup(world)

    with pytest.raises(TeamNotFound):
        await world.views.get_team(dev, "nope")


async def test_team_audit_shows_only_that_team_with_filters(world: World) -> None:
    admin, dev, web, _ = await setup(world)
    world.clock.advance(10)
    denied = audit_event(
        world.clock,
        dev.actor,
        AuditAction.RUNNER_PROVISION,
        target_type="runner",
        outcome=AuditOutcome.DENIED,
        team=web,
    )
    async with world.store.unit_of_work() as uow:
        await uow.audit.append(denied)

    everything = await world.views.team_audit(dev, "web")
    filtered = await world.views.team_audit(
        dev, "web", TeamAuditQuery(outcome=AuditOutcome.DENIED, actor=dev.name)
    )
    as_admin = await world.views.team_audit(admin, "web", page=Page(limit=1))

    assert {"web"} == {e.team_name for e in everything.items}
    expected_actions = {"team.create", "team.member_add", "runner.provision"}
    assert expected_actions == {e.action for e in everything.items}
    assert [denied.id] == [e.id for e in filtered.items]
    assert (everything.total, [denied.id]) == (as_admin.total, [e.id for e in as_admin.items])


async def test_team_audit_refuses_non_members(world: World) -> None:
    await setup(world)

    with pytest.raises(NotTeamMember):
        await world.views.team_audit(outsider(), "web")


async def test_team_audit_refuses_a_bad_action_filter(world: World) -> None:
    _, dev, _, _ = await setup(world)

    with pytest.raises(ValidationFailed):
        await world.views.team_audit(dev, "web", TeamAuditQuery(action="nope"))


async def test_team_security_events_show_only_that_team_with_filters(world: World) -> None:
    _, dev, web, api = await setup(world)
    await alert(world, web, Severity.CRITICAL)
    await alert(world, web)
    await alert(world, api)

    everything = await world.views.team_security_events(dev, "web")
    critical = await world.views.team_security_events(
        dev, "web", TeamSecurityEventQuery(severity=Severity.CRITICAL)
    )
    as_machine = await world.views.team_security_events(machine_principal(api), "api")

    expected = (2, {"web"}, [Severity.CRITICAL], 1)
    actual = (
        everything.total,
        {e.team_name for e in everything.items},
        [e.severity for e in critical.items],
        as_machine.total,
    )
    assert expected == actual


async def test_team_security_events_refuse_other_teams_machine_clients(world: World) -> None:
    _, _, web, _ = await setup(world)

    with pytest.raises(NotTeamMember):
        await world.views.team_security_events(machine_principal(web), "api")


async def test_team_security_events_refuse_an_empty_time_range(world: World) -> None:
    _, dev, _, _ = await setup(world)
    now = world.clock.now()

    with pytest.raises(ValidationFailed):
        await world.views.team_security_events(
            dev, "web", TeamSecurityEventQuery(since=now, until=now)
        )
