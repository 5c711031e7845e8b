"""The simulated GitHub: runners per scope, app credentials, tokens, rate limit and faults.

Every GitHub operation returns a :class:`Result` (status, JSON body, headers) that the ASGI app
in :mod:`gharts_adapters.github.simulator.app` sends as it is; the control methods are what
tests and ``gharts dev`` use to move runners through their lives.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
from litestar.connection import ASGIConnection

from gharts_adapters.github.simulator import _api
from gharts_adapters.github.simulator._api import Result
from gharts_adapters.github.simulator._runners import runner_json
from gharts_adapters.github.simulator.faults import FaultDraw, Faults
from gharts_adapters.github.simulator.lifecycle import DEFAULT_SCOPE, RunnerStore
from gharts_core.ports.clock import Clock, SystemClock

SIMULATOR_STATE_KEY = "gharts_github_simulator"


@attrs.frozen
class RecordedRequest:
    """One GitHub API request the simulator answered."""

    operation: str
    scope: str | None
    status: int


class GitHubSimulator(RunnerStore):
    """An in-memory GitHub holding one GitHub App installation and its runners.

    ``calls`` counts GitHub API requests per operation, ``responses`` per (operation, status);
    ``requests`` keeps the latest ones. ``cancelled_runs`` lists ``(repository, run_id)``.
    """

    def __init__(
        self,
        *,
        app_id: int,
        installation_id: int,
        app_public_key_pem: str | bytes,
        default_scope: str = DEFAULT_SCOPE,
        clock: Clock | None = None,
        rate_limit: int = 5000,
        token_lifetime: timedelta = timedelta(hours=1),
        os: str = "Linux",
        arch: str = "X64",
        first_runner_id: int = 1,
    ) -> None:
        self.app_id = app_id
        self.installation_id = installation_id
        super().__init__(
            default_scope=default_scope, os=os, arch=arch, first_runner_id=first_runner_id
        )
        self.clock: Clock = clock or SystemClock()
        self._app_key = _api.AppKey(app_public_key_pem, app_id)
        self._token_lifetime = token_lifetime
        self._tokens: dict[str, datetime] = {}
        self._limit = rate_limit
        self._remaining = rate_limit
        self._reset_at: datetime | None = None
        self._draw: FaultDraw | None = None
        # Set when the faults change: late answers held back by the old ones go out at once.
        self._faults_changed = asyncio.Event()
        self._completed_runs: set[tuple[str, int]] = set()
        self.cancelled_runs: list[tuple[str, int]] = []
        self.calls: Counter[str] = Counter()
        self.responses: Counter[tuple[str, int]] = Counter()
        self.requests: deque[RecordedRequest] = deque(maxlen=10_000)

    # ------------------------------------------------------------ the request pipeline

    async def serve(
        self,
        operation: str,
        authorization: str | None,
        action: Callable[[], Result],
        *,
        scope: str | None = None,
        app_jwt: bool = False,
    ) -> Result:
        """Answer one GitHub API request: faults, then credentials, then the rate limit."""
        self.calls[operation] += 1
        faults = self._draw.faults if self._draw is not None else None
        result = await self._serve(authorization, action, app_jwt=app_jwt)
        if faults is not None and faults.answer_latency_ms:
            await self._answer_late(faults.answer_latency_ms / 1000)
        self.responses[(operation, result.status)] += 1
        self.requests.append(RecordedRequest(operation, scope, result.status))
        return result

    async def _serve(
        self, authorization: str | None, action: Callable[[], Result], *, app_jwt: bool
    ) -> Result:
        injected = await self._inject_fault()
        if injected is not None:
            return injected
        credential = _api.bearer(authorization)
        if app_jwt:
            problem = self._app_key.problem(credential, self.clock.now())
            if problem is not None:
                return _api.error(401, problem)
            return action()
        if not self._token_valid(credential):
            return _api.error(401, "Bad credentials")
        self._roll_window()
        if self._remaining <= 0:
            message = f"API rate limit exceeded for installation ID {self.installation_id}."
            return self._with_budget(_api.error(403, message, doc=_api.RATE_LIMIT_DOCS))
        result = action()
        if result.status != 304:  # conditional requests answered 304 are free on GitHub
            self._remaining -= 1
        return self._with_budget(result)

    async def _answer_late(self, seconds: float) -> None:
        """Hold the answer back ``seconds``, or until the faults are changed or cleared."""
        changed = self._faults_changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await changed.wait()

    async def _inject_fault(self) -> Result | None:
        if self._draw is None:
            return None
        faults = self._draw.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if not self._draw.strikes():
            return None
        if self._draw.exhausted:
            self._draw = None
        if faults.timeout:
            await asyncio.Event().wait()  # never answers; the client's timeout ends it
        if faults.secondary_limit:
            self._roll_window()
            limited = _api.error(403, _api.SECONDARY_LIMIT_MESSAGE, doc=_api.RATE_LIMIT_DOCS)
            limited.headers["retry-after"] = str(faults.retry_after)
            return self._with_budget(limited)
        if faults.status is not None:
            return _api.error(faults.status, _api.reason(faults.status))
        return None

    def _token_valid(self, token: str | None) -> bool:
        expires_at = self._tokens.get(token) if token else None
        return expires_at is not None and self.clock.now() < expires_at

    def _roll_window(self) -> None:
        now = self.clock.now()
        if self._reset_at is None or now >= self._reset_at:
            self._reset_at = now.replace(microsecond=0) + timedelta(hours=1)
            self._remaining = self._limit

    def _with_budget(self, result: Result) -> Result:
        assert self._reset_at is not None  # noqa: S101 - set by _roll_window before any answer
        result.headers.update(
            {
                "x-ratelimit-limit": str(self._limit),
                "x-ratelimit-remaining": str(max(self._remaining, 0)),
                "x-ratelimit-reset": str(int(self._reset_at.timestamp())),
                "x-ratelimit-used": str(self._limit - max(self._remaining, 0)),
                "x-ratelimit-resource": "core",
            }
        )
        return result

    # ------------------------------------------------------------ GitHub operations

    def create_installation_token(self, installation_id: int) -> Result:
        """``POST /app/installations/{id}/access_tokens``."""
        if installation_id != self.installation_id:
            return _api.error(404, "Not Found")
        token = f"ghs_{secrets.token_urlsafe(27)[:36]}"
        expires_at = self.clock.now().replace(microsecond=0) + self._token_lifetime
        self._tokens[token] = expires_at
        body = {
            "token": token,
            "expires_at": _api.timestamp(expires_at),
            "permissions": {"organization_self_hosted_runners": "write", "actions": "write"},
            "repository_selection": "all",
        }
        return Result(201, body)

    def list_runners(
        self, scope: str, *, url: str, page: int, per_page: int, name: str | None, etag: str | None
    ) -> Result:
        """``GET .../actions/runners`` with Link pagination, ETags and the ``name`` filter."""
        pool = self._pool(scope)
        if name is not None:
            found = pool.by_name(name)
            runners = [runner_json(found, self._label_id)] if found else []
            return Result(200, {"total_count": len(runners), "runners": runners})
        built = pool.page(page, per_page, self._label_id)
        headers = {"etag": built.etag}
        link = _api.link_header(url, page, per_page, built.total_count)
        if link:
            headers["link"] = link
        if etag is not None and etag == built.etag:
            return Result(304, None, headers)
        return Result(200, built.body, headers)

    def generate_jitconfig(self, scope: str, body: Any) -> Result:
        """``POST .../actions/runners/generate-jitconfig``."""
        problem = _api.jit_body_problem(body)
        if problem is not None:
            return _api.error(422, problem)
        pool = self._pool(scope)
        if pool.by_name(body["name"]) is not None:
            message = f"Already exists - A runner with the name '{body['name']}' already exists."
            return _api.error(409, message)
        runner = self._add(
            scope, body["name"], body["labels"], ephemeral=True, status="offline", busy=False,
            runner_group_id=body["runner_group_id"],
        )  # fmt: skip
        blob = {
            ".runner": {"AgentId": runner.id, "AgentName": runner.name},
            ".credentials": {"token": secrets.token_urlsafe(24)},
        }
        config = base64.b64encode(json.dumps(blob).encode()).decode()
        runner_body = runner_json(runner, self._label_id)
        return Result(201, {"runner": runner_body, "encoded_jit_config": config})

    def create_registration_token(self, scope: str) -> Result:
        """``POST .../actions/runners/registration-token``."""
        self._pool(scope)
        expires_at = self.clock.now() + timedelta(hours=1)
        token = base64.b32encode(secrets.token_bytes(18)).decode().rstrip("=")
        return Result(201, {"token": token, "expires_at": _api.timestamp(expires_at)})

    def get_runner(self, scope: str, runner_id: int) -> Result:
        """``GET .../actions/runners/{runner_id}``."""
        runner = self._pool(scope).runners.get(runner_id)
        if runner is None:
            return _api.error(404, "Not Found")
        return Result(200, runner_json(runner, self._label_id))

    def delete_runner(self, scope: str, runner_id: int) -> Result:
        """``DELETE .../actions/runners/{runner_id}``."""
        if self._pool(scope).remove(runner_id) is None:
            return _api.error(404, "Not Found")
        del self._by_id[runner_id]
        self._changed()
        return Result(204)

    def cancel_workflow_run(self, repository: str, run_id: int) -> Result:
        """``POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel``."""
        key = (repository.lower(), run_id)
        if key in self._completed_runs:
            return _api.error(409, "Cannot cancel a workflow run that is completed.")
        self.cancelled_runs.append((repository, run_id))
        return Result(202, {})

    # ------------------------------------------------------------ control

    def complete_run(self, repository: str, run_id: int) -> None:
        """Mark a workflow run completed: cancelling it then answers 409."""
        self._completed_runs.add((repository.lower(), run_id))

    def revoke_tokens(self) -> None:
        """Invalidate every installation token issued so far."""
        self._tokens.clear()

    @property
    def faults(self) -> Faults | None:
        """The active faults, if any."""
        return self._draw.faults if self._draw else None

    def set_faults(self, faults: Faults) -> None:
        """Inject ``faults`` into every following GitHub API request."""
        self._release_late_answers()
        self._draw = FaultDraw(faults)
        if faults.rate_limit_remaining is not None:
            self._roll_window()
            self._remaining = faults.rate_limit_remaining

    def clear_faults(self) -> None:
        """Stop injecting faults (late answers go out now) and refill the rate-limit budget."""
        self._release_late_answers()
        self._draw = None
        self._remaining = self._limit

    def _release_late_answers(self) -> None:
        self._faults_changed.set()
        self._faults_changed = asyncio.Event()


def simulator_of(connection: ASGIConnection[Any, Any, Any, Any]) -> GitHubSimulator:
    """Return the simulator serving this request (put in the ASGI scope by its app)."""
    simulator = connection.scope.get("state", {}).get(SIMULATOR_STATE_KEY)
    if not isinstance(simulator, GitHubSimulator):
        raise TypeError("no GitHubSimulator in the ASGI scope; serve it with SimulatorApp")
    return simulator
