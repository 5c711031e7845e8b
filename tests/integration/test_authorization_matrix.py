"""Every endpoint of the API against every kind of caller: the status and error_code of each cell.

One world is built per module through the admin API (two teams, users and machine clients of
each kind, a runner). Requests that succeed and change something act on entities kept for that
row alone (``victim`` users, teams and clients), so the cells do not depend on their order.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio

from tests.integration.api_support import Api, running_api

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Caller(enum.Enum):
    """The kinds of caller every endpoint is tried with."""

    ANONYMOUS = "anonymous"
    INACTIVE_USER = "inactive-user"
    OUTSIDER = "user-outside-the-team"
    MEMBER = "team-member"
    OTHER_CLIENT = "client-of-another-team"
    TEAM_CLIENT = "client-of-the-team"
    DISABLED_CLIENT = "disabled-client"
    ADMIN = "admin"


C = Caller
Cell = tuple[int, str | None]  # (status, error_code); None for a success
Row = dict[Caller, Cell]

INVALID_TOKEN: Cell = (401, "INVALID_TOKEN")
NOT_AUTHORIZED: Cell = (403, "USER_NOT_AUTHORIZED")
ADMIN_REQUIRED: Cell = (403, "ADMIN_REQUIRED")
NOT_TEAM_MEMBER: Cell = (403, "NOT_TEAM_MEMBER")
RUNNER_NOT_FOUND: Cell = (404, "RUNNER_NOT_FOUND")


def ok(status: int = 200) -> Cell:
    """A success with ``status``."""
    return (status, None)


def refused_before_the_endpoint() -> Row:
    """The cells decided by authentication alone, whatever the endpoint."""
    return {
        C.ANONYMOUS: INVALID_TOKEN,
        C.INACTIVE_USER: NOT_AUTHORIZED,
        C.DISABLED_CLIENT: NOT_AUTHORIZED,
    }


def admin_only(status: int = 200) -> Row:
    """An admin endpoint: every authenticated non-admin gets ADMIN_REQUIRED."""
    return {
        **refused_before_the_endpoint(),
        C.OUTSIDER: ADMIN_REQUIRED,
        C.MEMBER: ADMIN_REQUIRED,
        C.OTHER_CLIENT: ADMIN_REQUIRED,
        C.TEAM_CLIENT: ADMIN_REQUIRED,
        C.ADMIN: ok(status),
    }


def any_principal(status: int = 200) -> Row:
    """An endpoint every active principal may call."""
    return {
        **refused_before_the_endpoint(),
        **dict.fromkeys((C.OUTSIDER, C.MEMBER, C.OTHER_CLIENT, C.TEAM_CLIENT, C.ADMIN), ok(status)),
    }


def team_alpha(status: int, outside: Cell) -> Row:
    """An endpoint about team alpha: its member, its client and admins succeed."""
    return {
        **refused_before_the_endpoint(),
        C.OUTSIDER: outside,
        C.OTHER_CLIENT: outside,
        C.MEMBER: ok(status),
        C.TEAM_CLIENT: ok(status),
        C.ADMIN: ok(status),
    }


@attrs.frozen(eq=False)  # a key of MATRIX by identity: its JSON body is not hashable
class Endpoint:
    """One request: ``path`` may name ``{runner}``, ``{user}``, ``{victim_user}`` and so on."""

    method: str
    path: str
    json: Any = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def jit(team: str = "alpha") -> dict[str, Any]:
    """A JIT provisioning body for ``team``."""
    return {"labels": ["gpu-a100"], "runner_name_prefix": "matrix", "team_name": team}


def token(team: str = "alpha") -> dict[str, Any]:
    """A registration-token provisioning body for ``team``."""
    return {"labels": ["gpu-a100"], "runner_name_prefix": "legacy", "team_name": team}


E = Endpoint
MATRIX: dict[Endpoint, Row] = {
    # Runners: any principal, within its team; a runner of another team does not exist for it.
    E("POST", "/api/v1/runners/jit", jit()): team_alpha(201, NOT_TEAM_MEMBER),
    E("POST", "/api/v1/runners/provision", token()): team_alpha(201, NOT_TEAM_MEMBER),
    E("GET", "/api/v1/runners"): any_principal(),
    E("GET", "/api/v1/runners?team_name=alpha"): any_principal(),
    E("GET", "/api/v1/runners/{runner}"): team_alpha(200, RUNNER_NOT_FOUND),
    E("POST", "/api/v1/runners/{runner}/refresh"): team_alpha(200, RUNNER_NOT_FOUND),
    E("DELETE", "/api/v1/runners/{victim_runner}"): team_alpha(200, RUNNER_NOT_FOUND),
    E("POST", "/api/v1/policy/check", {"labels": ["gpu-a"], "team_name": "alpha"}): team_alpha(
        200, NOT_TEAM_MEMBER
    ),
    E("GET", "/api/v1/auth/me"): any_principal(),
    # Team views: any principal, for its own teams only.
    E("GET", "/api/v1/teams"): any_principal(),
    E("GET", "/api/v1/teams/alpha"): team_alpha(200, NOT_TEAM_MEMBER),
    E("GET", "/api/v1/teams/alpha/audit"): team_alpha(200, NOT_TEAM_MEMBER),
    E("GET", "/api/v1/teams/alpha/security-events"): team_alpha(200, NOT_TEAM_MEMBER),
    # Admin: users.
    E("POST", "/api/v1/admin/users", {"email": "new@example.com", "display_name": "New"}): (
        admin_only(201)
    ),
    E("GET", "/api/v1/admin/users"): admin_only(),
    E("GET", "/api/v1/admin/users/{member}"): admin_only(),
    E("PATCH", "/api/v1/admin/users/{victim_user}", {"display_name": "Renamed"}): admin_only(),
    E("POST", "/api/v1/admin/users/{victim_user}/deactivate", {"reason": "left"}): admin_only(),
    E("POST", "/api/v1/admin/users/{victim_inactive_user}/reactivate"): admin_only(),
    # Admin: teams and members.
    E("POST", "/api/v1/admin/teams", {"name": "gamma"}): admin_only(201),
    E("GET", "/api/v1/admin/teams"): admin_only(),
    E("GET", "/api/v1/admin/teams/alpha"): admin_only(),
    E("PATCH", "/api/v1/admin/teams/victim", {"description": "changed"}): admin_only(),
    E("POST", "/api/v1/admin/teams/victim/deactivate", {"reason": "merged"}): admin_only(),
    E("POST", "/api/v1/admin/teams/retired/reactivate"): admin_only(),
    E("GET", "/api/v1/admin/teams/alpha/members"): admin_only(),
    E("POST", "/api/v1/admin/teams/victim/members", {"user_id": "{joiner}"}): admin_only(201),
    E("DELETE", "/api/v1/admin/teams/victim/members/{victim_user}"): admin_only(),
    # Admin: machine clients.
    E(
        "POST",
        "/api/v1/admin/clients",
        {"issuer": "{issuer}", "subject": "new-ci", "team": "alpha"},
    ): (admin_only(201)),
    E("GET", "/api/v1/admin/clients"): admin_only(),
    E("GET", "/api/v1/admin/clients/{team_client}"): admin_only(),
    E("PATCH", "/api/v1/admin/clients/{victim_client}", {"description": "ARC"}): admin_only(),
    E("POST", "/api/v1/admin/clients/{victim_client}/disable"): admin_only(),
    E("POST", "/api/v1/admin/clients/{victim_disabled_client}/enable"): admin_only(),
    # Admin: audit, security events, sync, stats.
    E("GET", "/api/v1/admin/audit"): admin_only(),
    E("GET", "/api/v1/admin/audit/export?format=jsonl"): admin_only(),
    E("GET", "/api/v1/admin/audit/export?format=csv"): admin_only(),
    E("GET", "/api/v1/admin/security-events"): admin_only(),
    E("GET", "/api/v1/admin/sync/status"): admin_only(),
    E("POST", "/api/v1/admin/sync/trigger"): admin_only(),
    E("GET", "/api/v1/admin/stats"): admin_only(),
}

CELLS = [
    pytest.param(endpoint, caller, cell, id=f"{endpoint} as {caller.value}")
    for endpoint, row in MATRIX.items()
    for caller, cell in row.items()
]


@attrs.frozen
class World:
    """The running app, a token per caller, and the ids the paths name."""

    api: Api
    headers: Mapping[Caller, Mapping[str, str]]
    ids: Mapping[str, str]

    def fill(self, value: Any) -> Any:
        """Put the world's ids into a path or a JSON body."""
        if isinstance(value, str):
            return value.format(**self.ids)
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


