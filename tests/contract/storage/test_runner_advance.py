"""The compare-and-set write of a runner (in a unit of work, and the store's own audited one),
and read-only units of work, on every backend."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from gharts_core.errors import Conflict
from gharts_core.model import (
    AuditEvent,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    TransitionSource,
)
from gharts_core.ports.storage import AuditFilter, Page, RunnerFilter, Store
from gharts_core.testing.fake_store import FakeStore
from tests.contract.storage.storage_support import (
    Backend,
    add_teams,
    make_audit,
    make_runner,
    make_team,
    minutes,
)


async def _reserved(store: Store) -> RunnerRecord:
    team = make_team()
    await add_teams(store, team)
    runner = make_runner(team, "runner-1", status=RunnerStatus.PROVISIONING)
    async with store.unit_of_work() as uow:
        await uow.runners.reserve(runner, None)
    return runner


def _to(
    runner: RunnerRecord, status: RunnerStatus, **fields: object
) -> tuple[RunnerRecord, RunnerTransition]:
    moved = attrs.evolve(runner, status=status, updated_at=minutes(5), **fields)
    transition = RunnerTransition(
        runner_id=runner.id,
        from_status=runner.status,
        to_status=status,
        source=TransitionSource.API,
        at=minutes(5),
    )
    return moved, transition


async def _deleted_meanwhile(store: Store, runner: RunnerRecord) -> RunnerRecord:
    """Delete ``runner`` as someone else would, after the test read it."""
    deleted, removal = _to(runner, RunnerStatus.DELETED, deleted_at=minutes(5))
    async with store.unit_of_work() as uow:
        await uow.runners.save(deleted, removal)
    return deleted


async def test_advance_writes_when_the_status_is_still_the_one_read(store: Store) -> None:
    before = await _reserved(store)
    after, transition = _to(before, RunnerStatus.PENDING, github_runner_id=42)

    async with store.unit_of_work() as uow:
        written = await uow.runners.advance(before, after, transition)
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.runners.get(before.id)
        transitions = await uow.runners.transitions(before.id)

    assert (True, after) == (written, stored)
    assert transition == transitions[-1]


async def test_the_label_filter_follows_the_labels_an_advance_writes(store: Store) -> None:
    before = await _reserved(store)
    after, transition = _to(before, RunnerStatus.PENDING, labels=("gpu", "linux"))

    async with store.unit_of_work() as uow:
        await uow.runners.advance(before, after, transition)
    async with store.unit_of_work(read_only=True) as uow:
        found = {
            label: [
                r.name for r in (await uow.runners.list(RunnerFilter(label=label), Page())).items
            ]
            for label in (*before.labels, "gpu", "linux")
        }

    expected = {label: [] for label in before.labels if label not in after.labels}
    expected |= {"gpu": ["runner-1"], "linux": ["runner-1"]}
    assert expected == found


async def test_advance_writes_nothing_when_someone_moved_the_runner(store: Store) -> None:
    before = await _reserved(store)
    deleted = await _deleted_meanwhile(store, before)
    pending, transition = _to(before, RunnerStatus.PENDING, github_runner_id=42)

    async with store.unit_of_work() as uow:
        written = await uow.runners.advance(before, pending, transition)
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.runners.get(before.id)
        transitions = await uow.runners.transitions(before.id)

    assert (False, deleted) == (written, stored)
    assert [None, RunnerStatus.PROVISIONING] == [t.from_status for t in transitions]


async def test_advance_keeps_what_someone_else_changed_in_other_fields(store: Store) -> None:
    before = await _reserved(store)
    relabelled = attrs.evolve(before, labels=("gpu", "linux"))
    async with store.unit_of_work() as uow:
        await uow.runners.save(relabelled)
    after, transition = _to(before, RunnerStatus.PENDING, github_runner_id=42)

    async with store.unit_of_work() as uow:
        assert await uow.runners.advance(before, after, transition)
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.runners.get(before.id)

    assert stored is not None
    assert (("gpu", "linux"), 42) == (stored.labels, stored.github_runner_id)


async def _audit_log(store: Store) -> list[AuditEvent]:
    async with store.unit_of_work(read_only=True) as uow:
        return list((await uow.audit.list(AuditFilter(), Page())).items)


async def test_advance_runner_writes_the_runner_its_transition_and_its_audit_row(
    store: Store,
) -> None:
    before = await _reserved(store)
    after, transition = _to(before, RunnerStatus.PENDING, github_runner_id=42)
    audit = make_audit(minutes(5), target_id=str(before.id), details={"github_runner_id": 42})

    moved = await store.advance_runner(before, after, transition, audit)
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.runners.get(before.id)
        transitions = await uow.runners.transitions(before.id)

    assert (True, after, transition) == (moved, stored, transitions[-1])
    assert [audit] == await _audit_log(store)


async def test_advance_runner_writes_nothing_when_someone_moved_the_runner(store: Store) -> None:
    before = await _reserved(store)
    deleted = await _deleted_meanwhile(store, before)
    pending, transition = _to(before, RunnerStatus.PENDING, github_runner_id=42)

    moved = await store.advance_runner(before, pending, transition, make_audit(minutes(5)))
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.runners.get(before.id)
        transitions = await uow.runners.transitions(before.id)

    assert (False, deleted) == (moved, stored)
    assert [None, RunnerStatus.PROVISIONING] == [t.from_status for t in transitions]
    assert [] == await _audit_log(store)


async def test_advance_runner_refuses_a_revival_into_a_live_name_and_writes_nothing(
    store: Store,
) -> None:
    before = await _reserved(store)
    deleted = await _deleted_meanwhile(store, before)
    team = make_team("team-b")
    await add_teams(store, team)
    namesake = make_runner(team, before.name, status=RunnerStatus.PROVISIONING)
    async with store.unit_of_work() as uow:
        await uow.runners.reserve(namesake, None)
    revived, transition = _to(deleted, RunnerStatus.PENDING)

    with pytest.raises(Conflict):
        await store.advance_runner(deleted, revived, transition, make_audit(minutes(6)))
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.runners.get(before.id)
        transitions = await uow.runners.transitions(before.id)

    assert (deleted, 2) == (stored, len(transitions))
    assert [] == await _audit_log(store)


async def test_a_unit_of_work_after_advance_runner_is_a_transaction_again(store: Store) -> None:
    """PostgreSQL runs ``advance_runner`` on its pooled connection in autocommit; the next unit
    of work on that connection must roll back as every unit of work does."""
    before = await _reserved(store)
    after, transition = _to(before, RunnerStatus.PENDING)
    assert await store.advance_runner(before, after, transition, make_audit(minutes(5)))

    async def fail_after_writing() -> None:
        async with store.unit_of_work() as uow:
            await uow.audit.append(make_audit(minutes(6)))
            raise LookupError("the block fails after writing")

    with pytest.raises(LookupError):
        await fail_after_writing()

    assert 1 == len(await _audit_log(store))


async def test_a_read_only_unit_of_work_does_not_wait_for_a_writer(backend: Backend) -> None:
    store = backend.open()
    runner = await _reserved(store)
    writing = asyncio.Event()
    done = asyncio.Event()

    async def writer() -> None:
        async with store.unit_of_work() as uow:
            await uow.runners.get(runner.id)
            writing.set()
            await done.wait()

    task = asyncio.create_task(writer())
    await writing.wait()
    try:
        async with asyncio.timeout(30), store.unit_of_work(read_only=True) as uow:
            seen = await uow.runners.get(runner.id)
    finally:
        done.set()
        await task

    assert runner == seen


async def test_the_fake_refuses_a_write_in_a_read_only_unit_of_work() -> None:
    """The fake catches a service that writes where it promised to read only."""
    store = FakeStore()
    with pytest.raises(RuntimeError, match="read-only"):
        async with store.unit_of_work(read_only=True) as uow:
            await uow.teams.add(make_team())
