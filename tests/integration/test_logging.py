"""Logs during real provisioning: one access line per request, and never a secret."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from gharts_http.logging import configure_logging, reset_logging
from tests.integration.api_support import Api

BOB = "bob@example.com"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything logged, as JSON lines at debug level; the default configuration afterwards."""
    stream = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=stream, cache_loggers=False)
    try:
        yield stream
    finally:
        reset_logging()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line logged so far, parsed (each must be one JSON object)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def access_lines(stream: io.StringIO, route: str) -> list[dict[str, Any]]:
    """The access-log lines of ``route``."""
    return [
        line
        for line in lines(stream)
        if line.get("event") == "http_request" and line.get("route") == route
    ]


async def test_provisioning_secrets_never_reach_the_logs(api: Api, log_output: io.StringIO) -> None:
    """JIT config, run command, registration token, config command, bearer token: none logged."""
    await api.seed_team("alpha")
    await api.seed_user(BOB, "alpha", can_use_registration_token=True)
    headers = api.as_user(BOB)
    jit = await api.call(
        "POST",
        "/api/v1/runners/jit",
        headers,
        json={"labels": ["gpu-a100"], "runner_name_prefix": "jit"},
        expect=201,
    )
    legacy = await api.call(
        "POST",
        "/api/v1/runners/provision",
        headers,
        json={"labels": ["gpu-a100"], "runner_name_prefix": "legacy"},
        expect=201,
    )
    secrets = {
        "encoded_jit_config": jit.json()["encoded_jit_config"],
        "run_command": jit.json()["run_command"],
        "registration token": legacy.json()["token"],
        "config_command": legacy.json()["config_command"],
        "bearer token": headers["Authorization"].removeprefix("Bearer "),
    }
    output = log_output.getvalue()
    assert len(lines(log_output)) >= 4  # the requests were logged, just not their secrets
    assert [] == [name for name, secret in secrets.items() if secret in output]


async def test_each_request_has_one_access_line(api: Api, log_output: io.StringIO) -> None:
    """The line names the request id, principal, route template, status and outcome."""
    await api.seed_team("alpha")
    await api.seed_user(BOB, "alpha")
    response = await api.provision(api.as_user(BOB))
    (line,) = access_lines(log_output, "/api/v1/runners/jit")
    expected = {
        "request_id": response.headers["X-Request-ID"],
        "method": "POST",
        "status": 201,
        "principal": {"kind": "user", "name": BOB},
        "outcome": "ok",
        "level": "info",
    }
    assert expected == {key: line[key] for key in expected}
    assert line["duration_ms"] >= 0


async def test_a_refusal_is_logged_with_its_error_code(api: Api, log_output: io.StringIO) -> None:
    """A refused provisioning names the error code as its outcome."""
    await api.seed_team("alpha")
    await api.seed_user(BOB, "alpha")
    response = await api.provision(api.as_user(BOB), labels=["not-allowed"])
    (line,) = access_lines(log_output, "/api/v1/runners/jit")
    expected = (response.headers["X-Request-ID"], 403, "LABEL_POLICY_VIOLATION")
    assert expected == (line["request_id"], line["status"], line["outcome"])


async def test_anonymous_and_unrouted_requests_are_logged(
    api: Api, log_output: io.StringIO
) -> None:
    """A bad token and an unknown path still get their access line, without a principal."""
    await api.call("GET", "/api/v1/runners", {"Authorization": "Bearer nope"}, expect=401)
    await api.call("GET", "/not/a/route/123", {"X-Request-ID": "trace-42"}, expect=404)
    refused = access_lines(log_output, "/api/v1/runners")
    unrouted = access_lines(log_output, "<unmatched>")
    assert [(None, "INVALID_TOKEN")] == [(line["principal"], line["outcome"]) for line in refused]
    assert [("trace-42", "NOT_FOUND")] == [
        (line["request_id"], line["outcome"]) for line in unrouted
    ]


async def test_probes_are_logged_at_debug_level(api: Api, log_output: io.StringIO) -> None:
    """``/healthz`` is logged, quietly."""
    await api.call("GET", "/healthz", expect=200)
    assert ["debug"] == [line["level"] for line in access_lines(log_output, "/healthz")]
