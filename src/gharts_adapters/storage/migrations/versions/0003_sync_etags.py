"""The sync worker keeps the runner listing's pages with their ETags (``sync_listed_pages``).

Revision ID: 0003_sync_etags
Revises: 0002_audit_request_origin
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_sync_etags"
down_revision: str | None = "0002_audit_request_origin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here, not imported from tables.py: a revision must not change when the models do.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``sync_listed_pages``."""
    op.create_table(
        "sync_listed_pages",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=512), nullable=False),
        sa.Column("next_url", sa.String(length=2048), nullable=True),
        sa.Column("runners", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_sync_listed_pages")),
    )


def downgrade() -> None:
    """Drop ``sync_listed_pages``."""
    op.drop_table("sync_listed_pages")
