"""HTTP benchmark: ``POST /api/v1/runners/jit`` end to end, at 1, 8 and 32 concurrent clients.

The app is wired as the integration tests wire it (``tests/integration/api_support.py``): real
settings with ``github.mode = "simulator"``, a migrated SQLite file, a development issuer whose
keys are served in process, :func:`~gharts_http.bootstrap.bootstrap` and
:func:`~gharts_http.api.app.create_app`. Requests go through ``httpx.AsyncClient`` over
``httpx.ASGITransport`` (no sockets), so each one pays for routing, token verification, the
principal lookup, the label policy, the quota reservation in SQLite, the JIT call to the
simulator (0 ms latency) and the final write, on one event loop (plus aiosqlite's thread).

Callers are machine clients of one team without a quota (``max_runners`` unset); client ``k``
sends with the ``k mod 8``-th of eight registered clients, so one client means one principal and
8 or 32 clients spread over eight principals. Each request names its runner explicitly. The
per-principal provisioning rate limit stays on but is set far above what the bench sends, so the
figures include the limiter's bookkeeping but never its refusals. Every level starts from a fresh
database and app (so its figures do not depend on the levels before it), warms up with
``WARM_UP`` requests, then sends ``REQUESTS``; ``requests_per_s`` is requests over wall time,
``requests_per_cpu_s`` divides by the process's CPU time instead (every thread, aiosqlite's
included: the figure for one core, much less disturbed by whatever else the host runs; compare
``load_average_1m_after``), ``p50_ms``/``p99_ms`` are per-request latencies as the client sees
them. Any answer but 201 fails the benchmark.

Run it with ``python -m bench http`` or ``python -m bench.bench_http``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import time
from collections import Counter
from typing import Any

import httpx

from bench._databases import on_sqlite
from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_core.model import Principal
from gharts_core.services.admin_clients import CreateClient
from gharts_core.services.admin_teams import CreateTeam
from gharts_http.api.app import create_app
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.settings import Settings, settings_from_mapping

ISSUER_URL = "https://issuer.test/dev/oidc"
SCOPE = "org:bench"
TEAM = "bench"
PRINCIPALS = 8
LEVELS = (1, 8, 32)
REQUESTS = 300  # per level, after the warm-up: ~5 s on an idle two-core VM
WARM_UP = 100
RATE_PER_MINUTE = 1_000_000_000


def _settings(database_url: str) -> Settings:
    return settings_from_mapping(
        {
            "database": {"url": database_url},
            "github": {"mode": "simulator", "scope": SCOPE},
            "server": {"provision_rate_per_minute": RATE_PER_MINUTE},
        },
        environ={},
    )


async def _seed(services: Services, issuer: DevIssuer) -> list[dict[str, str]]:
    """Create the team and the machine clients; return one set of headers per client."""
    system = Principal.system()
    team = CreateTeam(
        name=TEAM,
        required_labels=("team-bench",),
        optional_label_patterns=("gpu-.*", "size-(small|large)"),
        max_runners=None,
    )
    await services.teams.create_team(system, team)
    headers = []
    for index in range(PRINCIPALS):
        subject = f"bench-ci-{index}"
        client = CreateClient(issuer=issuer.issuer, subject=subject, team=TEAM)
        await services.clients.create_client(system, client)
        token = issuer.mint_machine_token(subject)
        headers.append({"Authorization": f"Bearer {token}"})
    return headers


class _Driver:
    """Sends numbered provisioning requests and keeps their latencies and statuses."""

    def __init__(self, http: httpx.AsyncClient, headers: list[dict[str, str]]) -> None:
        self._http = http
        self._headers = headers
        self._serial = itertools.count()
        self.statuses: Counter[int] = Counter()

    async def level(self, clients: int, requests: int) -> tuple[float, float, list[float]]:
        """Send ``requests`` requests from ``clients`` concurrent clients; time them."""
        remaining = iter(range(requests))
        latencies: list[float] = []

        async def client(number: int) -> None:
            headers = self._headers[number % len(self._headers)]
            for _ in remaining:
                body = {"labels": ["gpu-a100", "size-large"], "runner_name": self._name()}
                started = time.perf_counter()
                response = await self._http.post("/api/v1/runners/jit", headers=headers, json=body)
                latencies.append(time.perf_counter() - started)
                self.statuses[response.status_code] += 1

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client(number) for number in range(clients)))
        return time.perf_counter() - started, time.process_time() - cpu, latencies

    def _name(self) -> str:
        return f"bench-{next(self._serial):06}"


def _figures(clients: int, elapsed: float, cpu: float, latencies: list[float]) -> dict[str, object]:
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "requests_per_cpu_s": round(len(latencies) / cpu, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "principals": min(clients, PRINCIPALS),
    }


async def _level(database_url: str, clients: int) -> dict[str, object]:
    """Run one concurrency level on a fresh app and database: warm up, then measure."""
    issuer = DevIssuer(ISSUER_URL)
    async with httpx.AsyncClient(transport=issuer.transport()) as identity_client:
        verifier = JwtVerifier([issuer.issuer_config()], identity_client)
        services = bootstrap(_settings(database_url), identity=verifier)
        try:
            headers = await _seed(services, issuer)
            app = create_app(services)
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with (
                app.lifespan(),
                httpx.AsyncClient(transport=transport, base_url="http://gharts.test") as http,
            ):
                driver = _Driver(http, headers)
                await driver.level(clients, WARM_UP)
                elapsed, cpu, latencies = await driver.level(clients, REQUESTS)
        finally:
            await services.aclose()
    failures = {status: n for status, n in driver.statuses.items() if status != 201}
    if failures:
        raise RuntimeError(f"non-201 answers at {clients} clients: {failures}")
    return _figures(clients, elapsed, cpu, latencies)


def _fresh_level(clients: int) -> dict[str, object]:
    return on_sqlite(lambda url: _level(url, clients))


def run() -> dict[str, object]:
    """Return throughput and p50/p99 latency of JIT provisioning at 1, 8 and 32 clients."""
    results: dict[str, Any] = {f"clients_{clients}": _fresh_level(clients) for clients in LEVELS}
    results["setup"] = {
        "database": "sqlite, a freshly migrated temporary file per level",
        "github": "in-process simulator, 0 ms latency",
        "callers": f"{PRINCIPALS} machine clients of one team without quota, round robin",
        "provision_rate_per_minute": RATE_PER_MINUTE,
        "warm_up_requests": WARM_UP,
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