async def build_world(api: Api) -> World:
    """Create teams, users, clients and runners through the admin API."""
    admin = api.as_admin()
    for team in ("alpha", "beta", "victim", "retired"):
        await api.seed_team(team)
    await api.call(
        "POST", "/api/v1/admin/teams/retired/deactivate", admin, json={"reason": "old"}, expect=200
    )
    legacy = {"can_use_registration_token": True}
    member = await api.seed_user("member@example.com", "alpha", **legacy)
    await api.seed_user("outsider@example.com", "beta", **legacy)
    inactive = await api.seed_user("inactive@example.com", "alpha", **legacy)
    victim_user = await api.seed_user("victim@example.com", "victim")
    victim_inactive = await api.seed_user("victim-inactive@example.com", "victim")
    joiner = await api.seed_user("joiner@example.com")
    me = await api.call("GET", "/api/v1/auth/me", admin, expect=200)
    await api.call(
        "PATCH", f"/api/v1/admin/users/{me.json()['id']}", admin, json=legacy, expect=200
    )
    for user in (inactive, victim_inactive):
        path = f"/api/v1/admin/users/{user['id']}/deactivate"
        await api.call("POST", path, admin, json={"reason": "left"}, expect=200)
    team_client = await api.seed_client("alpha-ci", "alpha", **legacy)
    await api.seed_client("beta-ci", "beta", **legacy)
    disabled = await api.seed_client("alpha-old", "alpha", **legacy)
    victim_client = await api.seed_client("victim-ci", "victim")
    victim_disabled = await api.seed_client("victim-old", "victim")
    for client in (disabled, victim_disabled):
        await api.call("POST", f"/api/v1/admin/clients/{client['id']}/disable", admin, expect=200)
    runners = []
    for _ in range(2):
        response = await api.provision(api.as_user("member@example.com"), team_name="alpha")
        assert 201 == response.status_code, response.text
        runners.append(response.json()["runner_id"])
    headers = {
        C.ANONYMOUS: {},
        C.INACTIVE_USER: api.as_user("inactive@example.com"),
        C.OUTSIDER: api.as_user("outsider@example.com"),
        C.MEMBER: api.as_user("member@example.com"),
        C.OTHER_CLIENT: api.as_machine("beta-ci"),
        C.TEAM_CLIENT: api.as_machine("alpha-ci"),
        C.DISABLED_CLIENT: api.as_machine("alpha-old"),
        C.ADMIN: admin,
    }
    ids = {
        "runner": runners[0],
        "victim_runner": runners[1],
        "member": member["id"],
        "joiner": joiner["id"],
        "victim_user": victim_user["id"],
        "victim_inactive_user": victim_inactive["id"],
        "team_client": team_client["id"],
        "victim_client": victim_client["id"],
        "victim_disabled_client": victim_disabled["id"],
        "issuer": api.issuer.issuer,
    }
    return World(api, headers, ids)


