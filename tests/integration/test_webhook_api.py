"""``POST /api/v1/webhooks/github``: signed ``workflow_job`` deliveries keep runners current."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from gharts_adapters.github.simulator import Faults
from gharts_core.testing.clock import FakeClock
from gharts_http.api.rate_limit import FORGED_WEBHOOK_EVENTS_PER_MINUTE
from tests.integration.api_support import Api, running_api

HOOK = "/api/v1/webhooks/github"
SECRET = "It's a Secret to Everybody"
DEV = "dev@example.com"
_EXAMPLES = Path(__file__).parents[1] / "data" / "webhooks" / "workflow_job.json"
EXAMPLES: list[dict[str, Any]] = json.loads(_EXAMPLES.read_text(encoding="utf-8"))["examples"]


def sign(body: bytes, secret: str = SECRET) -> str:
    """The ``X-Hub-Signature-256`` GitHub computes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def example(action: str) -> dict[str, Any]:
    """A copy of GitHub's first example ``workflow_job`` payload with this action."""
    return copy.deepcopy(next(e for e in EXAMPLES if e["action"] == action))


def job(
    action: str, runner: dict[str, Any] | None, labels: list[str] | None = None
) -> dict[str, Any]:
    """An example payload moved onto ``runner`` (a JIT provisioning response)."""
    payload = example(action)
    if runner is not None:
        payload["workflow_job"]["runner_id"] = runner["github_runner_id"]
        payload["workflow_job"]["runner_name"] = runner["runner_name"]
    if labels is not None:
        payload["workflow_job"]["labels"] = labels
    return payload


async def deliver(
    api: Api,
    payload: Any,
    *,
    event: str = "workflow_job",
    delivery: str | None = None,
    signature: str | None = None,
    expect: int | None = 200,
    omit: tuple[str, ...] = (),
    content_type: str = "application/json",
) -> httpx.Response:
    """Send one delivery signed with the secret unless ``signature`` says otherwise."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": content_type,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body) if signature is None else signature,
    }
    for name in omit:
        del headers[name]
    return await api.call("POST", HOOK, headers, expect=expect, content=body)


async def runner_status(api: Api, runner: dict[str, Any]) -> tuple[str, str | None]:
    """The runner's status and deletion reason as the API reports them."""
    response = await api.call(
        "GET", f"/api/v1/runners/{runner['runner_id']}", api.as_admin(), expect=200
    )
    body = response.json()
    return body["status"], body["deleted_reason"]


async def security_events(api: Api, event_type: str) -> list[dict[str, Any]]:
    """The security events of one type, newest first."""
    response = await api.call(
        "GET",
        "/api/v1/admin/security-events",
        api.as_admin(),
        params={"type": event_type},
        expect=200,
    )
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def sync_requested(api: Api) -> bool:
    """Whether an early sync cycle was asked for (and clear the request)."""
    return bool(api.http.blocking_portal.call(api.services.sync_requests.wait, 0))


async def hooked_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with a webhook secret read from a file, as operators configure it."""
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    async with running_api(database_url, github={"webhook_secret_path": str(secret_file)}) as api:
        yield api


@pytest.fixture
async def hooked(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on SQLite with a webhook secret."""
    async for api in hooked_api(sqlite_url, tmp_path):
        yield api


