"""Impact preview benchmark: one policy preview of a busy team, on SQLite and PostgreSQL.

The team has 200 live runners and 20,000 ``runner.provision`` audit rows in the last 7 days (the
most one preview reads; another team's rows and older ones sit beside them). A preview reads the
runners and the rows page by page in one read-only unit of work and judges them under the
proposed policy, which refuses half of them. Figures: p50 and max of ten previews.

Run it with ``python -m bench policy_impact`` or ``python -m bench.bench_policy_impact``.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import attrs

from bench._databases import on_postgres, on_sqlite
from gharts_adapters.storage import create_store
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    Principal,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    Team,
    new_id,
)
from gharts_core.policy import LabelPolicy
from gharts_core.services.admin_teams import UpdateTeam
from gharts_core.services.policy_impact import PolicyImpactService
from gharts_core.testing.clock import FakeClock

RUNNERS = 200
ROWS = 20_000
OLD_ROWS = 2_000
PREVIEWS = 10
NOW = datetime(2026, 1, 8, tzinfo=UTC)


def _team(name: str) -> Team:
    return Team(
        id=new_id(),
        name=name,
        description="",
        policy=LabelPolicy(required_labels=[name], optional_label_patterns=["gpu-[a-z0-9]+"]),
        allowed_runner_group_ids=(1,),
        default_runner_group_id=1,
        max_runners=None,
        created_at=NOW,
        updated_at=NOW,
    )


def _runner(team: Team, number: int) -> RunnerRecord:
    return RunnerRecord(
        id=new_id(),
        name=f"runner-{number}",
        team_id=team.id,
        team_name=team.name,
        labels=(team.name, f"gpu-a{number % 2}"),
        runner_group_id=1,
        status=RunnerStatus.PROVISIONING,
        method=ProvisionMethod.JIT,
        created_by=Actor.system(),
        created_at=NOW,
        updated_at=NOW,
    )


def _row(team: Team, number: int, at: datetime) -> AuditEvent:
    return AuditEvent(
        id=new_id(),
        at=at,
        actor=Actor.system(),
        action=AuditAction.RUNNER_PROVISION.value,
        outcome=AuditOutcome.SUCCESS,
        target_type="runner",
        target_id=str(new_id()),
        team_id=team.id,
        team_name=team.name,
        details={"labels": [team.name, f"gpu-a{number % 2}"], "method": "jit"},
    )


async def _measure(url: str) -> dict[str, object]:
    store = create_store(url)
    team, other = _team("busy"), _team("other")
    try:
        async with store.unit_of_work() as uow:
            await uow.teams.add(team)
            await uow.teams.add(other)
            for number in range(RUNNERS):
                runner = _runner(team, number)
                await uow.runners.reserve(runner, None)
                await uow.runners.save(attrs.evolve(runner, status=RunnerStatus.ONLINE))
            for number in range(ROWS):
                await uow.audit.append(_row(team, number, NOW - timedelta(seconds=number * 30)))
            for number in range(OLD_ROWS):
                await uow.audit.append(_row(team, number, NOW - timedelta(days=8, seconds=number)))
                await uow.audit.append(_row(other, number, NOW - timedelta(seconds=number)))
        service = PolicyImpactService(store, FakeClock(NOW))
        proposal = UpdateTeam(optional_label_patterns=["gpu-a0"])
        latencies = []
        impact = None
        for _ in range(PREVIEWS):
            started = time.perf_counter()
            impact = await service.preview(Principal.system(), team.name, proposal)
            latencies.append(time.perf_counter() - started)
    finally:
        await store.close()
    assert impact is not None
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "runners_refused": len(impact.runners),
        "requests_read": impact.requests.considered,
        "requests_refused": impact.requests.refused,
        "live_runners": RUNNERS,
        "previews": PREVIEWS,
    }


def run() -> dict[str, object]:
    """Return the latency of one policy preview on SQLite and PostgreSQL."""
    return {"sqlite": on_sqlite(_measure), "postgres": on_postgres(_measure)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
