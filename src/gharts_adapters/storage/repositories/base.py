"""What every SQL repository shares: the session, paging in SQL, and dialect-aware inserts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    async def _first(self, statement: Executable) -> Row | None:
        return (await self._connection.execute(statement)).mappings().first()

    async def _all(self, statement: Executable) -> Sequence[Row]:
        return (await self._connection.execute(statement)).mappings().all()

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
