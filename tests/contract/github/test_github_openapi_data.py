"""The committed GitHub descriptions: complete for the adapter, and able to catch mistakes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.contract.github.github_openapi import SUBSET, GitHubOpenAPI

WEBHOOKS = Path(__file__).parents[2] / "data" / "webhooks" / "workflow_job.json"
RUNNER = "#/components/schemas/runner"


def test_subset_holds_every_operation_the_adapter_calls(openapi: GitHubOpenAPI) -> None:
    operations = {
        (method, path) for path, item in openapi.document["paths"].items() for method in item
    }

    runner_ops = {
        ("get", "{p}"), ("post", "{p}/generate-jitconfig"), ("post", "{p}/registration-token"),
        ("get", "{p}/{{runner_id}}"), ("delete", "{p}/{{runner_id}}"),
    }  # fmt: skip
    expected = {
        ("post", "/app/installations/{installation_id}/access_tokens"),
        ("post", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"),
    } | {
        (method, path.format(p=prefix + "/actions/runners"))
        for prefix in ("/orgs/{org}", "/repos/{owner}/{repo}", "/enterprises/{enterprise}")
        for method, path in runner_ops
    }
    assert expected == operations


def test_subset_records_its_pinned_package_and_stays_small(openapi: GitHubOpenAPI) -> None:
    source = openapi.document["info"]["x-source"]

    expected = ("@octokit/openapi", "23.0.2")
    assert expected == (source["package"], openapi.version)
    assert SUBSET.stat().st_size < 1_000_000


def test_validator_accepts_a_github_runner_and_rejects_a_broken_one(
    openapi: GitHubOpenAPI,
) -> None:
    runner = {
        "id": 23, "name": "MBP", "os": "macos", "status": "online", "busy": True,
        "ephemeral": False, "runner_group_id": 1,
        "labels": [{"id": 5, "name": "self-hosted", "type": "read-only"}],
    }  # fmt: skip
    broken = {**runner, "busy": "yes", "labels": [{"name": "x", "type": "sticky"}]}

    expected = ([], 2)
    assert expected == (openapi.validate(runner, RUNNER), len(openapi.validate(broken, RUNNER)))


def test_nullable_fields_accept_null(openapi: GitHubOpenAPI) -> None:
    token = {"token": "ghs_x", "expires_at": "2026-01-01T00:00:00Z", "single_file": None}

    expected = []
    assert expected == openapi.validate(token, "#/components/schemas/authentication-token")


def test_workflow_job_examples_cover_the_actions_gharts_handles() -> None:
    data = json.loads(WEBHOOKS.read_text())

    actions = {example["action"] for example in data["examples"]}
    assert {"queued", "in_progress", "completed"} <= actions
    expected = ("@octokit/webhooks-examples", "7.6.1")
    assert expected == (
        data["source"]["package"],
        data["source"]["version"],
    )
    assert all("labels" in example["workflow_job"] for example in data["examples"])
