"""A process's first sync cycle resolves stuck reservations older than the longest GitHub call.

Later cycles keep ``provisioning_grace``; a row younger than the longest call may still be in
flight in another replica and is left alone, on the first cycle as on every other.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gharts_core.drift import DriftSettings, StuckProvisioningAction
from gharts_core.errors import GitHubUnavailable
from gharts_core.model import AuditAction, RunnerRecord, RunnerStatus, Team
from gharts_core.services.sync import SyncService, SyncSettings
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_github import FakeRunnerPlatform
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import T0, audit_rows, make_runner, make_team, seed, stored_runner

LABELS = ("backend", "gpu-a100")
GRACE = timedelta(minutes=10)
LONGEST_CALL = timedelta(seconds=60)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def github(clock: FakeClock) -> FakeRunnerPlatform:
    return FakeRunnerPlatform(clock=clock)


@pytest.fixture
async def team(store: FakeStore) -> Team:
    team = make_team("backend")
    await seed(store, team)
    return team


def sync_service(
    store: FakeStore,
    github: FakeRunnerPlatform,
    clock: FakeClock,
    *,
    longest_call: timedelta | None = LONGEST_CALL,
    action: StuckProvisioningAction = StuckProvisioningAction.REMOVE,
) -> SyncService:
    """A sync service with a 10-minute grace whose GitHub calls take at most ``longest_call``."""
    drift = DriftSettings(provisioning_grace=GRACE, stuck_provisioning_action=action)
    settings = SyncSettings(drift=drift, first_cycle_provisioning_grace=longest_call)
    return SyncService(store, github, clock, settings)


async def reserved(store: FakeStore, team: Team, name: str, age: timedelta) -> RunnerRecord:
    """Seed a ``provisioning`` row reserved ``age`` ago."""
    record = make_runner(team, name, status=RunnerStatus.PROVISIONING, labels=LABELS, at=T0 - age)
    await seed(store, record)
    return record


async def status_of(store: FakeStore, record: RunnerRecord) -> tuple[RunnerStatus, str | None]:
    current = await stored_runner(store, record.id)
    assert current is not None
    return current.status, current.deleted_reason


async def test_first_cycle_resolves_rows_older_than_the_longest_call_and_spares_younger_ones(
    store: FakeStore, github: FakeRunnerPlatform, clock: FakeClock, team: Team
) -> None:
    """Created on GitHub: removed; unknown to GitHub: retired; younger: left in flight."""
    service = sync_service(store, github, clock)
    github.register("crashed", LABELS, status="offline")
    crashed = await reserved(store, team, "crashed", timedelta(seconds=90))
    never_sent = await reserved(store, team, "never-sent", timedelta(seconds=90))
    in_flight = await reserved(store, team, "in-flight", timedelta(seconds=30))

    report = await service.run_cycle()

    deleted, stuck = RunnerStatus.DELETED, "stuck_provisioning"
    expected = (
        {"mark_deleted": 1, "remove_stuck_runner": 1},
        (),
        [(deleted, stuck), (deleted, stuck), (RunnerStatus.PROVISIONING, None)],
        2,
    )
    assert expected == (
        report.actions,
        github.runners,
        [await status_of(store, r) for r in (crashed, never_sent, in_flight)],
        len(await audit_rows(store, AuditAction.RUNNER_STATUS.value)),
    )


async def test_later_cycles_keep_the_grace(
    store: FakeStore, github: FakeRunnerPlatform, clock: FakeClock, team: Team
) -> None:
    """After the first cycle, a row older than the longest call waits for the whole grace."""
    service = sync_service(store, github, clock)
    await service.run_cycle()
    github.register("slow", LABELS, status="offline")
    slow = await reserved(store, team, "slow", timedelta(seconds=90))

    kept = await service.run_cycle()
    clock.advance(GRACE)
    resolved = await service.run_cycle()

    nothing: dict[str, int] = {}
    expected = (nothing, {"remove_stuck_runner": 1}, (RunnerStatus.DELETED, "stuck_provisioning"))
    assert expected == (kept.actions, resolved.actions, await status_of(store, slow))


async def test_first_cycle_adopts_when_configured(
    store: FakeStore, github: FakeRunnerPlatform, clock: FakeClock, team: Team
) -> None:
    """With ``stuck_provisioning_action = adopt`` the runner GitHub has is kept, as pending."""
    service = sync_service(store, github, clock, action=StuckProvisioningAction.ADOPT)
    observed = github.register("crashed", LABELS, status="offline")
    crashed = await reserved(store, team, "crashed", timedelta(seconds=90))

    report = await service.run_cycle()

    current = await stored_runner(store, crashed.id)
    assert current is not None
    expected = ({"adopt_stuck_runner": 1}, RunnerStatus.PENDING, observed.id, 1)
    assert expected == (
        report.actions,
        current.status,
        current.github_runner_id,
        len(await audit_rows(store, AuditAction.RUNNER_ADOPT.value)),
    )


async def test_a_first_cycle_that_could_not_list_github_leaves_its_turn_to_the_next(
    store: FakeStore, github: FakeRunnerPlatform, clock: FakeClock, team: Team
) -> None:
    """Nothing was resolved while GitHub was down, so the next cycle is still the first."""
    service = sync_service(store, github, clock)
    crashed = await reserved(store, team, "crashed", timedelta(seconds=90))
    github.fail_next(GitHubUnavailable("GitHub is down"), method="list_runners")

    with pytest.raises(GitHubUnavailable):
        await service.run_cycle()
    report = await service.run_cycle()

    expected = ({"mark_deleted": 1}, (RunnerStatus.DELETED, "stuck_provisioning"))
    assert expected == (report.actions, await status_of(store, crashed))


@pytest.mark.parametrize("longest_call", [None, GRACE * 2])
async def test_without_a_shorter_bound_the_first_cycle_keeps_the_grace(
    store: FakeStore,
    github: FakeRunnerPlatform,
    clock: FakeClock,
    team: Team,
    longest_call: timedelta | None,
) -> None:
    """An unknown bound, or one longer than the grace, changes nothing: the grace is the floor."""
    service = sync_service(store, github, clock, longest_call=longest_call)
    await reserved(store, team, "young", GRACE - timedelta(seconds=1))

    report = await service.run_cycle()

    assert {} == report.actions


def test_sync_settings_refuse_a_non_positive_first_cycle_grace() -> None:
    with pytest.raises(ValueError, match="first_cycle_provisioning_grace"):
        SyncSettings(first_cycle_provisioning_grace=timedelta(0))
