"""``workflow_job`` webhooks through the fake store and the fake GitHub."""

from __future__ import annotations

import attrs
import pytest

from gharts_core.errors import GitHubUnavailable
from gharts_core.model import (
    AuditAction,
    AuditOutcome,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    SecurityEventType,
    Severity,
    TransitionSource,
)
from gharts_core.policy import LabelPolicy
from gharts_core.services.webhook import (
    WebhookEnforcement,
    WebhookOutcome,
    WebhookService,
    WebhookSettings,
    WorkflowJobAction,
    WorkflowJobEvent,
)
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import (
    HookedPlatform,
    audit_rows,
    make_runner,
    make_team,
    security_events,
    seed,
    stored_runner,
    transitions,
    update_runner,
)

WEBHOOK_JOB = AuditAction.WEBHOOK_JOB.value
REPOSITORY = "octo/app"


class World:
    """Team backend with one pending runner ``be-1`` (also on GitHub) and both services."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.github = HookedPlatform(clock=self.clock)
        self.team = make_team("backend")
        observed = self.github.register(
            "be-1", ["backend", "gpu-a"], status="online", ephemeral=True
        )
        self.github_id = observed.id
        self.runner = make_runner(
            self.team, "be-1", labels=["backend", "gpu-a"], github_runner_id=observed.id
        )
        self.audit = self.service(WebhookEnforcement.AUDIT)
        self.enforce = self.service(WebhookEnforcement.ENFORCE)
        self._deliveries = 0

    def service(self, mode: WebhookEnforcement) -> WebhookService:
        """Return a webhook service in one enforcement mode."""
        return WebhookService(
            self.store, self.github, self.clock, WebhookSettings(enforcement=mode)
        )

    def event(self, action: str = "in_progress", **fields: object) -> WorkflowJobEvent:
        """Return a new delivery about ``be-1`` unless told otherwise."""
        self._deliveries += 1
        values: dict[str, object] = {
            "delivery_id": f"delivery-{self._deliveries}",
            "action": action,
            "repository": REPOSITORY,
            "run_id": 4242,
            "job_id": 77,
            "labels": ("self-hosted", "gpu-a"),
            "runner_id": self.github_id,
            "runner_name": "be-1",
        }
        values.update(fields)
        return WorkflowJobEvent(**values)  # type: ignore[arg-type]

    async def stored(self, runner: RunnerRecord | None = None) -> RunnerRecord:
        """Return the stored state of ``be-1`` (or of ``runner``)."""
        found = await stored_runner(self.store, (runner or self.runner).id)
        assert found is not None
        return found

    async def tighten_policy(self) -> None:
        """Make the team's policy refuse ``gpu-a`` from now on."""
        async with self.store.unit_of_work() as uow:
            team = await uow.teams.get(self.team.id)
            assert team is not None
            policy = LabelPolicy(required_labels=["backend"], optional_label_patterns=["cpu-.*"])
            await uow.teams.update(attrs.evolve(team, policy=policy))


@pytest.fixture
async def world() -> World:
    world = World()
    await seed(world.store, world.team, world.runner)
    return world


# ---------------------------------------------------------------- de-duplication


async def test_a_redelivery_is_a_duplicate_and_changes_nothing(world: World) -> None:
    event = world.event("completed")
    await world.audit.handle(event)
    before = (await world.stored(), len(await audit_rows(world.store)))

    outcome = await world.audit.handle(event)

    expected = (WebhookOutcome.DUPLICATE, before)
    assert expected == (outcome, (await world.stored(), len(await audit_rows(world.store))))


async def test_an_ignored_delivery_is_remembered_too(world: World) -> None:
    event = world.event(runner_id=999, runner_name="stranger")
    await world.audit.handle(event)

    outcome = await world.audit.handle(event)

    expected = WebhookOutcome.DUPLICATE
    assert expected == outcome


# ---------------------------------------------------------------- ignored


@pytest.mark.parametrize(
    "fields",
    [
        {"runner_id": 999, "runner_name": "stranger"},
        {"runner_id": None, "runner_name": None},
        {"runner_id": None, "runner_name": ""},
        {"runner_id": 999, "runner_name": "be-1"},
        {"action": "queued"},
        {"action": "waiting"},
    ],
)
async def test_events_about_runners_gharts_does_not_manage_are_ignored(
    world: World, fields: dict[str, object]
) -> None:
    outcome = await world.audit.handle(world.event(**fields))

    expected = (WebhookOutcome.IGNORED, world.runner, [])
    assert expected == (outcome, await world.stored(), await audit_rows(world.store))


async def test_events_about_deleted_runners_are_ignored(world: World) -> None:
    await update_runner(world.store, world.runner.id, status=RunnerStatus.DELETED)

    outcome = await world.audit.handle(world.event())

    expected = WebhookOutcome.IGNORED
    assert expected == outcome


# ---------------------------------------------------------------- in_progress


