"""A tour of every endpoint with valid requests, on SQLite and on PostgreSQL.

The other suites go deep on SQLite; this one shows that each endpoint of the spec answers its
success status on both databases, in the order an operator and a team would use them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.api_support import Api, running_api

WEBHOOK_SECRET = "tour-secret"


@pytest.fixture
async def api(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with a webhook secret, on each database."""
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(WEBHOOK_SECRET)
    github = {"webhook_secret_path": str(secret_file)}
    async with running_api(fresh_database_url, github=github) as running:
        yield running


def signed(body: dict[str, object], delivery: str) -> dict[str, object]:
    """Keyword arguments of a signed ``workflow_job`` delivery."""
    raw = json.dumps(body).encode()
    digest = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": "workflow_job",
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }
    return {"content": raw, "headers": headers}


Step = tuple[str, str, dict[str, str] | None, dict[str, object] | None, int]


async def walk(api: Api, steps: list[Step]) -> None:
    """Send each ``(method, path, headers, json body, expected status)`` in order."""
    for method, path, headers, body, status in steps:
        await api.call(method, path, headers, json=body, expect=status)


async def test_every_endpoint_answers_its_success_status(api: Api) -> None:
    """Admin, team member and machine client each reach every endpoint they may use."""
    admin = api.as_admin()
    operations = ["/healthz", "/readyz", "/metrics", "/schema/openapi.json"]
    await walk(api, [("GET", path, None, None, 200) for path in operations])

    team = await api.seed_team("tour", max_runners=5)
    user = await api.seed_user("member@example.com", "tour", can_use_registration_token=True)
    client = await api.seed_client("tour-ci", "tour")
    member, machine = api.as_user("member@example.com"), api.as_machine("tour-ci")
    users = f"/api/v1/admin/users/{user['id']}"
    teams = "/api/v1/admin/teams/tour"
    clients = f"/api/v1/admin/clients/{client['id']}"
    await walk(
        api,
        [
            ("GET", "/api/v1/admin/users", admin, None, 200),
            ("GET", users, admin, None, 200),
            ("PATCH", users, admin, {"display_name": "M"}, 200),
            ("GET", "/api/v1/admin/teams", admin, None, 200),
            ("GET", teams, admin, None, 200),
            ("PATCH", teams, admin, {"max_runners": 6}, 200),
            ("GET", f"{teams}/members", admin, None, 200),
            ("GET", "/api/v1/admin/clients", admin, None, 200),
            ("GET", clients, admin, None, 200),
            ("PATCH", clients, admin, {"description": "ci"}, 200),
            ("GET", "/api/v1/auth/me", machine, None, 200),
            ("POST", "/api/v1/policy/check", member, {"labels": ["gpu-a100"]}, 200),
            (
                "POST",
                "/api/v1/runners/provision",
                member,
                {"labels": ["size-small"], "runner_name_prefix": "vm"},
                201,
            ),
        ],
    )

    jit = (await api.provision(machine, ["gpu-a100"])).json()
    runner = f"/api/v1/runners/{jit['runner_id']}"
    await walk(
        api,
        [
            ("GET", "/api/v1/runners", member, None, 200),
            ("GET", runner, machine, None, 200),
            ("POST", f"{runner}/refresh", machine, None, 200),
        ],
    )
    job = {
        "action": "in_progress",
        "repository": {"full_name": "acme/app"},
        "workflow_job": {
            "id": 7,
            "run_id": 70,
            "labels": ["self-hosted", "gpu-a100"],
            "runner_id": jit["github_runner_id"],
            "runner_name": jit["runner_name"],
        },
    }
    hook = await api.call("POST", "/api/v1/webhooks/github", **signed(job, "d-1"), expect=200)
    export = await api.call("GET", "/api/v1/admin/audit/export?format=jsonl", admin, expect=200)
    trigger = await api.call("POST", "/api/v1/admin/sync/trigger", admin)

    reason = {"reason": "tour over"}
    await walk(
        api,
        [
            ("DELETE", runner, machine, None, 200),
            ("GET", "/api/v1/teams", member, None, 200),
            ("GET", "/api/v1/teams/tour", member, None, 200),
            ("GET", "/api/v1/teams/tour/audit", member, None, 200),
            ("GET", "/api/v1/teams/tour/security-events", member, None, 200),
            ("GET", "/api/v1/admin/audit", admin, None, 200),
            ("GET", "/api/v1/admin/audit/export?format=csv", admin, None, 200),
            ("GET", "/api/v1/admin/security-events", admin, None, 200),
            ("GET", "/api/v1/admin/stats", admin, None, 200),
            ("GET", "/api/v1/admin/sync/status", admin, None, 200),
            ("DELETE", f"{teams}/members/{user['id']}", admin, None, 200),
            ("POST", f"{teams}/members", admin, {"user_id": user["id"]}, 201),
            ("POST", f"{clients}/disable", admin, reason, 200),
            ("POST", f"{clients}/enable", admin, None, 200),
            ("POST", f"{users}/deactivate", admin, reason, 200),
            ("POST", f"{users}/reactivate", admin, None, 200),
            ("POST", f"{teams}/deactivate", admin, reason, 200),
            ("POST", f"{teams}/reactivate", admin, None, 200),
        ],
    )

    actions = {json.loads(line)["action"] for line in export.text.splitlines()}
    assert ("tour", "processed") == (team["name"], hook.json()["status"])
    assert trigger.status_code in {200, 202}
    assert {"runner.provision", "user.create", "team.create"} <= actions
