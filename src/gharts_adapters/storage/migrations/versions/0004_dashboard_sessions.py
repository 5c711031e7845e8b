"""Dashboard sessions (server-side logins) and, on PostgreSQL, runner-change notifications.

The ``gharts_runner_changes`` trigger ``NOTIFY``s after every statement that changes runners or
their transitions, so every replica's dashboard hears of a change made by any process.

Revision ID: 0004_dashboard_sessions
Revises: 0003_sync_etags
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_dashboard_sessions"
down_revision: str | None = "0003_sync_etags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
CHANNEL = "gharts_runner_changes"
NOTIFIED_TABLES = ("runners", "runner_transitions")

_PG_NOTIFY = f"""
CREATE FUNCTION gharts_notify_runner_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END;
$$
"""


def upgrade() -> None:
    """Create the ``dashboard_sessions`` table and its indexes."""
    op.create_table(
        "dashboard_sessions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dashboard_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_sessions")),
    )
    op.create_index(
        op.f("ix_dashboard_sessions_user_id"), "dashboard_sessions", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_dashboard_sessions_expires_at"), "dashboard_sessions", ["expires_at"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_NOTIFY)
        for table in NOTIFIED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION gharts_notify_runner_change()"
            )


def downgrade() -> None:
    """Drop the notification triggers and the ``dashboard_sessions`` table."""
    if op.get_bind().dialect.name == "postgresql":
        for table in NOTIFIED_TABLES:
            op.execute(f"DROP TRIGGER {table}_notify ON {table}")
        op.execute("DROP FUNCTION gharts_notify_runner_change()")
    op.drop_index(op.f("ix_dashboard_sessions_expires_at"), table_name="dashboard_sessions")
    op.drop_index(op.f("ix_dashboard_sessions_user_id"), table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
