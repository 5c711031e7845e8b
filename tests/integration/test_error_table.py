"""Failures before an endpoint runs: unknown routes, methods, bodies, queries, request ids."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from gharts_core.errors import ErrorCode
from gharts_http.api.errors import API_ERROR_CODES, STATUS
from tests.integration.api_support import Api

JIT = "/api/v1/runners/jit"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the status and the error body's shape; return the body."""
    assert (status, code) == (response.status_code, response.json().get("error_code")), (
        response.text
    )
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["error_code"] in API_ERROR_CODES
    assert response.headers["content-type"].startswith("application/json")
    return body


@pytest.mark.parametrize(
    "path", ["/nowhere", "/api/v1/nowhere", "/api/v1/admin/nowhere", "/api/v2/runners"]
)
async def test_an_unknown_route_is_not_found(api: Api, path: str) -> None:
    """A path no endpoint serves answers 404 NOT_FOUND in the common error shape."""
    response = await api.call("GET", path, api.as_admin())
    assert_error(response, 404, "NOT_FOUND")


async def test_a_runner_id_that_is_not_a_uuid_matches_no_route(api: Api) -> None:
    """``/runners/{runner_id}`` only routes UUIDs: anything else is an unknown route."""
    response = await api.call("GET", "/api/v1/runners/not-a-uuid", api.as_admin())
    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", JIT, {"POST"}),
        ("GET", JIT, {"POST"}),
        ("DELETE", "/healthz", {"GET", "HEAD"}),
        ("PATCH", "/api/v1/runners", {"GET", "HEAD"}),
    ],
)
async def test_a_wrong_method_is_refused_with_allow(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    """A route that exists but not for this method answers 405 with an ``Allow`` header."""
    response = await api.call(method, path, api.as_admin())
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    named = {item.strip() for item in response.headers["allow"].split(",")}
    assert allowed - {"HEAD"} <= named <= allowed | {"OPTIONS"}


async def test_an_oversized_body_is_refused(api: Api) -> None:
    """A body above ``server.max_body_bytes`` answers 413 PAYLOAD_TOO_LARGE."""
    limit = api.services.settings.server.max_body_bytes
    body = b'{"labels": ["' + b"a" * limit + b'"]}'
    headers = {**api.as_admin(), "Content-Type": "application/json"}
    response = await api.call("POST", JIT, headers, content=body)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "content", [b'{"labels": [', b"labels=a", b"", b"\xff\xfe", b"null", b"[1, 2]", b'"text"']
)
async def test_a_body_that_is_not_a_json_object_is_a_validation_error(
    api: Api, content: bytes
) -> None:
    """Malformed or non-object JSON answers 400 VALIDATION_ERROR naming the body."""
    headers = {**api.as_admin(), "Content-Type": "application/json"}
    response = await api.call("POST", JIT, headers, content=content)
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert ["body"] == list(body["field_errors"]), body


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"labels": ["gpu-a"], "runner_name_prefix": "r", "lables": []}, {"lables"}),
        ({"labels": ["gpu-a"], "runner_name_prefix": "r", "team": "alpha"}, {"team"}),
        ({"labels": "gpu-a", "runner_name_prefix": "r"}, {"labels"}),
        ({"labels": ["gpu-a", 3], "runner_name_prefix": "r"}, {"labels[1]"}),
        (
            {"labels": ["gpu-a"], "runner_name_prefix": "r", "runner_group_id": "1"},
            {"runner_group_id"},
        ),
        ({"labels": ["gpu-a"], "runner_name_prefix": "r", "team_id": "x"}, {"team_id"}),
        ({"runner_name_prefix": "r"}, {"labels"}),
        (
            {"labels": ["a"], "runner_name_prefix": 1, "work_folder": False},
            {"runner_name_prefix", "work_folder"},
        ),
    ],
)
async def test_an_unknown_or_mistyped_field_is_named(
    api: Api, payload: dict[str, Any], expected: set[str]
) -> None:
    """Unknown and mistyped fields answer 400 VALIDATION_ERROR with one entry per field."""
    response = await api.call("POST", JIT, api.as_admin(), json=payload)
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert expected == set(body["field_errors"]), body
    assert all(isinstance(message, str) and message for message in body["field_errors"].values())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("status=sleeping", "status"),
    ],
)
async def test_a_bad_query_parameter_is_named(api: Api, query: str, field: str) -> None:
    """Query parameters outside their schema answer 400 VALIDATION_ERROR naming the parameter."""
    response = await api.call("GET", f"/api/v1/runners?{query}", api.as_admin())
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in body["field_errors"], body


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer not.a.jwt"]
)
async def test_a_missing_or_malformed_token_is_invalid(api: Api, authorization: str | None) -> None:
    """No usable bearer token answers 401 INVALID_TOKEN with a Bearer challenge."""
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await api.call("GET", "/api/v1/runners", headers)
    assert_error(response, 401, "INVALID_TOKEN")
    assert response.headers["www-authenticate"].startswith("Bearer")


