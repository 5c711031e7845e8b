"""Runner records, their labels and their transitions, with the atomic quota reservation."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from typing import NoReturn

from sqlalchemy import (
    ColumnElement,
    Executable,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.selectable import ScalarSelect

from gharts_adapters.storage import convert
from gharts_adapters.storage.errors import translating
from gharts_adapters.storage.repositories.base import SqlRepository
from gharts_adapters.storage.tables import (
    audit_events,
    runner_labels,
    runner_transitions,
    runners,
    teams,
)
from gharts_core.errors import Conflict, RunnerNotFound, TeamNotFound
from gharts_core.model import (
    AuditEvent,
    RunnerRecord,
    RunnerStatus,
    RunnerTransition,
    TransitionSource,
)
from gharts_core.ports.storage import Page, PageResult, RunnerFilter
from gharts_core.quota import check_quota

# Spelled as a literal, not a bound parameter, so that it matches the partial unique index's
# predicate: both databases only use (or infer, for ON CONFLICT) the index when it does.
_LIVE_PREDICATE = text("status <> 'deleted'")
_LIVE = runners.c.status != literal_column("'deleted'")


# The statements of every JIT request are built once with bound parameters, so SQLAlchemy finds
# their compiled form by a cache key it memoised on the statement instead of walking a new tree of
# literal values on every request. Parameters named after a column carry this prefix, since
# SQLAlchemy keeps the bare column names for the VALUES and SET clauses it generates itself.
_NEW = "new_"
_INSERT_TRANSITION = runner_transitions.insert()
# PostgreSQL writes a runner and its transition in one statement (one round trip, one execution
# in SQLAlchemy): the runner's write is a data-modifying CTE returning its id, and the transition
# is inserted from it, so it is written exactly when the runner is and the statement's row count
# says whether the runner was. The transition's parameters carry this prefix.
_THEN = "then_"
_TRANSITION_COLUMNS = tuple(c.name for c in runner_transitions.columns if c.name != "seq")
# The audit row of a runner's move written by the same statement (see advance_audited).
_AUDIT = "audit_"
_AUDIT_COLUMNS = tuple(c.name for c in audit_events.columns if c.name != "seq")


@functools.cache
def _reservation(dialect: str, *, with_quota: bool) -> postgresql.Insert | sqlite.Insert:
    """Return the guarded ``INSERT ... SELECT`` of a reservation (see ``reserve``)."""
    team_id = bindparam("guard_team_id", type_=teams.c.id.type)
    guards: list[ColumnElement[bool]] = [exists().where(teams.c.id == team_id)]
    if with_quota:
        live = select(func.count()).select_from(runners).where(_LIVE, runners.c.team_id == team_id)
        guards.append(live.scalar_subquery() < bindparam("guard_max_runners"))
    columns = [c.name for c in runners.columns]
    values = select(*(bindparam(f"{_NEW}{c}", type_=runners.c[c].type).label(c) for c in columns))
    insert = postgresql.insert(runners) if dialect == "postgresql" else sqlite.insert(runners)
    return insert.from_select(columns, values.where(*guards)).on_conflict_do_nothing(
        index_elements=[runners.c.name], index_where=_LIVE_PREDICATE
    )


@functools.lru_cache(maxsize=64)
def _advance(columns: tuple[str, ...]) -> Update:
    """Return the compare-and-set ``UPDATE`` of these columns (a handful of sets recur)."""
    return (
        update(runners)
        .where(
            runners.c.id == bindparam("guard_id", type_=runners.c.id.type),
            runners.c.status == bindparam("guard_status"),
        )
        .values({c: bindparam(f"{_NEW}{c}", type_=runners.c[c].type) for c in columns})
    )


def _then_transition(
    runner_write: postgresql.Insert | sqlite.Insert | Update, *, audited: bool = False
) -> Executable:
    """PostgreSQL: ``runner_write`` as a CTE, and the transition of the runner it wrote.

    ``audited`` adds a second data-modifying CTE, the audit row, also inserted only from the
    runner's written row. The transition stays the outer statement, so its row count says
    whether the runner was written and the statement is seen to write runner tables.
    """
    written = runner_write.returning(runners.c.id).cte("written")
    values = select(
        written.c.id.label("runner_id"),
        *(
            bindparam(f"{_THEN}{c}", type_=runner_transitions.c[c].type).label(c)
            for c in _TRANSITION_COLUMNS
            if c != "runner_id"
        ),
    )
    ctes = [written]
    if audited:
        audit_values = select(
            *(bindparam(f"{_AUDIT}{c}", type_=audit_events.c[c].type) for c in _AUDIT_COLUMNS)
        ).select_from(written)
        ctes.append(audit_events.insert().from_select(_AUDIT_COLUMNS, audit_values).cte("audited"))
    return runner_transitions.insert().from_select(_TRANSITION_COLUMNS, values).add_cte(*ctes)


@functools.cache
def _reservation_then_transition(*, with_quota: bool) -> Executable:
    """PostgreSQL: the reservation (see ``reserve``) and the runner's first transition."""
    return _then_transition(_reservation("postgresql", with_quota=with_quota))


