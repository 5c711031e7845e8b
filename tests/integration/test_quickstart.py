"""The README quickstart as a newcomer runs it: ``gharts dev`` in a subprocess, then its banner.

The commands come from the banner the server prints: the ``gharts dev token`` command inside the
``curl`` is run as it is (with the virtualenv's ``gharts``), and the ``curl``'s URL, headers and
body are sent with httpx. Waiting for the server and the worker is a bounded poll, since they
live in another process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs
import httpx

from tests.processes import GHARTS, eventually, free_port

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
WORKER_TIMEOUT = 30.0
T = TypeVar("T")


@attrs.frozen
class Curl:
    """The banner's provisioning ``curl``, taken apart."""

    url: str
    token_command: list[str]
    body: dict[str, Any]

    @classmethod
    def parse(cls, line: str) -> Curl:
        """Split ``curl -s -X POST URL -H ... -H ... -d BODY`` as the shell would."""
        words = shlex.split(line)
        headers = [words[i + 1] for i, word in enumerate(words) if word == "-H"]
        [authorization] = [h for h in headers if h.startswith("Authorization: ")]
        inner = re.fullmatch(r"Authorization: Bearer \$\((.+)\)", authorization)
        assert inner is not None, authorization
        assert "Content-Type: application/json" in headers
        assert ["curl", "-s", "-X", "POST"] == words[:4]
        body = json.loads(words[words.index("-d") + 1])
        return cls(url=words[4], token_command=shlex.split(inner[1]), body=body)


@attrs.define
class DevServer:
    """A running ``gharts dev`` process and what it printed."""

    process: subprocess.Popen[bytes]
    base_url: str
    stdout: Path
    stderr: Path
    cwd: Path

    def banner(self) -> str:
        """What the process printed on stdout so far."""
        return self.stdout.read_text(encoding="utf-8")

    def banner_line(self, prefix: str) -> str:
        """The first banner line starting (after indentation) with ``prefix``."""
        lines = [line.strip() for line in self.banner().splitlines()]
        return next(line for line in lines if line.startswith(prefix))

    def command(self, prefix: str) -> list[str]:
        """The banner's command line starting with ``prefix``, split as the shell would."""
        return shlex.split(self.banner_line(prefix), comments=True)

    def run(self, command: list[str]) -> str:
        """Run a printed ``gharts ...`` command in the server's directory; return its stdout."""
        assert "gharts" == command[0], command
        done = subprocess.run(  # noqa: S603 - the command is the banner's, run as printed
            [str(GHARTS), *command[1:]],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=STOP_TIMEOUT,
        )
        assert 0 == done.returncode, done.stderr
        return done.stdout.strip()

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send ``sig`` and return the exit status (failing after ``STOP_TIMEOUT``)."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def logs(self) -> str:
        """Everything the process wrote, for failure messages."""
        return self.banner() + self.stderr.read_text(encoding="utf-8")


def _healthy(server: DevServer) -> bool | None:
    if server.process.poll() is not None:
        raise AssertionError(
            f"gharts dev exited with {server.process.returncode}:\n{server.logs()}"
        )
    try:
        return httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200 or None
    except httpx.TransportError:
        return None


@contextmanager
def gharts_dev(cwd: Path, port: int, *flags: str) -> Iterator[DevServer]:
    """Start ``gharts dev --port PORT`` in ``cwd``; wait for /healthz; kill it if still running."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    runs = len(list(cwd.glob("stdout-*.txt")))
    stdout, stderr = cwd / f"stdout-{runs}.txt", cwd / f"stderr-{runs}.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(GHARTS), "dev", "--port", str(port), *flags],
            cwd=cwd,
            stdout=out,
            stderr=err,
            env=environment,
        )
    server = DevServer(process, f"http://127.0.0.1:{port}", stdout, stderr, cwd)
    try:
        eventually(lambda: _healthy(server), timeout=START_TIMEOUT, what="GET /healthz")
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def bearer(token: str) -> dict[str, str]:
    """Return the ``Authorization`` header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def provision_as_printed(server: DevServer) -> tuple[dict[str, Any], str]:
    """Send the banner's ``curl`` with httpx; return the runner and the token the curl minted."""
    curl = Curl.parse(server.banner_line("curl -s -X POST"))
    assert ["gharts", "dev", "token", "--client", "demo-ci"] == curl.token_command
    token = server.run(curl.token_command)
    response = httpx.post(curl.url, headers=bearer(token), json=curl.body, timeout=10)
    assert 201 == response.status_code, response.text
    created: dict[str, Any] = response.json()
    return created, token


def runner_names(server: DevServer, token: str) -> list[str]:
    """The names of the runners ``GET /api/v1/runners`` shows the token's owner."""
    response = httpx.get(f"{server.base_url}/api/v1/runners", headers=bearer(token), timeout=10)
    assert 200 == response.status_code, response.text
    return [runner["runner_name"] for runner in response.json()["runners"]]


def runner_status(server: DevServer, token: str, runner_id: str) -> str:
    """The status gharts records for one runner."""
    url = f"{server.base_url}/api/v1/runners/{runner_id}"
    response = httpx.get(url, headers=bearer(token), timeout=10)
    assert 200 == response.status_code, response.text
    status: str = response.json()["status"]
    return status


def test_quickstart_as_a_newcomer_runs_it(tmp_path: Path) -> None:
    """Provision with the banner's commands, see the runner come online, stop, restart, reset."""
    port = free_port()
    with gharts_dev(tmp_path, port) as server:
        runner, client_token = provision_as_printed(server)
        admin_token = server.run(server.command("gharts dev token --email"))
        listed = runner_names(server, client_token)
        simulator = f"{server.base_url}/_github/_simulator/runners/{runner['github_runner_id']}"
        online = httpx.post(f"{simulator}/online", timeout=10)
        trigger = httpx.post(
            f"{server.base_url}/api/v1/admin/sync/trigger", headers=bearer(admin_token), timeout=10
        )
        eventually(
            lambda: runner_status(server, client_token, runner["runner_id"]) == "online" or None,
            timeout=WORKER_TIMEOUT,
            what="the worker to mark the runner online",
        )
        first_code = server.stop(signal.SIGINT)
    with gharts_dev(tmp_path, port) as again:
        kept = runner_names(again, client_token)  # the key was kept, so the old token still works
        second_code = again.stop(signal.SIGTERM)
    with gharts_dev(tmp_path, port, "--reset") as fresh:
        refused = httpx.get(f"{fresh.base_url}/api/v1/runners", headers=bearer(client_token))
        after_reset = runner_names(fresh, fresh.run(fresh.command("gharts dev token --client")))
        fresh_code = fresh.stop()
    assert ("demo", ["demo", "gpu-a100"]) == (runner["team_name"], sorted(runner["labels"]))
    assert [runner["runner_name"]] == listed
    assert (200, 202) == (online.status_code, trigger.status_code), trigger.text
    assert (0, 0, 0) == (first_code, second_code, fresh_code), server.logs() + again.logs()
    assert [runner["runner_name"]] == kept
    assert "kept the data of the previous run" in again.banner()
    assert (401, "INVALID_TOKEN") == (refused.status_code, refused.json()["error_code"])
    assert [] == after_reset
    assert "created admin admin@gharts.dev" in fresh.banner()
