"""The Go client (clients/go) against a live ``gharts dev``: ``go vet`` and ``go test`` must pass.

The Go tests read the server's address and how to mint tokens from ``GHARTS_TEST_*`` variables
(see ``clients/go/gharts/live_support_test.go``); with them set nothing in the Go suite skips,
and ``-json`` output is read to prove it. Go comes from Debian's ``golang-go``; no module proxy is
reachable, so the client uses the standard library only and the toolchain runs offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from gharts_adapters.identity import DevIssuer
from gharts_http.cli.dev.data_dir import issuer_url
from tests.integration.test_quickstart import gharts_dev
from tests.processes import free_port

GO_MODULE = Path(__file__).parents[2] / "clients" / "go"
GHARTS = Path(sys.executable).with_name("gharts")
GO_TIMEOUT = 600.0
DATA_DIR = "dev-data"


def go_binary() -> str:
    """The ``go`` command; missing Go fails under CI (``.ci/run`` installs it), skips elsewhere."""
    found = shutil.which("go")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("go is not installed (apt-get install -y golang-go; .ci/run does it)")
        pytest.skip("go is not installed (apt-get install -y golang-go)")
    return found


def go_environment(extra: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment of the Go commands: offline, the local toolchain, the live server."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GHARTS_")}
    environment |= {"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "", "CGO_ENABLED": "0"}
    if "HOME" not in environment:
        environment["GOCACHE"] = str(tmp_path / "go-cache")
    return environment | extra


def go(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``go ARGUMENTS`` in the module and return what it printed."""
    return subprocess.run(  # noqa: S603 - the go toolchain on our own module
        [go_binary(), *arguments],
        cwd=GO_MODULE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=GO_TIMEOUT,
        check=False,
    )


def go_results(json_lines: str) -> tuple[dict[str, str], dict[str, str]]:
    """Map each Go test (and subtest) to its final action (pass, fail, skip) and its output."""
    results: dict[str, str] = {}
    output: dict[str, str] = {}
    for line in json_lines.splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        name = event.get("Test")
        if name and event.get("Action") in {"pass", "fail", "skip"}:
            results[name] = event["Action"]
        elif name and event.get("Action") == "output":
            output[name] = output.get(name, "") + event.get("Output", "")
    return results, output


def test_go_vet_and_go_test_pass_against_a_live_server(tmp_path: Path) -> None:
    """Every Go test runs (none skips) and passes, including the live ones."""
    port = free_port()
    data_dir = tmp_path / DATA_DIR
    with gharts_dev(tmp_path, port, "--data-dir", str(data_dir)) as server:
        issuer = issuer_url(server.base_url)
        expired = DevIssuer(issuer, key_dir=data_dir).mint_machine_token(
            "demo-ci", lifetime=timedelta(minutes=-5)
        )
        token = f"{GHARTS} dev token --data-dir {data_dir} --public-url {server.base_url}"
        environment = go_environment(
            {
                "CI": "true",  # nothing may skip
                "GHARTS_TEST_URL": server.base_url,
                "GHARTS_TEST_ISSUER": issuer,
                "GHARTS_TEST_SIMULATOR_URL": f"{server.base_url}/_github/_simulator",
                "GHARTS_TEST_TOKEN_COMMAND": f"{token} --client",
                "GHARTS_TEST_ADMIN_TOKEN_COMMAND": f"{token} --email admin@gharts.dev",
                "GHARTS_TEST_CLIENT": "demo-ci",
                "GHARTS_TEST_TEAM": "demo",
                "GHARTS_TEST_EXPIRED_TOKEN": expired,
            },
            tmp_path,
        )
        vet = go(["vet", "./..."], environment)
        tested = go(["test", "-count=1", "-json", "./..."], environment)
        logs = server.logs()

    assert 0 == vet.returncode, vet.stdout + vet.stderr
    results, output = go_results(tested.stdout)
    failed = sorted(name for name, action in results.items() if action != "pass")
    shown = "".join(output.get(name, "") for name in failed) or tested.stdout[-5000:]
    assert ([], 0) == (failed, tested.returncode), shown + tested.stderr + logs[-5000:]
    live = {name for name in results if name.startswith("TestLive")}
    assert {
        "TestLiveProvisionListDelete",
        "TestLiveExpiredTokenIsRefreshedOnce",
        "TestLivePolicyViolationIsNotRetried",
        "TestLiveQuotaExceededWaitsRetryAfter",
        "TestLiveGitHubFaultsAreRetriedThenSucceed",
        "TestLiveCancellationMidBackoffStopsEverything",
    } <= live


def test_without_a_server_the_live_go_tests_say_how_to_run_them(tmp_path: Path) -> None:
    """``go test`` on a laptop skips the live tests with the command to run them instead."""
    environment = go_environment({}, tmp_path)
    environment.pop("CI", None)

    tested = go(
        ["test", "-count=1", "-v", "-run", "TestLiveProvisionListDelete", "./..."], environment
    )

    assert 0 == tested.returncode, tested.stdout + tested.stderr
    assert "--- SKIP: TestLiveProvisionListDelete" in tested.stdout
    assert "tests/integration/test_go_client.py" in tested.stdout
