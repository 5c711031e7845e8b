"""Sync benchmark: one reconciliation cycle over 100,000 runners, on SQLite and PostgreSQL.

100,000 runners (``GHARTS_BENCH_SYNC_RUNNERS``) are registered on the in-process GitHub
simulator and the matching records (online, bound to their GitHub ids, same labels) are inserted
in bulk, straight into the tables. The
:class:`~gharts_core.services.sync.SyncService` then runs against the real GitHub adapter (over
``httpx.ASGITransport``, no latency) and the real store. Scenarios, in order:

- ``first_cycle``: a fresh adapter, so no page is cached yet; nothing differs from the records;
- ``unchanged``: nothing changed since the previous cycle, every page comes back ``304``;
- ``one_percent_changed``: 100 runners changed on GitHub: 40 took a job (busy), 30 went offline,
  20 vanished and 10 were relabelled (label drift: removed on GitHub by the cycle);
- ``unchanged_after_changes``: the cycle after that, quiet again;
- ``restarted_unchanged``: a new adapter and a new sync service (a restarted worker, or
  ``gharts sync --once``) over the same store: the pages and ETags it finds in the sync state
  make every page a ``304`` again.

Per scenario: ``github_calls`` (every HTTP request the adapter sent, counted by an httpx event
hook) split into ``list_pages`` (which must equal ``pages``, the page count at ``per_page=100``),
``not_modified`` pages and ``deletions``; ``db_writes`` (INSERT/UPDATE/DELETE statements, counted
by a ``before_cursor_execute`` hook on the store's engine) split into ``db_writes_for_runners``
(what must be 0 when nothing changed and grow with the changes) and ``db_writes_bookkeeping``
(the cycle's own report in ``sync_state``, the listing's pages whose ETag changed, and the two
retention purges, at most hourly); ``peak_rss_mb`` is this process's peak resident memory;
``db_rows_written``; ``wall_s``, the time of :meth:`run_cycle` alone (median of ``REPEATS``
cycles for the quiet scenarios), and ``cpu_s``, this process's CPU time over the same cycle (less
disturbed by other load on the host; PostgreSQL's own work is not in it). Setup is not timed.
PostgreSQL runs in a throwaway database and is reported as skipped when the server does not answer.

Run it with ``python -m bench sync`` or ``python -m bench.bench_sync``.
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event

from bench._databases import on_postgres, on_sqlite
from gharts_adapters.github import TokenCache
from gharts_adapters.github.platform import build_runner_platform
from gharts_adapters.github.simulator import GitHubSimulator
from gharts_adapters.github.simulator.wiring import simulated_github
from gharts_adapters.storage import SqlStore, create_store
from gharts_adapters.storage.convert import runner_row
from gharts_adapters.storage.tables import runners
from gharts_core.model import Actor, ProvisionMethod, RunnerRecord, RunnerStatus, Team, new_id
from gharts_core.policy import LabelPolicy
from gharts_core.ports.clock import SystemClock
from gharts_core.services.sync import SyncService

RUNNERS = int(os.environ.get("GHARTS_BENCH_SYNC_RUNNERS", "100000"))
PER_PAGE = 100
LABELS = ("bench", "gpu-a100")
CHANGES = {"busy": 40, "offline": 30, "vanished": 20, "relabelled": 10}
SCOPE = "org:bench"
REPEATS = 3  # quiet cycles timed per quiet scenario (median reported)
# What a cycle writes for itself: its report, the listing's changed pages, and (at most hourly)
# the retention purges.
BOOKKEEPING = (
    "INSERT sync_state",
    "UPDATE sync_state",
    "DELETE audit_events",
    "DELETE webhook",
    "INSERT sync_listed_pages",
    "DELETE sync_listed_pages",
)
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")


class _Meter:
    """Counts GitHub requests (an httpx hook) and database writes (a SQLAlchemy hook)."""

    def __init__(self) -> None:
        self.github: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.rows = 0

    def reset(self) -> None:
        """Start counting afresh."""
        self.github.clear()
        self.writes.clear()
        self.rows = 0

    async def on_request(self, request: httpx.Request) -> None:
        """Classify one GitHub request."""
        path = request.url.path
        if request.method == "GET" and path.endswith("/actions/runners"):
            self.github["list_pages"] += 1
        elif request.method == "DELETE":
            self.github["deletions"] += 1
        elif path.endswith("/access_tokens"):
            self.github["token_requests"] += 1
        else:
            self.github[f"{request.method} {path}"] += 1

    def before_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        """Count a write statement under its table."""
        words = statement.split(None, 4)
        verb = words[0].upper() if words else ""
        if verb in WRITE_VERBS:
            target = words[2] if verb in {"INSERT", "DELETE"} else words[1]
            self.writes[f"{verb} {target.strip(chr(34))}"] += 1

    def after_execute(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        """Add the rows a write statement reports as affected."""
        if statement.lstrip()[:6].upper() in WRITE_VERBS and cursor.rowcount > 0:
            self.rows += cursor.rowcount


def _team(now: datetime) -> Team:
    return Team(
        id=new_id(),
        name="bench",
        description="",
        policy=LabelPolicy(required_labels=["bench"], optional_label_patterns=["gpu-.*"]),
        allowed_runner_group_ids=(1,),
        default_runner_group_id=1,
        max_runners=None,
        created_at=now,
        updated_at=now,
    )


async def _populate(store: SqlStore, simulator: GitHubSimulator) -> list[int]:
    """Register the runners on GitHub and insert their records in bulk; return GitHub ids."""
    created = datetime.now(UTC) - timedelta(days=1)
    team = _team(created)
    async with store.unit_of_work() as uow:
        await uow.teams.add(team)
    rows: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    ids: list[int] = []
    for number in range(RUNNERS):
        name = f"runner-{number:06}"
        github_id = simulator.register(name, LABELS, scope=SCOPE)["id"]
        record = RunnerRecord(
            id=new_id(),
            name=name,
            team_id=team.id,
            team_name=team.name,
            labels=LABELS,
            runner_group_id=1,
            status=RunnerStatus.ONLINE,
            method=ProvisionMethod.JIT,
            created_by=Actor.system(),
            created_at=created,
            updated_at=created,
            github_runner_id=github_id,
        )
        rows.append(runner_row(record))
        labels.extend({"runner_id": record.id, "label": label} for label in record.labels)
        ids.append(github_id)
    async with store.engine.begin() as connection:
        await connection.execute(runners.insert(), rows)
    return ids


def _change(simulator: GitHubSimulator, ids: list[int]) -> None:
    """Change 1 % of the runners on GitHub, spread over the pages."""
    chosen = iter(ids[:: len(ids) // sum(CHANGES.values())])
    for _ in range(CHANGES["busy"]):
        simulator.set_busy(next(chosen))
    for _ in range(CHANGES["offline"]):
        simulator.set_offline(next(chosen))
    for _ in range(CHANGES["vanished"]):
        simulator.vanish(next(chosen))
    for _ in range(CHANGES["relabelled"]):
        simulator.relabel(next(chosen), [*LABELS, "privileged"])


async def _cycle(
    sync: SyncService, meter: _Meter, simulator: GitHubSimulator, on_github: int, repeats: int = 1
) -> dict[str, object]:
    """Run ``repeats`` cycles; return the last one's counts and the median wall time."""
    walls, cpus = [], []
    for _ in range(repeats):
        meter.reset()
        simulator.responses.clear()
        started, cpu = time.perf_counter(), time.process_time()
        report = await sync.run_cycle()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        if report.errors:
            raise RuntimeError(f"the sync cycle reported errors: {report.errors[:3]}")
    bookkeeping = sum(n for key, n in meter.writes.items() if key.startswith(BOOKKEEPING))
    total = sum(meter.writes.values())
    return {
        "wall_s": round(statistics.median(walls), 3),
        "cpu_s": round(statistics.median(cpus), 3),
        "cycles_timed": repeats,
        "pages": math.ceil(on_github / PER_PAGE),
        "github_calls": sum(meter.github.values()),
        "github_calls_by_kind": dict(sorted(meter.github.items())),
        "pages_not_modified": simulator.responses[("list_runners", 304)],
        "db_writes": total,
        "db_writes_for_runners": total - bookkeeping,
        "db_writes_bookkeeping": bookkeeping,
        "db_writes_by_statement": dict(sorted(meter.writes.items())),
        "db_rows_written": meter.rows,
        "actions": dict(report.actions),
    }