@functools.lru_cache(maxsize=64)
def _advance_then_transition(columns: tuple[str, ...], *, audited: bool = False) -> Executable:
    """PostgreSQL: the compare-and-set ``UPDATE`` of these columns, its transition (and audit)."""
    return _then_transition(_advance(columns), audited=audited)


def _transition_parameters(transition: RunnerTransition) -> dict[str, object]:
    row = convert.transition_row(transition)
    return {f"{_THEN}{k}": v for k, v in row.items() if k != "runner_id"}


def _advance_parameters(
    before: RunnerRecord, after: RunnerRecord
) -> tuple[tuple[str, ...], dict[str, object]]:
    """Return the columns ``after`` changes (at least the status) and the update's parameters."""
    old, new = convert.runner_row(before), convert.runner_row(after)
    changed = {column: value for column, value in new.items() if old[column] != value}
    changed = changed or {"status": before.status.value}
    parameters = {f"{_NEW}{k}": v for k, v in changed.items()}
    parameters |= {"guard_id": after.id, "guard_status": before.status.value}
    return tuple(changed), parameters


def _live_count(team_id: uuid.UUID) -> ScalarSelect[int]:
    """Return the number of the team's live runners, as a scalar subquery."""
    return (
        select(func.count())
        .select_from(runners)
        .where(_LIVE, runners.c.team_id == team_id)
        .scalar_subquery()
    )


