"""Initial schema: every table, index and the append-only guards of the audit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Types are spelled out here, not imported from tables.py: a revision must not change when the
# models do later.
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SEQUENCE_64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("audit_events", "security_events")

_PG_GUARD = """
CREATE FUNCTION gharts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$
"""


def _create_append_only_guards() -> None:
    """Refuse UPDATE on the audit tables in the database itself (retention may DELETE)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION gharts_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_append_only_guards() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        op.execute(
            f"DROP TRIGGER {table}_append_only ON {table}"
            if postgres
            else f"DROP TRIGGER {table}_append_only"
        )
    if postgres:
        op.execute("DROP FUNCTION gharts_append_only()")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_events",
        sa.Column("seq", SEQUENCE_64, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("team_name", sa.String(length=50), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_events_id")),
    )
    op.create_index(
        op.f("ix_audit_events_action_at"), "audit_events", ["action", "at"], unique=False
    )
    op.create_index(
        op.f("ix_audit_events_actor_name_at"), "audit_events", ["actor_name", "at"], unique=False
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)
    op.create_index(op.f("ix_audit_events_target_id"), "audit_events", ["target_id"], unique=False)
    op.create_index(
        op.f("ix_audit_events_team_id_at"), "audit_events", ["team_id", "at"], unique=False
    )
    op.create_table(
        "security_events",
        sa.Column("seq", SEQUENCE_64, autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=320), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("team_name", sa.String(length=50), nullable=True),
        sa.Column("runner_id", sa.Uuid(), nullable=True),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_security_events")),
        sa.UniqueConstraint("id", name=op.f("uq_security_events_id")),
    )
    op.create_index(op.f("ix_security_events_at"), "security_events", ["at"], unique=False)
    op.create_index(
        op.f("ix_security_events_team_id_at"), "security_events", ["team_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_security_events_type_at"), "security_events", ["type", "at"], unique=False
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("leader", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("cycles", sa.BigInteger(), nullable=False),
        sa.Column("last_report", JSON_DOCUMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("required_labels", JSON_DOCUMENT, nullable=False),
        sa.Column("optional_label_patterns", JSON_DOCUMENT, nullable=False),
        sa.Column("allowed_runner_group_ids", JSON_DOCUMENT, nullable=False),
        sa.Column("default_runner_group_id", sa.BigInteger(), nullable=False),
        sa.Column("max_runners", sa.Integer(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("deactivated_at", TIMESTAMP, nullable=True),
        sa.Column("deactivated_by", sa.String(length=320), nullable=True),
        sa.Column("deactivation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("can_use_jit", sa.Boolean(), nullable=False),
        sa.Column("can_use_registration_token", sa.Boolean(), nullable=False),
        sa.Column("oidc_issuer", sa.String(length=512), nullable=True),
        sa.Column("oidc_subject", sa.String(length=512), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("deactivated_at", TIMESTAMP, nullable=True),
        sa.Column("deactivated_by", sa.String(length=320), nullable=True),
        sa.Column("deactivation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint(
            "oidc_issuer", "oidc_subject", name=op.f("uq_users_oidc_issuer_oidc_subject")
        ),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_received_at"),
        "webhook_deliveries",
        ["received_at"],
        unique=False,
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("subject", sa.String(length=512), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("can_use_jit", sa.Boolean(), nullable=False),
        sa.Column("can_use_registration_token", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_clients_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    op.create_index(op.f("ix_clients_created_at_id"), "clients", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_clients_team_id"), "clients", ["team_id"], unique=False)
    op.create_index(
        "uq_clients_active_identity",
        "clients",
        ["issuer", "subject"],
        unique=True,
        sqlite_where=sa.text("is_active"),
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "memberships",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_memberships_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"], unique=False)
    op.create_table(
        "runners",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("team_name", sa.String(length=50), nullable=False),
        sa.Column("labels", JSON_DOCUMENT, nullable=False),
        sa.Column("runner_group_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=320), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("github_runner_id", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.Column("deleted_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_runners_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runners")),
    )
    op.create_index(op.f("ix_runners_created_at_id"), "runners", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_runners_status"), "runners", ["status"], unique=False)
    op.create_index(
        op.f("ix_runners_github_runner_id"), "runners", ["github_runner_id"], unique=False
    )
    op.create_index(
        op.f("ix_runners_team_id_status"), "runners", ["team_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_runners_team_name_status"), "runners", ["team_name", "status"], unique=False
    )
    op.create_index(
        "uq_runners_live_name",
        "runners",
        ["name"],
        unique=True,
        sqlite_where=sa.text("status <> 'deleted'"),
        postgresql_where=sa.text("status <> 'deleted'"),
    )
    op.create_table(
        "runner_labels",
        sa.Column("runner_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["runner_id"],
            ["runners.id"],
            name=op.f("fk_runner_labels_runner_id_runners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("runner_id", "label", name=op.f("pk_runner_labels")),
    )
    op.create_index(op.f("ix_runner_labels_label"), "runner_labels", ["label"], unique=False)
    op.create_table(
        "runner_transitions",
        sa.Column("seq", SEQUENCE_64, autoincrement=True, nullable=False),
        sa.Column("runner_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["runner_id"],
            ["runners.id"],
            name=op.f("fk_runner_transitions_runner_id_runners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_runner_transitions")),
    )
    op.create_index(
        op.f("ix_runner_transitions_runner_id_at"),
        "runner_transitions",
        ["runner_id", "at"],
        unique=False,
    )
    _create_append_only_guards()


def downgrade() -> None:
    """Revert this revision."""
    _drop_append_only_guards()
    op.drop_index(op.f("ix_runner_transitions_runner_id_at"), table_name="runner_transitions")
    op.drop_table("runner_transitions")
    op.drop_index(op.f("ix_runner_labels_label"), table_name="runner_labels")
    op.drop_table("runner_labels")
    op.drop_index(
        "uq_runners_live_name",
        table_name="runners",
        sqlite_where=sa.text("status <> 'deleted'"),
        postgresql_where=sa.text("status <> 'deleted'"),
    )
    op.drop_index(op.f("ix_runners_team_name_status"), table_name="runners")
    op.drop_index(op.f("ix_runners_team_id_status"), table_name="runners")
    op.drop_index(op.f("ix_runners_github_runner_id"), table_name="runners")
    op.drop_index(op.f("ix_runners_status"), table_name="runners")
    op.drop_index(op.f("ix_runners_created_at_id"), table_name="runners")
    op.drop_table("runners")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_index(
        "uq_clients_active_identity",
        table_name="clients",
        sqlite_where=sa.text("is_active"),
        postgresql_where=sa.text("is_active"),
    )
    op.drop_index(op.f("ix_clients_team_id"), table_name="clients")
    op.drop_index(op.f("ix_clients_created_at_id"), table_name="clients")
    op.drop_table("clients")
    op.drop_index(op.f("ix_webhook_deliveries_received_at"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("users")
    op.drop_table("teams")
    op.drop_table("sync_state")
    op.drop_index(op.f("ix_security_events_type_at"), table_name="security_events")
    op.drop_index(op.f("ix_security_events_team_id_at"), table_name="security_events")
    op.drop_index(op.f("ix_security_events_at"), table_name="security_events")
    op.drop_table("security_events")
    op.drop_index(op.f("ix_audit_events_team_id_at"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_target_id"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_actor_name_at"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_action_at"), table_name="audit_events")
    op.drop_table("audit_events")
