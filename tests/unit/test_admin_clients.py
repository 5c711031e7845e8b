"""Admin use cases for machine clients, through the fake store."""

from __future__ import annotations

import uuid

import pytest

from gharts_core.errors import (
    AdminRequired,
    ClientNotFound,
    Conflict,
    TeamNotFound,
    ValidationFailed,
)
from gharts_core.model import AuditAction, Capabilities, Principal
from gharts_core.ports.storage import Page
from gharts_core.services._lookups import team_by_id
from gharts_core.services.admin_clients import (
    ClientAdminService,
    ClientDetails,
    ClientQuery,
    CreateClient,
    UpdateClient,
)
from tests.unit.admin_support import World, outsider

K8S = "https://kubernetes.default.svc"
ARC = "system:serviceaccount:arc-system:arc-controller"


@pytest.fixture
def world() -> World:
    return World()


async def register(
    world: World, admin: Principal, subject: str = ARC, team: str = "web", issuer: str = K8S
) -> ClientDetails:
    return await world.clients.create_client(admin, CreateClient(issuer, subject, team))


async def test_create_client_binds_the_identity_to_the_team(world: World) -> None:
    admin = await world.admin()
    team = await world.team(admin, "web")

    details = await world.clients.create_client(
        admin, CreateClient(f" {K8S} ", ARC, "web", description=" ARC ")
    )

    client = details.client
    expected = (K8S, ARC, team.id, "ARC", Capabilities(), True, "web")
    actual = (
        client.issuer,
        client.subject,
        client.team_id,
        client.description,
        client.capabilities,
        client.is_active,
        details.team_name,
    )
    assert expected == actual
    [row] = await world.audit_rows(AuditAction.CLIENT_CREATE)
    expected_row = ("client", str(client.id), team.id, ARC, "web")
    actual_row = (
        row.target_type,
        row.target_id,
        row.team_id,
        row.details["subject"],
        row.details["client"]["team_name"],
    )
    assert expected_row == actual_row


