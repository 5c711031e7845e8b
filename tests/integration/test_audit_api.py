"""Admin reads: ``/api/v1/admin/audit`` (search), security events and statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from gharts_core.model import AuditOutcome, SecurityEventType, Severity
from tests.integration.api_support import ADMIN_EMAIL, Api
from tests.integration.audit_support import add_audit, add_security_events, audit_row, security_row

AUDIT = "/api/v1/admin/audit"
EXPORT = "/api/v1/admin/audit/export"
EVENTS = "/api/v1/admin/security-events"
BEFORE_TODAY = "2020-02-01T00:00:00Z"


def rows_of(response: Any) -> list[str]:
    """The ``details.row`` names of a list response, in order."""
    return [event["details"]["row"] for event in response.json()["events"]]


@pytest.fixture
async def teams(api: Api) -> dict[str, dict[str, Any]]:
    """Teams alpha and beta, and three audit rows in January 2020 across them."""
    alpha = await api.seed_team("alpha")
    beta = await api.seed_team("beta")
    add_audit(
        api,
        audit_row("r1", team=alpha),
        audit_row(
            "r2",
            action="runner.deprovision",
            outcome=AuditOutcome.FAILURE,
            target="t2",
            team=alpha,
            hours=1,
        ),
        audit_row("r3", actor="bob", outcome=AuditOutcome.DENIED, team=beta, hours=2),
    )
    return {"alpha": alpha, "beta": beta}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "alice"}, ["r2", "r1"]),
        ({"action": "runner.provision", "until": BEFORE_TODAY}, ["r3", "r1"]),
        ({"team": "alpha", "until": BEFORE_TODAY}, ["r2", "r1"]),
        ({"target": "t1"}, ["r3", "r1"]),
        ({"outcome": "denied"}, ["r3"]),
        ({"since": "2020-01-01T01:00:00Z", "until": "2020-01-01T02:00:00Z"}, ["r2"]),
        ({"since": "2020-01-01T01:00:00+00:00", "until": BEFORE_TODAY}, ["r3", "r2"]),
        ({"actor": "alice", "outcome": "success"}, ["r1"]),
    ],
)
async def test_audit_filters_combine_newest_first(
    api: Api, teams: dict[str, Any], query: dict[str, str], expected: list[str]
) -> None:
    """Each filter narrows the log; since is inclusive, until exclusive."""
    response = await api.call("GET", AUDIT, api.as_admin(), params=query, expect=200)

    assert (expected, len(expected)) == (rows_of(response), response.json()["total"])


async def test_audit_pages_keep_the_total(api: Api, teams: dict[str, Any]) -> None:
    """limit and offset select a slice; total counts every match."""
    params = {"until": BEFORE_TODAY, "limit": "2", "offset": "1"}

    response = await api.call("GET", AUDIT, api.as_admin(), params=params, expect=200)

    assert (["r2", "r1"], 3) == (rows_of(response), response.json()["total"])


async def test_an_audit_row_has_every_field(api: Api, teams: dict[str, Any]) -> None:
    """The row's actor, outcome, target, team and details, with a UTC timestamp."""
    response = await api.call("GET", AUDIT, api.as_admin(), params={"target": "t2"}, expect=200)

    event = response.json()["events"][0]
    expected = {
        "id": event["id"],
        "at": "2020-01-01T01:00:00Z",
        "actor": {"kind": "user", "id": None, "name": "alice"},
        "action": "runner.deprovision",
        "outcome": "failure",
        "target_type": "runner",
        "target_id": "t2",
        "team_id": teams["alpha"]["id"],
        "team_name": "alpha",
        "details": {"row": "r2"},
        "source_ip": None,  # written straight to the store, not while serving a request
        "user_agent": None,
    }
    assert expected == event


