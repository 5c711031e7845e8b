"""GitHub adapter benchmark: a full listing of 10,000 simulated runners, cold and with ETags.

The adapter talks to the in-process simulator over ``httpx.ASGITransport`` (no network, no
latency), so the figures are the adapter's and the simulator's own cost: pagination at
``per_page=100``, JSON decoding into domain objects, and the conditional second pass whose
pages all come back ``304 Not Modified`` from the per-page ETag cache.

Run it with ``python -m bench github`` or ``python bench/bench_github.py``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from gharts_adapters.github import TokenCache, build_runner_platform
from gharts_adapters.github.simulator.wiring import SimulatedGitHub, simulated_github

RUNNERS = 10_000
REPEATS = 5


def _list_calls(github: SimulatedGitHub) -> dict[str, int]:
    return {
        str(status): count
        for (operation, status), count in github.simulator.responses.items()
        if operation == "list_runners"
    }


async def _pass(github: SimulatedGitHub, platform: Any) -> tuple[float, int, dict[str, int]]:
    github.simulator.responses.clear()
    started = time.perf_counter()
    runners = await platform.list_runners()
    elapsed = time.perf_counter() - started
    return elapsed, len(runners), _list_calls(github)


async def _measure() -> dict[str, object]:
    async with simulated_github(scope="org:bench") as github:
        for i in range(RUNNERS):
            github.simulator.register(f"runner-{i:05}", ["linux-large", f"team-{i % 7}"])
        cold: list[float] = []
        warm: list[float] = []
        for _ in range(REPEATS):
            # A fresh adapter each time: empty ETag cache, first page sees a cold token cache.
            platform = build_runner_platform(
                github.settings, github.client, token_cache=TokenCache()
            )
            first_time, first_count, first_calls = await _pass(github, platform)
            second_time, second_count, second_calls = await _pass(github, platform)
            cold.append(first_time)
            warm.append(second_time)
        github.simulator.set_busy(RUNNERS // 2)
        changed_time, _, changed_calls = await _pass(github, platform)
    return {
        "runners": RUNNERS,
        "per_page": 100,
        "first_pass": {
            "runners_listed": first_count,
            "list_calls_by_status": first_calls,
            "seconds_median": round(statistics.median(cold), 4),
            "runners_per_second": round(RUNNERS / statistics.median(cold)),
        },
        "second_pass_unchanged": {
            "runners_listed": second_count,
            "list_calls_by_status": second_calls,
            "seconds_median": round(statistics.median(warm), 4),
            "speedup_vs_first": round(statistics.median(cold) / statistics.median(warm), 1),
        },
        "pass_after_one_runner_changed": {
            "list_calls_by_status": changed_calls,
            "seconds": round(changed_time, 4),
        },
        "repeats": REPEATS,
    }


def run() -> dict[str, object]:
    """List 10,000 simulated runners twice per fresh adapter; report calls and wall time."""
    return asyncio.run(_measure())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
