"""Bodies of the sync endpoints: the worker's status and the outcome of a trigger."""

from __future__ import annotations

from datetime import datetime

import attrs

from gharts_core.model import SyncReport, SyncState


@attrs.frozen(kw_only=True)
class SyncRunResponse:
    """What one sync cycle did: GitHub's runners, actions by kind, per-runner errors."""

    started_at: datetime
    finished_at: datetime
    duration_seconds: float
    observed: int
    unmanaged: int
    actions: dict[str, int]
    errors: list[str]
    purged_audit_rows: int

    @classmethod
    def of(cls, report: SyncReport) -> SyncRunResponse:
        """Build the response from a cycle's report."""
        return cls(
            started_at=report.started_at,
            finished_at=report.finished_at,
            duration_seconds=report.duration_seconds,
            observed=report.observed,
            unmanaged=report.unmanaged,
            actions=dict(report.actions),
            errors=list(report.errors),
            purged_audit_rows=report.purged_audit_rows,
        )


@attrs.frozen(kw_only=True)
class SyncStatusResponse:
    """The shared sync state, as every replica sees it.

    ``leader`` is the worker that ran the last cycle (``null`` after it stopped gracefully);
    ``heartbeat_at`` is when that cycle finished. A heartbeat much older than
    ``interval_seconds`` means no worker is running. ``worker_in_process`` tells whether this
    API process runs a worker beside it.
    """

    leader: str | None
    heartbeat_at: datetime | None
    heartbeat_age_seconds: float | None
    interval_seconds: int
    worker_in_process: bool
    cycles: int
    last_run: SyncRunResponse | None

    @classmethod
    def of(
        cls, state: SyncState, *, now: datetime, interval_seconds: int, worker_in_process: bool
    ) -> SyncStatusResponse:
        """Build the response from the sync state, at ``now``."""
        beat = state.heartbeat_at
        return cls(
            leader=state.leader,
            heartbeat_at=beat,
            heartbeat_age_seconds=None if beat is None else (now - beat).total_seconds(),
            interval_seconds=interval_seconds,
            worker_in_process=worker_in_process,
            cycles=state.cycles,
            last_run=None if state.last_report is None else SyncRunResponse.of(state.last_report),
        )


@attrs.frozen(kw_only=True)
class SyncScheduledResponse:
    """202: the worker was asked for a cycle and runs it shortly."""

    status: str = "scheduled"


@attrs.frozen(kw_only=True)
class SyncCompletedResponse:
    """200: nobody else leads, so the cycle ran within the request."""

    status: str = "completed"
    report: SyncRunResponse

    @classmethod
    def of(cls, report: SyncReport) -> SyncCompletedResponse:
        """Build the response from the report of the cycle that ran."""
        return cls(report=SyncRunResponse.of(report))
