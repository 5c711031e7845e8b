"""Storage benchmark: quota reservations per second under contention, on SQLite and PostgreSQL.

32 tasks reserve runners into 4 teams at once, each reservation one unit of work (lock the team,
count its live runners, insert the record, its labels and its first transition, commit). Every
reservation fits the quota, so the figure is the cost of the atomic path itself. PostgreSQL is
reported as skipped when ``GHARTS_TEST_POSTGRES_URL`` (or 127.0.0.1:5432) does not answer.

Run it with ``python -m bench storage`` or ``python -m bench.bench_storage``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime

from bench._databases import on_postgres, on_sqlite
from gharts_adapters.storage import create_store
from gharts_core.model import Actor, ProvisionMethod, RunnerRecord, RunnerStatus, Team, new_id
from gharts_core.policy import LabelPolicy

TASKS = 32
TEAMS = 4
RESERVATIONS = 3200
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def bench_team(index: int) -> Team:
    """Return team ``bench-<index>``, its quota room for every reservation of the benchmark."""
    return Team(
        id=new_id(),
        name=f"bench-{index}",
        description="",
        policy=LabelPolicy(required_labels=[f"bench-{index}"]),
        allowed_runner_group_ids=(1,),
        default_runner_group_id=1,
        max_runners=RESERVATIONS,
        created_at=NOW,
        updated_at=NOW,
    )


def bench_runner(team: Team, number: int) -> RunnerRecord:
    """Return runner ``runner-<number>`` of ``team`` as a reservation writes it."""
    return RunnerRecord(
        id=new_id(),
        name=f"runner-{number}",
        team_id=team.id,
        team_name=team.name,
        labels=(team.name, "gpu-a100"),
        runner_group_id=1,
        status=RunnerStatus.PROVISIONING,
        method=ProvisionMethod.JIT,
        created_by=Actor.system(),
        created_at=NOW,
        updated_at=NOW,
    )


async def _measure(url: str) -> dict[str, object]:
    store = create_store(url)
    teams = [bench_team(i) for i in range(TEAMS)]
    async with store.unit_of_work() as uow:
        for team in teams:
            await uow.teams.add(team)
    latencies: list[float] = []
    numbers = iter(range(RESERVATIONS))

    async def worker() -> None:
        for number in numbers:
            team = teams[number % TEAMS]
            started = time.perf_counter()
            async with store.unit_of_work() as uow:
                await uow.runners.reserve(bench_runner(team, number), team.max_runners)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(TASKS)))
    finally:
        elapsed = time.perf_counter() - started
        await store.close()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "reservations_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "reservations": len(latencies),
        "tasks": TASKS,
        "teams": TEAMS,
    }


def run() -> dict[str, object]:
    """Return reservation throughput and latency on SQLite and PostgreSQL."""
    return {"sqlite": on_sqlite(_measure), "postgres": on_postgres(_measure)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