@pytest.fixture
async def hooked_on_each_database(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with a webhook secret on SQLite, then on PostgreSQL."""
    async for api in hooked_api(fresh_database_url, tmp_path):
        yield api


async def provisioned(api: Api) -> dict[str, Any]:
    """A pending JIT runner of team alpha, provisioned by a member."""
    await api.seed_team("alpha")
    await api.seed_user(DEV, "alpha")
    response = await api.provision(api.as_user(DEV), ["gpu-a100"])
    assert 201 == response.status_code, response.text
    runner: dict[str, Any] = response.json()
    return runner


# What deliveries do to runners


async def test_in_progress_marks_the_runner_busy(hooked_on_each_database: Api) -> None:
    """The job started on our runner: it is busy, and the worker is woken early."""
    api = hooked_on_each_database
    runner = await provisioned(api)

    response = await deliver(api, job("in_progress", runner, ["self-hosted", "gpu-a100"]))

    assert ({"status": "processed"}, ("busy", None), True) == (
        response.json(),
        await runner_status(api, runner),
        sync_requested(api),
    )


async def test_completed_retires_the_runner(hooked_on_each_database: Api) -> None:
    """An ephemeral runner's job is done: the runner is deleted as job_completed."""
    api = hooked_on_each_database
    runner = await provisioned(api)
    await deliver(api, job("in_progress", runner))

    response = await deliver(api, job("completed", runner))

    assert ({"status": "processed"}, ("deleted", "job_completed")) == (
        response.json(),
        await runner_status(api, runner),
    )


async def test_a_redelivery_is_processed_once(hooked_on_each_database: Api) -> None:
    """The same X-GitHub-Delivery twice: the second answers duplicate and changes nothing."""
    api = hooked_on_each_database
    runner = await provisioned(api)
    payload = job("in_progress", runner)
    delivery = str(uuid.uuid4())

    first = await deliver(api, payload, delivery=delivery)
    second = await deliver(api, payload, delivery=delivery)

    audit = await api.call(
        "GET",
        "/api/v1/admin/audit",
        api.as_admin(),
        params={"action": "webhook.workflow_job"},
        expect=200,
    )
    assert ("processed", "duplicate", 1) == (
        first.json()["status"],
        second.json()["status"],
        audit.json()["total"],
    )


async def test_a_runner_gharts_does_not_manage_is_ignored(hooked_on_each_database: Api) -> None:
    """A job on a runner gharts never provisioned is ignored and wakes nobody."""
    api = hooked_on_each_database
    runner = await provisioned(api)
    payload = example("in_progress")  # runner "my runner"
    payload["workflow_job"]["runner_id"] = runner["github_runner_id"] + 1000

    response = await deliver(api, payload)

    assert ({"status": "ignored"}, ("pending", None), False) == (
        response.json(),
        await runner_status(api, runner),
        sync_requested(api),
    )


async def test_labels_the_policy_now_refuses_are_a_security_event(hooked: Api) -> None:
    """In audit mode the job runs on, and the violation is recorded for the team."""
    runner = await provisioned(hooked)

    response = await deliver(hooked, job("in_progress", runner, ["gpu-a100", "crypto-miner"]))

    events = await security_events(hooked, "webhook_label_violation")
    assert ("processed", ("busy", None), [("alpha", runner["runner_id"])]) == (
        response.json()["status"],
        await runner_status(hooked, runner),
        [(event["team_name"], event["runner_id"]) for event in events],
    )


async def test_a_form_encoded_delivery_is_read_from_its_payload_field(hooked: Api) -> None:
    """GitHub's application/x-www-form-urlencoded content type works too."""
    runner = await provisioned(hooked)
    body = urlencode({"payload": json.dumps(job("in_progress", runner))}).encode()

    response = await deliver(hooked, body, content_type="application/x-www-form-urlencoded")

    assert ("processed", ("busy", None)) == (
        response.json()["status"],
        await runner_status(hooked, runner),
    )


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}, "pong"),
        ("push", {"ref": "refs/heads/main"}, "ignored"),
        ("workflow_job", example("queued"), "ignored"),
        ("workflow_job", {**example("in_progress"), "action": "requeued"}, "ignored"),
    ],
    ids=["ping", "other-event", "queued", "unknown-action"],
)
async def test_deliveries_gharts_does_not_act_on(
    hooked: Api, event: str, payload: dict[str, Any], expected: str
) -> None:
    """A ping answers pong; other events and actions are ignored."""
    response = await deliver(hooked, payload, event=event)

    assert {"status": expected} == response.json()


# Signatures


