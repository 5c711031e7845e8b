"""Out-of-process HTTP benchmark: a real ``gharts serve`` driven by ``wrk`` from another process.

The in-process benchmark (``bench_http``) measures the client as much as the server; this one
starts ``gharts serve`` as its own process (after ``gharts db upgrade``), a development issuer
on loopback for it to fetch its JWKS from (``bench._issuer``), and drives it with ``wrk``
(Debian's ``wrk`` package) at 1 and 8 connections: ``POST /api/v1/runners/jit``,
``GET /api/v1/runners``, ``DELETE /api/v1/runners/{id}`` and ``GET /healthz``, the ceiling of
the same run. GitHub is ``gharts simulator``, a process of its own on loopback that the server
reaches as a GitHub App (``github.mode = "app"``, ``github.api_url`` pointing at it), as in
production where GitHub is another host: the server's RSS and CPU are the server's alone, and a
JIT request pays for everything gharts does, its GitHub calls over HTTP included. Callers are
eight machine clients of one team without a quota, round robin; the per-principal rate limit is
off.

Figures per endpoint and level: requests per second, p50 and p99 latency as wrk measured them,
the server's CPU time per request (from ``/proc``: it varies far less with other jobs on the
machine than the latencies, so it is the figure to compare between runs), and the JIT/healthz
ratio. Then the server's resident memory (``VmRSS``) after 10,000 and after
100,000 JIT requests (``GHARTS_BENCH_RSS_REQUESTS`` changes the second figure; ``0`` skips the
memory run, which takes about 20 minutes per database on two cores). On SQLite and on
PostgreSQL (skipped when no server answers). Never a test: the figures go in the results file.

Run it with ``python -m bench serve``; ``GHARTS_BENCH_SECONDS`` sets each wrk run's length.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import _floor
from bench._databases import POSTGRES_URL
from bench._issuer import issuer_url
from gharts_adapters.identity import DevIssuer
from gharts_adapters.identity.dev_issuer import DEFAULT_AUDIENCE
from gharts_http.cli.simulator import DEFAULT_APP_ID, DEFAULT_INSTALLATION_ID, app_keys

SCOPE = "org:bench"
SECONDS = int(os.environ.get("GHARTS_BENCH_SECONDS", "10"))
RSS_REQUESTS = (10_000, int(os.environ.get("GHARTS_BENCH_RSS_REQUESTS", "100000")))
LEVELS = ((1, 1), (8, 2))  # (connections, wrk threads): two threads for two cores
PRINCIPALS = 8
TEAM = "bench"
ADMIN = "bench-admin@example.com"
JIT_BODY = {"labels": ["gpu-a100", "size-large"], "runner_name_prefix": "bench"}

_LUA = """
local tokens = {%(tokens)s}
local paths = {%(paths)s}
local method, body = "%(method)s", %(body)s
local n = 0
request = function()
  n = n + 1
  local headers = {["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]}
  if body ~= nil then headers["Content-Type"] = "application/json" end
  return wrk.format(method, paths[(n %% #paths) + 1], headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format(
    '\\n{"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _gharts() -> str:
    found = Path(sys.executable).with_name("gharts")
    return str(found) if found.exists() else "gharts"


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 30 s")


@contextmanager
def _process(args: list[str], env: dict[str, str], probe: str) -> Iterator[subprocess.Popen[bytes]]:
    # The benchmark's own commands (gharts, this Python), never input from elsewhere.
    process = subprocess.Popen(  # noqa: S603
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until_up(probe, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _config(directory: Path, database_url: str, issuer: str, port: int, github: str) -> Path:
    path = directory / "gharts.toml"
    path.write_text(
        "\n".join(
            [
                "[server]",
                f"port = {port}",
                "provision_rate_per_minute = 0",
                "[database]",
                f"url = {json.dumps(database_url)}",
                "[github]",
                'mode = "app"',
                f"scope = {json.dumps(SCOPE)}",
                f"api_url = {json.dumps(github)}",
                f"app_id = {DEFAULT_APP_ID}",
                f"installation_id = {DEFAULT_INSTALLATION_ID}",
                f"private_key_path = {json.dumps(str(directory / 'app.pem'))}",
                "[auth]",
                f"bootstrap_admins = [{json.dumps(ADMIN)}]",
                "[[auth.issuers]]",
                f"issuer = {json.dumps(issuer)}",
                f"audiences = [{json.dumps(DEFAULT_AUDIENCE)}]",
                "",
            ]
        )
    )
    return path


def _seed(base: str, issuer: DevIssuer) -> list[str]:
    """Create the team and the machine clients through the admin API; return their tokens."""
    admin = {"Authorization": f"Bearer {issuer.mint_user_token(ADMIN)}"}
    with httpx.Client(base_url=base, headers=admin, timeout=30) as http:
        team = {
            "name": TEAM,
            "required_labels": ["team-bench"],
            "optional_label_patterns": ["gpu-.*", "size-(small|large)"],
        }
        http.post("/api/v1/admin/teams", json=team).raise_for_status()
        tokens = []
        for index in range(PRINCIPALS):
            subject = f"bench-ci-{index}"
            client = {"issuer": issuer.issuer, "subject": subject, "team": TEAM}
            http.post("/api/v1/admin/clients", json=client).raise_for_status()
            tokens.append(issuer.mint_machine_token(subject))
    return tokens


def _lift_github_rate_limit(github: str) -> None:
    """Give the simulator a budget no run exhausts: GitHub's 5,000 an hour lasted 1,750 JIT
    requests, and every request after that measured the refusal, not the provisioning."""
    faults = {"rate_limit_remaining": 1_000_000_000, "rate": 0.0}
    httpx.put(f"{github}/_simulator/faults", json=faults, timeout=30).raise_for_status()


def _lua(  # noqa: PLR0917 (a private helper called four times, positionally)
    directory: Path, name: str, tokens: list[str], method: str, paths: list[str], body: object
) -> Path:
    script = directory / f"{name}.lua"
    script.write_text(
        _LUA
        % {
            "tokens": ", ".join(json.dumps(t) for t in tokens),
            "paths": ", ".join(json.dumps(p) for p in paths),
            "method": method,
            "body": "nil" if body is None else json.dumps(json.dumps(body)),
        }
    )
    return script


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(  # noqa: PLR0917 (a private helper; the server's pid is optional)
    base: str,
    script: Path,
    connections: int,
    threads: int,
    seconds: int,
    server_pid: int | None = None,
) -> dict[str, Any]:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base]
    cpu_before = None if server_pid is None else _cpu_seconds(server_pid)
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout  # noqa: S603
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    seconds_taken = figures.pop("duration_us") / 1e6
    result = {
        "requests_per_s": round(figures["requests"] / seconds_taken, 1),
        "p50_ms": round(figures.pop("p50_us") / 1000, 2),
        "p99_ms": round(figures.pop("p99_us") / 1000, 2),
        **figures,
    }
    if server_pid is not None and cpu_before is not None and figures["requests"]:
        # Varies far less with the machine's other load than the latencies do.
        used = _cpu_seconds(server_pid) - cpu_before
        result["server_cpu_ms_per_request"] = round(used / figures["requests"] * 1000, 2)
    return result


def _wrk_requests(base: str, script: Path, requests: int) -> int:
    """Send about ``requests`` requests at 8 connections (wrk counts time, not requests).

    Return how many were not answered with a 2xx.
    """
    sent = failed = 0
    while sent < requests:
        figures = _wrk(base, script, 8, 2, 5)
        sent += figures["requests"]
        failed += figures["non_2xx"] + figures["socket_errors"]
    return failed


def _live_runner_ids(base: str, token: str, at_most: int) -> list[str]:
    ids: list[str] = []
    offset = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        while len(ids) < at_most:
            page = http.get("/api/v1/runners", params={"limit": 500, "offset": offset})
            items = page.raise_for_status().json()["runners"]
            if not items:
                break
            offset += len(items)
            ids.extend(item["runner_id"] for item in items if item["status"] != "deleted")
    return ids[:at_most]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


def _measure(database_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        issuer_port, port, github_port = _free_port(), _free_port(), _free_port()
        issuer = DevIssuer(issuer_url(issuer_port), key_dir=directory)
        github = f"http://127.0.0.1:{github_port}"
        app_keys(directory / "app.pem")  # the App's key, read by the server and the simulator
        config = _config(directory, database_url, issuer.issuer, port, github)
        env = {**os.environ, "GHARTS_CONFIG": str(config)}
        upgrade = [_gharts(), "db", "upgrade"]
        subprocess.run(upgrade, env=env, check=True, capture_output=True)  # noqa: S603
        base = f"http://127.0.0.1:{port}"
        issuer_args = [sys.executable, "-m", "bench._issuer", str(directory), str(issuer_port)]
        # In memory (no --state): the runners it keeps are its own RSS, not the server's.
        simulator_args = [
            _gharts(), "simulator", "--port", str(github_port), "--scope", SCOPE,
            "--private-key-path", str(directory / "app.pem"),
        ]  # fmt: skip
        serve_args = [_gharts(), "serve", "--port", str(port)]
        with (
            _process(issuer_args, env, issuer.issuer + "/jwks"),
            _process(simulator_args, env, github + "/_simulator/faults"),
            _process(serve_args, env, base + "/healthz") as server,
        ):
            tokens = _seed(base, issuer)
            _lift_github_rate_limit(github)
            jit = _lua(directory, "jit", tokens, "POST", ["/api/v1/runners/jit"], JIT_BODY)
            listing = _lua(directory, "list", tokens, "GET", ["/api/v1/runners?limit=50"], None)
            health = _lua(directory, "healthz", tokens, "GET", ["/healthz"], None)
            results: dict[str, Any] = {}
            for connections, threads in LEVELS:
                pid = server.pid
                level: dict[str, Any] = {
                    "healthz": _wrk(base, health, connections, threads, SECONDS, pid),
                    "jit": _wrk(base, jit, connections, threads, SECONDS, pid),
                    "list": _wrk(base, listing, connections, threads, SECONDS, pid),
                }
                ids = _live_runner_ids(base, tokens[0], 50_000)
                paths = [f"/api/v1/runners/{runner_id}" for runner_id in ids]
                delete = _lua(directory, f"delete-{connections}", tokens, "DELETE", paths, None)
                level["delete"] = _wrk(base, delete, connections, threads, SECONDS, pid)
                level["delete"]["runners_available"] = len(ids)
                level["jit_to_healthz"] = round(
                    level["jit"]["requests_per_s"] / level["healthz"]["requests_per_s"], 3
                )
                results[f"connections_{connections}"] = level
            results["floor"] = _floor_figures(
                github, directory / "app.pem", database_url, results["connections_8"]
            )
            if RSS_REQUESTS[1]:
                results["rss_mb"] = _rss(base, jit, server.pid)
    return results


def _floor_figures(
    github: str, key: Path, database_url: str, level: dict[str, Any]
) -> dict[str, float]:
    """The libraries' CPU under a JIT request (``bench._floor``), and the ratio it allows."""
    floor = _floor.measure(github, SCOPE, key, database_url)
    healthz = level["healthz"]["server_cpu_ms_per_request"]
    least = healthz + floor["github_httpx_post_ms"] + floor["storage_jit_writes_ms"]
    return {
        **floor,
        "healthz_server_cpu_ms": healthz,
        "jit_server_cpu_ms": level["jit"]["server_cpu_ms_per_request"],
        "ceiling_jit_to_healthz": round(healthz / least, 3),
    }


def _rss(base: str, jit: Path, pid: int) -> dict[str, float]:
    """The server's RSS after 10,000 more JIT requests, then after 100,000 (counted from there)."""
    figures, sent, failed = {}, 0, 0
    for requests in RSS_REQUESTS:
        failed += _wrk_requests(base, jit, requests - sent)
        sent = requests
        figures[f"after_{requests}_jit"] = _rss_mb(pid)
    figures["not_2xx"] = failed
    figures["growth_mb"] = round(
        figures[f"after_{RSS_REQUESTS[1]}_jit"] - figures[f"after_{RSS_REQUESTS[0]}_jit"], 1
    )
    return figures


def _on_postgres() -> dict[str, Any]:
    from bench._databases import on_postgres

    async def measure(url: str) -> dict[str, object]:
        return _measure(url)

    return on_postgres(measure)


def run() -> dict[str, object]:
    """Return req/s, p50 and p99 per endpoint at 1 and 8 connections, and RSS, per database."""
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    with tempfile.TemporaryDirectory() as name:
        sqlite = _measure(f"sqlite+aiosqlite:///{Path(name) / 'bench.db'}")
    return {
        "sqlite": sqlite,
        "postgresql": _on_postgres(),
        "setup": {
            "server": "gharts serve (uvicorn, one process), driven by wrk from another",
            "github": "gharts simulator, its own process",
            "seconds_per_run": SECONDS,
            "callers": f"{PRINCIPALS} machine clients of one team without quota, round robin",
            "postgres_url": POSTGRES_URL.rsplit("@", 1)[-1],
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
