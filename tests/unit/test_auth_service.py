"""Authentication: tokens to principals, first-login binding, bootstrap admins, ``/auth/me``."""

from __future__ import annotations

import attrs
import pytest

from gharts_core.errors import InvalidToken, UserNotAuthorized
from gharts_core.model import (
    AuditAction,
    Capabilities,
    Principal,
    PrincipalKind,
    SecurityEventType,
    Severity,
    Team,
    User,
)
from gharts_core.services.auth import (
    AuthenticationSettings,
    AuthService,
    Identity,
    TeamMembership,
)
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_identity import FAKE_ISSUER, FakeTokenVerifier
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import (
    audit_rows,
    make_client,
    make_team,
    make_user,
    new_uuid,
    security_events,
    seed,
)

OTHER_ISSUER = "https://other-issuer.example.test/"


class World:
    """The fakes, team backend, and the service with one bootstrap admin."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.verifier = FakeTokenVerifier(self.clock, issuers=(FAKE_ISSUER, OTHER_ISSUER))
        settings = AuthenticationSettings(bootstrap_admins=[" Lead@Example.com "])
        self.service = AuthService(self.store, self.verifier, self.clock, settings)
        self.team = make_team("backend")

    async def user(self, user: User, *teams: Team) -> User:
        """Store ``user`` as a member of ``teams``."""
        await seed(self.store, user, members=[(team, user) for team in teams])
        return user

    async def stored_user(self, email: str) -> User | None:
        """Return the stored user with this email."""
        async with self.store.unit_of_work() as uow:
            return await uow.users.get_by_email(email)

    async def refused(self, token: str) -> UserNotAuthorized:
        """Authenticate and return the refusal."""
        with pytest.raises(UserNotAuthorized) as caught:
            await self.service.authenticate(token)
        return caught.value


@pytest.fixture
async def world() -> World:
    world = World()
    await seed(world.store, world.team)
    return world


# ---------------------------------------------------------------- machine clients


async def test_a_registered_client_becomes_a_machine_principal_of_its_team(
    world: World,
) -> None:
    client = make_client(world.team, subject="arc", can_use_registration_token=True)
    await seed(world.store, client)

    principal = await world.service.authenticate(world.verifier.machine_token(subject="arc"))

    expected = Principal(
        kind=PrincipalKind.MACHINE,
        id=client.id,
        name="arc",
        is_admin=False,
        capabilities=Capabilities(can_use_jit=True, can_use_registration_token=True),
        team_ids=frozenset({world.team.id}),
        issuer=FAKE_ISSUER,
        subject="arc",
    )
    assert expected == principal


async def test_a_machine_token_is_never_an_admin_even_with_an_admin_users_subject(
    world: World,
) -> None:
    await world.user(make_user("root@example.com", is_admin=True, issuer=FAKE_ISSUER, subject="x"))
    await seed(world.store, make_client(world.team, subject="x"))

    principal = await world.service.authenticate(world.verifier.machine_token(subject="x"))

    expected = (PrincipalKind.MACHINE, False)
    assert expected == (principal.kind, principal.is_admin)


async def test_a_client_of_another_issuer_does_not_match(world: World) -> None:
    await seed(world.store, make_client(world.team, subject="arc", issuer=OTHER_ISSUER))

    await world.refused(world.verifier.machine_token(subject="arc"))


async def test_an_unregistered_client_is_refused_and_reported(world: World) -> None:
    refusal = await world.refused(world.verifier.machine_token(subject="stranger"))

    (event,) = await security_events(world.store)
    expected = (SecurityEventType.UNAUTHORIZED_ACCESS, Severity.INFO, "stranger")
    assert expected == (event.type, event.severity, event.actor.name)
    expected_details = {"issuer": FAKE_ISSUER, "subject": "stranger", "kind": "machine"}
    assert expected_details == event.details
    assert "not registered" in refusal.detail


async def test_a_disabled_client_is_refused(world: World) -> None:
    await seed(world.store, make_client(world.team, subject="arc", is_active=False))

    await world.refused(world.verifier.machine_token(subject="arc"))


# ---------------------------------------------------------------- users


async def test_a_bound_user_becomes_a_principal_with_their_teams(world: World) -> None:
    frontend = make_team("frontend")
    await seed(world.store, frontend)
    alice = await world.user(
        make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-a"), world.team, frontend
    )
    token = world.verifier.user_token(email="alice@example.com", subject="sub-a")

    principal = await world.service.authenticate(token)

    expected = Principal(
        kind=PrincipalKind.USER,
        id=alice.id,
        name="alice@example.com",
        is_admin=False,
        capabilities=Capabilities(),
        team_ids=frozenset({world.team.id, frontend.id}),
        email="alice@example.com",
        issuer=FAKE_ISSUER,
        subject="sub-a",
    )
    assert expected == principal


async def test_a_bound_user_is_found_by_subject_whatever_the_email_claim_says(
    world: World,
) -> None:
    alice = await world.user(make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-a"))
    token = world.verifier.user_token(email="renamed@example.com", subject="sub-a")

    principal = await world.service.authenticate(token)

    expected = alice.id
    assert expected == principal.id


async def test_an_admin_user_is_an_admin_principal(world: World) -> None:
    await world.user(make_user("root@example.com", is_admin=True, issuer=FAKE_ISSUER, subject="r"))

    principal = await world.service.authenticate(
        world.verifier.user_token(email="root@example.com", subject="r")
    )

    assert principal.is_admin


async def test_a_deactivated_user_is_refused_and_reported(world: World) -> None:
    await world.user(
        make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-a", deactivated="left")
    )

    refusal = await world.refused(
        world.verifier.user_token(email="alice@example.com", subject="sub-a")
    )

    (event,) = await security_events(world.store)
    expected = (Severity.WARNING, "alice@example.com")
    assert expected == (event.severity, event.actor.name)
    assert "deactivated" in refusal.detail


async def test_an_unknown_user_is_refused_and_reported(world: World) -> None:
    await world.refused(world.verifier.user_token(email="nobody@example.com"))

    (event,) = await security_events(world.store)
    expected = (SecurityEventType.UNAUTHORIZED_ACCESS, Severity.INFO, "nobody@example.com")
    assert expected == (event.type, event.severity, event.actor.name)


# ---------------------------------------------------------------- first login


async def test_first_login_with_a_verified_email_binds_the_admin_created_row(
    world: World,
) -> None:
    alice = await world.user(make_user("alice@example.com"), world.team)
    token = world.verifier.user_token(email="Alice@Example.com", subject="sub-a")

    principal = await world.service.authenticate(token)

    bound = await world.stored_user("alice@example.com")
    assert bound is not None
    expected = (alice.id, FAKE_ISSUER, "sub-a", frozenset({world.team.id}))
    assert expected == (principal.id, bound.oidc_issuer, bound.oidc_subject, principal.team_ids)


async def test_first_login_binding_is_audited(world: World) -> None:
    alice = await world.user(make_user("alice@example.com"))

    await world.service.authenticate(
        world.verifier.user_token(email="alice@example.com", subject="sub-a")
    )

    (row,) = await audit_rows(world.store, AuditAction.USER_BIND.value)
    expected = (str(alice.id), "alice@example.com", {"issuer": FAKE_ISSUER, "subject": "sub-a"})
    assert expected == (row.target_id, row.actor.name, dict(row.details))


async def test_after_binding_the_user_is_matched_by_subject(world: World) -> None:
    await world.user(make_user("alice@example.com"))
    token = world.verifier.user_token(email="alice@example.com", subject="sub-a")
    first = await world.service.authenticate(token)

    second = await world.service.authenticate(token)

    assert first == second
    expected = 1
    assert expected == len(await audit_rows(world.store, AuditAction.USER_BIND.value))


async def test_first_login_with_an_unverified_email_is_refused_and_binds_nothing(
    world: World,
) -> None:
    await world.user(make_user("alice@example.com"))
    token = world.verifier.user_token(email="alice@example.com", email_verified=False)

    await world.refused(token)

    stored = await world.stored_user("alice@example.com")
    assert stored is not None
    expected = (None, None)
    assert expected == (stored.oidc_issuer, stored.oidc_subject)


async def test_a_token_without_an_email_cannot_match_a_row(world: World) -> None:
    await world.user(make_user("alice@example.com"))
    verified = await world.verifier.verify(world.verifier.user_token(email="alice@example.com"))
    token = world.verifier.issue(
        type(verified)(
            issuer=verified.issuer,
            subject="sub-a",
            kind=verified.kind,
            expires_at=verified.expires_at,
            email=None,
            email_verified=True,
        )
    )

    await world.refused(token)


async def test_a_row_bound_to_another_subject_is_not_taken_over_by_email(
    world: World,
) -> None:
    alice = await world.user(make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-a"))
    token = world.verifier.user_token(email="alice@example.com", subject="attacker")

    refusal = await world.refused(token)

    (event,) = await security_events(world.store)
    assert alice == await world.stored_user("alice@example.com")
    assert (Severity.WARNING, alice.id) == (event.severity, event.actor.id)
    assert "bound to another identity" in refusal.detail


async def test_a_row_bound_at_another_issuer_is_not_rebound_by_email(world: World) -> None:
    alice = await world.user(make_user("alice@example.com", issuer=OTHER_ISSUER, subject="sub-a"))

    await world.refused(world.verifier.user_token(email="alice@example.com", subject="sub-a"))

    assert alice == await world.stored_user("alice@example.com")


async def test_a_deactivated_row_is_not_bound_on_first_login(world: World) -> None:
    alice = await world.user(make_user("alice@example.com", deactivated="left"))

    await world.refused(world.verifier.user_token(email="alice@example.com", subject="sub-a"))

    assert alice == await world.stored_user("alice@example.com")


# ---------------------------------------------------------------- bootstrap admins


async def test_a_bootstrap_admin_is_created_on_first_verified_login(world: World) -> None:
    token = world.verifier.user_token(email="lead@example.com", subject="sub-l", name="Lead")

    principal = await world.service.authenticate(token)

    lead = await world.stored_user("lead@example.com")
    assert lead is not None
    expected = (True, True, "Lead", FAKE_ISSUER, "sub-l", lead.id)
    actual = (
        principal.is_admin,
        lead.is_admin,
        lead.display_name,
        lead.oidc_issuer,
        lead.oidc_subject,
        principal.id,
    )
    assert expected == actual


async def test_creating_a_bootstrap_admin_is_audited_as_the_system(world: World) -> None:
    await world.service.authenticate(world.verifier.user_token(email="lead@example.com"))

    (row,) = await audit_rows(world.store, AuditAction.USER_CREATE.value)
    expected = ("system", True)
    assert expected == (row.actor.name, row.details["bootstrap"])


async def test_a_bootstrap_admin_without_a_display_name_is_named_by_email(world: World) -> None:
    await world.service.authenticate(world.verifier.user_token(email="lead@example.com"))

    lead = await world.stored_user("lead@example.com")
    assert lead is not None
    expected = "lead@example.com"
    assert expected == lead.display_name


async def test_a_bootstrap_admin_with_an_unverified_email_is_not_created(world: World) -> None:
    await world.refused(world.verifier.user_token(email="lead@example.com", email_verified=False))

    assert await world.stored_user("lead@example.com") is None


async def test_an_existing_bootstrap_row_is_bound_but_not_promoted(world: World) -> None:
    await world.user(make_user("lead@example.com"))

    principal = await world.service.authenticate(
        world.verifier.user_token(email="lead@example.com")
    )

    assert not principal.is_admin


# ---------------------------------------------------------------- bad tokens


async def test_a_bad_token_is_invalid_and_not_a_security_event(world: World) -> None:
    with pytest.raises(InvalidToken):
        await world.service.authenticate("not-a-token")

    expected = []
    assert expected == await security_events(world.store)


async def test_an_expired_token_is_invalid(world: World) -> None:
    token = world.verifier.machine_token(subject="arc")
    world.clock.advance(7200)

    with pytest.raises(InvalidToken):
        await world.service.authenticate(token)


# ---------------------------------------------------------------- describe


async def test_describe_lists_the_callers_teams_with_their_active_flag(world: World) -> None:
    legacy = make_team("legacy", deactivated="moved")
    await seed(world.store, legacy)
    alice = await world.user(
        make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-a"), world.team, legacy
    )
    principal = await world.service.authenticate(
        world.verifier.user_token(email="alice@example.com", subject="sub-a")
    )

    identity = await world.service.describe(principal)

    expected = Identity(
        kind=PrincipalKind.USER,
        id=alice.id,
        name="alice@example.com",
        email="alice@example.com",
        issuer=FAKE_ISSUER,
        subject="sub-a",
        is_admin=False,
        capabilities=Capabilities(),
        teams=(
            TeamMembership(id=world.team.id, name="backend", is_active=True),
            TeamMembership(id=legacy.id, name="legacy", is_active=False),
        ),
    )
    assert expected == identity


async def test_describe_shows_a_machine_clients_one_team(world: World) -> None:
    await seed(world.store, make_client(world.team, subject="arc"))
    principal = await world.service.authenticate(world.verifier.machine_token(subject="arc"))

    identity = await world.service.describe(principal)

    expected = (PrincipalKind.MACHINE, False, ("backend",))
    assert expected == (identity.kind, identity.is_admin, tuple(t.name for t in identity.teams))


async def test_describe_skips_teams_that_no_longer_exist(world: World) -> None:
    principal = attrs.evolve(Principal.system(), team_ids={world.team.id, new_uuid()})

    identity = await world.service.describe(principal)

    expected = (PrincipalKind.SYSTEM, ("backend",))
    assert expected == (identity.kind, tuple(t.name for t in identity.teams))
