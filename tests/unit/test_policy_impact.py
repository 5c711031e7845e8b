"""The impact preview of a team policy change, through the fake store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gharts_core.errors import AdminRequired, InvalidPolicy, ViolationReason
from gharts_core.model import (
    Actor,
    AuditAction,
    AuditEvent,
    AuditOutcome,
    PrincipalKind,
    RunnerStatus,
    Team,
    new_id,
)
from gharts_core.policy import LabelPolicy, evaluate_labels
from gharts_core.services import policy_impact
from gharts_core.services.admin_teams import UpdateTeam
from gharts_core.services.policy_impact import (
    PolicyImpactService,
    RunnerAction,
    replay_requests,
    runner_impacts,
)
from gharts_core.services.webhook import WebhookEnforcement
from gharts_core.testing.strategies import label_policies, labels_allowed_by, labels_refused_by
from tests.unit.admin_support import World, outsider
from tests.unit.builders import T0, make_runner, make_team, seed

SOMEONE = Actor(kind=PrincipalKind.USER, id=None, name="dev@example.com")


def provision_row(
    team: Team,
    labels: list[str],
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    *,
    at: datetime = T0,
) -> AuditEvent:
    return AuditEvent(
        id=new_id(),
        at=at,
        actor=SOMEONE,
        action=AuditAction.RUNNER_PROVISION.value,
        outcome=outcome,
        target_type="runner",
        team_id=team.id,
        team_name=team.name,
        details={"labels": labels},
    )


@pytest.fixture
def world() -> World:
    return World()


async def _append(world: World, *rows: AuditEvent) -> None:
    async with world.store.unit_of_work() as uow:
        for row in rows:
            await uow.audit.append(row)


async def test_the_preview_names_each_refused_runner_its_label_and_what_happens(
    world: World,
) -> None:
    admin = await world.admin()
    team = make_team("ml", patterns=("gpu-[a-z0-9]+", "size-(small|large)"))
    idle = make_runner(team, "idle", status=RunnerStatus.ONLINE, labels=("ml", "gpu-a100"))
    busy = make_runner(team, "busy", status=RunnerStatus.BUSY, labels=("ml", "gpu-h100"))
    fine = make_runner(team, "fine", status=RunnerStatus.OFFLINE, labels=("ml", "size-small"))
    gone = make_runner(team, "gone", status=RunnerStatus.DELETED, labels=("ml", "gpu-a100"))
    await seed(world.store, team, idle, busy, fine, gone)
    service = PolicyImpactService(world.store, world.clock, WebhookEnforcement.ENFORCE)

    impact = await service.preview(
        admin, "ml", UpdateTeam(optional_label_patterns=["size-(small|large)"], max_runners=1)
    )

    found = {
        i.runner.name: ([(v.label, v.reason) for v in i.violations], i.action, i.idle)
        for i in impact.runners
    }
    assert {
        "idle": (
            [("gpu-a100", ViolationReason.NOT_ALLOWED)],
            RunnerAction.NEXT_JOB_CANCELLED,
            True,
        ),
        "busy": (
            [("gpu-h100", ViolationReason.NOT_ALLOWED)],
            RunnerAction.FINISHES_CURRENT_JOB,
            False,
        ),
    } == found
    assert ["idle"] == [i.runner.name for i in impact.idle]
    assert (3, 2) == (impact.live_runners, impact.over_quota)


async def test_in_audit_mode_the_next_job_is_only_recorded(world: World) -> None:
    admin = await world.admin()
    team = make_team("ml")
    runner = make_runner(team, "r", status=RunnerStatus.PENDING, labels=("ml", "gpu-a100"))
    await seed(world.store, team, runner)
    service = PolicyImpactService(world.store, world.clock)

    impact = await service.preview(admin, "ml", UpdateTeam(optional_label_patterns=[]))

    assert [(RunnerAction.NEXT_JOB_AUDITED, False)] == [(i.action, i.idle) for i in impact.runners]


async def test_a_dropped_required_label_refuses_the_runners_that_carry_it(world: World) -> None:
    admin = await world.admin()
    team = make_team("ml", required_labels=("ml", "cuda"))
    runner = make_runner(team, "r", status=RunnerStatus.ONLINE, labels=("ml", "cuda"))
    await seed(world.store, team, runner)
    service = PolicyImpactService(world.store, world.clock)

    impact = await service.preview(admin, "ml", UpdateTeam(required_labels=["ml"]))

    assert [["cuda"]] == [[v.label for v in i.violations] for i in impact.runners]


async def test_requests_of_the_last_seven_days_are_replayed_against_both_policies(
    world: World,
) -> None:
    admin = await world.admin()
    team = make_team("ml", patterns=("gpu-[a-z0-9]+", "size-(small|large)"))
    other = make_team("other")
    await seed(world.store, team, other)
    now = world.clock.now()
    await _append(
        world,
        provision_row(team, ["gpu-a100", "ml"], at=now - timedelta(days=1)),  # gpu refused
        provision_row(team, ["ml", "size-small"], at=now - timedelta(days=2)),  # still fine
        provision_row(team, ["ml"], AuditOutcome.FAILURE, at=now - timedelta(days=3)),
        provision_row(team, ["nope"], AuditOutcome.DENIED, at=now - timedelta(days=4)),
        provision_row(team, ["gpu-x"], at=now - timedelta(days=8)),  # too old
        provision_row(other, ["gpu-x"], at=now - timedelta(days=1)),  # another team
    )
    service = PolicyImpactService(world.store, world.clock)

    impact = await service.preview(
        admin, "ml", UpdateTeam(optional_label_patterns=["size-(small|large)"])
    )

    replay = impact.requests
    # The failed request's "ml" was gharts' own (required), and is required still: accepted.
    assert (4, 2, 1, 0) == (replay.considered, replay.refused, replay.refused_now, replay.left_out)
    assert now - timedelta(days=7) == replay.since


async def test_requests_beyond_the_cap_are_counted_as_left_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy_impact, "MAX_REPLAYED_REQUESTS", 2)
    admin = await world.admin()
    team = make_team("ml")
    await seed(world.store, team)
    now = world.clock.now()
    await _append(
        world, *(provision_row(team, ["nope"], at=now - timedelta(hours=h)) for h in (3, 2, 1))
    )
    service = PolicyImpactService(world.store, world.clock)

    replay = (await service.preview(admin, "ml", UpdateTeam())).requests

    assert (2, 2, 1) == (replay.considered, replay.refused, replay.left_out)


async def test_an_invalid_proposal_is_refused_as_the_save_would_refuse_it(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "ml")
    service = PolicyImpactService(world.store, world.clock)

    with pytest.raises(InvalidPolicy) as raised:
        await service.preview(admin, "ml", UpdateTeam(optional_label_patterns=["gpu-(", "ok"]))

    assert [("optional_label_patterns", "gpu-(")] == [
        (p.field, p.value) for p in raised.value.problems
    ]


async def test_only_admins_may_preview(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "ml")
    service = PolicyImpactService(world.store, world.clock)

    with pytest.raises(AdminRequired):
        await service.preview(outsider(), "ml", UpdateTeam())


@given(st.data())
def test_a_runner_is_named_exactly_when_the_policy_refuses_its_labels(data: st.DataObject) -> None:
    policy = data.draw(label_policies())
    team = make_team("ml")
    allowed = data.draw(labels_allowed_by(policy))
    refused = data.draw(labels_refused_by(policy))
    runners = [
        make_runner(team, "a", status=RunnerStatus.ONLINE, labels=allowed),
        make_runner(team, "b", status=RunnerStatus.ONLINE, labels=refused),
    ]

    named = {i.runner.name for i in runner_impacts(policy, runners, WebhookEnforcement.AUDIT)}

    expected = {r.name for r in runners if not evaluate_labels(policy, r.labels).allowed}
    assert expected == named


@given(label_policies(), st.lists(st.lists(st.text(max_size=12), max_size=4), max_size=6))
def test_an_unchanged_policy_refuses_what_it_refuses_now(
    policy: LabelPolicy, asked: list[list[str]]
) -> None:
    team = make_team("ml")
    rows = [provision_row(team, labels, AuditOutcome.DENIED) for labels in asked]

    replay = replay_requests(rows, policy, policy, since=T0)

    assert (len(asked), replay.refused_now) == (replay.considered, replay.refused)