async def _measure(url: str) -> dict[str, object]:
    meter = _Meter()
    store = create_store(url)
    event.listen(store.engine.sync_engine, "before_cursor_execute", meter.before_execute)
    event.listen(store.engine.sync_engine, "after_cursor_execute", meter.after_execute)
    hooks = {"request": [meter.on_request]}
    try:
        async with simulated_github(scope=SCOPE, rate_limit=1_000_000, event_hooks=hooks) as github:
            simulator = github.simulator
            started = time.perf_counter()
            ids = await _populate(store, simulator)
            setup = time.perf_counter() - started
            sync = SyncService(store, github.platform, SystemClock())
            results: dict[str, object] = {"setup_s": round(setup, 2)}
            results["first_cycle"] = await _cycle(sync, meter, simulator, RUNNERS)
            results["unchanged"] = await _cycle(sync, meter, simulator, RUNNERS, REPEATS)
            _change(simulator, ids)
            on_github = RUNNERS - CHANGES["vanished"]
            results["one_percent_changed"] = await _cycle(sync, meter, simulator, on_github)
            on_github -= CHANGES["relabelled"]
            results["unchanged_after_changes"] = await _cycle(
                sync, meter, simulator, on_github, REPEATS
            )
            restarted = build_runner_platform(
                github.settings, github.client, token_cache=TokenCache()
            )
            fresh = SyncService(store, restarted, SystemClock())
            results["restarted_unchanged"] = await _cycle(fresh, meter, simulator, on_github)
            results["peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )
            return results
    finally:
        await store.close()


def run() -> dict[str, object]:
    """Return GitHub calls, database writes and wall time of sync cycles over many runners."""
    results: dict[str, object] = {"runners": RUNNERS, "changes": CHANGES}
    results["sqlite"] = on_sqlite(_measure)
    results["postgres"] = on_postgres(_measure)
    results["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
