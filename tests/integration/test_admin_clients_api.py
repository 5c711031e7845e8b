"""The admin machine-client endpoints over HTTP: register, list, read, patch, disable, enable."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gharts_adapters.identity import IssuerConfig
from gharts_core.model import Principal
from gharts_core.services.admin_audit import AuditQuery
from tests.integration.api_support import ISSUER_URL, Api, running_api

OTHER_ISSUER = "https://other.example"

CLIENTS = "/api/v1/admin/clients"
VOLATILE = ("id", "team_id", "created_at", "updated_at")


def stable(client: dict[str, Any]) -> dict[str, Any]:
    """Return a client response without its generated ids and timestamps."""
    return {key: value for key, value in client.items() if key not in VOLATILE}


def error(response: Any) -> tuple[int, str]:
    """Return the status and ``error_code`` of an error response."""
    return response.status_code, response.json()["error_code"]


async def test_create_client_answers_201_with_its_team(api_on_each_database: Api) -> None:
    """A registered client shows its identity, its team by name and id, and is active."""
    api = api_on_each_database
    team = await api.seed_team("alpha")
    body = {
        "issuer": api.issuer.issuer,
        "subject": "system:serviceaccount:arc-system:arc-controller",
        "team": "alpha",
        "description": "ARC",
        "can_use_registration_token": True,
    }

    response = await api.call("POST", CLIENTS, api.as_admin(), json=body, expect=201)

    expected = {
        "issuer": api.issuer.issuer,
        "subject": "system:serviceaccount:arc-system:arc-controller",
        "team": "alpha",
        "description": "ARC",
        "can_use_jit": True,
        "can_use_registration_token": True,
        "is_active": True,
    }
    assert (expected, team["id"]) == (stable(response.json()), response.json()["team_id"])


async def test_get_client_returns_what_create_returned(api: Api) -> None:
    """``GET /clients/{id}`` answers the same body as the create call."""
    await api.seed_team("alpha")
    created = await api.seed_client("ci-alpha", "alpha")

    response = await api.call("GET", f"{CLIENTS}/{created['id']}", api.as_admin(), expect=200)

    assert created == response.json()


async def test_second_active_client_for_one_identity_is_a_conflict(
    api_on_each_database: Api,
) -> None:
    """One (issuer, subject) has at most one active client, even for another team."""
    api = api_on_each_database
    await api.seed_team("alpha")
    await api.seed_team("beta")
    await api.seed_client("ci-shared", "alpha")
    body = {"issuer": api.issuer.issuer, "subject": "ci-shared", "team": "beta"}

    response = await api.call("POST", CLIENTS, api.as_admin(), json=body)

    assert (409, "CONFLICT") == error(response)


async def test_disabled_identity_can_be_registered_again_but_not_re_enabled(api: Api) -> None:
    """After disabling, a new client may take the identity; the old one then cannot return."""
    await api.seed_team("alpha")
    old = await api.seed_client("ci-rotated", "alpha")
    await api.call("POST", f"{CLIENTS}/{old['id']}/disable", api.as_admin(), expect=200)

    new = await api.seed_client("ci-rotated", "alpha")
    enabled = await api.call("POST", f"{CLIENTS}/{old['id']}/enable", api.as_admin())

    assert (True, (409, "CONFLICT")) == (new["is_active"], error(enabled))


async def test_a_team_may_have_several_clients(api: Api) -> None:
    """Clients of one team with different subjects coexist."""
    await api.seed_team("alpha")
    await api.seed_client("ci-one", "alpha")
    await api.seed_client("ci-two", "alpha")

    response = await api.call("GET", CLIENTS, api.as_admin(), params={"team": "alpha"})

    assert (["ci-one", "ci-two"], 2) == (
        [client["subject"] for client in response.json()["clients"]],
        response.json()["total"],
    )


@pytest.fixture
async def api_trusting_another_issuer(sqlite_url: str) -> AsyncIterator[Api]:
    """The app trusting a second issuer (``OTHER_ISSUER``), whose keys it never needs."""
    other = IssuerConfig(OTHER_ISSUER, audiences=("gharts",), jwks_uri=f"{OTHER_ISSUER}/jwks")
    async with running_api(sqlite_url, trust=[other]) as running:
        yield running


async def test_list_clients_filters_and_pages(api_trusting_another_issuer: Api) -> None:
    """``team``, ``issuer`` and ``is_active`` filter; ``limit``/``offset`` page, oldest first."""
    api = api_trusting_another_issuer
    await api.seed_team("alpha")
    await api.seed_team("beta")
    for subject, team in (("a1", "alpha"), ("b1", "beta"), ("a2", "alpha"), ("a3", "alpha")):
        await api.seed_client(subject, team)
    other = {"issuer": OTHER_ISSUER, "subject": "x1", "team": "beta"}
    await api.call("POST", CLIENTS, api.as_admin(), json=other, expect=201)
    listed = await api.call("GET", CLIENTS, api.as_admin(), params={"team": "alpha"})
    a2 = next(c for c in listed.json()["clients"] if c["subject"] == "a2")
    await api.call("POST", f"{CLIENTS}/{a2['id']}/disable", api.as_admin(), expect=200)

    async def subjects(**params: Any) -> tuple[list[str], int]:
        body = (await api.call("GET", CLIENTS, api.as_admin(), params=params, expect=200)).json()
        return [client["subject"] for client in body["clients"]], body["total"]

    assert (["a1", "a3"], 2) == await subjects(team="alpha", is_active="true")
    assert (["x1"], 1) == await subjects(issuer=OTHER_ISSUER)
    assert (["a2"], 1) == await subjects(is_active="false")
    assert (["b1", "a2"], 5) == await subjects(limit=2, offset=1)


async def test_list_clients_of_unknown_team_is_team_not_found(api: Api) -> None:
    """Filtering on a team that does not exist is a 404, not an empty page."""
    response = await api.call("GET", CLIENTS, api.as_admin(), params={"team": "ghost"})

    assert (404, "TEAM_NOT_FOUND") == error(response)


async def test_patch_moves_the_client_and_changes_only_the_fields_sent(api: Api) -> None:
    """``team`` moves the client; fields left out keep their values."""
    await api.seed_team("alpha")
    beta = await api.seed_team("beta")
    created = await api.seed_client("ci-move", "alpha", description="before")

    response = await api.call(
        "PATCH",
        f"{CLIENTS}/{created['id']}",
        api.as_admin(),
        json={"team": "beta", "can_use_jit": False},
        expect=200,
    )

    expected = {**stable(created), "team": "beta", "can_use_jit": False}
    assert (expected, beta["id"]) == (stable(response.json()), response.json()["team_id"])


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"team": "ghost"}, (404, "TEAM_NOT_FOUND")),
        ({"team": None}, (400, "VALIDATION_ERROR")),
        ({"subject": "other"}, (400, "VALIDATION_ERROR")),
        ({"can_use_jit": "no"}, (400, "VALIDATION_ERROR")),
    ],
)
async def test_patch_refuses_what_it_cannot_apply(
    api: Api, patch: dict[str, Any], expected: tuple[int, str]
) -> None:
    """Unknown teams, nulls, immutable identity fields and wrong types are refused."""
    await api.seed_team("alpha")
    created = await api.seed_client("ci-alpha", "alpha")

    response = await api.call("PATCH", f"{CLIENTS}/{created['id']}", api.as_admin(), json=patch)
    unchanged = await api.call("GET", f"{CLIENTS}/{created['id']}", api.as_admin())

    assert (expected, created) == (error(response), unchanged.json())


@pytest.mark.parametrize(
    ("body", "field_errors"),
    [
        (
            {"issuer": "https://i", "subject": "s", "team": "alpha", "role": "x"},
            {"role": "unknown field"},
        ),
        ({"issuer": "https://i", "team": "alpha"}, {"subject": "is required"}),
        ({"issuer": "https://i", "subject": 5, "team": "alpha"}, {"subject": "must be a string"}),
        ({"issuer": " ", "subject": "s", "team": "alpha"}, {"issuer": "issuer must not be empty."}),
    ],
)
async def test_create_client_validation_errors_name_the_field(
    api: Api, body: dict[str, Any], field_errors: dict[str, str]
) -> None:
    """Unknown fields, missing fields, wrong types and blank values are VALIDATION_ERRORs."""
    await api.seed_team("alpha")

    response = await api.call("POST", CLIENTS, api.as_admin(), json=body)

    assert ((400, "VALIDATION_ERROR"), field_errors) == (
        error(response),
        response.json()["field_errors"],
    )


async def test_create_client_for_unknown_team_is_team_not_found(api: Api) -> None:
    """The team must exist."""
    body = {"issuer": api.issuer.issuer, "subject": "ci", "team": "ghost"}

    response = await api.call("POST", CLIENTS, api.as_admin(), json=body)

    assert (404, "TEAM_NOT_FOUND") == error(response)


async def test_disabled_client_is_refused_until_enabled(api_on_each_database: Api) -> None:
    """Disabling (without a body) refuses the client's tokens; enabling accepts them again."""
    api = api_on_each_database
    await api.seed_team("alpha")
    created = await api.seed_client("ci-alpha", "alpha")
    path = f"{CLIENTS}/{created['id']}"

    disabled = await api.call("POST", f"{path}/disable", api.as_admin())
    refused = await api.call("GET", "/api/v1/runners", api.as_machine("ci-alpha"))
    enabled = await api.call("POST", f"{path}/enable", api.as_admin())
    allowed = await api.call("GET", "/api/v1/runners", api.as_machine("ci-alpha"))

    assert ((200, False), (403, "USER_NOT_AUTHORIZED"), (200, True), 200) == (
        (disabled.status_code, disabled.json()["is_active"]),
        error(refused),
        (enabled.status_code, enabled.json()["is_active"]),
        allowed.status_code,
    )


