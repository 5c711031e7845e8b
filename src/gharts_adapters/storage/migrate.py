"""Schema migrations: ``upgrade(url)`` is what ``gharts db upgrade`` runs.

The Alembic scripts are packaged in ``gharts_adapters/storage/migrations``; no ``alembic.ini`` is
needed. Production never calls ``metadata.create_all``: the schema only ever comes from here.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from gharts_adapters.storage.errors import translated

SCRIPT_LOCATION = "gharts_adapters.storage:migrations"


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
