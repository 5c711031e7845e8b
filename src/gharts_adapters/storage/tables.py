"""The database schema as SQLAlchemy Core tables: rows, never domain classes.

The migrations in ``migrations/versions`` create exactly this schema; a test compares the two.
Enumerations are stored as their string values (no database enum types to migrate). Indexes
follow the filters and orderings the storage port offers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import DateTime, TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC
    and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive on SQLite); refuse naive ones."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 - the TypeDecorator signature
    ) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
Sequence64 = BigInteger().with_variant(Integer(), "sqlite")


def _deactivation_columns() -> list[Column[object]]:
    return [
        Column("deactivated_at", UTCDateTime, nullable=True),
        Column("deactivated_by", String(320), nullable=True),
        Column("deactivation_reason", Text, nullable=True),
    ]


def _actor_columns() -> list[Column[object]]:
    return [
        Column("actor_kind", String(16), nullable=False),
        Column("actor_id", Uuid, nullable=True),
        Column("actor_name", String(320), nullable=False),
    ]


teams = Table(
    "teams",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("description", Text, nullable=False),
    Column("required_labels", JSONDocument, nullable=False),
    Column("optional_label_patterns", JSONDocument, nullable=False),
    Column("allowed_runner_group_ids", JSONDocument, nullable=False),
    Column("default_runner_group_id", BigInteger, nullable=False),
    Column("max_runners", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    *_deactivation_columns(),
    UniqueConstraint("name"),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("can_use_jit", Boolean, nullable=False),
    Column("can_use_registration_token", Boolean, nullable=False),
    Column("oidc_issuer", String(512), nullable=True),
    Column("oidc_subject", String(512), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    *_deactivation_columns(),
    UniqueConstraint("email"),
    UniqueConstraint("oidc_issuer", "oidc_subject"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("team_id", Uuid, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("team_id", "user_id"),
    Index(None, "user_id"),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("issuer", String(512), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("description", Text, nullable=False),
    Column("can_use_jit", Boolean, nullable=False),
    Column("can_use_registration_token", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "team_id"),
    Index(None, "created_at", "id"),
    Index(
        "uq_clients_active_identity",
        "issuer",
        "subject",
        unique=True,
        sqlite_where=text("is_active"),
        postgresql_where=text("is_active"),
    ),
)

runners = Table(
    "runners",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("team_id", Uuid, ForeignKey("teams.id"), nullable=False),
    Column("team_name", String(50), nullable=False),
    Column("labels", JSONDocument, nullable=False),
    Column("runner_group_id", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("method", String(32), nullable=False),
    *_actor_columns(),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("github_runner_id", BigInteger, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("deleted_reason", Text, nullable=True),
    Index(None, "team_id", "status"),
    # A team's runner listing, newest first, read in index order and stopped at the page's end
    # instead of sorting every runner of the team (migration 0006).
    Index(None, "team_id", "created_at", "id"),
    Index(None, "team_name", "status"),
    Index(None, "status"),
    Index(None, "created_at", "id"),
    Index(None, "github_runner_id"),
    Index(
        "uq_runners_live_name",
        "name",
        unique=True,
        sqlite_where=text("status <> 'deleted'"),
        postgresql_where=text("status <> 'deleted'"),
    ),
)

# One row per (runner, label) so that the label filter is an indexed lookup on every database.
runner_labels = Table(
    "runner_labels",
    metadata,
    Column("runner_id", Uuid, ForeignKey("runners.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(100), nullable=False),
    PrimaryKeyConstraint("runner_id", "label"),
    Index(None, "label"),
)

runner_transitions = Table(
    "runner_transitions",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    Column("runner_id", Uuid, ForeignKey("runners.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    Index(None, "runner_id", "at"),
)

# Audit and security tables are append-only: ``seq`` orders rows written in the same instant.
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    *_actor_columns(),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(200), nullable=True),
    Column("team_id", Uuid, nullable=True),
    Column("team_name", String(50), nullable=True),
    Column("details", JSONDocument, nullable=False),
    Column("source_ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
    UniqueConstraint("id"),
    Index(None, "at"),
    Index(None, "team_id", "at"),
    Index(None, "actor_name", "at"),
    Index(None, "action", "at"),
    Index(None, "target_id"),
)

security_events = Table(
    "security_events",
    metadata,
    Column("seq", Sequence64, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    *_actor_columns(),
    Column("message", Text, nullable=False),
    Column("team_id", Uuid, nullable=True),
    Column("team_name", String(50), nullable=True),
    Column("runner_id", Uuid, nullable=True),
    Column("details", JSONDocument, nullable=False),
    UniqueConstraint("id"),
    Index(None, "at"),
    Index(None, "team_id", "at"),
    Index(None, "type", "at"),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("leader", String(200), nullable=True),
    Column("heartbeat_at", UTCDateTime, nullable=True),
    Column("cycles", BigInteger, nullable=False),
    Column("last_report", JSONDocument, nullable=True),
)

# The runner listing's pages as the worker last read them (ETag, runners, next link), so a
# restarted worker sends If-None-Match and GitHub answers 304 for every unchanged page.
sync_listed_pages = Table(
    "sync_listed_pages",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("etag", String(512), nullable=False),
    Column("next_url", String(2048), nullable=True),
    Column("runners", JSONDocument, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(100), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Index(None, "received_at"),
)

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("issuer", String(512), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)
