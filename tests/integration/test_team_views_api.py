"""``/api/v1/teams``: members read their own teams, audit logs and security events."""

from __future__ import annotations

from typing import Any

import pytest

from gharts_core.model import SecurityEventType, Severity
from tests.integration.api_support import Api
from tests.integration.audit_support import add_audit, add_security_events, audit_row, security_row

TEAMS = "/api/v1/teams"
DEV = "dev@example.com"


@pytest.fixture
async def teams(api: Api) -> dict[str, dict[str, Any]]:
    """Teams alpha, beta and gamma; dev is in alpha and beta; ci-bot is gamma's client."""
    seeded = {name: await api.seed_team(name) for name in ("gamma", "beta", "alpha")}
    await api.seed_user(DEV, "alpha", "beta")
    await api.seed_client("ci-bot", "gamma")
    return seeded


def names(response: Any, key: str) -> list[str]:
    """The ``name`` of every item under ``key``."""
    return [item["name"] for item in response.json()[key]]


async def test_a_member_lists_only_its_teams_by_name(api: Api, teams: dict[str, Any]) -> None:
    """A user sees the teams it belongs to, sorted, with the total."""
    response = await api.call("GET", TEAMS, api.as_user(DEV), expect=200)

    assert (["alpha", "beta"], 2) == (names(response, "teams"), response.json()["total"])


async def test_a_machine_client_lists_its_one_team(api: Api, teams: dict[str, Any]) -> None:
    """A machine client's team is its registered one."""
    response = await api.call("GET", TEAMS, api.as_machine("ci-bot"), expect=200)

    assert ["gamma"] == names(response, "teams")


async def test_an_admin_lists_every_team_in_pages(api: Api, teams: dict[str, Any]) -> None:
    """Admins read every team; limit and offset page them."""
    params = {"limit": "2", "offset": "1"}

    response = await api.call("GET", TEAMS, api.as_admin(), params=params, expect=200)

    assert (["beta", "gamma"], 3) == (names(response, "teams"), response.json()["total"])


async def test_a_member_reads_its_team(api: Api, teams: dict[str, Any]) -> None:
    """The team's policy, runner groups and quota, as the admin API shows them."""
    response = await api.call("GET", f"{TEAMS}/alpha", api.as_user(DEV), expect=200)

    admin_view = await api.call("GET", "/api/v1/admin/teams/alpha", api.as_admin(), expect=200)
    assert (admin_view.json(), ["gpu-.*", "size-(small|large)"]) == (
        response.json(),
        response.json()["optional_label_patterns"],
    )


@pytest.mark.parametrize(
    "suffix", ["", "/audit", "/security-events"], ids=["team", "audit", "security-events"]
)
async def test_another_teams_views_are_not_team_member(
    api: Api, teams: dict[str, Any], suffix: str
) -> None:
    """An existing team the caller is not in is NOT_TEAM_MEMBER, and a security event."""
    response = await api.call("GET", f"{TEAMS}/gamma{suffix}", api.as_user(DEV), expect=403)

    events = await api.call(
        "GET",
        "/api/v1/admin/security-events",
        api.as_admin(),
        params={"type": "unauthorized_access", "team": "gamma"},
        expect=200,
    )
    assert ("NOT_TEAM_MEMBER", [DEV]) == (
        response.json()["error_code"],
        [event["actor"]["name"] for event in events.json()["events"]],
    )


@pytest.mark.parametrize("suffix", ["", "/audit", "/security-events"])
async def test_an_unknown_team_is_team_not_found(
    api: Api, teams: dict[str, Any], suffix: str
) -> None:
    """A team that does not exist is TEAM_NOT_FOUND, for members and admins alike."""
    response = await api.call("GET", f"{TEAMS}/nowhere{suffix}", api.as_user(DEV), expect=404)

    assert "TEAM_NOT_FOUND" == response.json()["error_code"]


async def test_a_team_audit_log_holds_only_that_team(api: Api, teams: dict[str, Any]) -> None:
    """Rows of other teams and of no team are left out; filters apply; newest first."""
    add_audit(
        api,
        audit_row("a1", team=teams["alpha"]),
        audit_row("b1", team=teams["beta"], hours=1),
        audit_row("n1", hours=2),
        audit_row("a2", actor="bob", team=teams["alpha"], hours=3),
    )
    until = {"until": "2020-02-01T00:00:00Z"}

    every = await api.call("GET", f"{TEAMS}/alpha/audit", api.as_user(DEV), params=until)
    bob = await api.call(
        "GET", f"{TEAMS}/alpha/audit", api.as_user(DEV), params={**until, "actor": "bob"}
    )

    rows = [[event["details"]["row"] for event in r.json()["events"]] for r in (every, bob)]
    assert [["a2", "a1"], ["a2"]] == rows


async def test_a_team_audit_log_shows_the_teams_api_activity(
    api: Api, teams: dict[str, Any]
) -> None:
    """A policy check on the team is visible to its members."""
    await api.call(
        "POST",
        "/api/v1/policy/check",
        api.as_user(DEV),
        json={"labels": ["gpu-a100"], "team_name": "beta"},
        expect=200,
    )

    response = await api.call(
        "GET",
        f"{TEAMS}/beta/audit",
        api.as_user(DEV),
        params={"action": "policy.check"},
        expect=200,
    )

    assert [(DEV, "beta")] == [
        (event["actor"]["name"], event["team_name"]) for event in response.json()["events"]
    ]


async def test_team_security_events_hold_only_that_team(api: Api, teams: dict[str, Any]) -> None:
    """Events of other teams are left out; type, severity and paging apply."""
    add_security_events(
        api,
        security_row(
            "a1", SecurityEventType.LABEL_POLICY_VIOLATION, Severity.WARNING, team=teams["alpha"]
        ),
        security_row("g1", SecurityEventType.QUOTA_EXCEEDED, Severity.INFO, team=teams["gamma"]),
        security_row(
            "a2", SecurityEventType.QUOTA_EXCEEDED, Severity.INFO, team=teams["alpha"], hours=1
        ),
    )
    path = f"{TEAMS}/alpha/security-events"

    every = await api.call("GET", path, api.as_user(DEV), expect=200)
    info = await api.call("GET", path, api.as_user(DEV), params={"severity": "info"})
    paged = await api.call("GET", path, api.as_user(DEV), params={"limit": "1", "offset": "1"})

    rows = [[event["details"]["row"] for event in r.json()["events"]] for r in (every, info, paged)]
    assert ([["a2", "a1"], ["a2"], ["a1"]], 2) == (rows, paged.json()["total"])


async def test_bad_team_view_filters_are_validation_errors(api: Api, teams: dict[str, Any]) -> None:
    """Unknown enum values and empty ranges are refused, naming the field."""
    bad = [
        ("audit", {"outcome": "maybe"}),
        ("audit", {"action": "runner.explode"}),
        ("security-events", {"type": "meteor"}),
        ("security-events", {"since": "2020-01-02T00:00:00Z", "until": "2020-01-01T00:00:00Z"}),
    ]

    fields = []
    for view, params in bad:
        response = await api.call(
            "GET", f"{TEAMS}/alpha/{view}", api.as_user(DEV), params=params, expect=400
        )
        fields.append(list(response.json()["field_errors"]))

    assert [["outcome"], ["action"], ["type"], ["until"]] == fields
