"""A team's runner listing reads its page from an index, in order, instead of sorting.

``GET /api/v1/runners`` for a team's member or machine client lists the team's runners newest
first. No index held a team's runners in that order, so the database read every runner of the
team and sorted them for each page: with a few thousand runners, several milliseconds of
SQLite's own work per request. An index on ``(team_id, created_at, id)`` lets it read the
page's rows in order and stop (ties within one ``created_at`` are still sorted by ``id``).

Revision ID: 0006_runner_listing_index
Revises: 0005_runner_label_triggers
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_runner_listing_index"
down_revision: str | None = "0005_runner_label_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_runners_team_id_created_at_id"


def upgrade() -> None:
    """Create the index."""
    op.create_index(_NAME, "runners", ["team_id", "created_at", "id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index(_NAME, table_name="runners")
