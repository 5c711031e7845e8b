"""The quota rule: a team's live runners never exceed ``max_runners``."""

from __future__ import annotations

from gharts_core.errors import QuotaExceeded


def has_room(live_runners: int, max_runners: int | None) -> bool:
    """Return whether one more runner fits; ``None`` means unlimited."""
    return max_runners is None or live_runners < max_runners


def check_quota(
    team_name: str, live_runners: int, max_runners: int | None, *, retry_after: int = 60
) -> None:
    """Raise :class:`QuotaExceeded` when the team has no room for one more runner.

    Stores call this inside the same transaction that inserts the reservation, so the check and
    the insert cannot be interleaved by another request.
    """
    if max_runners is not None and not has_room(live_runners, max_runners):
        raise QuotaExceeded(team_name, max_runners, retry_after=retry_after)
