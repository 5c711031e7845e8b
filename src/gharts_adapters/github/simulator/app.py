"""The simulator as an ASGI application: GitHub's runner endpoints and the ``/_simulator`` API."""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Litestar, Request, Response, asgi, delete, get, post
from litestar.handlers import ASGIRouteHandler, HTTPRouteHandler
from litestar.types import Receive, Scope, Send

from gharts_adapters.github.simulator import _api
from gharts_adapters.github.simulator._api import Result
from gharts_adapters.github.simulator.control import CONTROL_HANDLERS
from gharts_adapters.github.simulator.state import (
    SIMULATOR_STATE_KEY,
    GitHubSimulator,
    simulator_of,
)

_SCOPES = ("/orgs/{org:str}", "/repos/{owner:str}/{repo:str}", "/enterprises/{enterprise:str}")
_RUNNERS = [f"{scope}/actions/runners" for scope in _SCOPES]
_RUNNER = [f"{path}/{{runner_id:int}}" for path in _RUNNERS]
_MAX_PER_PAGE = 100


def to_response(result: Result) -> Response[bytes]:
    """Send a simulator :class:`Result` as it is, JSON-encoded unless already bytes."""
    headers = {"x-github-request-id": secrets.token_hex(8).upper(), **result.headers}
    if result.body is None:
        return Response(content=b"", status_code=result.status, headers=headers)
    body = result.body if isinstance(result.body, bytes) else json.dumps(result.body).encode()
    return Response(
        content=body,
        status_code=result.status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def _scope(params: Mapping[str, Any]) -> str:
    if "org" in params:
        return _api.scope_key(f"org:{params['org']}")
    if "enterprise" in params:
        return _api.scope_key(f"enterprise:{params['enterprise']}")
    return _api.scope_key(f"repo:{params['owner']}/{params['repo']}")


def _int_param(request: Request[Any, Any, Any], name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


async def _json_body(request: Request[Any, Any, Any]) -> tuple[Any, Result | None]:
    raw = await request.body()
    if not raw:
        return None, None
    try:
        return json.loads(raw), None
    except ValueError:
        return None, _api.error(400, "Problems parsing JSON")


async def _serve(
    request: Request[Any, Any, Any],
    operation: str,
    action: Callable[[GitHubSimulator], Result],
    *,
    scope: str | None = None,
    app_jwt: bool = False,
) -> Response[bytes]:
    sim = simulator_of(request)
    authorization = request.headers.get("authorization")
    result = await sim.serve(
        operation, authorization, lambda: action(sim), scope=scope, app_jwt=app_jwt
    )
    return to_response(result)


@post("/app/installations/{installation_id:int}/access_tokens", status_code=201)
async def access_tokens(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Create an installation access token (app JWT required)."""
    installation_id: int = request.path_params["installation_id"]

    def action(sim: GitHubSimulator) -> Result:
        return sim.create_installation_token(installation_id)

    return await _serve(request, "create_installation_token", action, app_jwt=True)


@get(_RUNNERS)
async def list_runners(request: Request[Any, Any, Any]) -> Response[bytes]:
    """List the scope's runners, one page at a time, with ETags."""
    scope = _scope(request.path_params)
    per_page = min(max(_int_param(request, "per_page", 30), 1), _MAX_PER_PAGE)
    page = max(_int_param(request, "page", 1), 1)

    def action(sim: GitHubSimulator) -> Result:
        return sim.list_runners(
            scope,
            url=str(request.url),
            page=page,
            per_page=per_page,
            name=request.query_params.get("name"),
            etag=request.headers.get("if-none-match"),
        )

    return await _serve(request, "list_runners", action, scope=scope)


@post([f"{path}/generate-jitconfig" for path in _RUNNERS], status_code=201)
async def generate_jitconfig(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Register a just-in-time runner and return its configuration."""
    scope = _scope(request.path_params)
    body, invalid = await _json_body(request)

    def action(sim: GitHubSimulator) -> Result:
        return invalid or sim.generate_jitconfig(scope, body)

    return await _serve(request, "generate_jitconfig", action, scope=scope)


@post([f"{path}/registration-token" for path in _RUNNERS], status_code=201)
async def registration_token(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Create a registration token for the scope."""
    scope = _scope(request.path_params)

    def action(sim: GitHubSimulator) -> Result:
        return sim.create_registration_token(scope)

    return await _serve(request, "create_registration_token", action, scope=scope)


@get(_RUNNER)
async def get_runner(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Return one runner of the scope."""
    scope = _scope(request.path_params)
    runner_id: int = request.path_params["runner_id"]

    def action(sim: GitHubSimulator) -> Result:
        return sim.get_runner(scope, runner_id)

    return await _serve(request, "get_runner", action, scope=scope)


@delete(_RUNNER, status_code=200)
async def delete_runner(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Remove one runner of the scope."""
    scope = _scope(request.path_params)
    runner_id: int = request.path_params["runner_id"]

    def action(sim: GitHubSimulator) -> Result:
        return sim.delete_runner(scope, runner_id)

    return await _serve(request, "delete_runner", action, scope=scope)


@post("/repos/{owner:str}/{repo:str}/actions/runs/{run_id:int}/cancel", status_code=202)
async def cancel_run(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Cancel a workflow run of the repository."""
    owner, repo = request.path_params["owner"], request.path_params["repo"]
    run_id: int = request.path_params["run_id"]

    def action(sim: GitHubSimulator) -> Result:
        return sim.cancel_workflow_run(f"{owner}/{repo}", run_id)

    return await _serve(request, "cancel_workflow_run", action, scope=f"repo:{owner}/{repo}")


GITHUB_HANDLERS: list[HTTPRouteHandler] = [
    access_tokens,
    list_runners,
    generate_jitconfig,
    registration_token,
    get_runner,
    delete_runner,
    cancel_run,
]


@functools.cache
def _shared_app() -> Litestar:
    # Building a Litestar app costs ~0.1 s; every simulator shares one and brings its state.
    return Litestar(
        route_handlers=[*GITHUB_HANDLERS, *CONTROL_HANDLERS],
        openapi_config=None,
        logging_config=None,  # never reconfigure the host process's logging
    )


class SimulatorApp:
    """The ASGI application of one :class:`GitHubSimulator`."""

    def __init__(self, simulator: GitHubSimulator) -> None:
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection with this simulator's state."""
        state = {**scope.get("state", {}), SIMULATOR_STATE_KEY: self.simulator}
        await _shared_app()({**scope, "state": state}, receive, send)  # type: ignore[arg-type]


def create_simulator_app(sim: GitHubSimulator) -> SimulatorApp:
    """Return a standalone ASGI app serving GitHub's endpoints and ``/_simulator``."""
    return SimulatorApp(sim)


def mount_simulator(sim: GitHubSimulator, path: str = "/_github") -> ASGIRouteHandler:
    """Return a handler mounting the simulator under ``path`` in another Litestar app.

    Point the adapter's ``api_url`` at ``<public url><path>``; the control API is then served
    at ``<path>/_simulator``.
    """
    app = SimulatorApp(sim)
    prefix = "/" + path.strip("/")

    @asgi(prefix, is_mount=True, copy_scope=True)
    async def github_simulator(scope: Scope, receive: Receive, send: Send) -> None:
        # Link headers are absolute: the mounted app must know the prefix it lives under.
        scope["root_path"] = scope.get("root_path", "") + prefix
        await app(scope, receive, send)

    return github_simulator
