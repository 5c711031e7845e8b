"""The floor under a JIT request: the CPU of its GitHub call and of its writes, alone.

``bench serve`` calls :func:`measure` while its server, simulator and database are up. A JIT
request must parse an HTTP request and answer it (what a ``/healthz`` request costs the server,
measured by ``bench serve`` in the same run), send one ``POST`` to GitHub over ``httpx`` and
write the reservation and the bind through SQLAlchemy. This prices the last two, in the
benchmark's process, on the event loop ``gharts serve`` runs (uvloop where installed), in CPU
time per operation (``time.process_time``):

- ``github_httpx_post_ms``: ``httpx.AsyncClient.post`` of a JIT body to ``generate-jitconfig``
  on the run's ``gharts simulator``, with the headers gharts sends (its installation token
  included): the library alone, no gharts code.
- ``github_adapter_jit_ms``: the same call through gharts' GitHub adapter
  (``create_jit_config``: retries, timeouts, rate-limit bookkeeping, error translation, parsing).
- ``storage_jit_writes_ms``: a JIT request's two writes through gharts' storage adapter as
  ``ProvisioningService`` makes them (the reservation's unit of work with its team read, then
  ``Store.advance_runner``), on the run's database, for a team of its own.

A JIT request costs the server at least ``/healthz`` + ``github_httpx_post_ms`` +
``storage_jit_writes_ms``, so ``bench serve`` reports ``ceiling_jit_to_healthz``, the JIT/healthz
ratio a server doing nothing else would reach.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import attrs
import httpx

from bench.bench_storage import bench_runner, bench_team
from gharts_adapters.github import build_runner_platform
from gharts_adapters.github.settings import GitHubSettings
from gharts_adapters.storage import create_store
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    RunnerStatus,
    RunnerTransition,
    TransitionSource,
    new_id,
)
from gharts_core.ports.github import JitRequest
from gharts_http.cli.event_loop import run as run_on_serve_loop
from gharts_http.cli.simulator import DEFAULT_APP_ID, DEFAULT_INSTALLATION_ID

WARM_UP = 50
CALLS = 400
BLOCKS = 5
LABELS = ("team-bench", "gpu-a100", "size-large")


async def _cpu_ms_per_call(call: Callable[[int], Awaitable[object]], block: int) -> float:
    """Return the CPU per call of ``CALLS`` calls (after ``WARM_UP``), numbered apart per block."""
    first = block * (WARM_UP + CALLS)
    for number in range(first, first + WARM_UP):
        await call(number)
    started = time.process_time()
    for number in range(first + WARM_UP, first + WARM_UP + CALLS):
        await call(number)
    return (time.process_time() - started) / CALLS * 1000


async def _github(api_url: str, scope: str, key_pem: str, prefix: str) -> dict[str, float]:
    settings = GitHubSettings(
        scope=scope,
        app_id=DEFAULT_APP_ID,
        installation_id=DEFAULT_INSTALLATION_ID,
        private_key_pem=key_pem,
        api_url=api_url,
    )
    sent: list[httpx.Headers] = []

    async def keep_headers(request: httpx.Request) -> None:
        sent.append(request.headers)

    url = f"{api_url}{settings.scope.runners_path}/generate-jitconfig"
    async with (
        httpx.AsyncClient(event_hooks={"request": [keep_headers]}) as client,
        httpx.AsyncClient() as plain,
    ):
        platform = build_runner_platform(settings, client)

        async def adapter_jit(number: int) -> object:
            name = f"floor-{prefix}-a{number}"
            return await platform.create_jit_config(JitRequest(name, 1, LABELS))

        async def httpx_post(number: int) -> object:
            body = {"name": f"floor-{prefix}-h{number}", "runner_group_id": 1, "labels": LABELS}
            response = await plain.post(url, headers=headers, json=body)
            if response.status_code != 201:
                raise RuntimeError(f"the simulator answered {response.status_code}")
            return response.json()

        await adapter_jit(-1)  # the installation token, and the headers the adapter sends
        client.event_hooks = {"request": [], "response": []}
        headers = {
            name: sent[-1][name]
            for name in ("Accept", "X-GitHub-Api-Version", "User-Agent", "Authorization")
        }
        # Alternated in blocks, so both see the machine in the same state.
        figures: dict[str, list[float]] = {"github_adapter_jit_ms": [], "github_httpx_post_ms": []}
        for block in range(BLOCKS):
            figures["github_adapter_jit_ms"].append(await _cpu_ms_per_call(adapter_jit, block))
            figures["github_httpx_post_ms"].append(await _cpu_ms_per_call(httpx_post, block))
    return {name: round(statistics.median(values), 3) for name, values in figures.items()}


async def _storage(url: str, prefix: str) -> dict[str, float]:
    store = create_store(url)
    team = attrs.evolve(bench_team(0), name=f"floor-{prefix}", max_runners=None)
    try:
        async with store.unit_of_work() as uow:
            await uow.teams.add(team)

        async def jit_writes(number: int) -> object:
            record = bench_runner(team, number)
            async with store.unit_of_work() as uow:
                # As the reservation reads it: the team row, locked on PostgreSQL.
                await uow.teams.get(team.id, for_update=True)
                await uow.runners.reserve(record, team.max_runners)
            at = record.created_at
            bound = attrs.evolve(
                record,
                status=RunnerStatus.PENDING,
                github_runner_id=number + 1,
                expires_at=at + timedelta(hours=1),
            )
            moved = RunnerTransition(
                runner_id=record.id,
                from_status=record.status,
                to_status=bound.status,
                source=TransitionSource.API,
                at=at,
            )
            audit = AuditEvent(
                id=new_id(),
                at=at,
                actor=Actor.system(),
                action=AuditAction.RUNNER_PROVISION,
                outcome=AuditOutcome.SUCCESS,
                target_type="runner",
                target_id=str(record.id),
                team_id=team.id,
                team_name=team.name,
                details={"method": "jit", "runner_name": record.name, "labels": list(LABELS)},
            )
            return await store.advance_runner(record, bound, moved, audit)

        blocks = [await _cpu_ms_per_call(jit_writes, block) for block in range(BLOCKS)]
        return {"storage_jit_writes_ms": round(statistics.median(blocks), 3)}
    finally:
        await store.close()


def measure(api_url: str, scope: str, key: Path, database_url: str) -> dict[str, float]:
    """Return the CPU per JIT request of the GitHub call (library, adapter) and of the writes."""
    prefix = secrets.token_hex(3)
    # A thread of its own: bench serve's PostgreSQL run calls this from inside an event loop.
    with ThreadPoolExecutor(1) as thread:
        pem = key.read_text()
        github = thread.submit(run_on_serve_loop, _github(api_url, scope, pem, prefix)).result()
        storage = thread.submit(run_on_serve_loop, _storage(database_url, prefix)).result()
    return {**github, **storage}
