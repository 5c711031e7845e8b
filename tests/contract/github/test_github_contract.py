"""The RunnerPlatform contract, run against the fake and the adapter over the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gharts_core.errors import Conflict
from gharts_core.model import LabelType, ObservedLabel, ObservedRunner
from gharts_core.ports.github import JitRequest
from tests.contract.github.github_support import Backend


def _request(name: str = "runner-1", *labels: str) -> JitRequest:
    return JitRequest(name=name, runner_group_id=3, labels=labels or ("gpu", "team-a"))


def _labels(runner: ObservedRunner) -> tuple[tuple[str, LabelType], ...]:
    return tuple((label.name, label.type) for label in runner.labels)


async def test_jit_config_registers_an_idle_offline_ephemeral_runner(backend: Backend) -> None:
    config = await backend.platform.create_jit_config(_request())

    runner = config.runner
    expected = ("runner-1", "offline", False, True, 3)
    assert expected == (
        runner.name,
        runner.status,
        runner.busy,
        runner.ephemeral,
        runner.runner_group_id,
    )
    assert config.encoded_jit_config != ""


async def test_jit_runner_has_read_only_system_labels_and_the_custom_ones(
    backend: Backend,
) -> None:
    config = await backend.platform.create_jit_config(_request())

    expected = (
        ("self-hosted", LabelType.READ_ONLY),
        ("Linux", LabelType.READ_ONLY),
        ("X64", LabelType.READ_ONLY),
        ("gpu", LabelType.CUSTOM),
        ("team-a", LabelType.CUSTOM),
    )
    assert expected == _labels(config.runner)
    assert frozenset({"gpu", "team-a"}) == config.runner.custom_labels


async def test_duplicate_and_read_only_labels_collapse_keeping_the_first_spelling(
    backend: Backend,
) -> None:
    request = _request("r", "GPU", "gpu", "self-hosted", "Big", "x64")

    config = await backend.platform.create_jit_config(request)

    expected = ["GPU", "Big"]
    assert expected == [lb.name for lb in config.runner.labels if lb.type is LabelType.CUSTOM]


async def test_jit_config_for_a_taken_name_raises_conflict_naming_the_existing_runner(
    backend: Backend,
) -> None:
    first = await backend.platform.create_jit_config(_request("dup"))

    with pytest.raises(Conflict) as raised:
        await backend.platform.create_jit_config(_request("DUP"))

    assert f"GitHub runner id {first.runner.id}" in raised.value.detail


async def test_jit_config_for_the_name_of_a_foreign_runner_raises_conflict(
    backend: Backend,
) -> None:
    foreign = backend.control.register("hand-made", ["gpu"])

    with pytest.raises(Conflict) as raised:
        await backend.platform.create_jit_config(_request("hand-made"))

    assert f"GitHub runner id {foreign}" in raised.value.detail


async def test_list_runners_returns_every_runner_across_pages(backend: Backend) -> None:
    created = await backend.platform.create_jit_config(_request("ours"))
    foreign = [backend.control.register(f"foreign-{i:03}", ["x"]) for i in range(230)]

    runners = await backend.platform.list_runners()

    assert [created.runner.id, *foreign] == [runner.id for runner in runners]


async def test_list_runners_of_an_empty_scope_is_empty(backend: Backend) -> None:
    expected = []
    assert expected == list(await backend.platform.list_runners())


async def test_get_runner_returns_what_list_runners_shows(backend: Backend) -> None:
    created = await backend.platform.create_jit_config(_request())

    listed = await backend.platform.list_runners()
    got = await backend.platform.get_runner(created.runner.id)

    assert [got] == list(listed)
    assert created.runner == got


async def test_get_runner_of_an_unknown_id_returns_none(backend: Backend) -> None:
    assert await backend.platform.get_runner(987654) is None


async def test_delete_runner_removes_it_and_a_second_delete_returns_false(
    backend: Backend,
) -> None:
    created = await backend.platform.create_jit_config(_request())

    first = await backend.platform.delete_runner(created.runner.id)
    second = await backend.platform.delete_runner(created.runner.id)

    expected = (True, False)
    assert expected == (first, second)
    assert await backend.platform.get_runner(created.runner.id) is None


async def test_runner_status_follows_its_lifecycle(backend: Backend) -> None:
    runner_id = (await backend.platform.create_jit_config(_request())).runner.id
    seen = []
    for step in (backend.control.set_online, backend.control.set_busy, backend.control.set_offline):
        step(runner_id)
        runner = await backend.platform.get_runner(runner_id)
        assert runner is not None
        seen.append((runner.status, runner.busy))

    expected = [("online", False), ("online", True), ("offline", False)]
    assert expected == seen


async def test_finished_job_retires_an_ephemeral_runner(backend: Backend) -> None:
    runner_id = (await backend.platform.create_jit_config(_request())).runner.id
    backend.control.set_busy(runner_id)

    backend.control.finish_job(runner_id)

    assert await backend.platform.get_runner(runner_id) is None


async def test_finished_job_leaves_a_persistent_runner_idle(backend: Backend) -> None:
    runner_id = backend.control.register("persistent", ["x"], ephemeral=False)
    backend.control.set_busy(runner_id)

    backend.control.finish_job(runner_id)

    runner = await backend.platform.get_runner(runner_id)
    assert runner is not None
    expected = ("online", False)
    assert expected == (runner.status, runner.busy)


async def test_relabel_replaces_custom_labels_and_keeps_read_only_ones(backend: Backend) -> None:
    runner_id = (await backend.platform.create_jit_config(_request())).runner.id

    backend.control.relabel(runner_id, ["gpu", "rogue"])

    runner = await backend.platform.get_runner(runner_id)
    assert runner is not None
    assert frozenset({"gpu", "rogue"}) == runner.custom_labels
    expected = [ObservedLabel(n, LabelType.READ_ONLY) for n in ("self-hosted", "Linux", "X64")]
    assert expected == [lb for lb in runner.labels if lb.type is LabelType.READ_ONLY]


async def test_vanished_runner_is_gone_from_the_listing(backend: Backend) -> None:
    keep = (await backend.platform.create_jit_config(_request("keep"))).runner.id
    gone = (await backend.platform.create_jit_config(_request("gone"))).runner.id

    backend.control.vanish(gone)

    assert [keep] == [runner.id for runner in await backend.platform.list_runners()]


async def test_registration_token_is_fresh_and_valid_for_about_an_hour(backend: Backend) -> None:
    before = datetime.now(UTC)

    token = await backend.platform.create_registration_token()

    assert token.token != ""
    assert (
        before + timedelta(minutes=55) < token.expires_at <= before + timedelta(hours=1, minutes=1)
    )


async def test_cancel_workflow_run_reaches_github(backend: Backend) -> None:
    await backend.platform.cancel_workflow_run("acme/api", 4242)

    expected = [("acme/api", 4242)]
    assert expected == backend.control.cancelled_runs()


async def test_rate_limit_is_unknown_before_any_call_and_reported_after(backend: Backend) -> None:
    before = backend.platform.rate_limit()

    await backend.platform.list_runners()
    await backend.platform.list_runners()

    after = backend.platform.rate_limit()
    expected = (None, None, None)
    assert expected == (before.limit, before.remaining, before.reset_at)
    assert after.limit is not None
    assert after.remaining is not None
    assert after.remaining < after.limit
    assert after.reset_at is not None
