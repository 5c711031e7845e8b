"""The OpenAPI document: valid 3.1, complete, and true under fuzzing (schemathesis).

Schemathesis calls the ASGI app synchronously from its own event-loop thread, so the app is
built synchronously here (``bootstrap`` creates no connection until the first request) and its
services are closed by the app's own shutdown, in that same loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from litestar.routes import HTTPRoute
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.definitions import OPENAPI_31

from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_http.api.app import create_app
from gharts_http.api.errors import API_ERROR_CODES, ErrorBody
from gharts_http.bootstrap import Services, bootstrap
from tests.integration.api_support import ISSUER_URL, bearer, settings_for

DOCUMENT = "/schema/openapi.json"
ERROR_FIELDS = {field.name for field in attrs.fields(ErrorBody)}
MEMBER = "member@example.com"
EXAMPLES = 6  # per operation and generation mode: about 45 operations, well under a minute


@attrs.frozen
class Served:
    """The app schemathesis calls, its OpenAPI document, and an admin's headers."""

    app: Litestar
    schema: Any
    admin: Mapping[str, str]


class Lifespan:
    """Services built at each lifespan start and closed at its shutdown, in schemathesis' loop.

    Schemathesis ends the app's lifespan after every test; the next call starts it again, so
    every start wires fresh services (clients, store) onto the same database and issuer.
    """

    def __init__(self, database_url: str, issuer: DevIssuer) -> None:
        self.database_url = database_url
        self.issuer = issuer
        self.started_once = False

    def services(self) -> Services:
        """Wire the services; closing them also closes their identity client."""
        identity_client = httpx.AsyncClient(transport=self.issuer.transport())
        verifier = JwtVerifier([self.issuer.issuer_config()], identity_client)
        services = bootstrap(settings_for(self.database_url), identity=verifier)
        services.resources.push_async_callback(identity_client.aclose)
        return services

    async def start(self, app: Litestar) -> None:
        """Start-up hook: fresh services, except for the first start (create_app's own)."""
        if self.started_once:
            app.state.services = self.services()
        self.started_once = True

    async def stop(self, app: Litestar) -> None:
        """Shutdown hook: close this start's services."""
        services: Services = app.state.services
        await services.aclose()


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app on SQLite with a team, a member and a runner."""
    path = tmp_path_factory.mktemp("fuzz") / "gharts.db"
    path.write_bytes(sqlite_template.read_bytes())
    issuer = DevIssuer(ISSUER_URL)
    lifespan = Lifespan(f"sqlite+aiosqlite:///{path}", issuer)
    app = create_app(lifespan.services())
    app.on_startup.insert(0, lifespan.start)
    app.on_shutdown.append(lifespan.stop)
    config = SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": EXAMPLES, "deterministic": True},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    admin = bearer(issuer.mint_user_token("admin@example.com"))
    try:
        schema = schemathesis.openapi.from_asgi(DOCUMENT, app, config=config)
        seed(schema, admin)
        yield Served(app, schema, admin)
    finally:
        shutdown_lifespans()


def seed(schema: Any, admin: Mapping[str, str]) -> None:
    """A team with a member and a runner, so that generated requests sometimes hit something."""
    calls = [
        ("/api/v1/admin/teams", {"name": "alpha", "optional_label_patterns": ["gpu-.*"]}),
        ("/api/v1/admin/users", {"email": MEMBER, "display_name": "M", "teams": ["alpha"]}),
        (
            "/api/v1/runners/jit",
            {"labels": ["gpu-a"], "runner_name_prefix": "r", "team_name": "alpha"},
        ),
    ]
    for path, body in calls:
        response = schema[path]["POST"].Case(body=body, headers=dict(admin)).call()
        assert 201 == response.status_code, response.text


def check_error_body(status: int, body: Any) -> None:
    """An error body: ``detail`` and a known ``error_code``, plus only the documented extras."""
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    assert body.get("error_code") in API_ERROR_CODES, body
    assert set(body) <= ERROR_FIELDS, body
    if status in (429, 503) and "retry_after" in body:
        assert isinstance(body["retry_after"], int), body


def check_response(case: Any, served: Served) -> None:
    """A generated request gets no 5xx, a documented status, and errors in the common shape."""
    response = case.call(headers=dict(served.admin))
    status = response.status_code
    where = f"{case.method} {case.formatted_path}: {status} {response.text[:300]}"
    assert status < 500 or (status == 503 and case.path == "/readyz"), where
    assert str(status) in case.operation.definition.raw["responses"], f"undocumented: {where}"
    if status >= 400:
        check_error_body(status, response.json())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_requests_never_fail_the_server(served: Served, mode: GenerationMode) -> None:
    """Every operation, fed requests that fit its schema (or break it), answers as documented."""
    failures: dict[str, str] = {}
    unbreakable: list[str] = []
    tried: list[str] = []
    for result in served.schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case: Any) -> None:
            check_response(case, served)

        try:
            fuzz()
        except Unsatisfiable:  # nothing to break: no parameters, or none with constraints
            unbreakable.append(operation.label)
        except AssertionError as error:
            failures[operation.label] = str(error).splitlines()[0]
    assert {} == failures
    assert len(unbreakable) < len(tried), unbreakable


# ---------------------------------------------------------------- the document itself


@pytest.fixture(scope="module")
def document(served: Served) -> dict[str, Any]:
    """The OpenAPI document the app serves."""
    raw: dict[str, Any] = served.schema.raw_schema
    return raw


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    """The document validates against the OpenAPI 3.1 schema, its schemas against JSON Schema."""
    assert document["openapi"].startswith("3.1.")
    validator = jsonschema.Draft202012Validator(OPENAPI_31)
    assert [] == [error.message for error in validator.iter_errors(document)]
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    bad_schemas = {
        name: [error.message for error in meta.iter_errors(component)]
        for name, component in document["components"]["schemas"].items()
    }
    assert {} == {name: errors for name, errors in bad_schemas.items() if errors}


def documented_routes(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path) the app routes, as the document names it, schema pages excluded."""
    routes: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        path = route.path_format
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():  # routers may leave it out too
                continue
            routes.update((method, path) for method in handler.http_methods if method != "OPTIONS")
    return routes


