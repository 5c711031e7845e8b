"""The drift detector: every rule, through plain records and observed runners."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from gharts_core.drift import (
    ActionKind,
    AdoptStuckRunner,
    BindGitHubId,
    ChangeStatus,
    DeletionReason,
    DriftAction,
    DriftResult,
    DriftSettings,
    MarkDeleted,
    RemoveDriftedRunner,
    RemoveExpiredRunner,
    RemoveOfflineRunner,
    RemoveStuckRunner,
    ReportBusyDrift,
    StuckProvisioningAction,
    detect_drift,
    github_status,
)
from gharts_core.model import (
    Actor,
    LabelType,
    ObservedLabel,
    ObservedRunner,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = DriftSettings()
ADOPT = DriftSettings(stuck_provisioning_action=StuckProvisioningAction.ADOPT)
TEAM_ID = uuid.uuid4()
NO_ACTIONS: tuple[DriftAction, ...] = ()


def record(
    name: str = "r1",
    *,
    status: RunnerStatus = RunnerStatus.ONLINE,
    github_runner_id: int | None = 1,
    labels: tuple[str, ...] = ("gpu", "team-a"),
    age: timedelta = timedelta(hours=2),
) -> RunnerRecord:
    created = NOW - age
    return RunnerRecord(
        id=uuid.uuid4(),
        name=name,
        team_id=TEAM_ID,
        team_name="team-a",
        labels=labels,
        runner_group_id=1,
        status=status,
        method=ProvisionMethod.JIT,
        created_by=Actor.system(),
        created_at=created,
        updated_at=created,
        github_runner_id=github_runner_id,
    )


def seen(
    github_id: int = 1,
    name: str = "r1",
    *,
    status: str = "online",
    busy: bool = False,
    custom: tuple[str, ...] = ("gpu", "team-a"),
    read_only: tuple[str, ...] = ("self-hosted", "linux", "x64"),
) -> ObservedRunner:
    labels = [ObservedLabel(name, LabelType.READ_ONLY) for name in read_only]
    labels += [ObservedLabel(name, LabelType.CUSTOM) for name in custom]
    return ObservedRunner(
        id=github_id, name=name, os="linux", status=status, busy=busy, labels=labels
    )


def detect(
    records: list[RunnerRecord],
    observed: list[ObservedRunner],
    settings: DriftSettings = SETTINGS,
) -> DriftResult:
    return detect_drift(records, observed, settings, NOW)


# ------------------------------------------------------------------ status mapping


@pytest.mark.parametrize(
    ("status", "busy", "expected"),
    [
        ("online", True, RunnerStatus.BUSY),
        ("online", False, RunnerStatus.ONLINE),
        ("offline", False, RunnerStatus.OFFLINE),
        ("offline", True, RunnerStatus.OFFLINE),
        ("Online", False, RunnerStatus.ONLINE),
    ],
)
def test_github_status_maps_online_busy_and_offline(
    status: str, busy: bool, expected: RunnerStatus
) -> None:
    assert expected == github_status(seen(status=status, busy=busy))


def test_runner_whose_status_already_matches_produces_no_action() -> None:
    records = [
        record("a", github_runner_id=1, status=RunnerStatus.ONLINE),
        record("b", github_runner_id=2, status=RunnerStatus.BUSY),
        record("c", github_runner_id=3, status=RunnerStatus.OFFLINE),
    ]
    observed = [seen(1, "a"), seen(2, "b", busy=True), seen(3, "c", status="offline")]

    assert DriftResult(actions=(), observed=3, unmanaged=0) == detect(records, observed)


@pytest.mark.parametrize(
    ("before", "status", "busy", "after"),
    [
        (RunnerStatus.ONLINE, "online", True, RunnerStatus.BUSY),
        (RunnerStatus.BUSY, "online", False, RunnerStatus.ONLINE),
        (RunnerStatus.ONLINE, "offline", False, RunnerStatus.OFFLINE),
        (RunnerStatus.OFFLINE, "online", False, RunnerStatus.ONLINE),
        (RunnerStatus.PENDING, "online", False, RunnerStatus.ONLINE),
        (RunnerStatus.PENDING, "online", True, RunnerStatus.BUSY),
    ],
)
def test_status_change_follows_github(
    before: RunnerStatus, status: str, busy: bool, after: RunnerStatus
) -> None:
    runner = record(status=before)

    actual = detect([runner], [seen(status=status, busy=busy)]).actions

    assert (ChangeStatus(runner, after),) == actual


# ------------------------------------------------------------------ vanished and pending


def test_vanished_online_runner_is_marked_deleted() -> None:
    runner = record(status=RunnerStatus.ONLINE)

    assert (MarkDeleted(runner, DeletionReason.VANISHED),) == detect([runner], []).actions


@pytest.mark.parametrize("status", [RunnerStatus.BUSY, RunnerStatus.OFFLINE])
def test_vanished_busy_or_offline_runner_is_marked_deleted(status: RunnerStatus) -> None:
    runner = record(status=status)

    assert (MarkDeleted(runner, DeletionReason.VANISHED),) == detect([runner], []).actions


def test_record_matched_by_id_does_not_fall_back_to_name() -> None:
    runner = record("r1", github_runner_id=1)

    expected = DriftResult(
        actions=(MarkDeleted(runner, DeletionReason.VANISHED),), observed=1, unmanaged=1
    )
    assert expected == detect([runner], [seen(99, "r1")])


def test_pending_runner_missing_from_github_is_kept_before_ttl() -> None:
    runner = record(status=RunnerStatus.PENDING, github_runner_id=None, age=timedelta(minutes=59))

    expected = NO_ACTIONS
    assert expected == detect([runner], []).actions


def test_pending_runner_missing_from_github_expires_at_ttl() -> None:
    runner = record(status=RunnerStatus.PENDING, github_runner_id=None, age=timedelta(hours=1))

    expected = (MarkDeleted(runner, DeletionReason.PENDING_EXPIRED),)
    assert expected == detect([runner], []).actions


def test_pending_ttl_is_configurable() -> None:
    runner = record(status=RunnerStatus.PENDING, age=timedelta(minutes=5))
    short = DriftSettings(pending_ttl=timedelta(minutes=5))

    expected = (MarkDeleted(runner, DeletionReason.PENDING_EXPIRED),)
    assert expected == detect([runner], [], short).actions


def test_pending_runner_offline_on_github_stays_pending_before_ttl() -> None:
    runner = record(status=RunnerStatus.PENDING, age=timedelta(minutes=30))

    expected = NO_ACTIONS
    assert expected == detect([runner], [seen(status="offline")]).actions


def test_pending_runner_never_online_after_ttl_is_removed_from_github() -> None:
    runner = record(status=RunnerStatus.PENDING, age=timedelta(hours=1, seconds=1))

    assert (RemoveExpiredRunner(runner, 1),) == detect([runner], [seen(status="offline")]).actions


# ------------------------------------------------------------------ binding and unmanaged


def test_runner_without_github_id_is_bound_by_name() -> None:
    runner = record("ci-7", status=RunnerStatus.PENDING, github_runner_id=None)

    actual = detect([runner], [seen(42, "ci-7", status="online")]).actions

    assert (BindGitHubId(runner, 42), ChangeStatus(runner, RunnerStatus.ONLINE)) == actual


def test_name_match_is_case_insensitive_like_github() -> None:
    runner = record("CI-7", status=RunnerStatus.ONLINE, github_runner_id=None)

    assert (BindGitHubId(runner, 42),) == detect([runner], [seen(42, "ci-7")]).actions


def test_binding_alone_when_status_already_matches() -> None:
    runner = record("ci-7", status=RunnerStatus.ONLINE, github_runner_id=None)

    assert (BindGitHubId(runner, 42),) == detect([runner], [seen(42, "ci-7")]).actions


def test_name_match_ignores_runner_already_claimed_by_id() -> None:
    by_id = record("mine", github_runner_id=5)
    by_name = record("mine-too", github_runner_id=None)

    expected = DriftResult(
        actions=(MarkDeleted(by_name, DeletionReason.VANISHED),), observed=1, unmanaged=0
    )
    assert expected == detect([by_id, by_name], [seen(5, "MINE")])


def test_a_reused_github_id_is_another_runner_and_is_never_removed() -> None:
    # Issue 12, finding 1: the dev simulator restarted and numbered from 1 again; the old team's
    # record is gone from GitHub, the new team's runner (same id, another name) is healthy.
    old = record("other-old", github_runner_id=1, labels=("other",))
    new = record("demo-new", github_runner_id=1, labels=("demo",))

    result = detect([old, new], [seen(1, "demo-new", custom=("demo",))])

    assert result.actions == (MarkDeleted(old, DeletionReason.VANISHED),)
    assert result.unmanaged == 0


def test_a_reused_id_is_not_bound_to_a_record_of_another_name() -> None:
    bound = record("old-name", github_runner_id=5)
    unbound = record("new-name", github_runner_id=None)

    result = detect([bound, unbound], [seen(5, "new-name")])

    assert result.actions == (
        BindGitHubId(unbound, 5),
        MarkDeleted(bound, DeletionReason.VANISHED),
    )


def test_runners_gharts_never_created_are_counted_not_touched() -> None:
    runner = record("mine", github_runner_id=1)
    observed = [seen(1, "mine"), seen(2, "theirs"), seen(3, "other", custom=("x",))]

    assert DriftResult(actions=(), observed=3, unmanaged=2) == detect([runner], observed)


def test_deleted_records_in_input_are_ignored() -> None:
    gone = record(status=RunnerStatus.DELETED)

    assert DriftResult(actions=(), observed=1, unmanaged=1) == detect([gone], [seen()])


# ------------------------------------------------------------------ label drift


def test_idle_drifted_runner_is_removed() -> None:
    runner = record(labels=("gpu",))

    actual = detect([runner], [seen(custom=("gpu", "prod-deploy"))]).actions

    assert (RemoveDriftedRunner(runner, 1, ("gpu",), ("gpu", "prod-deploy")),) == actual


def test_offline_drifted_runner_is_removed() -> None:
    runner = record(labels=("gpu",), status=RunnerStatus.ONLINE)

    actual = detect([runner], [seen(status="offline", custom=("cpu",))]).actions

    assert (RemoveDriftedRunner(runner, 1, ("gpu",), ("cpu",)),) == actual


def test_runner_missing_a_provisioned_label_has_drifted() -> None:
    runner = record(labels=("gpu", "team-a"))

    actual = detect([runner], [seen(custom=("team-a",))]).actions

    assert (RemoveDriftedRunner(runner, 1, ("gpu", "team-a"), ("team-a",)),) == actual


def test_busy_drifted_runner_is_reported_not_removed() -> None:
    runner = record(labels=("gpu",), status=RunnerStatus.ONLINE)

    actual = detect([runner], [seen(busy=True, custom=("gpu", "prod"))]).actions

    expected = (
        ChangeStatus(runner, RunnerStatus.BUSY),
        ReportBusyDrift(runner, 1, ("gpu",), ("gpu", "prod")),
    )
    assert expected == actual


def test_busy_drifted_runner_is_removed_when_configured() -> None:
    runner = record(labels=("gpu",), status=RunnerStatus.BUSY)
    settings = DriftSettings(delete_busy_drifted=True)

    actual = detect([runner], [seen(busy=True, custom=("prod",))], settings).actions

    assert (RemoveDriftedRunner(runner, 1, ("gpu",), ("prod",), busy=True),) == actual


def test_read_only_labels_never_cause_drift() -> None:
    runner = record(labels=("gpu",))
    observed = seen(custom=("gpu",), read_only=("self-hosted", "windows", "arm64", "anything"))

    expected = NO_ACTIONS
    assert expected == detect([runner], [observed]).actions


def test_label_comparison_is_case_insensitive() -> None:
    runner = record(labels=("gpu", "team-a"))

    expected = NO_ACTIONS
    assert expected == detect([runner], [seen(custom=("GPU", "Team-A"))]).actions


def test_drifted_runner_matched_by_name_is_bound_then_removed() -> None:
    runner = record("reg-1", status=RunnerStatus.PENDING, github_runner_id=None, labels=("a",))

    actual = detect([runner], [seen(9, "reg-1", custom=("b",))]).actions

    assert (BindGitHubId(runner, 9), RemoveDriftedRunner(runner, 9, ("a",), ("b",))) == actual


# ------------------------------------------------------------------ stuck provisioning


def test_provisioning_row_younger_than_grace_is_untouched() -> None:
    young = record(status=RunnerStatus.PROVISIONING, github_runner_id=None, age=timedelta(0))

    result = detect([young], [seen(1, "r1")])

    assert DriftResult(actions=(), observed=1, unmanaged=0) == result


def test_stuck_provisioning_row_unknown_to_github_is_marked_deleted() -> None:
    stuck = record(status=RunnerStatus.PROVISIONING, github_runner_id=None)

    expected = (MarkDeleted(stuck, DeletionReason.STUCK_PROVISIONING),)
    assert expected == detect([stuck], [seen(1, "someone-else")], ADOPT).actions


def test_stuck_provisioning_row_known_to_github_is_removed_by_default() -> None:
    stuck = record(status=RunnerStatus.PROVISIONING, github_runner_id=None)

    assert (RemoveStuckRunner(stuck, 7),) == detect([stuck], [seen(7, "r1")]).actions


def test_stuck_provisioning_row_is_adopted_with_github_status_when_configured() -> None:
    stuck = record(status=RunnerStatus.PROVISIONING, github_runner_id=None)

    actual = detect([stuck], [seen(7, "r1", busy=True)], ADOPT).actions

    assert (AdoptStuckRunner(stuck, 7, RunnerStatus.BUSY),) == actual


def test_stuck_runner_offline_on_github_is_adopted_as_pending() -> None:
    stuck = record(status=RunnerStatus.PROVISIONING, github_runner_id=None)

    actual = detect([stuck], [seen(7, "r1", status="offline")], ADOPT).actions

    assert (AdoptStuckRunner(stuck, 7, RunnerStatus.PENDING),) == actual


def test_adopted_runner_with_drifted_labels_is_removed_in_the_same_cycle() -> None:
    stuck = record(status=RunnerStatus.PROVISIONING, github_runner_id=None, labels=("a",))

    actual = detect([stuck], [seen(7, "r1", custom=("b",))], ADOPT).actions

    expected = (
        AdoptStuckRunner(stuck, 7, RunnerStatus.ONLINE),
        RemoveDriftedRunner(stuck, 7, ("a",), ("b",)),
    )
    assert expected == actual


# ------------------------------------------------------------------ result shape


def test_actions_are_ordered_by_runner_name_whatever_the_input_order() -> None:
    b = record("b", github_runner_id=2)
    a = record("a", github_runner_id=1)

    result = detect([b, a], [])

    expected = (
        MarkDeleted(a, DeletionReason.VANISHED),
        MarkDeleted(b, DeletionReason.VANISHED),
    )
    assert expected == result.actions


# ------------------------------------------------------------------ offline TTL


def test_runner_offline_longer_than_the_offline_ttl_is_removed_and_frees_its_slot() -> None:
    # Issue 12, finding 4: offline runners were never removed and held their slot forever.
    runner = record(status=RunnerStatus.OFFLINE, age=timedelta(days=1))

    expected = (RemoveOfflineRunner(runner, 1),)
    assert expected == detect([runner], [seen(status="offline")]).actions


def test_runner_offline_for_less_than_the_offline_ttl_is_kept() -> None:
    runner = record(status=RunnerStatus.OFFLINE, age=timedelta(hours=23))

    assert NO_ACTIONS == detect([runner], [seen(status="offline")]).actions


def test_offline_ttl_counts_from_the_last_change_not_the_creation() -> None:
    runner = attrs.evolve(
        record(status=RunnerStatus.OFFLINE, age=timedelta(days=30)),
        updated_at=NOW - timedelta(minutes=5),
    )

    assert NO_ACTIONS == detect([runner], [seen(status="offline")]).actions


def test_offline_runners_are_kept_forever_without_an_offline_ttl() -> None:
    runner = record(status=RunnerStatus.OFFLINE, age=timedelta(days=365))

    actions = detect([runner], [seen(status="offline")], DriftSettings(offline_ttl=None)).actions

    assert NO_ACTIONS == actions


def test_provisioning_grace_is_two_minutes_by_default() -> None:
    young = record("young", status=RunnerStatus.PROVISIONING, age=timedelta(seconds=119))
    stuck = record("stuck", status=RunnerStatus.PROVISIONING, age=timedelta(seconds=120))

    expected = (MarkDeleted(stuck, DeletionReason.STUCK_PROVISIONING),)
    assert expected == detect([young, stuck], []).actions


def test_counts_group_actions_by_kind() -> None:
    records = [record("a", github_runner_id=1), record("b", github_runner_id=2)]
    records.append(record("c", github_runner_id=None, status=RunnerStatus.PENDING))
    observed = [seen(3, "c", status="online")]

    expected = {
        ActionKind.MARK_DELETED.value: 2,
        ActionKind.BIND_GITHUB_ID.value: 1,
        ActionKind.CHANGE_STATUS.value: 1,
    }
    assert expected == detect(records, observed).counts()


def test_every_action_applies_its_change_to_a_record() -> None:
    runner = record(status=RunnerStatus.PROVISIONING, github_runner_id=None)
    later = NOW + timedelta(seconds=5)

    def applied(action: DriftAction) -> RunnerRecord:
        return action.apply(runner, later)

    deleted = attrs.evolve(runner, status=RunnerStatus.DELETED, deleted_at=later, updated_at=later)
    assert attrs.evolve(runner, github_runner_id=3, updated_at=later) == applied(
        BindGitHubId(runner, 3)
    )
    assert attrs.evolve(runner, status=RunnerStatus.BUSY, updated_at=later) == applied(
        ChangeStatus(runner, RunnerStatus.BUSY)
    )
    assert attrs.evolve(
        runner, github_runner_id=3, status=RunnerStatus.ONLINE, updated_at=later
    ) == applied(AdoptStuckRunner(runner, 3, RunnerStatus.ONLINE))
    assert runner == applied(ReportBusyDrift(runner, 3, ("a",), ("b",)))
    assert attrs.evolve(deleted, deleted_reason="vanished_from_github") == applied(
        MarkDeleted(runner, DeletionReason.VANISHED)
    )
    assert attrs.evolve(deleted, deleted_reason="label_drift") == applied(
        RemoveDriftedRunner(runner, 3, ("a",), ("b",))
    )
    assert attrs.evolve(deleted, deleted_reason="stuck_provisioning") == applied(
        RemoveStuckRunner(runner, 3)
    )
    assert attrs.evolve(deleted, deleted_reason="pending_expired") == applied(
        RemoveExpiredRunner(runner, 3)
    )
    assert attrs.evolve(deleted, deleted_reason="offline_expired") == applied(
        RemoveOfflineRunner(runner, 3)
    )


def test_settings_refuse_a_non_positive_pending_ttl() -> None:
    with pytest.raises(ValueError, match="pending_ttl"):
        DriftSettings(pending_ttl=timedelta(0))


def test_settings_refuse_a_negative_provisioning_grace() -> None:
    with pytest.raises(ValueError, match="provisioning_grace"):
        DriftSettings(provisioning_grace=timedelta(seconds=-1))


def test_ten_thousand_unchanged_runners_produce_no_action() -> None:
    records = [record(f"r{i}", github_runner_id=i) for i in range(10_000)]
    observed = [seen(i, f"r{i}") for i in range(10_000)]

    assert DriftResult(actions=(), observed=10_000, unmanaged=0) == detect(records, observed)