async def test_a_second_active_client_for_one_identity_is_a_conflict(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    await world.team(admin, "api")
    await register(world, admin, team="web")

    with pytest.raises(Conflict):
        await register(world, admin, team="api")


async def test_one_subject_under_two_issuers_is_two_identities(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    await register(world, admin, issuer=K8S)

    other = await register(world, admin, issuer="https://other.example.com")

    assert other.client.is_active


async def test_a_team_may_have_several_clients(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    await register(world, admin, subject="a")
    world.clock.advance(1)
    await register(world, admin, subject="b")

    found = await world.clients.list_clients(admin, ClientQuery(team="web"))

    expected = ["a", "b"]
    assert expected == [d.client.subject for d in found.items]


async def test_a_disabled_identity_can_be_registered_again(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    first = await register(world, admin)
    await world.clients.disable_client(admin, first.client.id)

    second = await register(world, admin)

    assert second.client.is_active


async def test_create_client_for_an_unknown_team_is_team_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await register(world, admin, team="nope")


@pytest.mark.parametrize(
    ("command", "fields"),
    [
        (CreateClient("", ARC, "web"), {"issuer"}),
        (CreateClient(K8S, "  ", "web"), {"subject"}),
        (CreateClient(K8S, "s" * 513, "web", description="d" * 1001), {"subject", "description"}),
    ],
)
async def test_create_client_refuses_malformed_fields(
    world: World, command: CreateClient, fields: set[str]
) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(ValidationFailed) as raised:
        await world.clients.create_client(admin, command)

    assert fields == set(raised.value.field_errors)


async def test_client_admin_refuses_non_admins(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(AdminRequired):
        await world.clients.create_client(outsider(), CreateClient(K8S, ARC, "web"))

    expected = 1
    assert expected == len(await world.security_events())


async def test_get_client_returns_the_client_and_its_team(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)

    assert created == await world.clients.get_client(admin, created.client.id)


async def test_get_client_with_an_unknown_id_is_client_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(ClientNotFound):
        await world.clients.get_client(admin, uuid.uuid4())


async def test_list_clients_filters_and_pages(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    await world.team(admin, "api")
    await register(world, admin, subject="a", team="web")
    world.clock.advance(1)
    b = await register(world, admin, subject="b", team="api", issuer="https://idp.example.com")
    world.clock.advance(1)
    c = await register(world, admin, subject="c", team="api")
    await world.clients.disable_client(admin, c.client.id)

    page = await world.clients.list_clients(admin, page=Page(limit=2, offset=1))
    by_issuer = await world.clients.list_clients(admin, ClientQuery(issuer=K8S))
    active_api = await world.clients.list_clients(admin, ClientQuery(team="api", is_active=True))

    expected = (3, ["b", "c"], ["api", "api"], ["a", "c"], [b.client.id])
    actual = (
        page.total,
        [d.client.subject for d in page.items],
        [d.team_name for d in page.items],
        [d.client.subject for d in by_issuer.items],
        [d.client.id for d in active_api.items],
    )
    assert expected == actual


async def test_list_clients_of_an_unknown_team_is_team_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await world.clients.list_clients(admin, ClientQuery(team="nope"))


async def test_update_client_moves_it_and_audits_before_and_after(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    api = await world.team(admin, "api")
    created = await register(world, admin)
    world.clock.advance(10)

    updated = await world.clients.update_client(
        admin,
        created.client.id,
        UpdateClient(team="api", can_use_registration_token=True, description="moved"),
    )

    expected = (api.id, "api", "moved", Capabilities(True, True), world.clock.now())
    actual = (
        updated.client.team_id,
        updated.team_name,
        updated.client.description,
        updated.client.capabilities,
        updated.client.updated_at,
    )
    assert expected == actual
    [row] = await world.audit_rows(AuditAction.CLIENT_UPDATE)
    changed = ["can_use_registration_token", "description", "team_id", "team_name"]
    expected_row = (changed, api.id, "web", "api")
    actual_row = (
        row.details["changed"],
        row.team_id,
        row.details["before"]["team_name"],
        row.details["after"]["team_name"],
    )
    assert expected_row == actual_row


async def test_update_client_that_changes_nothing_records_nothing(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)

    same = await world.clients.update_client(admin, created.client.id, UpdateClient(team="web"))

    expected = (created, 0)
    assert expected == (same, len(await world.audit_rows(AuditAction.CLIENT_UPDATE)))


async def test_update_client_to_an_unknown_team_is_team_not_found(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)

    with pytest.raises(TeamNotFound):
        await world.clients.update_client(admin, created.client.id, UpdateClient(team="nope"))


async def test_update_client_refuses_a_long_description(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)

    with pytest.raises(ValidationFailed):
        await world.clients.update_client(
            admin, created.client.id, UpdateClient(description="d" * 1001)
        )


async def test_disable_client_records_the_reason_once(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)

    disabled = await world.clients.disable_client(admin, created.client.id, " rotated ")
    again = await world.clients.disable_client(admin, created.client.id)

    assert (False, disabled) == (disabled.client.is_active, again)
    [row] = await world.audit_rows(AuditAction.CLIENT_DISABLE)
    expected = ("rotated", ["is_active"])
    assert expected == (row.details["reason"], row.details["changed"])


async def test_disable_client_refuses_an_empty_reason(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)

    with pytest.raises(ValidationFailed):
        await world.clients.disable_client(admin, created.client.id, "")


async def test_enable_client_turns_it_back_on_once(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    created = await register(world, admin)
    await world.clients.disable_client(admin, created.client.id)

    enabled = await world.clients.enable_client(admin, created.client.id)
    again = await world.clients.enable_client(admin, created.client.id)

    assert (True, enabled) == (enabled.client.is_active, again)
    [row] = await world.audit_rows(AuditAction.CLIENT_ENABLE)
    assert "reason" not in row.details


async def test_enabling_a_second_client_for_one_identity_is_a_conflict(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    first = await register(world, admin)
    await world.clients.disable_client(admin, first.client.id)
    await register(world, admin)

    with pytest.raises(Conflict):
        await world.clients.enable_client(admin, first.client.id)

    assert not (await world.clients.get_client(admin, first.client.id)).client.is_active


async def test_team_by_id_of_an_unknown_id_is_team_not_found(world: World) -> None:
    async with world.store.unit_of_work() as uow:
        with pytest.raises(TeamNotFound):
            await team_by_id(uow, uuid.uuid4())


@pytest.mark.parametrize(
    ("issuer", "sentence"),
    [
        ("https://nobody.example/", "is not a trusted issuer"),
        (K8S + "/", f"differs from the trusted issuer '{K8S}' by a trailing slash"),
    ],
)
async def test_a_client_of_an_untrusted_issuer_is_refused(
    world: World, issuer: str, sentence: str
) -> None:
    """With the trusted issuers handed in, only those are accepted, byte for byte."""
    admin = await world.admin()
    await world.team(admin, "web")
    clients = ClientAdminService(world.store, world.clock, trusted_issuers=lambda: {K8S})

    with pytest.raises(ValidationFailed) as refused:
        await clients.create_client(admin, CreateClient(issuer, ARC, "web"))

    assert sentence in refused.value.field_errors["issuer"]
