"""The dashboard's two entries into AuthService: a verified ID token, then the stored login."""

from __future__ import annotations

import attrs
import pytest

from gharts_core.errors import UserNotAuthorized
from gharts_core.model import Deactivation
from gharts_core.ports.identity import VerifiedToken
from gharts_core.services.auth import AuthenticationSettings, AuthService
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_identity import FAKE_ISSUER, FakeTokenVerifier
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import make_team, make_user, seed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def verifier(clock: FakeClock) -> FakeTokenVerifier:
    return FakeTokenVerifier(clock, issuers=(FAKE_ISSUER,))


@pytest.fixture
def auth(store: FakeStore, verifier: FakeTokenVerifier, clock: FakeClock) -> AuthService:
    settings = AuthenticationSettings(bootstrap_admins=["lead@example.com"])
    return AuthService(store, verifier, clock, settings)


async def _verified(verifier: FakeTokenVerifier, token: str) -> VerifiedToken:
    return await verifier.verify(token)


async def test_a_verified_id_token_signs_in_by_the_api_rules_binding_the_email(
    auth: AuthService, store: FakeStore, verifier: FakeTokenVerifier
) -> None:
    team = make_team("backend")
    alice = make_user("alice@example.com")
    await seed(store, team, alice, members=[(team, alice)])
    verified = await _verified(verifier, verifier.user_token(email="alice@example.com"))
    principal = await auth.sign_in(verified)
    assert principal.id == alice.id
    assert principal.team_ids == frozenset({team.id})
    async with store.unit_of_work() as uow:
        bound = await uow.users.get(alice.id)
    assert bound is not None
    assert (bound.oidc_issuer, bound.oidc_subject) == (FAKE_ISSUER, verified.subject)


async def test_an_unverified_email_or_a_machine_never_signs_in(
    auth: AuthService, store: FakeStore, verifier: FakeTokenVerifier
) -> None:
    await seed(store, make_user("alice@example.com"))
    unverified = verifier.user_token(email="alice@example.com", email_verified=False)
    with pytest.raises(UserNotAuthorized):
        await auth.sign_in(await _verified(verifier, unverified))
    machine = await _verified(verifier, verifier.machine_token(subject="ci"))
    with pytest.raises(UserNotAuthorized, match="Machine clients"):
        await auth.sign_in(machine)


async def test_a_stored_login_resumes_with_the_current_teams_and_rights(
    auth: AuthService, store: FakeStore, verifier: FakeTokenVerifier
) -> None:
    team = make_team("backend")
    alice = make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-alice")
    await seed(store, team, alice)
    assert (await auth.resume(alice.id, FAKE_ISSUER, "sub-alice")).team_ids == frozenset()
    await seed(store, members=[(team, alice)])
    resumed = await auth.resume(alice.id, FAKE_ISSUER, "sub-alice")
    assert resumed.team_ids == frozenset({team.id})
    assert (resumed.issuer, resumed.subject) == (FAKE_ISSUER, "sub-alice")


async def test_a_deactivation_or_another_binding_ends_a_stored_login(
    auth: AuthService, store: FakeStore, clock: FakeClock
) -> None:
    alice = make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-alice")
    await seed(store, alice)
    with pytest.raises(UserNotAuthorized, match="no longer valid"):
        await auth.resume(alice.id, FAKE_ISSUER, "someone-else")
    with pytest.raises(UserNotAuthorized, match="no longer valid"):
        await auth.resume(make_user("ghost@example.com").id, FAKE_ISSUER, "sub-alice")
    async with store.unit_of_work() as uow:
        gone = Deactivation(reason="left", at=clock.now(), by="admin@example.com")
        await uow.users.update(attrs.evolve(alice, deactivation=gone))
    with pytest.raises(UserNotAuthorized, match="deactivated"):
        await auth.resume(alice.id, FAKE_ISSUER, "sub-alice")
