"""What every SQL repository shares: the session, paging in SQL, and dialect-aware inserts."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, CursorResult, Executable, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import UnaryExpression

from gharts_adapters.storage.convert import Row
from gharts_core.ports.storage import Page, PageResult

T = TypeVar("T")


class SqlRepository:
    """Base of the repositories: they share the unit of work's connection (one transaction).

    Core statements go straight to the session's connection: no ORM unit of work is involved.
    """

    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._connection = connection
        self._dialect = dialect

    async def _execute(self, statement: Executable) -> CursorResult[Any]:
        return await self._connection.execute(statement)

    async def _first(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Row | None:
        return (await self._connection.execute(statement, parameters)).mappings().first()

    async def _all(self, statement: Executable) -> Sequence[Row]:
        return (await self._connection.execute(statement)).mappings().all()

    async def _all_converted(self, statement: Executable, convert: Callable[[Row], T]) -> list[T]:
        """Return every row of ``statement`` converted, for loads of many rows (sync's 100,000).

        The cyclic garbage collector is paused while the rows become objects: each of its
        collections walks every object alive, and a load of this size set off enough of them to
        take about 40 % of a sync cycle. Nothing is awaited meanwhile, so no other task runs
        without it; the rows' own garbage goes by reference counting as before.
        """
        result = await self._connection.execute(statement)
        collecting = gc.isenabled()
        gc.disable()
        try:
            return [convert(row) for row in result.mappings().all()]
        finally:
            if collecting:
                gc.enable()

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """Return an INSERT that supports ``ON CONFLICT`` on this database."""
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def _page(
        self,
        table: Table,
        where: Sequence[ColumnElement[bool]],
        order_by: Sequence[UnaryExpression[Any] | ColumnElement[Any]],
        page: Page,
        convert: Callable[[Row], T],
    ) -> PageResult[T]:
        """Count the matching rows and fetch one ordered slice of them, both in SQL."""
        total = await self._connection.scalar(select(func.count()).select_from(table).where(*where))
        total = total or 0
        if total <= page.offset:
            return PageResult(items=(), total=total)
        rows = await self._all(
            select(table).where(*where).order_by(*order_by).limit(page.limit).offset(page.offset)
        )
        return PageResult(items=tuple(convert(row) for row in rows), total=total)
