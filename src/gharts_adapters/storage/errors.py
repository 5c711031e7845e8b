"""The one place where SQLAlchemy and driver exceptions become the core's storage errors.

* the database cannot be reached, refused the connection, is busy or shutting down ->
  :class:`~gharts_core.errors.StorageUnavailable`;
* a uniqueness or foreign-key rule is broken -> :class:`~gharts_core.errors.Conflict` with a
  sentence naming what clashed;
* a value the database cannot store (a NUL character, which PostgreSQL text refuses; an integer
  outside 64 bits, which neither database holds) is refused *before* the statement is sent, by
  :func:`refuse_unstorable`, as a :class:`~gharts_core.errors.ValidationFailed`, so that it is
  the same 400 on SQLite and PostgreSQL, wherever it came from (a query filter, a path segment,
  a body field, a token claim).

Both chain the original with ``raise ... from``. Anything else is a bug and propagates unchanged.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import exc

from gharts_core.errors import Conflict, GhartsError, StorageUnavailable, ValidationFailed

P = ParamSpec("P")
R = TypeVar("R")

# SQLSTATE classes meaning "not reachable right now": connection exception, insufficient
# resources, operator intervention (shutdown, cannot connect now), unknown database, the
# transient transaction rollbacks (serialization failure, deadlock), object not in prerequisite
# state (55000: the database does not accept connections, 55P03: lock not available), system
# errors (58: I/O error), and a read-only transaction (25006: a hot standby).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57", "3D", "40", "55", "58", "25006")

_INT64 = range(-(2**63), 2**63)
#: The field name of the refusal: the storage layer does not know which request field it was.
UNSTORABLE_FIELD = "request"

# (substrings of the PostgreSQL constraint name or the SQLite message, sentence).
_CONFLICTS = (
    (("uq_users_email", "users.email"), "A user with this email already exists."),
    (
        ("uq_users_oidc_issuer", "users.oidc_issuer"),
        "Another user is already bound to this (issuer, subject).",
    ),
    (("uq_teams_name", "teams.name"), "A team with this name already exists."),
    (
        ("uq_clients_active_identity", "clients.issuer"),
        "An active client for this (issuer, subject) already exists.",
    ),
    (("uq_runners_live_name", "runners.name"), "A live runner with this name already exists."),
    (("foreign key", "FOREIGN KEY"), "The referenced team, user or runner does not exist."),
    (("pk_", ".id", "uq_audit_events_id", "uq_security_events_id"), "This id is already taken."),
)


def _sqlstate(error: exc.DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", None) or "")


def is_unavailable(error: BaseException) -> bool:
    """Return whether ``error`` means the database cannot serve requests right now."""
    if isinstance(error, exc.IntegrityError):
        return False
    if isinstance(error, exc.DBAPIError):
        return (
            error.connection_invalidated
            or isinstance(error, exc.OperationalError | exc.InterfaceError)
            or _sqlstate(error).startswith(_UNAVAILABLE_SQLSTATES)
        )
    return isinstance(error, exc.TimeoutError | exc.DisconnectionError | OSError | TimeoutError)


# Waiting for other transactions ran out, not the database failing: PostgreSQL's lock not
# available (lock_timeout), serialization failure and deadlock; SQLite's SQLITE_BUSY and
# SQLITE_LOCKED (extended codes keep the primary code in the low byte).
_CONTENTION_SQLSTATES = ("55P03", "40001", "40P01")
_SQLITE_CONTENTION_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def is_contention(error: BaseException) -> bool:
    """Return whether ``error``, or the error it was raised from, is a wait on other writers.

    Such a refusal is the database working as configured under load: it says nothing about
    whether writes can succeed, unlike a read-only file, a full disk or a lost connection.
    """
    cause = error.__cause__ if isinstance(error, GhartsError) else error
    if not isinstance(cause, exc.DBAPIError):
        return False
    sqlite_code = getattr(cause.orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_CONTENTION_CODES
    return _sqlstate(cause) in _CONTENTION_SQLSTATES


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character, which gharts does not store"
    if not text.isascii() and not _encodable(text):
        return "contains a lone surrogate, which is not Unicode text"
    return None


def _unstorable(value: object) -> str | None:
    if isinstance(value, str):
        return _unstorable_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return "holds an integer outside the 64-bit range gharts stores"
    if isinstance(value, Mapping):
        return _unstorable(list(value.values()))
    if isinstance(value, list | tuple):
        return next(filter(None, map(_unstorable, value)), None)
    return None


def refuse_unstorable(parameters: object) -> None:
    """Raise ``ValidationFailed`` when a statement parameter is a value no database stores.

    ``parameters`` are a statement's bound values as the driver gets them: a mapping or a
    sequence, or a list of those for ``executemany``.
    """
    problem = _unstorable(parameters)
    if problem is not None:
        raise ValidationFailed(
            {UNSTORABLE_FIELD: f"The request {problem}."}, detail=f"The request {problem}."
        )


def conflict_detail(error: exc.IntegrityError) -> str:
    """Return a sentence saying which uniqueness rule ``error`` broke."""
    message = str(error.orig)
    for needles, sentence in _CONFLICTS:
        if any(needle in message for needle in needles):
            return sentence
    return "The change conflicts with existing data."


def storable_json(value: object) -> str:
    """Serialise a JSON column's value, refusing what :func:`refuse_unstorable` refuses."""
    refuse_unstorable(value)
    return json.dumps(value)


def translate(error: Exception) -> Exception:
    """Return the core error standing for ``error``, or ``error`` itself when there is none."""
    if isinstance(error, GhartsError):
        return error
    if isinstance(error, exc.StatementError) and isinstance(error.orig, GhartsError):
        return error.orig  # refused while binding parameters, before the database saw them
    if isinstance(error, exc.IntegrityError):
        return Conflict(conflict_detail(error))
    if is_unavailable(error):
        return StorageUnavailable()
    return error


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise database errors raised in the block as core errors, chained with ``from``."""
    try:
        yield
    except Exception as error:
        mapped = translate(error)
        if mapped is error:
            raise
        raise mapped from error


def translating(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate a repository coroutine so that it raises core errors only."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translated():
            return await method(*args, **kwargs)

    return wrapper
