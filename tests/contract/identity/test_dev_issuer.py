"""The development issuer of ``gharts dev``: persistent keys, documents to serve, minted tokens."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gharts_adapters.identity import DevIssuer
from gharts_adapters.identity.dev_issuer import KEY_FILE
from gharts_core.testing.clock import FakeClock
from tests.contract.identity.identity_support import TRUSTED, MakeVerifier


def test_keys_persist_across_restarts_so_tokens_survive(trusted: DevIssuer, tmp_path: Path) -> None:
    restarted = DevIssuer(TRUSTED, key_dir=tmp_path / "trusted")

    assert (trusted.kid, trusted.jwks_document()) == (restarted.kid, restarted.jwks_document())


def test_the_key_file_is_readable_by_its_owner_only(trusted: DevIssuer, tmp_path: Path) -> None:
    mode = stat.S_IMODE((tmp_path / "trusted" / KEY_FILE).stat().st_mode)

    assert mode == 0o600


def test_without_a_key_directory_each_issuer_has_its_own_key() -> None:
    first, second = DevIssuer(TRUSTED), DevIssuer(TRUSTED)

    assert first.kid != second.kid


def test_the_discovery_document_points_at_the_jwks(trusted: DevIssuer) -> None:
    documents = trusted.documents()

    discovery = documents["/.well-known/openid-configuration"]
    assert (TRUSTED, f"{TRUSTED}/jwks") == (discovery["issuer"], discovery["jwks_uri"])
    assert set(documents) == {"/.well-known/openid-configuration", "/jwks"}


def test_the_jwks_publishes_public_members_only(trusted: DevIssuer) -> None:
    (key,) = trusted.jwks_document()["keys"]

    assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}
    assert (key["kid"], key["alg"], key["use"]) == (trusted.kid, "RS256", "sig")


def test_rotation_publishes_the_new_key_beside_the_old_until_retired(
    trusted: DevIssuer, tmp_path: Path
) -> None:
    old = trusted.kid
    new = trusted.rotate_key()
    published = [key["kid"] for key in trusted.jwks_document()["keys"]]
    trusted.retire_old_keys()
    restarted = DevIssuer(TRUSTED, key_dir=tmp_path / "trusted")

    assert published == [old, new]
    assert [key["kid"] for key in restarted.jwks_document()["keys"]] == [new]


def test_a_machine_token_is_shaped_like_a_client_credentials_grant(
    trusted: DevIssuer, clock: FakeClock
) -> None:
    token = trusted.mint_machine_token("demo-ci", audience="api://gharts")

    claims = _claims(token)
    now = int(clock.now().timestamp())
    expected = {
        "iss": TRUSTED,
        "sub": "demo-ci",
        "client_id": "demo-ci",
        "gty": "client-credentials",
        "aud": "api://gharts",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }
    assert {name: claims[name] for name in expected} == expected


async def test_minted_tokens_verify_with_the_issuers_own_configuration(
    make_verifier: MakeVerifier, trusted: DevIssuer
) -> None:
    verifier = make_verifier(trusted.issuer_config())

    user = await verifier.verify(trusted.mint_user_token("alice@example.com"))
    machine = await verifier.verify(trusted.mint_machine_token("demo-ci"))

    assert (user.kind, machine.kind) == ("user", "machine")


def test_an_issuer_on_a_public_http_url_is_refused() -> None:
    with pytest.raises(ValueError, match="must use https"):
        DevIssuer("http://gharts.example.com/dev/oidc")


def test_signing_with_an_unknown_key_id_fails_loudly(trusted: DevIssuer) -> None:
    with pytest.raises(KeyError, match="no dev issuer key"):
        trusted.sign({"sub": "x"}, kid="missing")


def _claims(token: str) -> dict[str, object]:
    import base64

    payload = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return claims
