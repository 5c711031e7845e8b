"""Actions Runner Controller's calls, as the ARC integration design (seed 004) makes them.

ARC authenticates as a Kubernetes service account registered as a machine client of one team,
sends ``JITProvisionRequest`` and decodes ``JITProvisionResponse`` or ``ErrorResponse``; its retry
logic keys on the status and ``error_code`` of the "Error Handling Strategy" table. Every body is
checked against the Go structs' JSON field names and types.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.api_support import Api

ARC_SUBJECT = "system:serviceaccount:arc-system:arc-controller"
TEAM = "backend-team"
JIT = "/api/v1/runners/jit"
# Go's time.Time decodes RFC 3339 only: a date, a time, optional fraction, and an offset.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

# JSON field -> Go type, from gharts/client.go of the design.
JIT_PROVISION_RESPONSE = {
    "runner_id": "string",
    "runner_name": "string",
    "encoded_jit_config": "string",
    "labels": "[]string",
    "expires_at": "time.Time",
    "run_command": "string",
}
ERROR_RESPONSE = {"detail": "string", "error_code": "string"}


def decodes_as(body: Any, struct: dict[str, str]) -> None:
    """Assert that Go's ``json.Unmarshal`` fills every field of ``struct`` from ``body``."""
    assert isinstance(body, dict), body
    for field, go_type in struct.items():
        value = body.get(field)
        if go_type == "string":
            assert isinstance(value, str), (field, value)
        elif go_type == "[]string":
            assert isinstance(value, list), (field, value)
            assert all(isinstance(item, str) for item in value), (field, value)
        else:
            assert isinstance(value, str), (field, value)
            assert RFC3339.fullmatch(value), (field, value)


def arc_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an error ARC can decode as ``ErrorResponse``; return the body."""
    body: dict[str, Any] = response.json()
    assert (status, code) == (response.status_code, body.get("error_code")), response.text
    decodes_as(body, ERROR_RESPONSE)
    return body


def arc_request(labels: list[str], **fields: Any) -> dict[str, Any]:
    """``JITProvisionRequest`` as Go marshals it (``omitempty`` fields left out when zero)."""
    return {"team_name": TEAM, "runner_name_prefix": "backend-runners", "labels": labels, **fields}


async def arc_world(api: Api, **team: Any) -> dict[str, str]:
    """The team of the runner scale set and ARC's service account; return ARC's headers."""
    await api.seed_team(
        TEAM, required_labels=["backend"], optional_label_patterns=["gpu-.*", "size-.*"], **team
    )
    await api.seed_client(ARC_SUBJECT, TEAM, description="ARC controller")
    return api.as_machine(ARC_SUBJECT)


async def test_arc_provisions_lists_and_deletes_a_runner(api: Api) -> None:
    """The happy path of the authentication flow diagram, end to end."""
    arc = await arc_world(api)
    response = await api.call("POST", JIT, arc, json=arc_request(["gpu-a100", "Size-Large"]))

    assert 201 == response.status_code, response.text
    body = response.json()
    decodes_as(body, JIT_PROVISION_RESPONSE)
    runner_id = body["runner_id"]
    assert runner_id == str(uuid.UUID(runner_id))
    assert body["runner_name"].startswith("backend-runners")
    assert body["runner_name"] != "backend-runners"
    assert ["backend", "gpu-a100", "size-large"] == sorted(body["labels"])
    assert TEAM == body["team_name"]
    assert f"./run.sh --jitconfig {body['encoded_jit_config']}" == body["run_command"]
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) == expires_at.utcoffset()
    assert expires_at > api.services.clock.now()

    jit_config = json.loads(base64.b64decode(body["encoded_jit_config"]))
    on_github = api.simulator.runner(jit_config[".runner"]["AgentId"])
    assert body["runner_name"] == on_github["name"] == jit_config[".runner"]["AgentName"]
    custom = sorted(label["name"] for label in on_github["labels"] if label["type"] == "custom")
    assert sorted(body["labels"]) == custom

    listed = await api.call("GET", "/api/v1/runners", arc, expect=200)
    assert [runner_id] == [runner["runner_id"] for runner in listed.json()["runners"]]

    deleted = await api.call("DELETE", f"/api/v1/runners/{runner_id}", arc, expect=200)
    assert "deleted" == deleted.json()["status"]
    assert body["runner_name"] not in {runner["name"] for runner in api.simulator.runners()}


async def test_the_first_request_struct_without_team_or_options_is_served(api: Api) -> None:
    """The earlier ``JITProvisionRequest`` (no team_name) picks the client's only team."""
    arc = await arc_world(api)
    request = {"runner_name_prefix": "arc", "labels": ["gpu-t4"]}
    response = await api.call("POST", JIT, arc, json=request)
    assert 201 == response.status_code, response.text
    assert TEAM == response.json()["team_name"]


