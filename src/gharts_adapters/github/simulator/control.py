"""The simulator's JSON control API under ``/_simulator`` (product spec, section 4)."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.handlers import HTTPRouteHandler

from gharts_adapters.github.simulator.faults import Faults
from gharts_adapters.github.simulator.state import simulator_of

_ACTIONS = ("online", "busy", "idle", "offline", "finish")
_OPTIONS: dict[str, type] = {
    "scope": str,
    "os": str,
    "arch": str,
    "status": str,
    "busy": bool,
    "ephemeral": bool,
    "runner_group_id": int,
}


def _json(status: int, body: Any) -> Response[bytes]:
    content = b"" if body is None else json.dumps(body).encode()
    return Response(content=content, status_code=status, media_type="application/json")


def _problem(status: int, message: str) -> Response[bytes]:
    return _json(status, {"message": message, "status": str(status)})


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise TypeError("the body must be a JSON object")
    return data


def _labels(data: dict[str, Any]) -> list[str]:
    labels = data.get("labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise ValueError("labels must be a list of non-empty strings")
    return labels


def _name(data: dict[str, Any]) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    return name


def _option(key: str, value: Any) -> Any:
    kind = _OPTIONS[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key} must be of type {kind.__name__}")
    return value


@get("/_simulator/runners")
async def control_list_runners(request: Request[Any, Any, Any]) -> Response[bytes]:
    """List every runner the simulator holds (``?scope=`` narrows it)."""
    sim = simulator_of(request)
    try:
        runners = sim.runners(request.query_params.get("scope"))
    except ValueError as exc:
        return _problem(400, str(exc))
    return _json(200, {"total_count": len(runners), "runners": runners})


@post("/_simulator/runners", status_code=200)
async def register(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Register a runner configured outside gharts."""
    sim = simulator_of(request)
    try:
        data = await _body(request)
        name = _name(data)
        options = {key: _option(key, data[key]) for key in _OPTIONS if key in data}
        runner = sim.register(name, _labels(data), **options)
    except (TypeError, ValueError) as exc:
        return _problem(400, str(exc))
    return _json(201, runner)


@post("/_simulator/runners/{runner_id:int}/{action:str}", status_code=200)
async def act(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Move a runner: online, busy, idle, offline, or finish its job."""
    sim = simulator_of(request)
    runner_id: int = request.path_params["runner_id"]
    action: str = request.path_params["action"]
    if action not in _ACTIONS:
        return _problem(404, f"unknown action {action!r}; use one of {', '.join(_ACTIONS)}")
    try:
        if action == "finish":
            sim.finish_job(runner_id)
        else:
            {
                "online": sim.set_online,
                "busy": sim.set_busy,
                "idle": sim.set_idle,
                "offline": sim.set_offline,
            }[action](runner_id)
    except KeyError:
        return _problem(404, f"no runner with id {runner_id}")
    try:
        return _json(200, sim.runner(runner_id))
    except KeyError:  # an ephemeral runner that finished its job is gone
        return _json(204, None)


@put("/_simulator/runners/{runner_id:int}/labels", status_code=200)
async def relabel(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Replace a runner's custom labels."""
    sim = simulator_of(request)
    runner_id: int = request.path_params["runner_id"]
    try:
        labels = _labels(await _body(request))
        sim.relabel(runner_id, labels)
    except KeyError:
        return _problem(404, f"no runner with id {runner_id}")
    except (TypeError, ValueError) as exc:
        return _problem(400, str(exc))
    return _json(200, sim.runner(runner_id))


@delete("/_simulator/runners/{runner_id:int}", status_code=200)
async def vanish(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Make GitHub forget a runner."""
    sim = simulator_of(request)
    runner_id: int = request.path_params["runner_id"]
    try:
        sim.vanish(runner_id)
    except KeyError:
        return _problem(404, f"no runner with id {runner_id}")
    return _json(204, None)


@get("/_simulator/faults")
async def show_faults(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Show the active faults (``null`` when none)."""
    sim = simulator_of(request)
    faults = sim.faults
    return _json(200, faults.to_json() if faults else None)


@put("/_simulator/faults", status_code=200)
async def set_faults(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Inject faults into every following GitHub API request."""
    sim = simulator_of(request)
    try:
        faults = Faults.from_json(await _body(request))
    except (TypeError, ValueError) as exc:
        return _problem(400, str(exc))
    sim.set_faults(faults)
    return _json(200, faults.to_json())


@delete("/_simulator/faults", status_code=200)
async def clear_faults(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Stop injecting faults."""
    sim = simulator_of(request)
    sim.clear_faults()
    return _json(204, None)


CONTROL_HANDLERS: list[HTTPRouteHandler] = [
    control_list_runners,
    register,
    act,
    relabel,
    vanish,
    show_faults,
    set_faults,
    clear_faults,
]
