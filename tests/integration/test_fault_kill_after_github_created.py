"""Fault injection: ``kill -9`` of ``gharts serve`` after GitHub created the runner, then restart.

``gharts simulator`` runs as a process whose answers come late (``answer_latency_ms``): it has
created the JIT runner and not yet told the server. The server (``--with-worker``, a one-second
``provisioning_grace_seconds``) is killed right then, so its reservation stays ``provisioning``
with a runner on GitHub nobody will start. Started again, its worker's first cycle resolves the
row by name: the runner is removed from GitHub, the row retired with an audit row, the team's one
quota slot free again (a new request is provisioned).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from gharts_adapters.github.simulator.wiring import app_key_pair
from tests.integration.test_cli_serve import GHARTS, START_SECONDS
from tests.integration.test_fault_kill_serve import ADMIN, MEMBER, config_data, issuer_server, toml
from tests.integration.test_shared_simulator import SCOPE
from tests.integration.worker_support import eventually
from tests.processes import free_port

# Far longer than the kill takes, so the server never hears GitHub's answer; clearing the faults
# after the kill sends it (to nobody), so the simulator's shutdown does not wait for it.
ANSWER_LATENCY_MS = 120_000


def environment() -> dict[str, str]:
    """The test's environment without the developer's ``GHARTS_*`` settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}


@asynccontextmanager
async def simulator_process(state: Path, port: int) -> AsyncIterator[dict[str, Any]]:
    """Start ``gharts simulator`` with a key of ours; yield its App settings at once.

    Nothing waits for it here: it boots while ``gharts serve`` does, both importing for seconds.
    """
    key = state.with_name("app.pem")
    key.parent.mkdir(parents=True)
    key.write_text(app_key_pair()[0])
    process = await asyncio.create_subprocess_exec(
        *GHARTS, "simulator", "--port", str(port), "--state", str(state),
        "--private-key-path", str(key), "--scope", SCOPE,
        env=environment(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield {
            "api_url": f"http://127.0.0.1:{port}",
            "app_id": 1001,
            "installation_id": 2002,
            "private_key_path": str(key),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.wait()


@asynccontextmanager
async def serve(config: Path, port: int, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run ``gharts serve --with-worker`` on ``port``; kill it afterwards."""
    with log.open("a") as out:  # read it when this fails
        process = await asyncio.create_subprocess_exec(
            *GHARTS, "--config", str(config), "serve", "--with-worker",
            "--host", "127.0.0.1", "--port", str(port),
            env=environment(), stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def ready(base: str) -> bool:
    """Whether ``/readyz`` answers 200: the database, the issuer and GitHub (a token) usable."""
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            return (await client.get(f"{base}/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def answering(sim: httpx.AsyncClient) -> bool:
    """Whether the simulator process listens yet."""
    try:
        return (await sim.get("/_simulator/runners")).status_code == 200
    except httpx.TransportError:
        return False


async def seed(http: httpx.AsyncClient, admin: dict[str, str], member: dict[str, str]) -> None:
    """Team ``alpha`` with one quota slot, and its member, known to gharts."""
    team = {"name": "alpha", "max_runners": 1, "required_labels": ["team-alpha"]}
    created = await http.post("/api/v1/admin/teams", json=team, headers=admin)
    assert 201 == created.status_code, created.text
    user = {"email": MEMBER, "display_name": "dev", "teams": ["alpha"]}
    created = await http.post("/api/v1/admin/users", json=user, headers=admin)
    assert 201 == created.status_code, created.text
    assert 200 == (await http.get("/api/v1/auth/me", headers=member)).status_code


async def github_runners(sim: httpx.AsyncClient) -> list[dict[str, Any]]:
    runners: list[dict[str, Any]] = (await sim.get("/_simulator/runners")).json()["runners"]
    return runners


async def test_kill_9_after_github_created_the_runner_then_the_restarted_worker_resolves_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with issuer_server() as issuer:
        config = tmp_path / "gharts.toml"
        log = tmp_path / "serve.log"
        admin = {"Authorization": f"Bearer {issuer.mint_user_token(ADMIN)}"}
        member = {"Authorization": f"Bearer {issuer.mint_user_token(MEMBER)}"}
        body = {"labels": ["team-alpha"], "runner_name_prefix": "killed"}
        async with simulator_process(tmp_path / "sim" / "github.json", free_port()) as simulator:
            data = config_data(sqlite_url, issuer, simulator)
            data["sync"]["interval_seconds"] = 3600  # only the cycle at start: none mid-request
            config.write_text(toml(data))
            sim = httpx.AsyncClient(base_url=simulator["api_url"], timeout=30)
            http = httpx.AsyncClient(base_url=base, timeout=120)
            async with sim, http:
                async with serve(config, port, log) as server:
                    await eventually(lambda: answering(sim), within=START_SECONDS, what="sim")
                    # Ready means the server holds an installation token: GitHub's next answer,
                    # the late one, is the JIT call's own.
                    await eventually(lambda: ready(base), within=START_SECONDS, what="ready")
                    await seed(http, admin, member)
                    faults = {"answer_latency_ms": ANSWER_LATENCY_MS}
                    (await sim.put("/_simulator/faults", json=faults)).raise_for_status()
                    request = asyncio.create_task(
                        http.post("/api/v1/runners/jit", json=body, headers=member)
                    )
                    await eventually(lambda: github_runners(sim), what="GitHub creating it")
                    server.send_signal(signal.SIGKILL)
                    await server.wait()
                (await sim.delete("/_simulator/faults")).raise_for_status()
                created = await github_runners(sim)
                cut_off = (await asyncio.gather(request, return_exceptions=True))[0]

                async with serve(config, port, log):

                    async def resolved() -> bool:
                        return not await github_runners(sim)

                    await eventually(resolved, within=START_SECONDS, what="the runner removed")
                    # GitHub hears of the removal before the row is written, and the worker's
                    # first cycle may run before the server listens: wait for both.
                    await eventually(lambda: ready(base), within=START_SECONDS, what="ready")

                    async def deleted_rows() -> list[dict[str, Any]]:
                        listed = await http.get(
                            "/api/v1/runners", params={"status": "deleted"}, headers=admin
                        )
                        rows: list[dict[str, Any]] = listed.json()["runners"]
                        return rows

                    await eventually(deleted_rows, within=START_SECONDS, what="the row deleted")
                    listed = await deleted_rows()
                    audit = await http.get(
                        "/api/v1/admin/audit", params={"action": "runner.status"}, headers=admin
                    )
                    again = await http.post("/api/v1/runners/jit", json=body, headers=member)

    assert isinstance(cut_off, httpx.TransportError)  # the caller saw its connection drop
    [killed] = [runner["name"] for runner in created]
    rows = {row["runner_name"]: row["deleted_reason"] for row in listed}
    stuck = [
        event["details"]
        for event in audit.json()["events"]
        if event["details"].get("kind") == "remove_stuck_runner"
    ]
    assert {killed: "stuck_provisioning"} == rows
    assert [("provisioning", "deleted", "stuck_provisioning")] == [
        (details["from"], details["to"], details["reason"]) for details in stuck
    ]
    assert 201 == again.status_code, again.text  # the team's only slot is free again
