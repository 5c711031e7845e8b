"""Admin use cases for users, through the fake store."""

from __future__ import annotations

import uuid

import attrs
import pytest

from gharts_core.errors import (
    AdminRequired,
    Conflict,
    TeamNotFound,
    UserNotFound,
    ValidationFailed,
)
from gharts_core.model import (
    AuditAction,
    Capabilities,
    Deactivation,
    Principal,
    PrincipalKind,
    SecurityEventType,
)
from gharts_core.ports.storage import Page, PageResult
from gharts_core.services.admin_users import CreateUser, UpdateUser, UserDetails, UserQuery
from tests.unit.admin_support import World, machine_principal, outsider, principal_for


@pytest.fixture
def world() -> World:
    return World()


async def test_create_user_applies_defaults_and_lower_cases_the_email(world: World) -> None:
    admin = await world.admin()

    details = await world.users.create_user(admin, CreateUser(" Alice@Example.COM ", " Alice "))

    user = details.user
    expected = ("alice@example.com", "Alice", False, Capabilities(), True, ())
    actual = (
        user.email,
        user.display_name,
        user.is_admin,
        user.capabilities,
        user.is_active,
        details.teams,
    )
    assert expected == actual
    assert world.clock.now() == user.created_at == user.updated_at


async def test_create_user_records_the_memberships_and_one_audit_row_each(world: World) -> None:
    admin = await world.admin()
    backend = await world.team(admin, "backend")
    await world.team(admin, "ml")

    details = await world.users.create_user(
        admin,
        CreateUser(
            "bob@example.com",
            "Bob",
            can_use_registration_token=True,
            teams=["ml", "backend", "ml"],
        ),
    )

    created = (await world.audit_rows(AuditAction.USER_CREATE))[0]  # newest first
    added = await world.audit_rows(AuditAction.TEAM_MEMBER_ADD)
    async with world.store.unit_of_work() as uow:
        members = await uow.memberships.members_of(backend.id)
    expected = (
        ("backend", "ml"),
        ["backend", "ml"],
        True,
        admin.name,
        {"backend", "ml"},
        {str(details.user.id)},
        [details.user.id],
    )
    actual = (
        details.teams,
        created.details["teams"],
        created.details["user"]["can_use_registration_token"],
        created.actor.name,
        {row.team_name for row in added},
        {row.target_id for row in added},
        [u.id for u in members],
    )
    assert expected == actual


async def test_create_user_with_a_taken_email_is_a_conflict(world: World) -> None:
    admin = await world.admin()
    await world.user(admin, "carol@example.com")

    with pytest.raises(Conflict):
        await world.users.create_user(admin, CreateUser("CAROL@example.com", "Carol again"))


async def test_create_user_in_an_unknown_team_stores_nothing(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound) as raised:
        await world.users.create_user(admin, CreateUser("dave@example.com", "Dave", teams=["x1"]))

    found = await world.users.list_users(admin, UserQuery(email="dave"))
    expected = ("x1", 0)
    assert expected == (raised.value.key, found.total)


@pytest.mark.parametrize(
    ("email", "display_name", "fields"),
    [
        ("", "Eve", {"email"}),
        ("not-an-email", "Eve", {"email"}),
        ("two words@example.com", "Eve", {"email"}),
        ("e" * 250 + "@example.com", "Eve", {"email"}),
        ("eve@example.com", "  ", {"display_name"}),
        ("eve@example.com", "E" * 201, {"display_name"}),
        ("nope", "", {"email", "display_name"}),
    ],
)
async def test_create_user_refuses_malformed_fields(
    world: World, email: str, display_name: str, fields: set[str]
) -> None:
    admin = await world.admin()

    with pytest.raises(ValidationFailed) as raised:
        await world.users.create_user(admin, CreateUser(email, display_name))

    assert fields == set(raised.value.field_errors)