async def test_a_started_job_marks_the_runner_busy_from_the_webhook(world: World) -> None:
    outcome = await world.audit.handle(world.event())

    (*_, last) = await transitions(world.store, world.runner.id)
    expected = (WebhookOutcome.PROCESSED, RunnerStatus.BUSY, TransitionSource.WEBHOOK)
    assert expected == (outcome, (await world.stored()).status, last.source)


async def test_a_started_job_is_audited(world: World) -> None:
    await world.audit.handle(world.event())

    (row,) = await audit_rows(world.store, WEBHOOK_JOB)
    expected = ("github-webhook", "in_progress", 4242, REPOSITORY, "busy", "backend")
    actual = (
        row.actor.name,
        row.details["action"],
        row.details["run_id"],
        row.details["repository"],
        row.details["status"],
        row.team_name,
    )
    assert expected == actual


async def test_a_second_start_on_a_busy_runner_records_no_new_transition(world: World) -> None:
    await world.audit.handle(world.event())
    count = len(await transitions(world.store, world.runner.id))

    await world.audit.handle(world.event(job_id=78))

    expected = count
    assert expected == len(await transitions(world.store, world.runner.id))


async def test_a_registration_token_runner_is_matched_by_name_and_bound(world: World) -> None:
    legacy = make_runner(world.team, "legacy-1", method=ProvisionMethod.REGISTRATION_TOKEN)
    await seed(world.store, legacy)

    await world.audit.handle(world.event(runner_id=31, runner_name="Legacy-1"))

    stored = await world.stored(legacy)
    expected = (RunnerStatus.BUSY, 31)
    assert expected == (stored.status, stored.github_runner_id)


async def test_a_runner_is_matched_by_name_when_the_event_has_no_id(world: World) -> None:
    await world.audit.handle(world.event(runner_id=None))

    expected = (RunnerStatus.BUSY, world.github_id)
    stored = await world.stored()
    assert expected == (stored.status, stored.github_runner_id)


async def test_allowed_labels_raise_no_security_event(world: World) -> None:
    await world.enforce.handle(world.event())

    expected = ([], [])
    assert expected == (await security_events(world.store), world.github.cancelled_runs)


async def test_in_audit_mode_a_refused_label_is_only_reported(world: World) -> None:
    await world.tighten_policy()

    await world.audit.handle(world.event())

    (event,) = await security_events(world.store)
    expected = (
        SecurityEventType.WEBHOOK_LABEL_VIOLATION,
        Severity.WARNING,
        world.runner.id,
        ["gpu-a"],
        RunnerStatus.BUSY,
        [],
    )
    actual = (
        event.type,
        event.severity,
        event.runner_id,
        [v["label"] for v in event.details["violations"]],
        (await world.stored()).status,
        world.github.cancelled_runs,
    )
    assert expected == actual


async def test_a_job_label_the_policy_refuses_is_a_violation_too(world: World) -> None:
    await world.audit.handle(world.event(labels=("self-hosted", "cpu-x")))

    (event,) = await security_events(world.store)
    expected = ["cpu-x"]
    assert expected == [v["label"] for v in event.details["violations"]]


async def test_in_enforce_mode_the_run_is_cancelled_and_the_runner_removed(
    world: World,
) -> None:
    await world.tighten_policy()

    outcome = await world.enforce.handle(world.event())

    stored = await world.stored()
    (event,) = await security_events(world.store)
    expected = (
        WebhookOutcome.PROCESSED,
        [(REPOSITORY, 4242)],
        (),
        RunnerStatus.DELETED,
        "label_policy_violation",
        Severity.CRITICAL,
    )
    actual = (
        outcome,
        world.github.cancelled_runs,
        world.github.runners,
        stored.status,
        stored.deleted_reason,
        event.severity,
    )
    assert expected == actual


async def test_enforcement_is_audited(world: World) -> None:
    await world.tighten_policy()

    await world.enforce.handle(world.event())

    (_, row) = await audit_rows(world.store, WEBHOOK_JOB)
    expected = (AuditOutcome.SUCCESS, True, True, "deleted")
    actual = (row.outcome, row.details["run_cancelled"], row.details["runner_removed"])
    assert expected == (*actual, row.details["status"])


async def test_a_failed_cancellation_is_audited_and_raised(world: World) -> None:
    await world.tighten_policy()
    world.github.fail_next(GitHubUnavailable(), method="cancel_workflow_run")

    with pytest.raises(GitHubUnavailable):
        await world.enforce.handle(world.event())

    (_, row) = await audit_rows(world.store, WEBHOOK_JOB)
    expected = (AuditOutcome.FAILURE, "cancel", RunnerStatus.BUSY, 1)
    actual = (row.outcome, row.details["step"], (await world.stored()).status)
    assert expected == (*actual, len(world.github.runners))