async def test_a_forged_delivery_is_refused_and_recorded(hooked_on_each_database: Api) -> None:
    """A wrong signature is a 401 and a webhook_signature_invalid security event."""
    api = hooked_on_each_database
    runner = await provisioned(api)
    body = json.dumps(job("completed", runner)).encode()

    response = await deliver(
        api, body, delivery="forged-1", signature=sign(body, "guessed"), expect=401
    )

    events = await security_events(api, "webhook_signature_invalid")
    expected_details = {
        "delivery_id": "forged-1",
        "event": "workflow_job",
        "source_ip": "testclient",
        "reason": "mismatch",
    }
    assert (
        ("INVALID_TOKEN", "Webhook signature does not match."),
        [("warning", expected_details)],
        ("pending", None),
    ) == (
        (response.json()["error_code"], response.json()["detail"]),
        [(event["severity"], event["details"]) for event in events],
        await runner_status(api, runner),
    )


@pytest.mark.parametrize(
    ("headers", "omit", "reason"),
    [
        ({}, ("X-Hub-Signature-256",), "missing"),
        ({"signature": "sha1=0123abcd"}, (), "malformed"),
        ({"signature": "sha256=" + "0" * 64}, (), "mismatch"),
        ({"signature": "sha256="}, (), "mismatch"),
    ],
    ids=["missing", "other-algorithm", "zeros", "empty"],
)
async def test_bad_signatures_are_refused_with_their_reason(
    hooked: Api, headers: dict[str, str], omit: tuple[str, ...], reason: str
) -> None:
    """Missing, malformed and wrong signatures are all 401, each recorded with why."""
    response = await deliver(
        hooked, example("in_progress"), expect=401, omit=omit, signature=headers.get("signature")
    )

    events = await security_events(hooked, "webhook_signature_invalid")
    assert ("INVALID_TOKEN", [reason]) == (
        response.json()["error_code"],
        [event["details"]["reason"] for event in events],
    )


async def test_the_signature_is_checked_before_the_body_is_read(hooked: Api) -> None:
    """An unsigned body that is not JSON is a 401, not a 400."""
    response = await deliver(hooked, b"{not json", signature="sha256=" + "1" * 64, expect=401)

    assert "INVALID_TOKEN" == response.json()["error_code"]


async def test_a_signature_of_a_different_body_does_not_verify(hooked: Api) -> None:
    """The HMAC covers the raw bytes: re-serialised JSON does not match."""
    body = json.dumps(example("in_progress")).encode()

    response = await deliver(hooked, body + b" ", signature=sign(body), expect=401)

    assert "INVALID_TOKEN" == response.json()["error_code"]


async def test_without_a_secret_the_endpoint_does_not_exist(api: Api) -> None:
    """No secret configured: the same 404 an unknown route answers, nothing recorded."""
    response = await deliver(api, example("in_progress"), expect=404)

    unknown = await api.call("POST", "/api/v1/webhooks/gitlab", expect=404)
    assert (unknown.json(), []) == (
        response.json(),
        await security_events(api, "webhook_signature_invalid"),
    )


# Malformed deliveries (correctly signed)


async def test_a_workflow_job_needs_a_delivery_id(hooked: Api) -> None:
    """Without X-GitHub-Delivery there is nothing to de-duplicate on."""
    response = await deliver(
        hooked, example("in_progress"), omit=("X-GitHub-Delivery",), expect=400
    )

    body = response.json()
    assert ("VALIDATION_ERROR", {"X-GitHub-Delivery": "is required"}) == (
        body["error_code"],
        body["field_errors"],
    )


async def test_an_overlong_delivery_id_is_a_validation_error(hooked: Api) -> None:
    """Delivery ids are GitHub's GUIDs; more than 100 characters is refused, not truncated."""
    response = await deliver(hooked, example("in_progress"), delivery="d" * 101, expect=400)

    assert ["X-GitHub-Delivery"] == list(response.json()["field_errors"])


