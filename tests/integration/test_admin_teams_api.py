"""The admin team endpoints over HTTP: create, list, read, patch, (de)activate, members."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.api_support import Api

TEAMS = "/api/v1/admin/teams"
VOLATILE = ("id", "created_at", "updated_at", "deactivated_at")


def stable(team: dict[str, Any]) -> dict[str, Any]:
    """Return a team response without its generated id and timestamps."""
    return {key: value for key, value in team.items() if key not in VOLATILE}


def error(response: Any) -> tuple[int, str]:
    """Return the status and ``error_code`` of an error response."""
    return response.status_code, response.json()["error_code"]


async def test_create_team_answers_201_with_policy_groups_and_quota(
    api_on_each_database: Api,
) -> None:
    """The created team shows every policy field, its quota and that it is active."""
    api = api_on_each_database
    body = {
        "name": "ml",
        "description": "Machine learning",
        "required_labels": ["ML", "gpu-pool"],
        "optional_label_patterns": ["gpu-.*"],
        "allowed_runner_group_ids": [3, 7],
        "default_runner_group_id": 7,
        "max_runners": 20,
    }

    response = await api.call("POST", TEAMS, api.as_admin(), json=body, expect=201)

    expected = {
        **body,
        "required_labels": ["gpu-pool", "ml"],
        "is_active": True,
        "deactivated_by": None,
        "deactivation_reason": None,
    }
    assert expected == stable(response.json())


async def test_create_team_defaults_to_the_default_group_and_no_limit(api: Api) -> None:
    """Left out: runner group 1 (allowed and default), unlimited quota, empty description."""
    team = await api.seed_team("alpha")

    assert ([1], 1, None, "") == (
        team["allowed_runner_group_ids"],
        team["default_runner_group_id"],
        team["max_runners"],
        team["description"],
    )


async def test_get_team_returns_what_create_returned(api: Api) -> None:
    """``GET /teams/{team}`` answers the same body as the create call."""
    created = await api.seed_team("alpha", max_runners=4)

    response = await api.call("GET", f"{TEAMS}/alpha", api.as_admin(), expect=200)

    assert created == response.json()


async def test_duplicate_team_name_is_a_conflict(api_on_each_database: Api) -> None:
    """Team names are unique."""
    api = api_on_each_database
    await api.seed_team("alpha")

    response = await api.call("POST", TEAMS, api.as_admin(), json={"name": "alpha"})

    assert (409, "CONFLICT") == error(response)


async def test_bad_pattern_is_invalid_policy_naming_it(api: Api) -> None:
    """A pattern RE2 cannot compile is refused when saved, naming the pattern."""
    body = {"name": "alpha", "optional_label_patterns": ["gpu-.*", "size-(small"]}

    response = await api.call("POST", TEAMS, api.as_admin(), json=body)
    listed = await api.call("GET", TEAMS, api.as_admin())

    problems = response.json()["problems"]
    assert ((400, "INVALID_POLICY"), [("optional_label_patterns", "size-(small")], 0) == (
        error(response),
        [(problem["field"], problem["value"]) for problem in problems],
        listed.json()["total"],
    )


@pytest.mark.parametrize(
    ("body", "field_errors"),
    [
        ({"name": "alpha", "owner": "me"}, {"owner": "unknown field"}),
        ({"name": "alpha", "max_runners": "5"}, {"max_runners": "must be an integer"}),
        ({"name": "alpha", "required_labels": "ml"}, {"required_labels": "must be a list"}),
        (
            {"name": "alpha", "allowed_runner_group_ids": [1, "2"]},
            {"allowed_runner_group_ids[1]": "must be an integer"},
        ),
        ({"description": "no name"}, {"name": "is required"}),
    ],
)
async def test_create_team_validation_errors_name_the_field(
    api: Api, body: dict[str, Any], field_errors: dict[str, str]
) -> None:
    """Unknown fields, wrong types and missing fields are VALIDATION_ERRORs with field_errors."""
    response = await api.call("POST", TEAMS, api.as_admin(), json=body)

    assert ((400, "VALIDATION_ERROR"), field_errors) == (
        error(response),
        response.json()["field_errors"],
    )


async def test_bad_team_name_is_a_validation_error(api: Api) -> None:
    """Names are lower-case letters, digits and dashes."""
    response = await api.call("POST", TEAMS, api.as_admin(), json={"name": "Not_Valid"})

    assert ((400, "VALIDATION_ERROR"), ["name"]) == (
        error(response),
        list(response.json()["field_errors"]),
    )


async def test_list_teams_pages_by_name_and_filters_on_activity(api: Api) -> None:
    """Teams come in name order; ``is_active`` filters; ``total`` counts every match."""
    for name in ("delta", "alpha", "charlie", "bravo"):
        await api.seed_team(name)
    await api.call("POST", f"{TEAMS}/charlie/deactivate", api.as_admin(), json={"reason": "done"})

    async def names(**params: Any) -> tuple[list[str], int]:
        body = (await api.call("GET", TEAMS, api.as_admin(), params=params, expect=200)).json()
        return [team["name"] for team in body["teams"]], body["total"]

    assert (["bravo", "charlie"], 4) == await names(limit=2, offset=1)
    assert (["charlie"], 1) == await names(is_active="false")
    assert (["alpha", "bravo", "delta"], 3) == await names(is_active="true")


async def test_patch_max_runners_back_to_null_means_unlimited(api_on_each_database: Api) -> None:
    """``max_runners: null`` removes the limit; the other fields stay as they were."""
    api = api_on_each_database
    created = await api.seed_team("alpha", max_runners=5)

    response = await api.call(
        "PATCH", f"{TEAMS}/alpha", api.as_admin(), json={"max_runners": None}, expect=200
    )

    assert stable({**created, "max_runners": None}) == stable(response.json())


async def test_patch_changes_only_the_fields_sent(api: Api) -> None:
    """Fields left out of the PATCH keep their values."""
    created = await api.seed_team("alpha", max_runners=5)
    patch = {"description": "now described", "optional_label_patterns": ["arm-.*"]}

    response = await api.call("PATCH", f"{TEAMS}/alpha", api.as_admin(), json=patch, expect=200)

    assert stable({**created, **patch}) == stable(response.json())


async def test_empty_patch_changes_nothing(api: Api) -> None:
    """An empty PATCH answers the team as it was, ``updated_at`` included."""
    created = await api.seed_team("alpha")

    response = await api.call("PATCH", f"{TEAMS}/alpha", api.as_admin(), json={}, expect=200)

    assert created == response.json()


@pytest.mark.parametrize(
    ("patch", "field_errors"),
    [
        ({"name": "beta"}, {"name": "unknown field"}),
        ({"description": None}, {"description": "must be a string"}),
        ({"required_labels": None}, {"required_labels": "must be a list"}),
        ({"max_runners": "10"}, {"max_runners": "must be an integer"}),
    ],
)
async def test_patch_validation_errors_name_the_field(
    api: Api, patch: dict[str, Any], field_errors: dict[str, str]
) -> None:
    """The name is immutable and only nullable fields take ``null``."""
    await api.seed_team("alpha")

    response = await api.call("PATCH", f"{TEAMS}/alpha", api.as_admin(), json=patch)

    assert ((400, "VALIDATION_ERROR"), field_errors) == (
        error(response),
        response.json()["field_errors"],
    )


async def test_patch_groups_without_the_default_is_invalid_policy(api: Api) -> None:
    """Dropping the default group needs a new default; sending one makes it valid."""
    await api.seed_team("alpha", allowed_runner_group_ids=[1, 2])
    path = f"{TEAMS}/alpha"

    refused = await api.call("PATCH", path, api.as_admin(), json={"allowed_runner_group_ids": [2]})
    accepted = await api.call(
        "PATCH",
        path,
        api.as_admin(),
        json={"allowed_runner_group_ids": [2], "default_runner_group_id": 2},
    )

    assert ((400, "INVALID_POLICY"), 200, ([2], 2)) == (
        error(refused),
        accepted.status_code,
        (
            accepted.json()["allowed_runner_group_ids"],
            accepted.json()["default_runner_group_id"],
        ),
    )


async def test_patch_max_runners_zero_is_invalid_policy(api: Api) -> None:
    """The quota is at least 1 or null."""
    await api.seed_team("alpha")

    response = await api.call("PATCH", f"{TEAMS}/alpha", api.as_admin(), json={"max_runners": 0})

    assert (400, "INVALID_POLICY") == error(response)


async def test_deactivate_then_reactivate_team(api_on_each_database: Api) -> None:
    """A deactivated team records why and refuses provisioning until reactivated."""
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_client("ci-alpha", "alpha")
    path = f"{TEAMS}/alpha"

    deactivated = await api.call(
        "POST", f"{path}/deactivate", api.as_admin(), json={"reason": "project ended"}
    )
    refused = await api.provision(api.as_machine("ci-alpha"))
    reactivated = await api.call("POST", f"{path}/reactivate", api.as_admin())

    assert (200, False, "project ended", (403, "TEAM_INACTIVE"), 200, True, None) == (
        deactivated.status_code,
        deactivated.json()["is_active"],
        deactivated.json()["deactivation_reason"],
        error(refused),
        reactivated.status_code,
        reactivated.json()["is_active"],
        reactivated.json()["deactivation_reason"],
    )


async def test_deactivate_needs_a_reason(api: Api) -> None:
    """An empty body is a VALIDATION_ERROR naming ``reason``."""
    await api.seed_team("alpha")

    response = await api.call("POST", f"{TEAMS}/alpha/deactivate", api.as_admin(), json={})

    assert ((400, "VALIDATION_ERROR"), {"reason": "is required"}) == (
        error(response),
        response.json()["field_errors"],
    )


async def test_members_can_be_added_listed_and_removed(api_on_each_database: Api) -> None:
    """Membership changes show in the member list and in the user's teams."""
    api = api_on_each_database
    await api.seed_team("alpha")
    ann = await api.seed_user("ann@example.com", "alpha")
    ben = await api.seed_user("ben@example.com")
    members = f"{TEAMS}/alpha/members"

    added = await api.call("POST", members, api.as_admin(), json={"user_id": ben["id"]}, expect=201)
    listed = await api.call("GET", members, api.as_admin(), expect=200)
    removed = await api.call("DELETE", f"{members}/{ann['id']}", api.as_admin(), expect=200)
    remaining = await api.call("GET", members, api.as_admin(), expect=200)
    ben_now = await api.call("GET", f"/api/v1/admin/users/{ben['id']}", api.as_admin())

    assert (
        ("alpha", "ben@example.com", True),
        (["ann@example.com", "ben@example.com"], 2),
        ("ann@example.com", True),
        ["ben@example.com"],
        ["alpha"],
    ) == (
        (added.json()["team"], added.json()["member"]["email"], added.json()["changed"]),
        ([m["email"] for m in listed.json()["members"]], listed.json()["total"]),
        (removed.json()["member"]["email"], removed.json()["changed"]),
        [m["email"] for m in remaining.json()["members"]],
        ben_now.json()["teams"],
    )