async def test_a_failed_removal_after_cancelling_is_audited_and_raised(world: World) -> None:
    await world.tighten_policy()
    world.github.fail_next(GitHubUnavailable(), method="delete_runner")

    with pytest.raises(GitHubUnavailable):
        await world.enforce.handle(world.event())

    (_, row) = await audit_rows(world.store, WEBHOOK_JOB)
    stored = await world.stored()
    expected = (AuditOutcome.FAILURE, "remove", RunnerStatus.BUSY, [(REPOSITORY, 4242)])
    actual = (row.outcome, row.details["step"], stored.status, world.github.cancelled_runs)
    assert expected == actual


@pytest.mark.parametrize("step", ["cancel_workflow_run", "delete_runner"])
async def test_a_redelivery_after_a_failed_enforcement_enforces_again(
    world: World, step: str
) -> None:
    # Issue 12, finding 6: the delivery was recorded before it was acted on, so GitHub's
    # redelivery was answered "duplicate" and the policy-violating runner stayed.
    await world.tighten_policy()
    world.github.fail_next(GitHubUnavailable(), method=step)
    event = world.event()
    with pytest.raises(GitHubUnavailable):
        await world.enforce.handle(event)

    outcome = await world.enforce.handle(event)
    again = await world.enforce.handle(event)

    stored = await world.stored()
    expected = (WebhookOutcome.PROCESSED, WebhookOutcome.DUPLICATE, RunnerStatus.DELETED, ())
    assert expected == (outcome, again, stored.status, world.github.runners)


async def test_a_webhook_naming_another_runner_under_a_reused_id_is_ignored(
    world: World,
) -> None:
    event = world.event(runner_id=world.github_id, runner_name="somebody-else")

    outcome = await world.audit.handle(event)

    expected = (WebhookOutcome.IGNORED, RunnerStatus.PENDING)
    assert expected == (outcome, (await world.stored()).status)


async def test_enforcing_on_a_runner_github_never_named_only_marks_it_deleted(
    world: World,
) -> None:
    legacy = make_runner(
        world.team,
        "legacy-1",
        labels=["backend", "gpu-a"],
        method=ProvisionMethod.REGISTRATION_TOKEN,
    )
    await seed(world.store, legacy)
    await world.tighten_policy()

    await world.enforce.handle(world.event(runner_id=None, runner_name="legacy-1"))

    expected = (RunnerStatus.DELETED, 0)
    assert expected == ((await world.stored(legacy)).status, world.github.calls["delete_runner"])


async def test_enforcing_keeps_a_deletion_that_happened_meanwhile(world: World) -> None:
    await world.tighten_policy()

    async def completed_meanwhile() -> None:
        await update_runner(
            world.store,
            world.runner.id,
            status=RunnerStatus.DELETED,
            deleted_reason="job_completed",
        )

    world.github.before["delete_runner"] = completed_meanwhile

    await world.enforce.handle(world.event())

    expected = "job_completed"
    assert expected == (await world.stored()).deleted_reason


# ---------------------------------------------------------------- completed


async def test_a_completed_job_retires_the_ephemeral_runner(world: World) -> None:
    await world.audit.handle(world.event())

    outcome = await world.audit.handle(world.event("completed"))

    stored = await world.stored()
    (*_, last) = await transitions(world.store, world.runner.id)
    expected = (
        WebhookOutcome.PROCESSED,
        RunnerStatus.DELETED,
        "job_completed",
        TransitionSource.WEBHOOK,
    )
    assert expected == (outcome, stored.status, stored.deleted_reason, last.source)


async def test_a_completed_job_frees_the_quota_slot(world: World) -> None:
    await world.audit.handle(world.event("completed"))

    async with world.store.unit_of_work() as uow:
        live = await uow.runners.count_live(world.team.id)

    expected = 0
    assert expected == live


# ---------------------------------------------------------------- forged deliveries


async def test_a_forged_delivery_is_a_security_event_with_bounded_details(
    world: World,
) -> None:
    await world.audit.record_forged_delivery({"delivery_id": "d-1", "source_ip": "x" * 500})

    (event,) = await security_events(world.store)
    expected = (SecurityEventType.WEBHOOK_SIGNATURE_INVALID, "d-1", 200)
    actual = (event.type, event.details["delivery_id"], len(event.details["source_ip"]))
    assert expected == actual


# ---------------------------------------------------------------- the event


def test_an_event_takes_its_action_as_a_string() -> None:
    event = WorkflowJobEvent(
        delivery_id="d", action="in_progress", repository=REPOSITORY, run_id=1, job_id=2
    )

    expected = (WorkflowJobAction.IN_PROGRESS, (), None, None)
    assert expected == (event.action, event.labels, event.runner_id, event.runner_name)


def test_an_event_refuses_an_unknown_action() -> None:
    with pytest.raises(ValueError, match="requested"):
        WorkflowJobEvent(
            delivery_id="d", action="requested", repository=REPOSITORY, run_id=1, job_id=2
        )