@pytest.fixture(scope="module")
def world_database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database for this module's world."""
    path = tmp_path_factory.mktemp("matrix") / "gharts.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(world_database: str) -> AsyncIterator[World]:
    """The world every cell is tried in."""
    async with running_api(world_database) as api:
        yield await build_world(api)


@pytest.mark.parametrize(("endpoint", "caller", "expected"), CELLS)
async def test_cell(world: World, endpoint: Endpoint, caller: Caller, expected: Cell) -> None:
    """The endpoint answers this caller with the status and error_code of its cell."""
    response = await world.api.call(
        endpoint.method,
        world.fill(endpoint.path),
        world.headers[caller],
        json=world.fill(endpoint.json),
    )
    is_json = response.headers.get("content-type", "").startswith("application/json")
    code = response.json().get("error_code") if is_json and response.status_code >= 400 else None
    assert expected == (response.status_code, code), response.text[:500]
    if code == "INVALID_TOKEN":
        assert response.headers["www-authenticate"].startswith("Bearer")


def with_an_invalid_body(cell: Cell) -> Cell:
    """What a malformed body gets: the caller's refusal when there is one, else 400."""
    refusals = (INVALID_TOKEN, NOT_AUTHORIZED, ADMIN_REQUIRED)
    return cell if cell in refusals else (400, "VALIDATION_ERROR")