async def test_disable_records_the_reason_given(api: Api) -> None:
    """A ``reason`` sent to disable lands in the audit log."""
    await api.seed_team("alpha")
    created = await api.seed_client("ci-alpha", "alpha")

    await api.call(
        "POST",
        f"{CLIENTS}/{created['id']}/disable",
        api.as_admin(),
        json={"reason": "key rotated"},
        expect=200,
    )

    query = AuditQuery(action="client.disable", target=created["id"])
    page = await api.services.audit.list_audit(Principal.system(), query)
    assert ["key rotated"] == [event.details.get("reason") for event in page.items]


@pytest.mark.parametrize(
    ("body", "field_errors"),
    [
        ({"reason": 5}, {"reason": "must be a string"}),
        ({"reason": " "}, {"reason": "reason must not be empty."}),
        ({"why": "x"}, {"why": "unknown field"}),
    ],
)
async def test_disable_refuses_a_bad_body(
    api: Api, body: dict[str, Any], field_errors: dict[str, str]
) -> None:
    """The optional body, when sent, must fit its schema."""
    await api.seed_team("alpha")
    created = await api.seed_client("ci-alpha", "alpha")

    response = await api.call(
        "POST", f"{CLIENTS}/{created['id']}/disable", api.as_admin(), json=body
    )

    assert ((400, "VALIDATION_ERROR"), field_errors) == (
        error(response),
        response.json()["field_errors"],
    )


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"description": "x"}),
        ("POST", "/disable", None),
        ("POST", "/enable", None),
    ],
)
async def test_unknown_client_is_client_not_found(
    api: Api, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    """Every per-client endpoint answers CLIENT_NOT_FOUND for an id nobody has."""
    response = await api.call(
        method, f"{CLIENTS}/{uuid.uuid4()}{suffix}", api.as_admin(), json=body
    )

    assert (404, "CLIENT_NOT_FOUND") == error(response)


async def test_plain_user_and_machine_client_get_admin_required(api: Api) -> None:
    """Neither a team member nor a machine client may register clients."""
    await api.seed_team("alpha")
    await api.seed_user("ann@example.com", "alpha")
    await api.seed_client("ci-alpha", "alpha")
    body = {"issuer": api.issuer.issuer, "subject": "ci-new", "team": "alpha"}

    by_user = await api.call("POST", CLIENTS, api.as_user("ann@example.com"), json=body)
    by_machine = await api.call("GET", CLIENTS, api.as_machine("ci-alpha"))

    assert [(403, "ADMIN_REQUIRED"), (403, "ADMIN_REQUIRED")] == [
        error(by_user),
        error(by_machine),
    ]


async def test_anonymous_caller_gets_invalid_token(api: Api) -> None:
    """No bearer token is a 401."""
    response = await api.call("GET", CLIENTS)

    assert (401, "INVALID_TOKEN") == error(response)


async def test_openapi_documents_the_disable_body_as_optional(api: Api) -> None:
    """Disable may be called without a body; the document says so."""
    response = await api.call("GET", "/schema/openapi.json", expect=200)

    operation = response.json()["paths"][f"{CLIENTS}/{{client_id}}/disable"]["post"]
    assert (False, {"$ref": "#/components/schemas/DisableClientBody"}) == (
        operation["requestBody"]["required"],
        operation["requestBody"]["content"]["application/json"]["schema"],
    )


@pytest.mark.parametrize(
    ("issuer", "sentence"),
    [
        ("https://nobody.example/", "is not a trusted issuer"),
        (ISSUER_URL + "/", "differs from the trusted issuer"),
        ("x", "is not a trusted issuer"),
    ],
    ids=["untrusted", "trailing-slash", "not-a-url"],
)
async def test_a_client_of_an_issuer_gharts_does_not_trust_is_refused(
    api: Api, issuer: str, sentence: str
) -> None:
    """Its tokens could never be accepted: 400 naming the issuer field, and nothing is created."""
    await api.seed_team("alpha")
    body = {"issuer": issuer, "subject": "ci", "team": "alpha"}
    response = await api.call("POST", "/api/v1/admin/clients", api.as_admin(), json=body)
    listed = await api.call("GET", "/api/v1/admin/clients", api.as_admin(), expect=200)
    errors = response.json().get("field_errors", {})
    assert (400, "VALIDATION_ERROR", True, 0) == (
        response.status_code,
        response.json()["error_code"],
        sentence in errors.get("issuer", ""),
        listed.json()["total"],
    ), response.text
