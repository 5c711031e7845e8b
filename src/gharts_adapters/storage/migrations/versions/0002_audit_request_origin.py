"""Audit rows record the caller's address and user agent (``source_ip``, ``user_agent``).

Revision ID: 0002_audit_request_origin
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_audit_request_origin"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two nullable columns (rows written before stay without an origin).

    Plain ``ADD COLUMN`` on both databases: a batch table copy on SQLite would drop the
    append-only triggers of ``audit_events``.
    """
    op.add_column("audit_events", sa.Column("source_ip", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("user_agent", sa.String(length=512), nullable=True))


def downgrade() -> None:
    """Drop the two columns (``ALTER TABLE ... DROP COLUMN``: SQLite 3.35 and PostgreSQL)."""
    for column in ("user_agent", "source_ip"):
        op.execute(sa.text(f"ALTER TABLE audit_events DROP COLUMN {column}"))
