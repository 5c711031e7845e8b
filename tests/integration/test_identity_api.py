"""``GET /api/v1/auth/me``: who the caller is, for users, admins and machine clients."""

from __future__ import annotations

from tests.integration.api_support import ADMIN_EMAIL, ISSUER_URL, Api

ME = "/api/v1/auth/me"


async def test_me_describes_a_user_with_its_teams_by_name(api: Api) -> None:
    """A user sees its kind, email, capabilities and every team it belongs to, sorted."""
    beta = await api.seed_team("beta")
    alpha = await api.seed_team("alpha")
    user = await api.seed_user("dev@example.com", "beta", "alpha", can_use_registration_token=True)

    response = await api.call("GET", ME, api.as_user("dev@example.com"), expect=200)

    expected = {
        "kind": "user",
        "id": user["id"],
        "name": "dev@example.com",
        "email": "dev@example.com",
        "issuer": ISSUER_URL,
        "subject": "dev|dev@example.com",
        "is_admin": False,
        "capabilities": {"can_use_jit": True, "can_use_registration_token": True},
        "teams": [
            {"id": alpha["id"], "name": "alpha", "is_active": True},
            {"id": beta["id"], "name": "beta", "is_active": True},
        ],
    }
    assert expected == response.json()


async def test_me_shows_a_deactivated_team_as_inactive(api: Api) -> None:
    """Membership of a deactivated team is still listed, flagged inactive."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")
    await api.call(
        "POST",
        "/api/v1/admin/teams/alpha/deactivate",
        api.as_admin(),
        json={"reason": "migrating"},
        expect=200,
    )

    response = await api.call("GET", ME, api.as_user("dev@example.com"), expect=200)

    assert [{"name": "alpha", "is_active": False}] == [
        {"name": team["name"], "is_active": team["is_active"]} for team in response.json()["teams"]
    ]


async def test_me_flags_the_bootstrap_admin(api: Api) -> None:
    """The bootstrap admin is a user with the admin flag and no teams."""
    response = await api.call("GET", ME, api.as_admin(), expect=200)

    body = response.json()
    expected = {"kind": "user", "name": ADMIN_EMAIL, "is_admin": True, "teams": []}
    assert expected == {key: body[key] for key in expected}


async def test_me_describes_a_machine_client_of_one_team(api: Api) -> None:
    """A machine client is never an admin and belongs to exactly its registered team."""
    team = await api.seed_team("alpha")
    client = await api.seed_client("ci-bot", "alpha", can_use_registration_token=True)

    response = await api.call("GET", ME, api.as_machine("ci-bot"), expect=200)

    expected = {
        "kind": "machine",
        "id": client["id"],
        "name": "ci-bot",
        "email": None,
        "issuer": ISSUER_URL,
        "subject": "ci-bot",
        "is_admin": False,
        "capabilities": {"can_use_jit": True, "can_use_registration_token": True},
        "teams": [{"id": team["id"], "name": "alpha", "is_active": True}],
    }
    assert expected == response.json()


async def test_me_without_a_token_is_invalid_token(api: Api) -> None:
    """No bearer token: 401 INVALID_TOKEN with a Bearer challenge."""
    response = await api.call("GET", ME, expect=401)

    assert ("INVALID_TOKEN", "Bearer") == (
        response.json()["error_code"],
        response.headers["WWW-Authenticate"],
    )


async def test_me_for_an_unregistered_user_is_refused(api: Api) -> None:
    """A verified stranger is USER_NOT_AUTHORIZED, not described."""
    response = await api.call("GET", ME, api.as_user("stranger@example.com"), expect=403)

    assert "USER_NOT_AUTHORIZED" == response.json()["error_code"]
