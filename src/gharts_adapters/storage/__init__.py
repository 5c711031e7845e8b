"""The storage adapter: the core's storage port on SQLAlchemy (SQLite or PostgreSQL).

Build a store from a URL with :func:`create_store`, or hand :class:`SqlStore` an
``async_sessionmaker``; create or upgrade the schema with :func:`upgrade` first.
"""

from gharts_adapters.storage.migrate import Revision, current, history, upgrade
from gharts_adapters.storage.store import (
    SqlStore,
    SqlUnitOfWork,
    configure_engine,
    create_engine,
    create_store,
)
from gharts_adapters.storage.tables import metadata

__all__ = [
    "Revision",
    "SqlStore",
    "SqlUnitOfWork",
    "configure_engine",
    "create_engine",
    "create_store",
    "current",
    "history",
    "metadata",
    "upgrade",
]