async def test_membership_changes_are_idempotent(api: Api) -> None:
    """Adding a member twice or removing a non-member reports ``changed: false``."""
    await api.seed_team("alpha")
    ann = await api.seed_user("ann@example.com", "alpha")
    ben = await api.seed_user("ben@example.com")
    members = f"{TEAMS}/alpha/members"

    again = await api.call("POST", members, api.as_admin(), json={"user_id": ann["id"]})
    absent = await api.call("DELETE", f"{members}/{ben['id']}", api.as_admin())

    assert ((201, False), (200, False)) == (
        (again.status_code, again.json()["changed"]),
        (absent.status_code, absent.json()["changed"]),
    )


async def test_member_endpoints_name_what_is_missing(api: Api) -> None:
    """An unknown team is TEAM_NOT_FOUND, an unknown user USER_NOT_FOUND."""
    await api.seed_team("alpha")
    nobody = str(uuid.uuid4())

    no_team = await api.call("GET", f"{TEAMS}/ghost/members", api.as_admin())
    no_user = await api.call(
        "POST", f"{TEAMS}/alpha/members", api.as_admin(), json={"user_id": nobody}
    )
    no_user_removed = await api.call("DELETE", f"{TEAMS}/alpha/members/{nobody}", api.as_admin())
    bad_id = await api.call(
        "POST", f"{TEAMS}/alpha/members", api.as_admin(), json={"user_id": "ann"}
    )

    assert [
        (404, "TEAM_NOT_FOUND"),
        (404, "USER_NOT_FOUND"),
        (404, "USER_NOT_FOUND"),
        (400, "VALIDATION_ERROR"),
    ] == [error(r) for r in (no_team, no_user, no_user_removed, bad_id)]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"max_runners": 3}),
        ("POST", "/deactivate", {"reason": "x"}),
        ("POST", "/reactivate", None),
    ],
)
async def test_unknown_team_is_team_not_found(
    api: Api, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    """Every per-team endpoint answers TEAM_NOT_FOUND for a name nobody has."""
    response = await api.call(method, f"{TEAMS}/ghost{suffix}", api.as_admin(), json=body)

    assert (404, "TEAM_NOT_FOUND") == error(response)


async def test_plain_user_and_machine_client_get_admin_required(api: Api) -> None:
    """Members of a team cannot manage it; machine clients are never admins."""
    await api.seed_team("alpha")
    await api.seed_user("ann@example.com", "alpha")
    await api.seed_client("ci-alpha", "alpha")

    by_user = await api.call(
        "PATCH", f"{TEAMS}/alpha", api.as_user("ann@example.com"), json={"max_runners": 1}
    )
    by_machine = await api.call("GET", f"{TEAMS}/alpha/members", api.as_machine("ci-alpha"))
    unchanged = await api.call("GET", f"{TEAMS}/alpha", api.as_admin())

    assert ((403, "ADMIN_REQUIRED"), (403, "ADMIN_REQUIRED"), None) == (
        error(by_user),
        error(by_machine),
        unchanged.json()["max_runners"],
    )


async def test_anonymous_caller_gets_invalid_token(api: Api) -> None:
    """No bearer token is a 401."""
    response = await api.call("POST", TEAMS, json={"name": "alpha"})

    assert (401, "INVALID_TOKEN") == error(response)


async def test_openapi_documents_patch_bodies_as_sent(api: Api) -> None:
    """PATCH fields are optional and typed as sent; the internal "left out" marker never shows."""
    response = await api.call("GET", "/schema/openapi.json", expect=200)

    schemas = response.json()["components"]["schemas"]
    patch = schemas["UpdateTeamBody"]
    assert ([], {"oneOf": [{"type": "integer"}, {"type": "null"}]}, False) == (
        patch["required"],
        {"oneOf": patch["properties"]["max_runners"]["oneOf"]},
        "unset" in response.text.lower(),
    )