def test_every_route_is_in_the_document(served: Served, document: dict[str, Any]) -> None:
    """No endpoint is missing from the document, and the document names no endpoint that is not."""
    in_document = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "head", "post", "put", "patch", "delete"}
    }
    assert documented_routes(served.app) == in_document


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every operation of the document, with a name."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield f"{method.upper()} {path}", operation


def error_schema_names(operation: dict[str, Any]) -> dict[str, str]:
    """The schema each documented 4xx/5xx response refers to, by status."""
    found = {}
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            found[status] = schema.get("$ref", "").rpartition("/")[2]
    return found


def test_every_error_response_is_documented_with_the_error_body(document: dict[str, Any]) -> None:
    """Every documented error uses ErrorBody; authenticated operations document 401 and 403."""
    wrong = {}
    missing = {}
    for name, operation in operations(document):
        schemas = error_schema_names(operation)
        wrong.update(
            {f"{name} {status}": ref for status, ref in schemas.items() if ref != "ErrorBody"}
        )
        expected = {"401", "403", "503"} if operation.get("security") else set()
        if operation.get("requestBody") or operation.get("parameters"):
            expected |= {"400"} if operation.get("security") else set()
        if expected - set(schemas):
            missing[name] = sorted(expected - set(schemas))
    assert ({}, {}) == (wrong, missing)


def test_the_error_body_schema_names_every_error_code(document: dict[str, Any]) -> None:
    """``error_code`` in the document is the closed list of codes the API answers with."""
    schemas = document["components"]["schemas"]
    error_code = schemas["ErrorBody"]["properties"]["error_code"]
    if "$ref" in error_code:
        error_code = schemas[error_code["$ref"].rpartition("/")[2]]
    assert sorted(API_ERROR_CODES) == sorted(error_code["enum"])


def test_every_json_request_body_refuses_unknown_fields(document: dict[str, Any]) -> None:
    """Request bodies say ``additionalProperties: false``, as the edge converter behaves."""
    schemas = document["components"]["schemas"]
    open_bodies = []
    for name, operation in operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        if ref and schemas[ref.rpartition("/")[2]].get("additionalProperties") is not False:
            open_bodies.append(name)
    assert [] == open_bodies
