"""The database keeps ``runner_labels`` in step with ``runners.labels`` itself, by trigger.

``runner_labels`` is the label filter's index: one row per (runner, label). Until now every
insert and every label change of a runner paid one more statement (and on SQLite one more
hand-off to its thread) to write it. The triggers write it inside the statement that changes the
runner: after an ``INSERT`` they add the new row's labels, after an ``UPDATE`` that changes
``labels`` they replace them. Existing rows are already in step, so nothing is backfilled.

Revision ID: 0005_runner_label_triggers
Revises: 0004_dashboard_sessions
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_runner_label_triggers"
down_revision: str | None = "0004_dashboard_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = """
CREATE FUNCTION gharts_runner_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM runner_labels WHERE runner_id = OLD.id;
    END IF;
    INSERT INTO runner_labels (runner_id, label)
        SELECT NEW.id, label FROM jsonb_array_elements_text(NEW.labels) AS label;
    RETURN NULL;
END;
$$
"""
_PG_TRIGGERS = (
    """CREATE TRIGGER runners_labels_inserted AFTER INSERT ON runners
       FOR EACH ROW EXECUTE FUNCTION gharts_runner_labels()""",
    """CREATE TRIGGER runners_labels_updated AFTER UPDATE OF labels ON runners
       FOR EACH ROW WHEN (OLD.labels IS DISTINCT FROM NEW.labels)
       EXECUTE FUNCTION gharts_runner_labels()""",
)
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER runners_labels_inserted AFTER INSERT ON runners BEGIN
       INSERT INTO runner_labels (runner_id, label)
           SELECT NEW.id, value FROM json_each(NEW.labels);
       END""",
    """CREATE TRIGGER runners_labels_updated AFTER UPDATE OF labels ON runners
       WHEN OLD.labels IS NOT NEW.labels BEGIN
       DELETE FROM runner_labels WHERE runner_id = OLD.id;
       INSERT INTO runner_labels (runner_id, label)
           SELECT NEW.id, value FROM json_each(NEW.labels);
       END""",
)
_TRIGGERS = ("runners_labels_inserted", "runners_labels_updated")


def upgrade() -> None:
    """Create the triggers that write ``runner_labels`` from ``runners.labels``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    """Drop the triggers: the repositories that wrote ``runner_labels`` themselves come back."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON runners" if postgres else f"DROP TRIGGER {trigger}")
    if postgres:
        op.execute("DROP FUNCTION gharts_runner_labels()")
