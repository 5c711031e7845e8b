"""Audit log and security events (append-only), sync state and webhook delivery de-duplication."""

from __future__ import annotations

from datetime import timedelta, timezone

import attrs
import pytest

from gharts_core.model import (
    AuditAction,
    AuditOutcome,
    SecurityEventType,
    Severity,
    SyncReport,
    SyncState,
)
from gharts_core.ports.storage import AuditFilter, Page, SecurityEventFilter, Store
from tests.contract.storage.storage_support import (
    BOB,
    add_teams,
    make_audit,
    make_security,
    make_team,
    minutes,
)

TEAM = make_team("team-a")
DETAILS = {"labels": ["gpu-a100", "linux"], "count": 3, "nested": {"ok": True, "none": None}}
AUDIT = (
    make_audit(minutes(1), team=TEAM, target_id="r-1", details=DETAILS),
    make_audit(minutes(2), actor=BOB, action=AuditAction.RUNNER_DEPROVISION, target_id="r-1"),
    make_audit(minutes(2), outcome=AuditOutcome.DENIED, team=TEAM),
    make_audit(minutes(3), action=AuditAction.TEAM_CREATE, team=TEAM, target_id="team-a"),
)
SECURITY = (
    make_security(minutes(1), team=TEAM, details=DETAILS),
    make_security(minutes(2), kind=SecurityEventType.QUOTA_EXCEEDED, severity=Severity.INFO),
    make_security(minutes(2), severity=Severity.CRITICAL, team=TEAM),
    make_security(minutes(3), kind=SecurityEventType.LABEL_DRIFT),
)


@pytest.fixture
async def logs(store: Store) -> Store:
    await add_teams(store, TEAM)
    async with store.unit_of_work() as uow:
        for event in AUDIT:
            await uow.audit.append(event)
        for security in SECURITY:
            await uow.security_events.append(security)
    return store


async def test_the_logs_offer_no_way_to_change_or_delete_a_row(store: Store) -> None:
    forbidden = {"update", "delete", "remove", "save", "replace", "upsert", "purge_after"}
    async with store.unit_of_work() as uow:
        repositories = (uow.audit, uow.security_events)

    found = {name for repo in repositories for name in forbidden if hasattr(repo, name)}

    assert set() == found


async def test_audit_rows_read_back_equal_newest_first_ties_latest_written_first(
    logs: Store,
) -> None:
    async with logs.unit_of_work() as uow:
        result = await uow.audit.list(AuditFilter(), Page())

    expected = (AUDIT[3], AUDIT[2], AUDIT[1], AUDIT[0])
    assert (expected, 4) == (result.items, result.total)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AuditFilter(actor="bob@example.com"), [1]),
        (AuditFilter(action=AuditAction.TEAM_CREATE.value), [3]),
        (AuditFilter(team_id=TEAM.id), [3, 2, 0]),
        (AuditFilter(target_id="r-1"), [1, 0]),
        (AuditFilter(outcome=AuditOutcome.DENIED), [2]),
        (AuditFilter(since=minutes(2)), [3, 2, 1]),
        (AuditFilter(until=minutes(2)), [0]),
        (AuditFilter(since=minutes(2), until=minutes(3), team_id=TEAM.id), [2]),
    ],
)
async def test_audit_filters(logs: Store, query: AuditFilter, expected: list[int]) -> None:
    async with logs.unit_of_work() as uow:
        result = await uow.audit.list(query, Page())

    assert ([AUDIT[i] for i in expected], len(expected)) == (list(result.items), result.total)


async def test_audit_pages_keep_the_total(logs: Store) -> None:
    async with logs.unit_of_work() as uow:
        result = await uow.audit.list(AuditFilter(), Page(limit=2, offset=1))

    assert ((AUDIT[2], AUDIT[1]), 4) == (result.items, result.total)


async def test_the_newest_audit_rows_come_in_one_read_newest_first(logs: Store) -> None:
    async with logs.unit_of_work(read_only=True) as uow:
        two = await uow.audit.newest(AuditFilter(), 2)
        of_team = await uow.audit.newest(AuditFilter(team_id=TEAM.id, since=minutes(2)), 10)

    assert ([AUDIT[3], AUDIT[2]], [AUDIT[3], AUDIT[2]]) == (list(two), list(of_team))


