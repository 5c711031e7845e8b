"""The sync service: one reconciliation cycle through the in-memory store and GitHub."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import attrs
import pytest

from gharts_core.drift import DriftSettings, StuckProvisioningAction
from gharts_core.errors import (
    AdminRequired,
    GitHubRateLimited,
    GitHubUnavailable,
    StorageUnavailable,
)
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditOutcome,
    Principal,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    SecurityEventType,
    Severity,
    SyncReport,
    SyncState,
    Team,
    TransitionSource,
)
from gharts_core.services._events import audit_event
from gharts_core.services.sync import LeadershipLost, SyncService, SyncSettings, TriggerOutcome
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_github import FakeRunnerPlatform
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import (
    T0,
    audit_rows,
    make_runner,
    make_team,
    make_user,
    security_events,
    seed,
    stored_runner,
    transitions,
    user_principal,
)

LABELS = ("backend", "gpu-a100")


class GitHubWithInterference(FakeRunnerPlatform):
    """The fake GitHub, plus something another process does while a runner is being deleted."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.during_delete: list[Callable[[], Awaitable[None]]] = []

    async def delete_runner(self, github_runner_id: int) -> bool:
        """Run the next interference, then delete as GitHub would."""
        if self.during_delete:
            await self.during_delete.pop(0)()
        return await super().delete_runner(github_runner_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def github(clock: FakeClock) -> GitHubWithInterference:
    return GitHubWithInterference(clock)


@pytest.fixture
async def team(store: FakeStore) -> Team:
    team = make_team("backend")
    await seed(store, team)
    return team


@pytest.fixture
def service(store: FakeStore, github: FakeRunnerPlatform, clock: FakeClock) -> SyncService:
    return SyncService(store, github, clock)


async def on_github(
    store: FakeStore,
    github: FakeRunnerPlatform,
    team: Team,
    name: str,
    *,
    status: RunnerStatus = RunnerStatus.ONLINE,
    github_status: str = "online",
    busy: bool = False,
    age: timedelta = timedelta(hours=2),
) -> RunnerRecord:
    """Seed a runner record and the GitHub runner it describes."""
    observed = github.register(name, LABELS, status=github_status, busy=busy, ephemeral=True)
    record = make_runner(
        team, name, status=status, labels=LABELS, github_runner_id=observed.id, at=T0 - age
    )
    await seed(store, record)
    return record


async def stored(store: FakeStore, runner: RunnerRecord) -> RunnerRecord:
    """Return the stored record of a runner that must exist."""
    record = await stored_runner(store, runner.id)
    assert record is not None
    return record


async def drift_rows(store: FakeStore) -> list[AuditOutcome]:
    """Return the outcomes of the ``runner.drift`` audit rows, oldest first."""
    return [row.outcome for row in await audit_rows(store, AuditAction.RUNNER_DRIFT.value)]


async def drifted(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, name: str
) -> RunnerRecord:
    """Seed an idle runner whose custom labels lost one provisioned label on GitHub."""
    runner = await on_github(store, github, team, name)
    assert runner.github_runner_id is not None
    github.relabel(runner.github_runner_id, ["backend"])
    return runner


# ------------------------------------------------------------------ quiet cycles


async def test_cycle_with_nothing_changed_writes_only_its_report(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    for i in range(3):
        await on_github(store, github, team, f"r{i}")
    writes = store.writes

    report = await service.run_cycle()

    expected: tuple[dict[str, int], int] = ({}, 1)
    assert expected == (report.actions, store.writes - writes)


async def test_cycle_lists_github_once_and_deletes_nothing_when_all_is_well(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    await on_github(store, github, team, "r1")

    await service.run_cycle()

    expected = {"list_runners": 1}
    assert expected == dict(github.calls)


async def test_report_counts_observed_and_unmanaged_runners(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    await on_github(store, github, team, "mine")
    github.register("hand-made", ["whatever"])

    report = await service.run_cycle()

    expected = SyncReport(started_at=T0, finished_at=T0, observed=2, unmanaged=1)
    assert expected == report


# ------------------------------------------------------------------ status changes


async def test_runner_going_online_is_saved_with_a_sync_transition_and_audited(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await on_github(
        store, github, team, "r1", status=RunnerStatus.PENDING, github_status="offline"
    )
    assert runner.github_runner_id is not None
    github.set_online(runner.github_runner_id)

    report = await service.run_cycle()

    [row] = await audit_rows(store, AuditAction.RUNNER_STATUS.value)
    transition = RunnerTransition(
        runner.id, RunnerStatus.PENDING, RunnerStatus.ONLINE, TransitionSource.SYNC, T0
    )
    expected = (
        {"change_status": 1},
        RunnerStatus.ONLINE,
        transition,
        "pending",
        "online",
        "backend",
    )
    assert expected == (
        report.actions,
        (await stored(store, runner)).status,
        (await transitions(store, runner.id))[-1],
        row.details["from"],
        row.details["to"],
        row.team_name,
    )


async def test_finished_ephemeral_runner_is_marked_deleted(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await on_github(store, github, team, "r1", busy=True, status=RunnerStatus.BUSY)
    assert runner.github_runner_id is not None
    github.finish_job(runner.github_runner_id)

    report = await service.run_cycle()

    record = await stored(store, runner)
    expected = ({"mark_deleted": 1}, RunnerStatus.DELETED, "vanished_from_github")
    assert expected == (report.actions, record.status, record.deleted_reason)


async def test_runner_bound_by_name_keeps_its_status_and_records_no_transition(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    observed = github.register("reg-1", LABELS, status="online")
    runner = make_runner(team, "reg-1", status=RunnerStatus.ONLINE, labels=LABELS)
    await seed(store, runner)
    before = await transitions(store, runner.id)

    report = await service.run_cycle()

    record = await stored(store, runner)
    expected = ({"bind_github_id": 1}, observed.id, RunnerStatus.ONLINE, before)
    assert expected == (
        report.actions,
        record.github_runner_id,
        record.status,
        await transitions(store, runner.id),
    )


async def test_pending_runner_never_seen_online_is_removed_after_the_ttl(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await on_github(
        store, github, team, "r1", status=RunnerStatus.PENDING, github_status="offline"
    )

    report = await service.run_cycle()

    expected = ({"remove_expired_runner": 1}, (), "pending_expired")
    assert expected == (
        report.actions,
        github.runners,
        (await stored(store, runner)).deleted_reason,
    )


# ------------------------------------------------------------------ label drift


async def test_idle_drifted_runner_is_deleted_on_github_and_retired(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await on_github(store, github, team, "r1")
    assert runner.github_runner_id is not None
    github.relabel(runner.github_runner_id, [*LABELS, "prod-deploy"])

    report = await service.run_cycle()

    [event] = await security_events(store)
    expected = (
        {"remove_drifted_runner": 1},
        (),
        "label_drift",
        [AuditOutcome.SUCCESS],
        (SecurityEventType.LABEL_DRIFT, Severity.WARNING, team.id, runner.id),
        (list(LABELS), [*LABELS, "prod-deploy"], ["prod-deploy"], True),
    )
    assert expected == (
        report.actions,
        github.runners,
        (await stored(store, runner)).deleted_reason,
        await drift_rows(store),
        (event.type, event.severity, event.team_id, event.runner_id),
        (
            event.details["expected_labels"],
            event.details["observed_labels"],
            event.details["unexpected_labels"],
            event.details["removed"],
        ),
    )


async def test_busy_drifted_runner_is_reported_once_and_left_running(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await drifted(store, github, team, "r1")
    assert runner.github_runner_id is not None
    github.set_busy(runner.github_runner_id)

    first = await service.run_cycle()
    writes = store.writes
    second = await service.run_cycle()

    [event] = await security_events(store)
    expected = (
        {"change_status": 1, "report_busy_drift": 1},
        {"report_busy_drift": 1},
        1,
        1,
        RunnerStatus.BUSY,
        (Severity.CRITICAL, False, ["gpu-a100"]),
    )
    assert expected == (
        first.actions,
        second.actions,
        store.writes - writes,
        len(github.runners),
        (await stored(store, runner)).status,
        (event.severity, event.details["removed"], event.details["missing_labels"]),
    )


async def test_reported_busy_drift_is_not_reported_again_when_the_status_changes(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await drifted(store, github, team, "r1")
    assert runner.github_runner_id is not None
    github.set_busy(runner.github_runner_id)
    await service.run_cycle()
    async with store.unit_of_work() as uow:
        await uow.runners.save(attrs.evolve(runner, status=RunnerStatus.OFFLINE))

    report = await service.run_cycle()

    expected = ({"change_status": 1, "report_busy_drift": 1}, 1)
    assert expected == (report.actions, len(await security_events(store)))


async def test_busy_drift_is_reported_again_after_it_was_resolved(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    runner = await on_github(store, github, team, "r1", status=RunnerStatus.BUSY, busy=True)
    assert runner.github_runner_id is not None
    github.relabel(runner.github_runner_id, ["backend"])
    await service.run_cycle()
    github.relabel(runner.github_runner_id, LABELS)
    await service.run_cycle()
    github.relabel(runner.github_runner_id, ["backend"])

    await service.run_cycle()

    expected = 2
    assert expected == len(await security_events(store))


async def test_busy_drifted_runner_is_removed_when_configured(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, clock: FakeClock
) -> None:
    settings = SyncSettings(drift=DriftSettings(delete_busy_drifted=True))
    service = SyncService(store, github, clock, settings)
    runner = await on_github(store, github, team, "r1", status=RunnerStatus.BUSY, busy=True)
    assert runner.github_runner_id is not None
    github.relabel(runner.github_runner_id, ["backend", "prod"])

    report = await service.run_cycle()

    [event] = await security_events(store)
    expected = ({"remove_drifted_runner": 1}, (), Severity.CRITICAL, True)
    assert expected == (report.actions, github.runners, event.severity, event.details["busy"])


# ------------------------------------------------------------------ stuck provisioning


async def test_stuck_provisioning_row_is_removed_from_github_by_default(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    github.register("r1", LABELS, status="offline")
    stuck = make_runner(team, "r1", status=RunnerStatus.PROVISIONING, at=T0 - timedelta(hours=1))
    await seed(store, stuck)

    report = await service.run_cycle()

    expected = ({"remove_stuck_runner": 1}, (), "stuck_provisioning")
    assert expected == (
        report.actions,
        github.runners,
        (await stored(store, stuck)).deleted_reason,
    )


async def test_stuck_provisioning_row_is_adopted_when_configured(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, clock: FakeClock
) -> None:
    drift = DriftSettings(stuck_provisioning_action=StuckProvisioningAction.ADOPT)
    service = SyncService(store, github, clock, SyncSettings(drift=drift))
    observed = github.register("r1", LABELS, status="online")
    stuck = make_runner(
        team, "r1", status=RunnerStatus.PROVISIONING, labels=LABELS, at=T0 - timedelta(hours=1)
    )
    await seed(store, stuck)

    report = await service.run_cycle()

    record = await stored(store, stuck)
    expected = ({"adopt_stuck_runner": 1}, RunnerStatus.ONLINE, observed.id, "adopted", 1)
    assert expected == (
        report.actions,
        record.status,
        record.github_runner_id,
        (await transitions(store, stuck.id))[-1].reason,
        len(await audit_rows(store, AuditAction.RUNNER_ADOPT.value)),
    )


async def test_stuck_provisioning_row_unknown_to_github_is_marked_deleted(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    stuck = make_runner(team, "r1", status=RunnerStatus.PROVISIONING, at=T0 - timedelta(hours=1))
    await seed(store, stuck)

    report = await service.run_cycle()

    expected = ({"mark_deleted": 1}, "stuck_provisioning", {"list_runners": 1})
    assert expected == (
        report.actions,
        (await stored(store, stuck)).deleted_reason,
        dict(github.calls),
    )


# ------------------------------------------------------------------ failures


async def test_failed_github_delete_is_recorded_and_the_cycle_goes_on(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    first = await drifted(store, github, team, "a")
    second = await drifted(store, github, team, "b")
    github.fail_next(GitHubUnavailable(status=502), method="delete_runner")

    report = await service.run_cycle()

    error = f"remove_drifted_runner 'a' (GitHub runner {first.github_runner_id}): "
    expected = (
        {"remove_drifted_runner": 1},
        (error + "GitHub is unavailable.",),
        RunnerStatus.ONLINE,
        RunnerStatus.DELETED,
        [AuditOutcome.FAILURE, AuditOutcome.SUCCESS],
        [False, True],
    )
    assert expected == (
        report.actions,
        report.errors,
        (await stored(store, first)).status,
        (await stored(store, second)).status,
        await drift_rows(store),
        [event.details["removed"] for event in await security_events(store)],
    )


async def test_drift_whose_removal_keeps_failing_is_reported_once(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    await drifted(store, github, team, "a")
    github.fail_always(GitHubUnavailable(), method="delete_runner")

    await service.run_cycle()
    await service.run_cycle()

    expected = (1, [AuditOutcome.FAILURE, AuditOutcome.FAILURE])
    assert expected == (len(await security_events(store)), await drift_rows(store))


async def test_failed_removal_of_a_stuck_row_is_audited_without_a_security_event(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    github.register("r1", LABELS, status="offline")
    stuck = make_runner(team, "r1", status=RunnerStatus.PROVISIONING, at=T0 - timedelta(hours=1))
    await seed(store, stuck)
    github.fail_next(GitHubUnavailable(), method="delete_runner")

    report = await service.run_cycle()

    [row] = await audit_rows(store, AuditAction.RUNNER_STATUS.value)
    expected: tuple[object, ...] = (
        1,
        RunnerStatus.PROVISIONING,
        AuditOutcome.FAILURE,
        "GitHub is unavailable.",
        [],
    )
    assert expected == (
        len(report.errors),
        (await stored(store, stuck)).status,
        row.outcome,
        row.details["error"],
        await security_events(store),
    )


async def test_rate_limited_delete_skips_the_cycles_remaining_removals(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    for name in ("a", "b", "c"):
        await drifted(store, github, team, name)
    github.fail_next(GitHubRateLimited(retry_after=60), method="delete_runner")

    report = await service.run_cycle()

    expected = (1, 3, [False, True, True], [AuditOutcome.FAILURE])
    assert expected == (
        github.calls["delete_runner"],
        len(report.errors),
        ["skipped" in error for error in report.errors],
        await drift_rows(store),
    )


async def test_listing_failure_is_recorded_then_raised(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    await on_github(store, github, team, "r1")
    github.fail_next(GitHubUnavailable(), method="list_runners")

    with pytest.raises(GitHubUnavailable):
        await service.run_cycle()

    state = await service.status()
    assert state.last_report is not None
    expected: tuple[object, ...] = (1, ("list runners: GitHub is unavailable.",), {})
    assert expected == (state.cycles, state.last_report.errors, state.last_report.actions)


async def test_store_failure_for_one_runner_is_recorded_and_the_cycle_goes_on(
    store: FakeStore, github: GitHubWithInterference, team: Team, service: SyncService
) -> None:
    first = await drifted(store, github, team, "a")
    second = await drifted(store, github, team, "b")

    async def outage() -> None:
        store.fail_with(StorageUnavailable())

    async def recovery() -> None:
        store.fail_with(None)

    github.during_delete += [outage, recovery]

    report = await service.run_cycle()

    expected = (
        ("store 'a': The database is unavailable.",),
        {"remove_drifted_runner": 1},
        RunnerStatus.ONLINE,
        RunnerStatus.DELETED,
    )
    assert expected == (
        report.errors,
        report.actions,
        (await stored(store, first)).status,
        (await stored(store, second)).status,
    )


# ------------------------------------------------------------------ concurrent changes


async def test_runner_changed_during_the_cycle_is_not_overwritten(
    store: FakeStore, github: GitHubWithInterference, team: Team, service: SyncService
) -> None:
    await drifted(store, github, team, "a")
    pending = await on_github(
        store, github, team, "b", status=RunnerStatus.PENDING, age=timedelta(minutes=1)
    )
    assert pending.github_runner_id is not None
    github.set_online(pending.github_runner_id)

    async def webhook_marks_b_busy() -> None:
        async with store.unit_of_work() as uow:
            await uow.runners.save(attrs.evolve(pending, status=RunnerStatus.BUSY))

    github.during_delete.append(webhook_marks_b_busy)

    report = await service.run_cycle()

    expected = ({"remove_drifted_runner": 1}, RunnerStatus.BUSY)
    assert expected == (report.actions, (await stored(store, pending)).status)


async def test_removed_runner_changed_meanwhile_is_retired_as_it_is_now(
    store: FakeStore, github: GitHubWithInterference, team: Team, service: SyncService
) -> None:
    runner = await drifted(store, github, team, "a")

    async def webhook_marks_it_busy() -> None:
        async with store.unit_of_work() as uow:
            await uow.runners.save(attrs.evolve(runner, status=RunnerStatus.BUSY))

    github.during_delete.append(webhook_marks_it_busy)

    await service.run_cycle()

    expected = ("label_drift", RunnerStatus.BUSY)
    assert expected == (
        (await stored(store, runner)).deleted_reason,
        (await transitions(store, runner.id))[-1].from_status,
    )


async def test_removed_runner_deleted_meanwhile_is_left_alone(
    store: FakeStore, github: GitHubWithInterference, team: Team, service: SyncService
) -> None:
    runner = await drifted(store, github, team, "a")
    deprovisioned = attrs.evolve(
        runner, status=RunnerStatus.DELETED, deleted_at=T0, deleted_reason="deprovisioned"
    )

    async def api_deprovisions_it() -> None:
        async with store.unit_of_work() as uow:
            await uow.runners.save(deprovisioned)

    github.during_delete.append(api_deprovisions_it)

    report = await service.run_cycle()

    expected: tuple[dict[str, int], str] = ({}, "deprovisioned")
    assert expected == (report.actions, (await stored(store, runner)).deleted_reason)


# ------------------------------------------------------------------ retention and state


async def test_audit_rows_older_than_the_retention_are_purged(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, clock: FakeClock
) -> None:
    service = SyncService(store, github, clock, SyncSettings(audit_retention_days=30))
    async with store.unit_of_work() as uow:
        for age in (31, 29):
            stamp = FakeClock(T0 - timedelta(days=age))
            row = audit_event(stamp, Actor.system(), AuditAction.SYNC_TRIGGER, target_type="sync")
            await uow.audit.append(row)

    report = await service.run_cycle()

    expected = (1, [AuditAction.SYNC_TRIGGER.value, AuditAction.AUDIT_PURGE.value])
    assert expected == (report.purged_audit_rows, [row.action for row in await audit_rows(store)])


async def test_expired_rows_are_purged_at_most_once_per_purge_interval(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, clock: FakeClock
) -> None:
    """A quiet cycle within the purge interval does not purge (it writes only its report)."""
    settings = SyncSettings(audit_retention_days=30, purge_interval=timedelta(hours=1))
    service = SyncService(store, github, clock, settings)
    await service.run_cycle()
    async with store.unit_of_work() as uow:
        old = FakeClock(T0 - timedelta(days=31))
        await uow.audit.append(
            audit_event(old, Actor.system(), AuditAction.SYNC_TRIGGER, target_type="sync")
        )

    within = await service.run_cycle()
    clock.advance(timedelta(hours=1))
    after = await service.run_cycle()

    assert (0, 1) == (within.purged_audit_rows, after.purged_audit_rows)


async def test_old_webhook_deliveries_are_forgotten(
    store: FakeStore, team: Team, service: SyncService
) -> None:
    async with store.unit_of_work() as uow:
        await uow.webhook_deliveries.record("old", T0 - timedelta(days=8))
        await uow.webhook_deliveries.record("recent", T0 - timedelta(days=6))

    await service.run_cycle()

    async with store.unit_of_work() as uow:
        old_is_new_again = await uow.webhook_deliveries.record("old", T0)
        recent_is_new_again = await uow.webhook_deliveries.record("recent", T0)
    expected = (True, False)
    assert expected == (old_is_new_again, recent_is_new_again)


async def test_status_counts_cycles_and_keeps_the_last_report(
    service: SyncService, clock: FakeClock
) -> None:
    await service.run_cycle()
    clock.advance(120)

    report = await service.run_cycle()

    expected = (SyncState(cycles=2, last_report=report), T0 + timedelta(seconds=120))
    assert expected == (await service.status(), report.started_at)


# ------------------------------------------------------------------ leadership and admin


async def test_cycle_of_a_leader_records_its_name_and_heartbeat(
    service: SyncService, clock: FakeClock
) -> None:
    """The worker that runs a cycle is recorded as leader, its finish time as the heartbeat."""
    clock.advance(5)
    await service.run_cycle(leader="worker-a")

    state = await service.status()
    assert ("worker-a", T0 + timedelta(seconds=5)) == (state.leader, state.heartbeat_at)


async def test_cycle_without_a_leader_keeps_the_recorded_one(
    service: SyncService, clock: FakeClock
) -> None:
    """A one-off cycle (trigger, CLI) leaves the worker's leadership record alone."""
    await service.run_cycle(leader="worker-a")
    clock.advance(60)
    await service.run_cycle()

    state = await service.status()
    assert ("worker-a", T0, 2) == (state.leader, state.heartbeat_at, state.cycles)


async def test_failed_cycle_still_records_the_heartbeat(
    service: SyncService, github: FakeRunnerPlatform
) -> None:
    """A leader whose GitHub listing fails is still alive, and says so."""
    github.fail_next(GitHubUnavailable(), method="list_runners")
    with pytest.raises(GitHubUnavailable):
        await service.run_cycle(leader="worker-a")

    state = await service.status()
    assert ("worker-a", T0) == (state.leader, state.heartbeat_at)


async def test_resign_clears_only_its_own_leadership(service: SyncService) -> None:
    """A worker shutting down forgets itself, never a successor that took over meanwhile."""
    await service.run_cycle(leader="worker-b")
    await service.resign("worker-a")
    kept = (await service.status()).leader
    await service.resign("worker-b")

    assert ("worker-b", None) == (kept, (await service.status()).leader)


def _admin() -> Principal:
    return user_principal(make_user("root@example.com", is_admin=True))


def _outsider() -> Principal:
    return user_principal(make_user("bob@example.com"))


async def test_admin_status_is_the_shared_state(service: SyncService) -> None:
    """An admin reads the same state the worker records."""
    await service.run_cycle(leader="worker-a")

    assert await service.status() == await service.admin_status(_admin())


async def test_non_admins_may_neither_read_the_status_nor_trigger(
    service: SyncService, store: FakeStore
) -> None:
    """Both admin operations refuse other callers and record the attempt."""
    with pytest.raises(AdminRequired):
        await service.admin_status(_outsider())
    with pytest.raises(AdminRequired):
        await service.check_trigger(_outsider())

    operations = [event.details["operation"] for event in await security_events(store)]
    assert ["sync.status", "sync.trigger"] == operations


async def test_admin_may_trigger(service: SyncService, store: FakeStore) -> None:
    """The trigger check lets an admin through without writing anything."""
    await service.check_trigger(_admin())

    assert [] == await security_events(store)


async def test_trigger_is_audited_with_its_outcome(
    service: SyncService, store: FakeStore, team: Team, github: FakeRunnerPlatform
) -> None:
    """Scheduled and refused triggers, and one run inline with its report, each leave a row."""
    await on_github(store, github, team, "r1", status=RunnerStatus.PENDING)
    report = await service.run_cycle()
    admin = _admin()
    await service.record_trigger(admin, TriggerOutcome.SCHEDULED)
    await service.record_trigger(admin, TriggerOutcome.RAN, report)
    await service.record_trigger(admin, TriggerOutcome.REFUSED)

    rows = await audit_rows(store, AuditAction.SYNC_TRIGGER.value)
    expected = [
        ({"result": "scheduled"}, AuditOutcome.SUCCESS),
        ({"result": "ran", "actions": {"change_status": 1}, "errors": 0}, AuditOutcome.SUCCESS),
        ({"result": "refused"}, AuditOutcome.FAILURE),
    ]
    assert expected == [(dict(row.details), row.outcome) for row in rows]
    assert {"root@example.com"} == {row.actor.name for row in rows}


def test_sync_settings_refuse_a_non_positive_audit_retention() -> None:
    with pytest.raises(ValueError, match="audit_retention_days"):
        SyncSettings(audit_retention_days=0)


def test_sync_settings_refuse_a_non_positive_webhook_retention() -> None:
    with pytest.raises(ValueError, match="webhook_delivery_retention"):
        SyncSettings(webhook_delivery_retention=timedelta(0))


# ------------------------------------------------------------------ fencing


async def test_a_worker_that_loses_leadership_mid_cycle_stops_before_its_next_action(
    store: FakeStore, github: GitHubWithInterference, team: Team, service: SyncService
) -> None:
    # Issue 12, finding 5: after its lock connection was cut, the old leader went on deleting
    # runners (answered 404) and writing while the new leader ran its own cycle.
    first, second, third = [await drifted(store, github, team, name) for name in "abc"]
    leading = True

    async def still_leads() -> bool:
        return leading

    async def lose_the_lock() -> None:
        nonlocal leading
        leading = False

    github.during_delete.append(lose_the_lock)
    before = (await service.status()).cycles

    with pytest.raises(LeadershipLost):
        await service.run_cycle(leader="worker-a", fence=still_leads)

    statuses = [(await stored(store, r)).status for r in (first, second, third)]
    expected = (1, [RunnerStatus.DELETED, RunnerStatus.ONLINE, RunnerStatus.ONLINE], before)
    assert expected == (github.calls["delete_runner"], statuses, (await service.status()).cycles)


async def test_a_fence_that_holds_lets_the_whole_cycle_run(
    store: FakeStore, github: FakeRunnerPlatform, team: Team, service: SyncService
) -> None:
    asked = 0

    async def leads() -> bool:
        nonlocal asked
        asked += 1
        return True

    for name in "ab":
        await drifted(store, github, team, name)

    report = await service.run_cycle(leader="worker-a", fence=leads)

    # Asked before each runner's actions and before the report; a quiet cycle asks once.
    assert ({"remove_drifted_runner": 2}, 3) == (report.actions, asked)
