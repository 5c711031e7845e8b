"""Which database refusals are contention (waiting out other writers) and which are failures.

Readiness forgets the first and reports the second (``WriteHealth``): a replica whose requests
wait out a lock is under load, one whose disk is full or read-only cannot write.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import exc

from gharts_adapters.storage.errors import is_contention, translate
from gharts_core.errors import StorageUnavailable


def _refusal(**orig: object) -> exc.DBAPIError:
    return exc.OperationalError("UPDATE runners ...", {}, SimpleNamespace(**orig))  # type: ignore[arg-type]


def _as_translated(error: exc.DBAPIError) -> BaseException:
    """The core error a repository raises for ``error``, chained as ``translated`` chains it."""
    mapped = translate(error)
    mapped.__cause__ = error
    return mapped


@pytest.mark.parametrize(
    ("orig", "contention"),
    [
        ({"sqlstate": "55P03"}, True),  # lock_timeout ran out
        ({"sqlstate": "40001"}, True),  # serialization failure
        ({"sqlstate": "40P01"}, True),  # deadlock detected
        ({"sqlite_errorcode": 5}, True),  # SQLITE_BUSY
        ({"sqlite_errorcode": 517}, True),  # SQLITE_BUSY_SNAPSHOT
        ({"sqlite_errorcode": 6}, True),  # SQLITE_LOCKED
        ({"sqlite_errorcode": 8}, False),  # SQLITE_READONLY: the file refuses writes
        ({"sqlite_errorcode": 13}, False),  # SQLITE_FULL
        ({"sqlstate": "08006"}, False),  # connection failure
        ({"sqlstate": "53100"}, False),  # disk full
        ({"sqlstate": "25006"}, False),  # read-only transaction (a hot standby)
    ],
)
def test_a_refusal_is_contention_only_when_it_waited_out_other_writers(
    orig: dict[str, object], contention: bool
) -> None:
    translated = _as_translated(_refusal(**orig))

    assert isinstance(translated, StorageUnavailable)
    assert contention == is_contention(translated)


def test_a_timeout_without_a_database_answer_is_not_contention() -> None:
    """No answer in time (a vanished peer, a dead socket) says nothing good about writes."""
    assert not is_contention(_as_translated(exc.TimeoutError()))  # type: ignore[arg-type]
    assert not is_contention(TimeoutError())