async def test_purging_the_audit_log_removes_only_older_rows(logs: Store) -> None:
    async with logs.unit_of_work() as uow:
        purged = await uow.audit.purge_before(minutes(2))
    async with logs.unit_of_work() as uow:
        kept = await uow.audit.list(AuditFilter(), Page())

    assert (1, (AUDIT[3], AUDIT[2], AUDIT[1])) == (purged, kept.items)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (SecurityEventFilter(), [3, 2, 1, 0]),
        (SecurityEventFilter(type=SecurityEventType.LABEL_POLICY_VIOLATION), [2, 0]),
        (SecurityEventFilter(severity=Severity.CRITICAL), [2]),
        (SecurityEventFilter(team_id=TEAM.id), [2, 0]),
        (SecurityEventFilter(since=minutes(2), until=minutes(3)), [2, 1]),
    ],
)
async def test_security_event_filters(
    logs: Store, query: SecurityEventFilter, expected: list[int]
) -> None:
    async with logs.unit_of_work() as uow:
        result = await uow.security_events.list(query, Page())

    assert ([SECURITY[i] for i in expected], len(expected)) == (list(result.items), result.total)


async def test_security_events_page_and_count_since(logs: Store) -> None:
    async with logs.unit_of_work() as uow:
        page = await uow.security_events.list(SecurityEventFilter(), Page(limit=1, offset=3))
        counts = [await uow.security_events.count_since(minutes(m)) for m in (0, 2, 3.5)]

    assert (((SECURITY[0],), 4), [4, 3, 0]) == ((page.items, page.total), counts)


async def test_timestamps_come_back_timezone_aware_and_equal(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    event = make_audit(minutes(7).astimezone(paris).replace(microsecond=123456))
    async with store.unit_of_work() as uow:
        await uow.audit.append(event)

    async with store.unit_of_work() as uow:
        (stored,) = (await uow.audit.list(AuditFilter(since=minutes(7)), Page())).items

    assert (event.at, True) == (stored.at, stored.at.utcoffset() is not None)


async def test_sync_state_is_empty_at_first_then_round_trips(store: Store) -> None:
    state = SyncState(
        leader="worker-1",
        heartbeat_at=minutes(10),
        last_report=SyncReport(
            started_at=minutes(9),
            finished_at=minutes(9.5),
            observed=12,
            unmanaged=1,
            actions={"delete": 2, "status": 5},
            errors=("page 3 timed out",),
            purged_audit_rows=7,
        ),
        cycles=41,
    )
    async with store.unit_of_work() as uow:
        empty = await uow.sync_state.get()
        await uow.sync_state.save(SyncState(leader="worker-0", cycles=40))
    async with store.unit_of_work() as uow:
        await uow.sync_state.save(state)
    async with store.unit_of_work() as uow:
        stored = await uow.sync_state.get()

    assert (SyncState(), state) == (empty, stored)


async def test_webhook_deliveries_are_recorded_once_and_purged_by_age(store: Store) -> None:
    async with store.unit_of_work() as uow:
        first = [
            await uow.webhook_deliveries.record("d-1", minutes(1)),
            await uow.webhook_deliveries.record("d-2", minutes(5)),
        ]
    async with store.unit_of_work() as uow:
        again = await uow.webhook_deliveries.record("d-1", minutes(6))
        purged = await uow.webhook_deliveries.purge_before(minutes(5))
    async with store.unit_of_work() as uow:
        after_purge = [
            await uow.webhook_deliveries.record("d-1", minutes(7)),
            await uow.webhook_deliveries.record("d-2", minutes(7)),
        ]

    expected = ([True, True], False, 1, [True, False])
    assert expected == (first, again, purged, after_purge)


async def test_a_delivery_is_seen_once_recorded_and_not_before(store: Store) -> None:
    async with store.unit_of_work() as uow:
        before = await uow.webhook_deliveries.seen("d-1")
        await uow.webhook_deliveries.record("d-1", minutes(1))
    async with store.unit_of_work() as uow:
        after = [await uow.webhook_deliveries.seen("d-1"), await uow.webhook_deliveries.seen("d-2")]

    assert (False, [True, False]) == (before, after)


async def test_an_audit_rows_origin_reads_back_equal(store: Store) -> None:
    """The caller's address and user agent are stored with the row, and absent stays absent."""
    with_origin = attrs.evolve(
        make_audit(minutes(8)), source_ip="2001:db8::1", user_agent="curl/8.5.0"
    )
    without = make_audit(minutes(9))
    async with store.unit_of_work() as uow:
        await uow.audit.append(with_origin)
        await uow.audit.append(without)

    async with store.unit_of_work() as uow:
        stored = (await uow.audit.list(AuditFilter(since=minutes(8)), Page())).items

    assert [without, with_origin] == list(stored)