KINDS_OF_RESPONSE: list[tuple[str, str, bool, dict[str, Any]]] = [
    ("GET", "/healthz", False, {}),
    ("GET", "/api/v1/runners", True, {}),
    ("GET", "/api/v1/runners", False, {}),
    ("GET", "/nowhere", False, {}),
    ("PUT", JIT, True, {}),
    ("POST", JIT, True, {"json": {"labels": 1}}),
    ("POST", JIT, True, {"json": {"labels": ["no such label!"], "runner_name_prefix": "r"}}),
    ("GET", "/api/v1/runners/00000000-0000-0000-0000-000000000000", True, {}),
    ("GET", "/schema/openapi.json", False, {}),
    ("POST", JIT, True, {"content": b"[" + b" " * 2_000_000 + b"]"}),
]


@pytest.mark.parametrize(("method", "path", "authenticated", "extra"), KINDS_OF_RESPONSE)
async def test_the_request_id_is_echoed_on_every_kind_of_response(
    api: Api, method: str, path: str, authenticated: bool, extra: dict[str, Any]
) -> None:
    """A sane ``X-Request-ID`` sent by the client comes back unchanged, whatever the status."""
    headers = {**(api.as_admin() if authenticated else {}), "X-Request-ID": "arc-42.retry:1"}
    response = await api.call(method, path, headers, **extra)
    assert "arc-42.retry:1" == response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path", "authenticated", "extra"), KINDS_OF_RESPONSE)
async def test_a_request_id_is_generated_on_every_kind_of_response(
    api: Api, method: str, path: str, authenticated: bool, extra: dict[str, Any]
) -> None:
    """Without ``X-Request-ID`` every response still carries a fresh one."""
    headers = api.as_admin() if authenticated else {}
    first = await api.call(method, path, headers, **extra)
    second = await api.call(method, path, headers, **extra)
    assert GENERATED_ID.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", [b"", b"a" * 129, b"has space", b"semi;colon", "é".encode()])
async def test_an_unusable_request_id_is_replaced(api: Api, sent: bytes) -> None:
    """An empty, overlong or odd ``X-Request-ID`` is not echoed (log injection); one is made."""
    response = await api.http.get("/healthz", headers=[(b"x-request-id", sent)])
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_a_request_id_of_128_characters_is_kept(api: Api) -> None:
    """The longest accepted id comes back whole."""
    sent = "r" * 128
    response = await api.call("GET", "/nowhere", {"X-Request-ID": sent})
    assert sent == response.headers["x-request-id"]


def test_the_api_codes_are_the_cores_plus_the_transport_ones_each_with_a_status() -> None:
    """Every code the API answers with has a status: the core's and the transport ones."""
    transport = {"NOT_FOUND", "METHOD_NOT_ALLOWED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"}
    expected = {code.value for code in ErrorCode} | transport
    assert (expected, expected) == (set(API_ERROR_CODES), set(STATUS))