@pytest.mark.parametrize(
    ("payload", "field_errors"),
    [
        (b"{not json", {"body": "is not valid JSON"}),
        (b"[1, 2]", {"body": "must be a JSON object"}),
        (
            {"action": "in_progress"},
            {
                "repository.full_name": "is required",
                "workflow_job.run_id": "is required",
                "workflow_job.id": "is required",
            },
        ),
        (
            {
                "action": 7,
                "repository": {"full_name": "octo/repo"},
                "workflow_job": {"id": 1, "run_id": "2", "labels": ["ok", 3], "runner_id": True},
            },
            {
                "action": "must be a string",
                "workflow_job.run_id": "must be an integer",
                "workflow_job.labels": "must be a list of strings",
                "workflow_job.runner_id": "must be an integer",
            },
        ),
    ],
    ids=["not-json", "not-an-object", "missing-fields", "wrong-types"],
)
async def test_a_malformed_payload_is_a_validation_error(
    hooked: Api, payload: Any, field_errors: dict[str, str]
) -> None:
    """Each bad field is named with a sentence (up to the parser's own details)."""
    response = await deliver(hooked, payload, expect=400)

    body = response.json()
    sentences = {field: error.split(":")[0] for field, error in body["field_errors"].items()}
    assert ("VALIDATION_ERROR", field_errors) == (body["error_code"], sentences)


async def test_a_refused_delivery_carries_no_bearer_challenge(hooked: Api) -> None:
    """GitHub signs webhooks, it does not send tokens: no ``WWW-Authenticate: Bearer``."""
    response = await deliver(
        hooked, example("in_progress"), signature="sha256=" + "0" * 64, expect=401
    )

    assert response.headers.get("www-authenticate") is None


async def test_a_flood_of_forged_deliveries_cannot_fill_the_security_log(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Every forgery is refused, but one source records at most its per-minute allowance."""
    clock = FakeClock(datetime.now(UTC))
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET, encoding="utf-8")
    github = {"webhook_secret_path": str(secret_file)}
    async with running_api(sqlite_url, clock=clock, github=github) as api:
        forged = "sha256=" + "0" * 64
        flood = FORGED_WEBHOOK_EVENTS_PER_MINUTE + 5
        statuses = [
            (await deliver(api, example("in_progress"), signature=forged, expect=None)).status_code
            for _ in range(flood)
        ]
        recorded = len(await security_events(api, "webhook_signature_invalid"))
        clock.advance(timedelta(minutes=1))
        await deliver(api, example("in_progress"), signature=forged, expect=401)
        later = len(await security_events(api, "webhook_signature_invalid"))

    assert [401] * flood == statuses
    assert (FORGED_WEBHOOK_EVENTS_PER_MINUTE, recorded + 1) == (recorded, later)


@pytest.fixture
async def enforcing_on_each_database(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app in ``enforce`` mode with a webhook secret, on SQLite then on PostgreSQL."""
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    async with running_api(
        fresh_database_url,
        github={"webhook_secret_path": str(secret_file)},
        sync={"webhook_enforcement": "enforce"},
    ) as api:
        yield api


async def test_a_redelivery_after_a_failed_enforcement_enforces_again(
    enforcing_on_each_database: Api,
) -> None:
    """Issue 12, finding 6: GitHub failing mid-enforcement answers 502; the redelivery acts."""
    api = enforcing_on_each_database
    runner = await provisioned(api)
    payload = job("in_progress", runner, ["gpu-a100", "crypto-miner"])
    delivery = str(uuid.uuid4())
    api.simulator.set_faults(Faults(status=503))

    failed = await deliver(api, payload, delivery=delivery, expect=None)
    api.simulator.clear_faults()
    again = await deliver(api, payload, delivery=delivery)
    third = await deliver(api, payload, delivery=delivery)

    assert (502, "GITHUB_UNAVAILABLE") == (failed.status_code, failed.json()["error_code"])
    assert ["processed", "duplicate"] == [again.json()["status"], third.json()["status"]]
    assert ("deleted", "label_policy_violation") == await runner_status(api, runner)
    assert [] == [r for r in api.simulator.runners() if r["id"] == runner["github_runner_id"]]
