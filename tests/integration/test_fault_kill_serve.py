"""Fault injection: ``kill -9`` of ``gharts serve`` mid-provisioning, then recovery.

``gharts serve`` runs as a real process against ``gharts simulator`` (its GitHub) and a loopback
development issuer; GitHub answers slowly, the server is killed while its provisioning requests
wait for GitHub, and GitHub goes on to create the runners nobody will ever start. The sync worker
(with a one-second grace) must then remove every one of them from GitHub, retire every row and
free every quota slot: nothing left on GitHub unaccounted for, no slot held for nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from gharts_adapters.identity import DevIssuer
from gharts_core.model import RunnerStatus
from gharts_core.ports.storage import Page, RunnerFilter
from gharts_http.bootstrap import bootstrap
from gharts_http.settings import settings_from_mapping
from tests.integration.test_cli_serve import GHARTS, START_SECONDS, answers
from tests.integration.test_shared_simulator import SCOPE, simulator_process
from tests.integration.worker_support import eventually
from tests.processes import free_port

ADMIN = "admin@example.com"
MEMBER = "dev@example.com"
REQUESTS = 5
LATENCY_MS = 3000


@contextmanager
def issuer_server() -> Iterator[DevIssuer]:
    """Serve a development issuer's discovery document and JWKS on a loopback port."""
    port = free_port()
    issuer = DevIssuer(f"http://127.0.0.1:{port}/oidc")
    documents = {f"/oidc{path}": body for path, body in issuer.documents().items()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body or {}).encode())

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()


def config_data(url: str, issuer: DevIssuer, simulator: dict[str, Any]) -> dict[str, Any]:
    """The configuration of the server and of the recovering worker."""
    return {
        "database": {"url": url},
        "github": {
            "mode": "app",
            "scope": SCOPE,
            "api_url": simulator["api_url"],
            "app_id": simulator["app_id"],
            "installation_id": simulator["installation_id"],
            "private_key_path": simulator["private_key_path"],
        },
        "auth": {
            "issuers": [{"issuer": issuer.issuer, "audiences": [issuer.audience]}],
            "bootstrap_admins": [ADMIN],
        },
        "sync": {"provisioning_grace_seconds": 1},
    }


def toml(data: dict[str, Any]) -> str:
    """Write ``config_data`` as TOML (strings, integers and one array of tables)."""
    lines: list[str] = []
    for section in ("database", "github", "sync"):
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in data[section].items()]
    lines.append("[auth]")
    lines.append(f"bootstrap_admins = {json.dumps(data['auth']['bootstrap_admins'])}")
    for entry in data["auth"]["issuers"]:
        lines.append("[[auth.issuers]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"


async def live_rows(data: dict[str, Any]) -> list[Any]:
    """Return the runner rows that still count (not deleted)."""
    services = bootstrap(settings_from_mapping(data, environ={}))
    try:
        async with services.store.unit_of_work() as uow:
            page = await uow.runners.list(RunnerFilter(), Page(limit=100))
        return [runner for runner in page.items if runner.status is not RunnerStatus.DELETED]
    finally:
        await services.aclose()


async def resolve(data: dict[str, Any]) -> dict[str, int]:
    """Run one sync cycle as the recovering worker would; return its action counts."""
    services = bootstrap(settings_from_mapping(data, environ={}))
    try:
        return dict((await services.sync.run_cycle()).actions)
    finally:
        await services.aclose()


async def test_kill_9_mid_provisioning_then_the_worker_recovers_every_slot(
    fresh_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    with (
        ExitStack() as stack,
        issuer_server() as issuer,
        simulator_process(tmp_path / "sim" / "github.json", free_port()) as simulator,
    ):
        data = config_data(fresh_database_url, issuer, simulator)
        config = tmp_path / "gharts.toml"
        config.write_text(toml(data))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
        log = stack.enter_context((tmp_path / "serve.log").open("w"))  # read it when this fails
        server = await asyncio.create_subprocess_exec(
            *GHARTS, "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port),
            env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        admin = {"Authorization": f"Bearer {issuer.mint_user_token(ADMIN)}"}
        member = {"Authorization": f"Bearer {issuer.mint_user_token(MEMBER)}"}
        sim = httpx.AsyncClient(base_url=simulator["api_url"], timeout=30)
        async with sim, httpx.AsyncClient(base_url=base, timeout=30) as http:
            await eventually(lambda: answers(base), within=START_SECONDS, what="serve up")
            team = {"name": "alpha", "max_runners": REQUESTS, "required_labels": ["team-alpha"]}
            (await http.post("/api/v1/admin/teams", json=team, headers=admin)).raise_for_status()
            user = {"email": MEMBER, "display_name": "dev", "teams": ["alpha"]}
            (await http.post("/api/v1/admin/users", json=user, headers=admin)).raise_for_status()
            me = await http.get("/api/v1/auth/me", headers=member)
            assert 200 == me.status_code, me.text
            faults = {"latency_ms": LATENCY_MS}
            (await sim.put("/_simulator/faults", json=faults)).raise_for_status()
            body = {"labels": ["team-alpha"], "runner_name_prefix": "killed"}
            requests = [
                asyncio.create_task(http.post("/api/v1/runners/jit", json=body, headers=member))
                for _ in range(REQUESTS)
            ]
            await eventually(lambda: _count(live_rows(data), REQUESTS), what="reservations")
            server.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            await server.wait()
            answered = await asyncio.gather(*requests, return_exceptions=True)

            (await sim.delete("/_simulator/faults")).raise_for_status()
            counts: dict[str, int] = {}

            async def recovered() -> bool:
                for kind, count in (await resolve(data)).items():
                    counts[kind] = counts.get(kind, 0) + count
                return not await live_rows(data)

            await eventually(recovered, within=60, what="every slot recovered")
            recovery_seconds = time.monotonic() - killed_at
            on_github = (await sim.get("/_simulator/runners")).json()["runners"]
            live_after = len(await live_rows(data))

    five_hundreds = [r for r in answered if isinstance(r, httpx.Response) and r.status_code >= 500]
    print(  # the figures of the fault for the note
        f"\nkill -9 mid-provisioning: requests={REQUESTS} 5xx={len(five_hundreds)} "
        f"live_rows_after={live_after} on_github_after={len(on_github)} "
        f"resolved={counts} recovery_seconds={recovery_seconds:.1f}"
    )
    assert [] == five_hundreds  # the callers saw their connection drop, never a 5xx
    # GitHub created the runners of the calls it had received (removed), or none (marked).
    resolved = counts.get("remove_stuck_runner", 0) + counts.get("mark_deleted", 0)
    assert REQUESTS == resolved, counts
    assert [] == on_github


async def _count(rows: Any, expected: int) -> bool:
    return len(await rows) >= expected