async def test_a_non_admin_is_refused_and_the_attempt_recorded(world: World) -> None:
    await world.admin()
    caller = outsider()

    with pytest.raises(AdminRequired):
        await world.users.create_user(caller, CreateUser("x@example.com", "X"))

    [event] = await world.security_events()
    expected = (SecurityEventType.UNAUTHORIZED_ACCESS, caller.name, "user.create", "user")
    actual = (event.type, event.actor.name, event.details["operation"], event.details["kind"])
    assert expected == actual


async def test_a_machine_client_is_never_an_admin(world: World) -> None:
    admin = await world.admin()
    team = await world.team(admin)

    with pytest.raises(AdminRequired):
        await world.users.list_users(machine_principal(team, is_admin=True))

    [event] = await world.security_events()
    assert PrincipalKind.MACHINE.value == event.details["kind"]


async def test_list_users_filters_and_pages_in_the_store(world: World) -> None:
    admin = await world.admin("root@example.com")
    await world.team(admin, "backend")
    await world.user(admin, "ann@example.com", teams=["backend"])
    await world.user(admin, "ben@example.com", teams=["backend"])
    gone = await world.user(admin, "cid@example.com")
    await world.users.deactivate_user(admin, gone.id, "left")

    def emails(page: PageResult[UserDetails]) -> list[str]:
        return [d.user.email for d in page.items]

    everyone = await world.users.list_users(admin)
    in_team = await world.users.list_users(admin, UserQuery(team="backend"), Page(limit=1))
    admins = await world.users.list_users(admin, UserQuery(is_admin=True))
    inactive = await world.users.list_users(admin, UserQuery(is_active=False))
    by_email = await world.users.list_users(admin, UserQuery(email="BE"))

    expected = {
        "everyone": ["ann@example.com", "ben@example.com", "cid@example.com", "root@example.com"],
        "teams of the first": ["backend"],
        "in team, first page": [2, "ann@example.com"],
        "admins": ["root@example.com"],
        "inactive": ["cid@example.com"],
        "by email": ["ben@example.com"],
    }
    actual = {
        "everyone": emails(everyone),
        "teams of the first": list(everyone.items[0].teams),
        "in team, first page": [in_team.total, *emails(in_team)],
        "admins": emails(admins),
        "inactive": emails(inactive),
        "by email": emails(by_email),
    }
    assert expected == actual


async def test_list_users_in_an_unknown_team_is_team_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await world.users.list_users(admin, UserQuery(team="nope"))


async def test_get_user_returns_the_user_with_its_teams(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "backend")
    user = await world.user(admin, teams=["backend"])

    details = await world.users.get_user(admin, user.id)

    assert (user, ("backend",)) == (details.user, details.teams)


async def test_get_user_with_an_unknown_id_is_user_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(UserNotFound):
        await world.users.get_user(admin, uuid.uuid4())


