"""Dashboard benchmark: the runners page (``GET /``) of a person who sees 1,000 runners.

The app is ``create_app`` with the dashboard's handlers, on real settings (``github.mode =
"simulator"``, a migrated SQLite file, a development issuer served in process, ``[dashboard]``
enabled with a session secret file). One team holds 1,000 live runners (half ``online``, half
``pending``); its member is logged in by a session stored as a login stores it. Requests go
through ``httpx.ASGITransport`` (no sockets): each pays for the session lookup, the person's
fresh principal, the runner count and page (50 rows) in SQLite, the teams for the filter, and
the Jinja2 rendering. Three pages are measured: the first page, the tenth, and a filtered one
(``status=online&label=gpu-a100``). ``WARM_UP`` requests, then ``REQUESTS`` per page, one at a
time; any answer but 200 fails. The target of issue 13 is p50 <= 50 ms.

Run it with ``python -m bench dashboard`` or ``python -m bench.bench_dashboard``.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx

from bench._databases import on_sqlite
from gharts_adapters.identity import DevIssuer, JwtVerifier
from gharts_core.model import Actor, Principal, ProvisionMethod, RunnerRecord, RunnerStatus, new_id
from gharts_core.ports.storage import DashboardSession
from gharts_core.services.admin_teams import CreateTeam
from gharts_core.services.admin_users import CreateUser
from gharts_http.api.app import create_app
from gharts_http.bootstrap import Services, bootstrap
from gharts_http.dashboard import dashboard_handlers
from gharts_http.dashboard.signing import Signer
from gharts_http.settings import Settings, settings_from_mapping

ISSUER_URL = "https://issuer.test/dev/oidc"
TEAM = "bench"
EMAIL = "member@bench.example.com"
RUNNERS = 1_000
REQUESTS = 200
WARM_UP = 30
SECRET = "bench-session-secret"  # noqa: S105 - a throwaway bench value
PAGES = {
    "first_page": "/",
    "tenth_page": "/?page_number=10",
    "filtered": "/?status=online&label=gpu-a100",
}


def _settings(database_url: str, secret_file: Path) -> Settings:
    return settings_from_mapping(
        {
            "database": {"url": database_url},
            "github": {"mode": "simulator", "scope": "org:bench"},
            "auth": {"issuers": [{"issuer": ISSUER_URL, "audiences": ["gharts"]}]},
            "dashboard": {
                "enabled": True,
                "issuer": ISSUER_URL,
                "client_id": "bench-dashboard",
                "session_secret_path": str(secret_file),
            },
        },
        environ={},
    )


async def _seed(services: Services, issuer: DevIssuer) -> str:
    """Create the team, its member and its runners; store a session; return its cookie token."""
    system = Principal.system()
    team = await services.teams.create_team(
        system, CreateTeam(name=TEAM, required_labels=("team-bench",), max_runners=None)
    )
    await services.users.create_user(
        system, CreateUser(email=EMAIL, display_name="Member", teams=(TEAM,))
    )
    member = await services.auth.authenticate(issuer.mint_user_token(EMAIL))  # binds the login
    now = services.clock.now()
    async with services.store.unit_of_work() as uow:
        for number in range(RUNNERS):
            runner = RunnerRecord(
                id=new_id(),
                name=f"bench-{number:04}",
                team_id=team.id,
                team_name=TEAM,
                labels=("team-bench", "gpu-a100" if number % 2 else "size-large"),
                runner_group_id=team.default_runner_group_id,
                status=RunnerStatus.PROVISIONING,
                method=ProvisionMethod.JIT,
                created_by=Actor(kind=member.kind, id=member.id, name=EMAIL),
                created_at=now - timedelta(seconds=number),
                updated_at=now,
                github_runner_id=number + 1,
            )
            await uow.runners.reserve(runner, None)
            status = RunnerStatus.ONLINE if number % 2 else RunnerStatus.PENDING
            await uow.runners.save(attrs.evolve(runner, status=status))
        token = "bench-session-token"  # noqa: S105 - the cookie the bench sends
        assert member.id is not None
        assert member.issuer is not None
        assert member.subject is not None
        await uow.dashboard_sessions.add(
            DashboardSession(
                key=Signer(SECRET.encode()).session_key(token),
                user_id=member.id,
                issuer=member.issuer,
                subject=member.subject,
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    return token


async def _measure(http: httpx.AsyncClient, path: str) -> dict[str, object]:
    for _ in range(WARM_UP):
        (await http.get(path)).raise_for_status()
    latencies = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await http.get(path)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "requests": len(latencies),
    }


async def _bench(database_url: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        secret_file = Path(directory) / "session-secret"
        secret_file.write_text(SECRET, encoding="utf-8")
        issuer = DevIssuer(ISSUER_URL)
        async with httpx.AsyncClient(transport=issuer.transport()) as identity_client:
            verifier = JwtVerifier([issuer.issuer_config()], identity_client)
            services = bootstrap(_settings(database_url, secret_file), identity=verifier)
            try:
                token = await _seed(services, issuer)
                app = create_app(
                    services, extra_handlers=dashboard_handlers(services, client=identity_client)
                )
                transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
                async with (
                    app.lifespan(),
                    httpx.AsyncClient(
                        transport=transport,
                        base_url="http://127.0.0.1:8000",
                        cookies={"gharts_session": token},
                    ) as http,
                ):
                    first = await http.get("/")
                    if f"{RUNNERS} runners" not in first.text:
                        raise RuntimeError("the runners page does not show the 1,000 runners")
                    return {name: await _measure(http, path) for name, path in PAGES.items()}
            finally:
                await services.aclose()


def run() -> dict[str, object]:
    """Return p50/p99 latency of the runners page with 1,000 visible runners."""
    results: dict[str, Any] = on_sqlite(_bench)
    results["setup"] = {
        "database": "sqlite, a freshly migrated temporary file",
        "visible_runners": RUNNERS,
        "page_size": 50,
        "target": "p50 <= 50 ms (issue 13)",
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