async def test_optional_fields_are_accepted_when_set(api: Api) -> None:
    """``runner_group_id`` and ``work_folder`` as ARC sends them when configured."""
    arc = await arc_world(api, allowed_runner_group_ids=[1, 7], default_runner_group_id=1)
    request = arc_request(["gpu-t4"], runner_group_id=7, work_folder="_work/arc")
    response = await api.call("POST", JIT, arc, json=request)
    assert 201 == response.status_code, response.text
    assert 7 == response.json()["runner_group_id"]


async def test_labels_outside_the_policy_are_a_policy_violation(api: Api) -> None:
    """403 LABEL_POLICY_VIOLATION, with one violation per refused label: ARC does not retry."""
    arc = await arc_world(api)
    response = await api.call("POST", JIT, arc, json=arc_request(["gpu-a100", "cpu-huge"]))
    body = arc_error(response, 403, "LABEL_POLICY_VIOLATION")
    assert ["cpu-huge"] == [violation["label"] for violation in body["violations"]]
    assert all(violation["reason"] and violation["message"] for violation in body["violations"])
    assert [] == api.simulator.runners()


async def test_a_full_quota_says_when_to_retry(api: Api) -> None:
    """429 QUOTA_EXCEEDED with ``Retry-After``: ARC waits and retries."""
    arc = await arc_world(api, max_runners=1)
    first = await api.call("POST", JIT, arc, json=arc_request(["gpu-a100"]))
    assert 201 == first.status_code, first.text

    response = await api.call("POST", JIT, arc, json=arc_request(["gpu-a100"]))
    body = arc_error(response, 429, "QUOTA_EXCEEDED")
    assert int(response.headers["retry-after"]) == body["retry_after"] >= 1

    await api.call("DELETE", f"/api/v1/runners/{first.json()['runner_id']}", arc, expect=200)
    again = await api.call("POST", JIT, arc, json=arc_request(["gpu-a100"]))
    assert 201 == again.status_code, again.text


@pytest.mark.parametrize(
    "token",
    ["expired", "garbage", "wrong-audience", "unsigned"],
)
async def test_an_unusable_token_is_refused_with_a_bearer_challenge(api: Api, token: str) -> None:
    """401 INVALID_TOKEN and ``WWW-Authenticate: Bearer``: ARC refreshes its token and retries."""
    await arc_world(api)
    issuer = api.issuer
    tokens: dict[str, Callable[[], str]] = {
        "expired": lambda: issuer.mint_machine_token(ARC_SUBJECT, lifetime=timedelta(minutes=-5)),
        "garbage": lambda: "garbage",
        "wrong-audience": lambda: issuer.mint_machine_token(ARC_SUBJECT, audience="someone-else"),
        "unsigned": lambda: issuer.mint_machine_token(ARC_SUBJECT).rpartition(".")[0] + ".",
    }
    headers = {"Authorization": f"Bearer {tokens[token]()}"}
    response = await api.call("POST", JIT, headers, json=arc_request(["gpu-a100"]))
    arc_error(response, 401, "INVALID_TOKEN")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert [] == api.simulator.runners()


async def test_an_unregistered_service_account_is_not_authorized(api: Api) -> None:
    """403 USER_NOT_AUTHORIZED for a valid token of a service account no admin registered."""
    await arc_world(api)
    headers = api.as_machine("system:serviceaccount:arc-system:other")
    response = await api.call("POST", JIT, headers, json=arc_request(["gpu-a100"]))
    arc_error(response, 403, "USER_NOT_AUTHORIZED")


@pytest.mark.parametrize(
    "labels",
    [
        [f"gpu-{number}" for number in range(101)],
        ["gpu-a100", "gpu a100"],
        ["-gpu"],
        ["gpu-" + "x" * 100],
    ],
    ids=["101-labels", "space", "leading-dash", "too-long"],
)
async def test_malformed_labels_are_invalid(api: Api, labels: list[str]) -> None:
    """400 INVALID_LABELS: ARC fixes its configuration instead of retrying."""
    arc = await arc_world(api)
    response = await api.call("POST", JIT, arc, json=arc_request(labels))
    arc_error(response, 400, "INVALID_LABELS")
    assert [] == api.simulator.runners()
