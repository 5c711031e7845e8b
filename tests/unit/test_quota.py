"""The quota rule: a team never exceeds ``max_runners`` live runners."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gharts_core.errors import ErrorCode, QuotaExceeded
from gharts_core.quota import check_quota, has_room

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("live", "max_runners", "room"),
    [
        (0, None, True),
        (10**6, None, True),
        (0, 1, True),
        (2, 3, True),
        (3, 3, False),
        (4, 3, False),
    ],
)
def test_there_is_room_below_the_limit_and_always_without_one(
    live: int, max_runners: int | None, room: bool
) -> None:
    assert room == has_room(live, max_runners)


def test_a_zero_quota_never_has_room() -> None:
    assert not has_room(0, 0)


def test_an_unlimited_team_passes_the_check_whatever_it_runs() -> None:
    check_quota("blue", 10**6, None)


def test_a_team_below_its_quota_passes_the_check() -> None:
    check_quota("blue", 2, 3)


def test_a_team_at_its_quota_is_refused_with_a_retry_hint() -> None:
    with pytest.raises(QuotaExceeded) as raised:
        check_quota("blue", 3, 3, retry_after=30)

    error = raised.value
    detail = "Team 'blue' is at its quota of 3 runners."
    expected = (ErrorCode.QUOTA_EXCEEDED, "blue", 3, {"retry_after": 30}, detail)
    assert expected == (error.code, error.team, error.max_runners, error.extras(), error.detail)


def test_the_default_retry_hint_is_a_minute() -> None:
    with pytest.raises(QuotaExceeded) as raised:
        check_quota("blue", 0, 0)

    expected = 60
    assert expected == raised.value.retry_after
