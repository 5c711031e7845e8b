"""Schema migrations: ``upgrade(url)`` is what ``gharts db upgrade`` runs.

The Alembic scripts are packaged in ``gharts_adapters/storage/migrations``; no ``alembic.ini`` is
needed. Production never calls ``metadata.create_all``: the schema only ever comes from here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import attrs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from gharts_adapters.storage.errors import translated
from gharts_adapters.storage.store import create_engine

SCRIPT_LOCATION = "gharts_adapters.storage:migrations"


@attrs.frozen
class Revision:
    """One packaged migration: its id, the one before it, its message, whether it is the head."""

    id: str
    down_revision: str | None
    message: str
    is_head: bool


def alembic_config(url: str) -> Config:
    """Return an Alembic configuration for the packaged migrations and the database ``url``."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # ConfigParser interpolation would read a percent-encoded password as a placeholder.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` (an async SQLAlchemy URL) up to ``revision``.

    Synchronous: it runs its own event loop (``asyncio.run``), so call it from plain code such as
    the CLI, or from a worker thread, never from a thread whose event loop is running. An
    unreachable database raises ``StorageUnavailable``.
    """
    with translated():
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops everything)."""
    with translated():
        command.downgrade(alembic_config(url), revision)


def history() -> tuple[Revision, ...]:
    """Return the packaged migrations, newest first."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    heads = set(scripts.get_heads())
    return tuple(
        Revision(
            id=script.revision,
            down_revision=_one(script.down_revision),
            message=(script.doc or "").strip(),
            is_head=script.revision in heads,
        )
        for script in scripts.walk_revisions()
    )


def _one(down: str | Sequence[str] | None) -> str | None:
    return down if down is None or isinstance(down, str) else ",".join(down)


def _heads_of(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def current(url: str) -> tuple[str, ...]:
    """Return the revisions the database at ``url`` is at (empty: never migrated).

    Synchronous, like :func:`upgrade`. An unreachable database raises ``StorageUnavailable``.
    """

    async def read() -> tuple[str, ...]:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_heads_of)
        finally:
            await engine.dispose()

    with translated():
        return asyncio.run(read())
