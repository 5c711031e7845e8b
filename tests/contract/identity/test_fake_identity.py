"""What the in-memory FakeTokenVerifier offers beyond the shared contract."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gharts_core.errors import InvalidToken
from gharts_core.ports.identity import TokenKind, VerifiedToken
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_identity import FAKE_ISSUER, FakeTokenVerifier


@pytest.fixture
def fake(clock: FakeClock) -> FakeTokenVerifier:
    return FakeTokenVerifier(clock)


async def test_a_user_token_carries_the_lower_cased_verified_email(
    fake: FakeTokenVerifier,
) -> None:
    token = fake.user_token(email="Alice@Example.com", name="Alice")

    verified = await fake.verify(token)

    expected = (FAKE_ISSUER, "user|alice@example.com", TokenKind.USER, "alice@example.com", True)
    actual = (verified.issuer, verified.subject, verified.kind, verified.email)
    assert (*actual, verified.email_verified) == expected


async def test_an_unverified_email_stays_unverified(fake: FakeTokenVerifier) -> None:
    token = fake.user_token(email="bob@example.com", subject="b-1", email_verified=False)

    verified = await fake.verify(token)

    assert (verified.subject, verified.email_verified) == ("b-1", False)


async def test_issue_maps_a_token_back_to_exactly_what_was_issued(
    fake: FakeTokenVerifier, clock: FakeClock
) -> None:
    issued = VerifiedToken(
        issuer="https://k8s.example/",
        subject="system:serviceaccount:arc:controller",
        kind=TokenKind.MACHINE,
        expires_at=clock.now() + timedelta(minutes=5),
    )

    assert await fake.verify(fake.issue(issued)) is issued
    assert fake.readiness()["https://k8s.example/"] is True


async def test_a_revoked_token_is_refused(fake: FakeTokenVerifier) -> None:
    token = fake.machine_token(subject="demo-ci")
    fake.revoke(token)

    with pytest.raises(InvalidToken) as refused:
        await fake.verify(token)

    assert refused.value.reason == "malformed"


async def test_an_issuer_reported_unready_refuses_its_tokens(fake: FakeTokenVerifier) -> None:
    token = fake.machine_token(subject="demo-ci")
    fake.set_ready(FAKE_ISSUER, ready=False)

    with pytest.raises(InvalidToken) as refused:
        await fake.verify(token)

    assert (refused.value.reason, fake.readiness()) == ("keys_unavailable", {FAKE_ISSUER: False})


async def test_each_issued_token_is_distinct(fake: FakeTokenVerifier) -> None:
    tokens = {fake.machine_token(subject="demo-ci") for _ in range(50)}

    assert len(tokens) == 50