async def test_update_user_changes_only_the_given_fields(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    world.clock.advance(60)

    details = await world.users.update_user(
        admin, user.id, UpdateUser(display_name=" Dev Ops ", can_use_registration_token=True)
    )

    expected = attrs.evolve(
        user,
        display_name="Dev Ops",
        capabilities=Capabilities(can_use_jit=True, can_use_registration_token=True),
        updated_at=world.clock.now(),
    )
    assert expected == details.user
    [row] = await world.audit_rows(AuditAction.USER_UPDATE)
    expected_row = (["can_use_registration_token", "display_name"], "Dev", "Dev Ops")
    actual_row = (
        row.details["changed"],
        row.details["before"]["display_name"],
        row.details["after"]["display_name"],
    )
    assert expected_row == actual_row


async def test_update_user_that_changes_nothing_records_nothing(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    world.clock.advance(60)

    details = await world.users.update_user(admin, user.id, UpdateUser(display_name="Dev"))

    expected = (user, 0)
    assert expected == (details.user, len(await world.audit_rows(AuditAction.USER_UPDATE)))


async def test_update_user_deactivates_with_the_reason_and_actor(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)

    details = await world.users.update_user(
        admin, user.id, UpdateUser(is_active=False, reason="left the company")
    )

    assert Deactivation("left the company", world.clock.now(), admin.name) == (
        details.user.deactivation
    )
    [row] = await world.audit_rows(AuditAction.USER_UPDATE)
    expected = "left the company"
    assert expected == row.details["reason"]


async def test_update_user_deactivation_without_reason_uses_a_default(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)

    details = await world.users.update_user(admin, user.id, UpdateUser(is_active=False))

    assert details.user.deactivation is not None
    expected = "Deactivated by an administrator."
    assert expected == details.user.deactivation.reason


async def test_update_user_can_reactivate_and_promote(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    await world.users.deactivate_user(admin, user.id, "holiday")

    details = await world.users.update_user(
        admin, user.id, UpdateUser(is_active=True, is_admin=True, can_use_jit=False)
    )

    actual = (details.user.is_active, details.user.is_admin, details.user.capabilities.can_use_jit)
    expected = (True, True, False)
    assert expected == actual


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (UpdateUser(display_name=""), "display_name"),
        (UpdateUser(is_active=False, reason="  "), "reason"),
        (UpdateUser(is_active=False, reason="r" * 501), "reason"),
    ],
)
async def test_update_user_refuses_malformed_fields(
    world: World, command: UpdateUser, field: str
) -> None:
    admin = await world.admin()
    user = await world.user(admin)

    with pytest.raises(ValidationFailed) as raised:
        await world.users.update_user(admin, user.id, command)

    assert [field] == list(raised.value.field_errors)


async def test_update_user_with_an_unknown_id_is_user_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(UserNotFound):
        await world.users.update_user(admin, uuid.uuid4(), UpdateUser(is_admin=True))


@pytest.mark.parametrize("command", [UpdateUser(is_admin=False), UpdateUser(is_active=False)])
async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    world: World, command: UpdateUser
) -> None:
    admin = await world.admin()
    assert admin.id is not None

    with pytest.raises(Conflict):
        await world.users.update_user(admin, admin.id, command)
    with pytest.raises(Conflict):
        await world.users.deactivate_user(admin, admin.id, "bye")

    assert (await world.users.get_user(admin, admin.id)).user.is_admin


async def test_an_admin_can_be_demoted_while_another_stays(world: World) -> None:
    admin = await world.admin("root@example.com")
    other = await world.admin("second@example.com")
    assert other.id is not None

    details = await world.users.update_user(admin, other.id, UpdateUser(is_admin=False))

    assert details.user.is_admin is False


