"""``server.forwarded_allow_ips`` in a real ``gharts serve``: whose ``X-Forwarded-For`` counts.

The server trusts one proxy address, 127.0.0.2. Both requests claim to be forwarded for
198.51.100.7; the one from 127.0.0.2 is audited with that address, the one from 127.0.0.1 (not a
trusted proxy) with its own peer address. Loopback is all of 127.0.0.0/8 on Linux, so the client
picks its source address with ``local_address``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_cli_serve import START_SECONDS, answers, serving
from tests.integration.test_fault_kill_serve import issuer_server
from tests.integration.worker_support import eventually

ADMIN = "admin@example.com"
PROXY, OTHER_PEER, CLIENT = "127.0.0.2", "127.0.0.1", "198.51.100.7"


def config_text(database_url: str, issuer: str, audience: str) -> str:
    """``gharts serve`` on the simulator, trusting the loopback issuer and one proxy."""
    return (
        f"[database]\nurl = {json.dumps(database_url)}\n"
        f'[github]\nmode = "simulator"\nscope = "org:acme"\n'
        f"[server]\nforwarded_allow_ips = {json.dumps([PROXY])}\n"
        f"[auth]\nbootstrap_admins = {json.dumps([ADMIN])}\n"
        f"[[auth.issuers]]\nissuer = {json.dumps(issuer)}\naudiences = {json.dumps([audience])}\n"
    )


async def create_team(base: str, source: str, token: str, name: str) -> None:
    """Create team ``name`` from ``source``, claiming to be forwarded for ``CLIENT``."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": CLIENT}
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=30) as http:
        body = {"name": name, "required_labels": [f"team-{name}"]}
        response = await http.post("/api/v1/admin/teams", json=body, headers=headers)
        assert 201 == response.status_code, response.text


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    sqlite_url: str, tmp_path: Path
) -> None:
    with issuer_server() as issuer:
        config = tmp_path / "gharts.toml"
        config.write_text(config_text(sqlite_url, issuer.issuer, issuer.audience))
        token = issuer.mint_user_token(ADMIN)
        async with serving(config) as (_, base):
            await eventually(lambda: answers(base), within=START_SECONDS, what="serve up")
            await create_team(base, PROXY, token, "proxied")
            await create_team(base, OTHER_PEER, token, "direct")
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                listed = await http.get(
                    "/api/v1/admin/audit",
                    params={"action": "team.create"},
                    headers={"Authorization": f"Bearer {token}"},
                )

    events: list[dict[str, Any]] = listed.json()["events"]
    origin = {event["target_id"]: event["source_ip"] for event in events}
    assert {"proxied": CLIENT, "direct": OTHER_PEER} == origin
