"""What every fake repository shares: the store's state, and paging and ordering in memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import attrs

from gharts_core.model import (
    AuditEvent,
    MachineClient,
    RunnerRecord,
    RunnerTransition,
    SecurityEvent,
    SyncState,
    Team,
    User,
)
from gharts_core.ports.github import ListedPage
from gharts_core.ports.storage import DashboardSession, Page, PageResult

T = TypeVar("T")


@attrs.define
class FakeState:
    """Everything the store holds; copied at the start of each unit of work."""

    users: dict[uuid.UUID, User] = attrs.Factory(dict)
    teams: dict[uuid.UUID, Team] = attrs.Factory(dict)
    memberships: set[tuple[uuid.UUID, uuid.UUID]] = attrs.Factory(set)
    clients: dict[uuid.UUID, MachineClient] = attrs.Factory(dict)
    runners: dict[uuid.UUID, RunnerRecord] = attrs.Factory(dict)
    transitions: list[RunnerTransition] = attrs.Factory(list)
    audit: list[AuditEvent] = attrs.Factory(list)
    security_events: list[SecurityEvent] = attrs.Factory(list)
    sync_state: SyncState = attrs.Factory(SyncState)
    listed_pages: dict[str, ListedPage] = attrs.Factory(dict)
    deliveries: dict[str, datetime] = attrs.Factory(dict)
    dashboard_sessions: dict[str, DashboardSession] = attrs.Factory(dict)
    writes: int = 0

    def copy(self) -> FakeState:
        """Return a copy whose containers can be changed without touching this one."""
        return FakeState(
            users=dict(self.users),
            teams=dict(self.teams),
            memberships=set(self.memberships),
            clients=dict(self.clients),
            runners=dict(self.runners),
            transitions=list(self.transitions),
            audit=list(self.audit),
            security_events=list(self.security_events),
            sync_state=self.sync_state,
            listed_pages=dict(self.listed_pages),
            deliveries=dict(self.deliveries),
            dashboard_sessions=dict(self.dashboard_sessions),
            writes=self.writes,
        )


class FakeRepository:
    """Base of the fake repositories: they share the unit of work's copy of the state."""

    def __init__(self, state: FakeState) -> None:
        self._s = state


def one_page(
    items: Iterable[T], page: Page, key: Callable[[T], Any] | None = None
) -> PageResult[T]:
    """Return one page of ``items`` (ordered by ``key`` when given) and how many there are."""
    ordered = sorted(items, key=key) if key is not None else list(items)
    return PageResult(
        items=tuple(ordered[page.offset : page.offset + page.limit]), total=len(ordered)
    )


def newest_first(items: Iterable[T], at: Callable[[T], datetime]) -> list[T]:
    """Order by time descending; ties keep the order given (callers pass newest-inserted first)."""
    return sorted(items, key=at, reverse=True)