async def test_api_actions_are_audited(api: Api) -> None:
    """Creating a team leaves a team.create row naming the admin and the team."""
    await api.seed_team("alpha")

    response = await api.call(
        "GET", AUDIT, api.as_admin(), params={"action": "team.create"}, expect=200
    )

    event = response.json()["events"][0]
    assert (ADMIN_EMAIL, "alpha", "success") == (
        event["actor"]["name"],
        event["team_name"],
        event["outcome"],
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"action": "runner.explode"}, "action"),
        ({"outcome": "maybe"}, "outcome"),
        ({"since": "2020-01-02T00:00:00Z", "until": "2020-01-01T00:00:00Z"}, "until"),
        ({"since": "2020-01-01T00:00:00"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
async def test_bad_audit_filters_are_validation_errors(
    api: Api, query: dict[str, str], field: str
) -> None:
    """Each bad filter is a 400 naming the field."""
    response = await api.call("GET", AUDIT, api.as_admin(), params=query, expect=400)

    body = response.json()
    assert ("VALIDATION_ERROR", [field]) == (body["error_code"], list(body["field_errors"]))


async def test_an_unknown_team_filter_is_team_not_found(api: Api) -> None:
    """Teams in filters are names that must exist."""
    response = await api.call("GET", AUDIT, api.as_admin(), params={"team": "nowhere"}, expect=404)

    assert "TEAM_NOT_FOUND" == response.json()["error_code"]


@pytest.mark.parametrize("path", [AUDIT, EXPORT, EVENTS, "/api/v1/admin/stats"])
async def test_admin_reads_refuse_non_admins(api: Api, path: str) -> None:
    """A team member gets ADMIN_REQUIRED, recorded as an unauthorized_access event."""
    await api.seed_team("alpha")
    await api.seed_user("dev@example.com", "alpha")

    response = await api.call("GET", path, api.as_user("dev@example.com"), expect=403)

    events = await api.call(
        "GET", EVENTS, api.as_admin(), params={"type": "unauthorized_access"}, expect=200
    )
    assert ("ADMIN_REQUIRED", ["dev@example.com"]) == (
        response.json()["error_code"],
        [event["actor"]["name"] for event in events.json()["events"]],
    )


# Security events


@pytest.fixture
async def security_events(api: Api, teams: dict[str, Any]) -> None:
    """Three security events in January 2020 across alpha, beta and no team."""
    add_security_events(
        api,
        security_row(
            "s1", SecurityEventType.LABEL_POLICY_VIOLATION, Severity.WARNING, team=teams["alpha"]
        ),
        security_row("s2", SecurityEventType.QUOTA_EXCEEDED, Severity.INFO, hours=1),
        security_row(
            "s3",
            SecurityEventType.LABEL_POLICY_VIOLATION,
            Severity.CRITICAL,
            team=teams["beta"],
            hours=2,
        ),
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"until": BEFORE_TODAY}, ["s3", "s2", "s1"]),
        ({"type": "label_policy_violation"}, ["s3", "s1"]),
        ({"severity": "info"}, ["s2"]),
        ({"team": "beta"}, ["s3"]),
        ({"since": "2020-01-01T01:00:00Z", "until": "2020-01-01T02:00:00Z"}, ["s2"]),
        ({"until": BEFORE_TODAY, "limit": "1", "offset": "1"}, ["s2"]),
    ],
)
async def test_security_event_filters_and_paging(
    api: Api, security_events: None, query: dict[str, str], expected: list[str]
) -> None:
    """Type, severity, team and time range narrow the list; paging slices it."""
    response = await api.call("GET", EVENTS, api.as_admin(), params=query, expect=200)

    total = 3 if "limit" in query else len(expected)
    assert (expected, total) == (rows_of(response), response.json()["total"])


async def test_a_security_event_has_every_field(
    api: Api, teams: dict[str, Any], security_events: None
) -> None:
    """Type, severity, actor, message, team and details, with a UTC timestamp."""
    response = await api.call("GET", EVENTS, api.as_admin(), params={"team": "alpha"}, expect=200)

    event = response.json()["events"][0]
    expected = {
        "id": event["id"],
        "at": "2020-01-01T00:00:00Z",
        "type": "label_policy_violation",
        "severity": "warning",
        "actor": {"kind": "user", "id": None, "name": "mallory"},
        "message": "event s1",
        "team_id": teams["alpha"]["id"],
        "team_name": "alpha",
        "runner_id": None,
        "details": {"row": "s1"},
    }
    assert expected == event


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"type": "meteor"}, 400, "VALIDATION_ERROR"),
        ({"severity": "loud"}, 400, "VALIDATION_ERROR"),
        ({"team": "nowhere"}, 404, "TEAM_NOT_FOUND"),
    ],
)
async def test_bad_security_event_filters_are_refused(
    api: Api, query: dict[str, str], status: int, code: str
) -> None:
    """Unknown types, severities and teams get a clear error."""
    response = await api.call("GET", EVENTS, api.as_admin(), params=query, expect=status)

    assert code == response.json()["error_code"]


# Statistics


async def test_stats_count_runners_people_and_recent_events(api: Api) -> None:
    """Live runners by status and team, users, teams, clients and recent security events."""
    await api.seed_team("alpha")
    await api.seed_team("beta")
    await api.seed_user("dev@example.com", "alpha")
    await api.seed_client("ci-bot", "beta")
    old = await api.seed_client("old-bot", "beta")
    await api.call(
        "POST", f"/api/v1/admin/clients/{old['id']}/disable", api.as_admin(), json={}, expect=200
    )
    dev = api.as_user("dev@example.com")
    await api.provision(dev)
    gone = await api.provision(dev)
    await api.provision(api.as_machine("ci-bot"))
    await api.call("DELETE", f"/api/v1/runners/{gone.json()['runner_id']}", dev, expect=200)
    await api.call("GET", "/api/v1/admin/stats", dev, expect=403)  # one security event

    response = await api.call("GET", "/api/v1/admin/stats", api.as_admin(), expect=200)

    body = response.json()
    generated_at = datetime.fromisoformat(body.pop("generated_at"))
    recent_since = datetime.fromisoformat(body.pop("recent_since"))
    expected = {
        "live_runners": 2,
        "runners_by_status": {
            "provisioning": 0,
            "pending": 2,
            "online": 0,
            "busy": 0,
            "offline": 0,
        },
        "runners_by_team": {"alpha": {"pending": 1}, "beta": {"pending": 1}},
        "users": 2,
        "active_users": 2,
        "active_admins": 1,
        "teams": 2,
        "active_teams": 2,
        "clients": 2,
        "active_clients": 1,
        "recent_violations": 1,
    }
    assert (expected, timedelta(hours=24)) == (body, generated_at - recent_since)


async def test_audit_rows_record_the_callers_address_and_user_agent(api: Api) -> None:
    """A change made through the API keeps who called from where, as the request reached us."""
    headers = {**api.as_admin(), "User-Agent": "terraform-provider-gharts/1.2"}
    await api.call("POST", "/api/v1/admin/teams", headers, json={"name": "origin"}, expect=201)
    rows = await api.call(
        "GET", "/api/v1/admin/audit?action=team.create", api.as_admin(), expect=200
    )
    row = rows.json()["events"][0]
    assert ("testclient", "terraform-provider-gharts/1.2") == (row["source_ip"], row["user_agent"])
