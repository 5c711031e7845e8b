"""One simulated GitHub for several processes: ``gharts simulator`` and the mount of ``serve``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from gharts_http.bootstrap import bootstrap
from gharts_http.cli.run import app_for
from tests.integration.api_support import settings_for
from tests.integration.cli_harness import Cli, clean_environment
from tests.processes import eventually, free_port

GHARTS = (sys.executable, "-m", "gharts_http.cli")
SCOPE = "org:acme"
START_SECONDS = 60.0


@contextmanager
def simulator_process(state: Path, port: int) -> Iterator[dict[str, Any]]:
    """Run ``gharts simulator``; yield the JSON line it announces itself with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [*GHARTS, "simulator", "--port", str(port), "--state", str(state), "--scope", SCOPE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        announced: dict[str, Any] = json.loads(process.stdout.readline())
        _wait_until_it_answers(announced["api_url"])
        yield announced
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert 0 == code


def _wait_until_it_answers(api_url: str) -> None:
    # The announcement comes before uvicorn listens. Polled every 0.1 s: httpx's own connect
    # retries back off exponentially and waited seconds after the port was open.
    def answered() -> bool | None:
        try:
            httpx.get(f"{api_url}/_simulator/runners", timeout=5).raise_for_status()
        except httpx.TransportError:
            return None
        return True

    eventually(answered, timeout=START_SECONDS, what=f"gharts simulator at {api_url}")


def app_mode_cli(
    tmp_path: Path,
    sqlite_url: str,
    announced: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """``gharts`` configured as a real GitHub App whose GitHub is the simulator process."""
    config = tmp_path / "gharts.toml"
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n'
        f'[github]\nmode = "app"\nscope = "{SCOPE}"\napi_url = "{announced["api_url"]}"\n'
        f"app_id = {announced['app_id']}\ninstallation_id = {announced['installation_id']}\n"
        f'private_key_path = "{announced["private_key_path"]}"\n'
    )
    return Cli(config, sqlite_url, capsys)


def test_processes_share_one_simulated_github_that_survives_a_restart(
    tmp_path: Path,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12, finding 8: ``sync --once`` beside a simulator-mode server saw ``observed: 0``."""
    clean_environment(monkeypatch)
    state, port = tmp_path / "sim" / "github.json", free_port()
    with simulator_process(state, port) as announced:
        body = {"name": "shared-1", "labels": ["gpu"], "scope": SCOPE}
        created = httpx.post(f"{announced['api_url']}/_simulator/runners", json=body)
        cli = app_mode_cli(tmp_path, sqlite_url, announced, capsys)
        first = cli("sync", "--once")
        second = cli("sync", "--once")
    with simulator_process(state, port) as again:
        listed = httpx.get(f"{again['api_url']}/_simulator/runners").json()

    assert 201 == created.status_code, created.text
    assert (0, 1, 1) == (first.code, first.json()["observed"], first.json()["unmanaged"])
    assert (0, 1) == (second.code, second.json()["observed"])
    assert ["shared-1"] == [runner["name"] for runner in listed["runners"]]
    assert announced["private_key_path"] == again["private_key_path"]


async def test_serve_in_simulator_mode_mounts_the_simulator_and_its_control_api(
    sqlite_url: str,
) -> None:
    """Product spec section 4: the control API is served wherever the simulator is mounted."""
    services = bootstrap(settings_for(sqlite_url))
    try:
        assert services.simulator is not None
        services.simulator.register("seen-by-serve", ["gpu"], scope=SCOPE)
        transport = httpx.ASGITransport(app=cast("Any", app_for(services)))
        async with httpx.AsyncClient(transport=transport, base_url="http://gharts.test") as http:
            listed = await http.get("/_github/_simulator/runners")
    finally:
        await services.aclose()

    assert 200 == listed.status_code
    assert ["seen-by-serve"] == [runner["name"] for runner in listed.json()["runners"]]