async def test_deactivate_user_records_reason_time_and_actor(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    world.clock.advance(30)

    details = await world.users.deactivate_user(admin, user.id, " compromised laptop ")

    expected = Deactivation("compromised laptop", world.clock.now(), admin.name)
    assert expected == details.user.deactivation
    [row] = await world.audit_rows(AuditAction.USER_DEACTIVATE)
    expected_details = ("compromised laptop", ["is_active"], str(user.id))
    assert expected_details == (row.details["reason"], row.details["changed"], row.target_id)


async def test_deactivating_an_inactive_user_keeps_the_first_reason(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    first = await world.users.deactivate_user(admin, user.id, "first")
    world.clock.advance(30)

    again = await world.users.deactivate_user(admin, user.id, "second")

    assert first.user == again.user
    expected = 1
    assert expected == len(await world.audit_rows(AuditAction.USER_DEACTIVATE))


async def test_deactivate_user_needs_a_reason(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)

    with pytest.raises(ValidationFailed) as raised:
        await world.users.deactivate_user(admin, user.id, "")

    expected = ["reason"]
    assert expected == list(raised.value.field_errors)


async def test_reactivate_user_clears_the_deactivation_once(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    await world.users.deactivate_user(admin, user.id, "pause")

    details = await world.users.reactivate_user(admin, user.id)
    await world.users.reactivate_user(admin, user.id)

    assert details.user.is_active
    expected = 1
    assert expected == len(await world.audit_rows(AuditAction.USER_REACTIVATE))


async def test_ensure_admin_creates_an_admin_as_the_system(world: World) -> None:
    ensured = await world.users.ensure_admin("Boot@Example.com", "Boot")

    [row] = await world.audit_rows(AuditAction.USER_CREATE)
    expected = (True, True, True, "boot@example.com", PrincipalKind.SYSTEM, "system")
    actual = (
        ensured.created,
        ensured.changed,
        ensured.user.is_admin,
        ensured.user.email,
        row.actor.kind,
        row.actor.name,
    )
    assert expected == actual


async def test_ensure_admin_records_the_actor_it_is_given(world: World) -> None:
    """``gharts admin create-admin`` passes the operator, whom the audit row names."""
    operator = Principal.operator("ops@bastion")

    await world.users.ensure_admin("boot@example.com", "Boot", actor=operator.actor)

    [row] = await world.audit_rows(AuditAction.USER_CREATE)
    assert (PrincipalKind.OPERATOR, "ops@bastion") == (row.actor.kind, row.actor.name)


async def test_an_operator_is_an_admin_recorded_under_its_name(world: World) -> None:
    """The command-line operator may do what an admin may; rows and deactivations name it."""
    operator = Principal.operator("ops@bastion")
    user = await world.users.create_user(operator, CreateUser("ada@example.com", "Ada"))

    gone = await world.users.deactivate_user(operator, user.user.id, "left")

    [row] = await world.audit_rows(AuditAction.USER_DEACTIVATE)
    assert gone.user.deactivation is not None
    assert ("ops@bastion", "ops@bastion") == (row.actor.name, gone.user.deactivation.by)


async def test_ensure_admin_promotes_an_existing_user_and_keeps_its_name(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin, "dev@example.com")

    ensured = await world.users.ensure_admin("dev@example.com", "Other Name")

    expected = (False, True, True, "Dev")
    actual = (ensured.created, ensured.changed, ensured.user.is_admin, ensured.user.display_name)
    assert expected == actual
    [row] = await world.audit_rows(AuditAction.USER_UPDATE)
    assert (["is_admin"], str(user.id)) == (row.details["changed"], row.target_id)


async def test_ensure_admin_for_an_admin_changes_nothing(world: World) -> None:
    await world.admin("root@example.com")

    ensured = await world.users.ensure_admin("root@example.com", "Root")

    expected = (False, False, 1)
    assert expected == (ensured.created, ensured.changed, len(await world.audit_rows()))


async def test_ensure_admin_respects_a_deactivation_unless_told_to_reactivate(
    world: World,
) -> None:
    admin = await world.admin("root@example.com")
    user = await world.user(admin, "ops@example.com")
    await world.users.deactivate_user(admin, user.id, "left")

    kept = await world.users.ensure_admin("ops@example.com", "Ops")
    revived = await world.users.ensure_admin("ops@example.com", "Ops", reactivate=True)

    expected = ((True, False), (True, True))
    actual = (
        (kept.user.is_admin, kept.user.is_active),
        (revived.changed, revived.user.is_active),
    )
    assert expected == actual


async def test_ensure_admin_refuses_a_malformed_email(world: World) -> None:
    with pytest.raises(ValidationFailed):
        await world.users.ensure_admin("root", "Root")


async def test_principal_for_a_promoted_user_may_administer(world: World) -> None:
    admin = await world.admin()
    user = await world.user(admin)
    promoted = await world.users.update_user(admin, user.id, UpdateUser(is_admin=True))

    found = await world.users.list_users(principal_for(promoted.user))

    expected = 2
    assert expected == found.total


def test_an_empty_patch_shows_every_field_as_unset() -> None:
    expected = (
        "UpdateUser(display_name=UNSET, is_admin=UNSET, is_active=UNSET, can_use_jit=UNSET, "
        "can_use_registration_token=UNSET, reason=None)"
    )
    assert expected == repr(UpdateUser())
