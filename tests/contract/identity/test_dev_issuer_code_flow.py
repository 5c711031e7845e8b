"""The dev issuer's authorization-code flow: checked requests, PKCE, single-use codes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest

from gharts_adapters.identity import DevIssuer
from gharts_adapters.identity.dev_codes import AuthorizationError, s256
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import TRUSTED, MakeVerifier

VERIFIER = "a-code-verifier-long-enough-to-be-a-pkce-verifier-0123456789"
REDIRECT = TRUSTED.rsplit("/", 1)[0] + "/auth/callback"


def _request(**changes: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "dashboard",
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    return params | changes


def _exchange(code: str, **changes: str) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "dashboard",
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    return form | changes


def test_discovery_names_the_authorization_and_token_endpoints(trusted: DevIssuer) -> None:
    discovery = trusted.discovery_document()
    assert f"{TRUSTED}/authorize" == discovery["authorization_endpoint"]
    assert f"{TRUSTED}/token" == discovery["token_endpoint"]
    assert ["S256"] == discovery["code_challenge_methods_supported"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"nonce": ""}, "invalid_request"),
        ({"scope": "email"}, "invalid_scope"),
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
    ],
)
def test_a_bad_authorization_request_is_refused_with_its_oauth_error(
    trusted: DevIssuer, changes: dict[str, str], error: str
) -> None:
    with pytest.raises(AuthorizationError) as refused:
        trusted.check_authorization_request(_request(**changes))
    assert error == refused.value.error


async def test_a_code_gives_an_id_token_for_the_client_with_the_nonce(
    trusted: DevIssuer, make_verifier: MakeVerifier
) -> None:
    code = trusted.issue_code(trusted.check_authorization_request(_request()), "a@example.com")
    tokens = trusted.redeem_code(_exchange(code))
    verifier = make_verifier(trusted.issuer_config(audiences=["dashboard"]))
    verified = await verifier.verify(tokens["id_token"])
    assert ("dev|a@example.com", "nonce-1") == (verified.subject, verified.claims["nonce"])
    assert verified.email_verified


@pytest.mark.parametrize(
    "changes",
    [{"code_verifier": "wrong"}, {"client_id": "other"}, {"redirect_uri": REDIRECT + "x"}],
)
def test_a_code_needs_its_verifier_client_and_redirect(
    trusted: DevIssuer, changes: dict[str, str]
) -> None:
    code = trusted.issue_code(trusted.check_authorization_request(_request()), "a@example.com")
    with pytest.raises(AuthorizationError) as refused:
        trusted.redeem_code(_exchange(code, **changes))
    assert "invalid_grant" == refused.value.error


def test_a_code_is_redeemed_once_and_within_a_minute() -> None:
    clock = FakeClock()
    issuer = DevIssuer(TRUSTED, clock=clock)
    request = issuer.check_authorization_request(_request())
    code = issuer.issue_code(request, "a@example.com")
    issuer.redeem_code(_exchange(code))
    with pytest.raises(AuthorizationError, match="used"):
        issuer.redeem_code(_exchange(code))
    late = issuer.issue_code(request, "a@example.com")
    clock.advance(timedelta(minutes=1))
    with pytest.raises(AuthorizationError, match="expired"):
        issuer.redeem_code(_exchange(late))


async def test_the_transport_answers_the_token_endpoint_in_process(trusted: DevIssuer) -> None:
    code = trusted.issue_code(trusted.check_authorization_request(_request()), "a@example.com")
    async with httpx.AsyncClient(transport=trusted.transport()) as client:
        body = urlencode(_exchange(code))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = await client.post(trusted.token_endpoint, content=body, headers=headers)
        again = await client.post(trusted.token_endpoint, content=body, headers=headers)
    assert 200 == answer.status_code
    assert "Bearer" == answer.json()["token_type"]
    assert (400, "invalid_grant") == (again.status_code, again.json()["error"])
