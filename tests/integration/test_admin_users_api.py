"""The admin user endpoints over HTTP: create, list, read, patch, deactivate, reactivate."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.api_support import ADMIN_EMAIL, Api

USERS = "/api/v1/admin/users"
VOLATILE = ("id", "created_at", "updated_at", "deactivated_at")


def stable(user: dict[str, Any]) -> dict[str, Any]:
    """Return a user response without its generated id and timestamps."""
    return {key: value for key, value in user.items() if key not in VOLATILE}


async def admin_id(api: Api) -> str:
    """Return the id of the bootstrap admin (created by its first call)."""
    response = await api.call("GET", USERS, api.as_admin(), params={"email": ADMIN_EMAIL})
    user_id: str = response.json()["users"][0]["id"]
    return user_id


async def test_create_user_answers_201_with_its_teams_by_name(api_on_each_database: Api) -> None:
    """A created user shows its capabilities and the names of its teams."""
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_team("beta")
    body = {
        "email": "Carol@Example.com",
        "display_name": " Carol ",
        "teams": ["beta", "alpha"],
        "can_use_registration_token": True,
    }

    response = await api.call("POST", USERS, api.as_admin(), json=body, expect=201)

    expected = {
        "email": "carol@example.com",
        "display_name": "Carol",
        "is_admin": False,
        "is_active": True,
        "can_use_jit": True,
        "can_use_registration_token": True,
        "teams": ["alpha", "beta"],
        "oidc_issuer": None,
        "oidc_subject": None,
        "deactivated_by": None,
        "deactivation_reason": None,
    }
    assert expected == stable(response.json())


async def test_get_user_returns_what_create_returned(api: Api) -> None:
    """``GET /users/{id}`` answers the same body as the create call."""
    created = await api.seed_user("dave@example.com")

    response = await api.call("GET", f"{USERS}/{created['id']}", api.as_admin(), expect=200)

    assert created == response.json()


async def test_list_users_filters_by_email_admin_flag_team_and_activity(api: Api) -> None:
    """Each filter narrows the list; ``total`` counts the matches."""
    await api.seed_team("alpha")
    await api.seed_user("ann@example.com", "alpha")
    await api.seed_user("ben@example.com")
    await api.seed_user("boss@corp.example", is_admin=True)
    gone = await api.seed_user("cid@example.com", "alpha")
    await api.call(
        "POST", f"{USERS}/{gone['id']}/deactivate", api.as_admin(), json={"reason": "left"}
    )

    async def emails(**params: str) -> tuple[list[str], int]:
        body = (await api.call("GET", USERS, api.as_admin(), params=params, expect=200)).json()
        return [user["email"] for user in body["users"]], body["total"]

    assert (["ben@example.com", "boss@corp.example"], 2) == await emails(email="B")
    assert ([ADMIN_EMAIL, "boss@corp.example"], 2) == await emails(is_admin="true")
    assert (["ann@example.com", "cid@example.com"], 2) == await emails(team="alpha")
    assert (["cid@example.com"], 1) == await emails(is_active="false")
    assert (["ann@example.com"], 1) == await emails(team="alpha", is_active="true")


async def test_list_users_pages_in_email_order(api: Api) -> None:
    """``limit`` and ``offset`` slice the list; ``total`` stays the count of every match."""
    for name in ("u1", "u2", "u3", "u4"):
        await api.seed_user(f"{name}@example.com")

    response = await api.call(
        "GET", USERS, api.as_admin(), params={"limit": 2, "offset": 2}, expect=200
    )

    body = response.json()
    assert (["u2@example.com", "u3@example.com"], 5) == (
        [user["email"] for user in body["users"]],
        body["total"],
    )


async def test_list_users_with_unknown_team_is_team_not_found(api: Api) -> None:
    """Filtering on a team that does not exist is a 404, not an empty page."""
    response = await api.call("GET", USERS, api.as_admin(), params={"team": "nope"}, expect=404)

    assert "TEAM_NOT_FOUND" == response.json()["error_code"]


async def test_list_users_refuses_a_limit_out_of_range(api: Api) -> None:
    """``limit`` must be 1-500."""
    response = await api.call("GET", USERS, api.as_admin(), params={"limit": 501}, expect=400)

    assert ("VALIDATION_ERROR", ["limit"]) == (
        response.json()["error_code"],
        list(response.json()["field_errors"]),
    )


async def test_patch_changes_only_the_fields_sent(api: Api) -> None:
    """Fields left out of the PATCH keep their values."""
    user = await api.seed_user("erin@example.com", display_name="Erin")

    response = await api.call(
        "PATCH",
        f"{USERS}/{user['id']}",
        api.as_admin(),
        json={"can_use_jit": False, "can_use_registration_token": True},
        expect=200,
    )

    expected = {**user, "can_use_jit": False, "can_use_registration_token": True}
    assert stable(expected) == stable(response.json())


async def test_patch_is_active_false_deactivates_with_the_reason(api: Api) -> None:
    """``is_active: false`` with a ``reason`` records who, when and why."""
    user = await api.seed_user("fay@example.com")

    response = await api.call(
        "PATCH",
        f"{USERS}/{user['id']}",
        api.as_admin(),
        json={"is_active": False, "reason": "on leave"},
        expect=200,
    )

    body = response.json()
    assert (False, "on leave", ADMIN_EMAIL) == (
        body["is_active"],
        body["deactivation_reason"],
        body["deactivated_by"],
    )


async def test_patch_refuses_null_for_a_field_that_cannot_be_null(api: Api) -> None:
    """``display_name: null`` is a validation error, not "leave unchanged"."""
    user = await api.seed_user("gil@example.com")

    response = await api.call(
        "PATCH", f"{USERS}/{user['id']}", api.as_admin(), json={"display_name": None}, expect=400
    )

    assert ("VALIDATION_ERROR", {"display_name": "must be a string"}) == (
        response.json()["error_code"],
        response.json()["field_errors"],
    )


async def test_deactivate_then_reactivate_user(api: Api) -> None:
    """A deactivated user is refused; reactivating lets it in again."""
    await api.seed_team("alpha")
    user = await api.seed_user("hal@example.com", "alpha")
    path = f"{USERS}/{user['id']}"

    deactivated = await api.call(
        "POST", f"{path}/deactivate", api.as_admin(), json={"reason": "left"}, expect=200
    )
    refused = await api.call("GET", "/api/v1/runners", api.as_user("hal@example.com"))
    reactivated = await api.call("POST", f"{path}/reactivate", api.as_admin(), expect=200)
    allowed = await api.call("GET", "/api/v1/runners", api.as_user("hal@example.com"))

    assert (False, "left", 403, "USER_NOT_AUTHORIZED", True, None, 200) == (
        deactivated.json()["is_active"],
        deactivated.json()["deactivation_reason"],
        refused.status_code,
        refused.json()["error_code"],
        reactivated.json()["is_active"],
        reactivated.json()["deactivation_reason"],
        allowed.status_code,
    )


@pytest.mark.parametrize(
    ("body", "field_errors"),
    [
        ({}, {"reason": "is required"}),
        ({"reason": "   "}, {"reason": "reason must not be empty."}),
        ({"reason": 7}, {"reason": "must be a string"}),
    ],
)
async def test_deactivate_needs_a_reason(
    api: Api, body: dict[str, Any], field_errors: dict[str, str]
) -> None:
    """A deactivation without a usable reason is refused with the field named."""
    user = await api.seed_user("ivy@example.com")

    response = await api.call(
        "POST", f"{USERS}/{user['id']}/deactivate", api.as_admin(), json=body, expect=400
    )

    assert ("VALIDATION_ERROR", field_errors) == (
        response.json()["error_code"],
        response.json()["field_errors"],
    )


async def test_duplicate_email_is_a_conflict(api_on_each_database: Api) -> None:
    """Emails are unique, whatever their case."""
    api = api_on_each_database
    await api.seed_user("jo@example.com")

    response = await api.call(
        "POST",
        USERS,
        api.as_admin(),
        json={"email": "JO@example.com", "display_name": "Jo again"},
        expect=409,
    )

    assert "CONFLICT" == response.json()["error_code"]


async def test_last_admin_cannot_be_demoted(api_on_each_database: Api) -> None:
    """Removing admin rights from the only active admin is a conflict."""
    api = api_on_each_database
    user_id = await admin_id(api)

    response = await api.call(
        "PATCH", f"{USERS}/{user_id}", api.as_admin(), json={"is_admin": False}, expect=409
    )

    assert "CONFLICT" == response.json()["error_code"]


async def test_last_admin_cannot_be_deactivated(api: Api) -> None:
    """Deactivating the only active admin is a conflict, by POST and by PATCH."""
    user_id = await admin_id(api)

    by_post = await api.call(
        "POST", f"{USERS}/{user_id}/deactivate", api.as_admin(), json={"reason": "bye"}
    )
    by_patch = await api.call(
        "PATCH", f"{USERS}/{user_id}", api.as_admin(), json={"is_active": False}
    )

    assert [(409, "CONFLICT"), (409, "CONFLICT")] == [
        (r.status_code, r.json()["error_code"]) for r in (by_post, by_patch)
    ]


async def test_an_admin_can_be_demoted_while_another_remains(api: Api) -> None:
    """With a second active admin, the first may lose its rights."""
    await api.seed_user("kim@example.com", is_admin=True)
    user_id = await admin_id(api)

    response = await api.call(
        "PATCH", f"{USERS}/{user_id}", api.as_admin(), json={"is_admin": False}, expect=200
    )

    assert False is response.json()["is_admin"]


async def test_create_user_in_unknown_team_is_team_not_found(api: Api) -> None:
    """Every named team must exist; nothing is created otherwise."""
    body = {"email": "lee@example.com", "display_name": "Lee", "teams": ["ghost"]}

    response = await api.call("POST", USERS, api.as_admin(), json=body, expect=404)
    listed = await api.call("GET", USERS, api.as_admin(), params={"email": "lee@"})

    assert ("TEAM_NOT_FOUND", 0) == (response.json()["error_code"], listed.json()["total"])


@pytest.mark.parametrize(
    ("body", "field_errors"),
    [
        (
            {"email": "m@example.com", "display_name": "M", "role": "admin"},
            {"role": "unknown field"},
        ),
        (
            {"email": "m@example.com", "display_name": "M", "is_admin": "yes"},
            {"is_admin": "must be a boolean"},
        ),
        ({"email": "m@example.com"}, {"display_name": "is required"}),
        (
            {"email": "m@example.com", "display_name": "M", "teams": "alpha"},
            {"teams": "must be a list"},
        ),
        (
            {"email": "not-an-email", "display_name": "M"},
            {"email": "email must look like name@domain."},
        ),
    ],
)
async def test_create_user_validation_errors_name_the_field(
    api: Api, body: dict[str, Any], field_errors: dict[str, str]
) -> None:
    """Unknown fields, wrong types, missing fields and bad emails are VALIDATION_ERRORs."""
    response = await api.call("POST", USERS, api.as_admin(), json=body, expect=400)

    assert ("VALIDATION_ERROR", field_errors) == (
        response.json()["error_code"],
        response.json()["field_errors"],
    )


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"display_name": "X"}),
        ("POST", "/deactivate", {"reason": "x"}),
        ("POST", "/reactivate", None),
    ],
)
async def test_unknown_user_is_user_not_found(
    api: Api, method: str, suffix: str, body: dict[str, str] | None
) -> None:
    """Every per-user endpoint answers USER_NOT_FOUND for an id nobody has."""
    response = await api.call(
        method, f"{USERS}/{uuid.uuid4()}{suffix}", api.as_admin(), json=body, expect=404
    )

    assert "USER_NOT_FOUND" == response.json()["error_code"]


async def test_plain_user_gets_admin_required(api: Api) -> None:
    """A non-admin user is refused with ADMIN_REQUIRED and changes nothing."""
    await api.seed_user("nat@example.com")
    body = {"email": "x@example.com", "display_name": "X"}

    created = await api.call("POST", USERS, api.as_user("nat@example.com"), json=body)
    listed = await api.call("GET", USERS, api.as_user("nat@example.com"))

    assert [(403, "ADMIN_REQUIRED"), (403, "ADMIN_REQUIRED")] == [
        (r.status_code, r.json()["error_code"]) for r in (created, listed)
    ]


async def test_anonymous_caller_gets_invalid_token(api: Api) -> None:
    """No bearer token is a 401."""
    response = await api.call("GET", USERS, expect=401)

    assert "INVALID_TOKEN" == response.json()["error_code"]


@pytest.mark.parametrize(
    "email",
    ["a@b", "<script>@x.com", "a@x.com\n", "two@@x.com", "a b@x.com"],
    ids=["no-dot-in-domain", "angle-brackets", "trailing-newline", "two-ats", "space"],
)
async def test_an_invalid_email_address_is_refused(api: Api, email: str) -> None:
    """Addresses are checked by a real validator: 400 naming the email field, nobody created."""
    body = {"email": email, "display_name": "Someone"}
    response = await api.call("POST", "/api/v1/admin/users", api.as_admin(), json=body)
    assert (400, "VALIDATION_ERROR", ["email"]) == (
        response.status_code,
        response.json()["error_code"],
        list(response.json().get("field_errors", {})),
    ), response.text


async def test_an_email_address_is_stored_normalised(api: Api) -> None:
    """The domain's case does not make a second person: the address is stored lower-cased."""
    created = await api.seed_user("Carol@Example.COM")
    assert "carol@example.com" == created["email"]