class SqlRunnerRepository(SqlRepository):
    """Runner records and their transitions.

    ``locked_teams`` is shared with the unit of work's team repository: the team rows this
    transaction already locked (read ``for_update``).
    """

    def __init__(
        self, connection: AsyncConnection, dialect: str, locked_teams: set[uuid.UUID]
    ) -> None:
        super().__init__(connection, dialect)
        self._locked_teams = locked_teams

    @translating
    async def reserve(self, runner: RunnerRecord, max_runners: int | None) -> None:
        """Insert a ``provisioning`` record if the team has room and the name is free, atomically.

        PostgreSQL: the team row is locked (``SELECT ... FOR UPDATE``, unless this unit of work
        read it ``for_update`` already), so reservations for one team queue up and each counts
        the ones committed before it. SQLite: the unit of work
        already holds the database's write lock (``BEGIN IMMEDIATE``). The team's existence and
        its room are the guard of one ``INSERT ... SELECT``; the partial unique index on live
        names (``ON CONFLICT DO NOTHING``) settles name races between teams. Only a refused
        insert pays for the queries that say why.
        """
        if self._dialect == "postgresql" and runner.team_id not in self._locked_teams:
            locked = await self._connection.scalar(
                select(teams.c.id).where(teams.c.id == runner.team_id).with_for_update()
            )
            if locked is None:
                raise TeamNotFound(str(runner.team_id))
        parameters = {f"{_NEW}{k}": v for k, v in convert.runner_row(runner).items()}
        parameters |= {"guard_team_id": runner.team_id, "guard_max_runners": max_runners}
        first = RunnerTransition(
            runner_id=runner.id,
            from_status=None,
            to_status=runner.status,
            source=TransitionSource.API,
            at=runner.created_at,
        )
        with_quota = max_runners is not None
        if self._dialect == "postgresql":
            statement = _reservation_then_transition(with_quota=with_quota)
            parameters |= _transition_parameters(first)
            if (await self._connection.execute(statement, parameters)).rowcount != 1:
                await self._raise_refusal(runner, max_runners)
            return
        statement = _reservation(self._dialect, with_quota=with_quota)
        inserted = await self._connection.execute(statement, parameters)
        if inserted.rowcount != 1:
            await self._raise_refusal(runner, max_runners)
        await self._connection.execute(_INSERT_TRANSITION, convert.transition_row(first))

    async def _raise_refusal(self, runner: RunnerRecord, max_runners: int | None) -> NoReturn:
        """Say why the guarded insert of ``runner`` wrote nothing: team, name, then quota."""
        team_name = await self._connection.scalar(
            select(teams.c.name).where(teams.c.id == runner.team_id)
        )
        if team_name is None:
            raise TeamNotFound(str(runner.team_id))
        same_name = await self._connection.scalar(
            select(runners.c.id).where(_LIVE, runners.c.name == runner.name).limit(1)
        )
        if same_name is None and max_runners is not None:
            live = await self._connection.scalar(select(_live_count(runner.team_id)))
            check_quota(team_name, live or 0, max_runners)
        raise Conflict(f"A runner named '{runner.name}' already exists.")

    @translating
    async def get(self, runner_id: uuid.UUID) -> RunnerRecord | None:
        """Return the runner with this id (deleted ones too), or ``None``."""
        row = await self._first(select(runners).where(runners.c.id == runner_id))
        return None if row is None else convert.to_runner(row)

    @translating
    async def save(self, runner: RunnerRecord, transition: RunnerTransition | None = None) -> None:
        """Replace the stored record and record the transition if one is given."""
        stored = await self._first(
            select(runners.c.name, runners.c.status).where(runners.c.id == runner.id)
        )
        if stored is None:
            raise RunnerNotFound(str(runner.id))
        # Only a rename or a revival can break the unique live name; guard just those with a
        # SAVEPOINT so that the refusal leaves the transaction usable.
        may_clash = runner.status.is_live and (
            stored["status"] == RunnerStatus.DELETED.value or stored["name"] != runner.name
        )
        async with self._connection.begin_nested() if may_clash else nullcontext():
            await self._execute(
                update(runners).where(runners.c.id == runner.id).values(convert.runner_row(runner))
            )
        if transition is not None:
            await self._execute(
                runner_transitions.insert().values(convert.transition_row(transition))
            )

    @translating
    async def advance(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition | None = None,
    ) -> bool:
        """Write ``after`` if the stored status is still ``before.status``; return whether it was.

        One ``UPDATE`` of only the columns in which ``after`` differs from ``before``, guarded by
        the status (compare-and-set); the transition follows only when it wrote. The database's
        triggers keep ``runner_labels`` in step with the ``labels`` column (migration 0005).
        """
        changed, parameters = _advance_parameters(before, after)
        statement: Executable = _advance(changed)
        if self._dialect == "postgresql" and transition is not None:
            statement = _advance_then_transition(changed)
            parameters |= _transition_parameters(transition)
            transition = None  # written by the same statement
        may_clash = after.status.is_live and (
            before.status is RunnerStatus.DELETED or before.name != after.name
        )
        async with self._connection.begin_nested() if may_clash else nullcontext():
            result = await self._connection.execute(statement, parameters)
        if result.rowcount != 1:
            return False
        if transition is not None:
            await self._connection.execute(_INSERT_TRANSITION, convert.transition_row(transition))
        return True

    @translating
    async def advance_audited(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition,
        audit: AuditEvent,
    ) -> bool:
        """PostgreSQL: :meth:`advance`, its transition and its audit row as one statement.

        Atomic on its own, so the store runs it without ``BEGIN`` and ``COMMIT``
        (``Store.advance_runner``); without a transaction to keep usable, a name clash needs no
        ``SAVEPOINT`` either: the statement fails whole.
        """
        changed, parameters = _advance_parameters(before, after)
        parameters |= _transition_parameters(transition)
        parameters |= {f"{_AUDIT}{k}": v for k, v in convert.audit_row(audit).items()}
        statement = _advance_then_transition(changed, audited=True)
        return (await self._connection.execute(statement, parameters)).rowcount == 1

    @translating
    async def list(self, query: RunnerFilter, page: Page) -> PageResult[RunnerRecord]:
        """Return one page of runners matching the filter, newest first, then by id."""
        where: list[ColumnElement[bool]] = []
        if query.team_ids is not None:
            where.append(runners.c.team_id.in_(query.team_ids))
        if query.status is not None:
            where.append(runners.c.status == query.status.value)
        if query.team_name is not None:
            where.append(runners.c.team_name == query.team_name)
        if query.label is not None:
            where.append(
                exists().where(
                    and_(
                        runner_labels.c.runner_id == runners.c.id,
                        runner_labels.c.label == query.label.lower(),
                    )
                )
            )
        if not query.include_deleted:
            where.append(_LIVE)
        order = [runners.c.created_at.desc(), runners.c.id]
        return await self._page(runners, where, order, page, convert.to_runner)

    @translating
    async def list_live(self) -> Sequence[RunnerRecord]:
        """Return every runner not ``deleted``, oldest first, then by id."""
        statement = select(runners).where(_LIVE).order_by(runners.c.created_at, runners.c.id)
        return await self._all_converted(statement, convert.to_runner)

    @translating
    async def find_live(
        self, *, github_runner_id: int | None = None, name: str | None = None
    ) -> Sequence[RunnerRecord]:
        """Return live runners with this GitHub id or this name (any case), oldest first."""
        matches: list[ColumnElement[bool]] = []
        if github_runner_id is not None:
            matches.append(runners.c.github_runner_id == github_runner_id)
        if name is not None:
            # Names are stored in lower case: an exact match uses the live-name index.
            matches.append(runners.c.name == name.lower())
        if not matches:
            return []
        rows = await self._all(
            select(runners).where(_LIVE, or_(*matches)).order_by(runners.c.created_at, runners.c.id)
        )
        return [convert.to_runner(row) for row in rows]

    @translating
    async def count_live(self, team_id: uuid.UUID) -> int:
        """Return how many of the team's runners count towards its quota."""
        count = await self._connection.scalar(
            select(func.count()).select_from(runners).where(runners.c.team_id == team_id, _LIVE)
        )
        return count or 0

    @translating
    async def count_by_team_and_status(self) -> dict[tuple[str, RunnerStatus], int]:
        """Return runner counts keyed by (team name, status), deleted excluded."""
        rows = await self._connection.execute(
            select(runners.c.team_name, runners.c.status, func.count())
            .where(_LIVE)
            .group_by(runners.c.team_name, runners.c.status)
        )
        return {(team, RunnerStatus(status)): count for team, status, count in rows}

    @translating
    async def transitions(self, runner_id: uuid.UUID) -> Sequence[RunnerTransition]:
        """Return the runner's recorded transitions, oldest first (ties in recording order)."""
        rows = await self._all(
            select(runner_transitions)
            .where(runner_transitions.c.runner_id == runner_id)
            .order_by(runner_transitions.c.at, runner_transitions.c.seq)
        )
        return [convert.to_transition(row) for row in rows]