INVALID_BODY_CELLS = [
    pytest.param(endpoint, caller, with_an_invalid_body(cell), id=f"{endpoint} as {caller.value}")
    for endpoint, row in MATRIX.items()
    if endpoint.json is not None
    for caller, cell in row.items()
]


@pytest.mark.parametrize(("endpoint", "caller", "expected"), INVALID_BODY_CELLS)
async def test_authentication_and_admin_rights_come_before_the_body(
    world: World, endpoint: Endpoint, caller: Caller, expected: Cell
) -> None:
    """A malformed body tells a stranger nothing: 401 and 403 are decided before it is read."""
    response = await world.api.call(
        endpoint.method, world.fill(endpoint.path), world.headers[caller], json={"bogus": [1]}
    )
    assert expected == (response.status_code, response.json().get("error_code")), response.text


async def test_every_caller_is_tried_on_every_endpoint() -> None:
    """No row of the table leaves a kind of caller out."""
    assert all(set(Caller) == set(row) for row in MATRIX.values())


async def test_runners_of_another_team_are_not_listed(world: World) -> None:
    """Listing hides other teams' runners: an outsider and another team's client see none."""
    seen = {}
    for caller in (C.OUTSIDER, C.OTHER_CLIENT, C.MEMBER, C.TEAM_CLIENT, C.ADMIN):
        response = await world.api.call(
            "GET", "/api/v1/runners?team_name=alpha", world.headers[caller], expect=200
        )
        seen[caller] = world.ids["runner"] in {r["runner_id"] for r in response.json()["runners"]}
    expected = {
        C.OUTSIDER: False,
        C.OTHER_CLIENT: False,
        C.MEMBER: True,
        C.TEAM_CLIENT: True,
        C.ADMIN: True,
    }
    assert expected == seen


async def test_team_views_list_only_the_callers_teams(world: World) -> None:
    """``GET /api/v1/teams`` shows a caller its own teams (every team to admins)."""
    seen = {}
    for caller in (C.OUTSIDER, C.OTHER_CLIENT, C.MEMBER, C.TEAM_CLIENT):
        response = await world.api.call("GET", "/api/v1/teams", world.headers[caller], expect=200)
        seen[caller] = sorted(team["name"] for team in response.json()["teams"])
    expected = {
        C.OUTSIDER: ["beta"],
        C.OTHER_CLIENT: ["beta"],
        C.MEMBER: ["alpha"],
        C.TEAM_CLIENT: ["alpha"],
    }
    assert expected == seen


async def test_a_missing_capability_is_not_authorized(world: World) -> None:
    """A principal without ``can_use_registration_token`` may not use the legacy flow."""
    api = world.api
    await api.seed_user("jit-only@example.com", "alpha")
    response = await api.call(
        "POST", "/api/v1/runners/provision", api.as_user("jit-only@example.com"), json=token()
    )
    assert (403, "USER_NOT_AUTHORIZED") == (response.status_code, response.json()["error_code"])


@pytest.mark.parametrize("kind", ["machine", "user"])
async def test_an_unregistered_principal_is_not_authorized(world: World, kind: str) -> None:
    """A valid token of a client or a person no admin registered is refused."""
    api = world.api
    headers = api.as_machine("stranger-ci") if kind == "machine" else api.as_user("x@example.com")
    response = await api.call("GET", "/api/v1/auth/me", headers)
    assert (403, "USER_NOT_AUTHORIZED") == (response.status_code, response.json()["error_code"])
