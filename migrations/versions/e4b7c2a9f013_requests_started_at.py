"""requests.started_at: the first start of work, so cycle times need no events (issue 15)

Lead and cycle time, and the ageing chart's cycle-time lines, read a range's deliveries from
``ix_requests_delivered`` alone instead of seeking each delivery's first claim among the
events. ``sla_clocks`` keeps the column with the other stored clock fields; this fills it from
the history (the first ``claim`` or ``assign`` transition of each request).

Revision ID: e4b7c2a9f013
Revises: c7f2a9d4e1b3
Create Date: 2026-12-04 10:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e4b7c2a9f013'
down_revision = 'c7f2a9d4e1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("requests", sa.Column("started_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE requests SET started_at = (SELECT min(events.created_at) FROM events "
        "WHERE events.request_id = requests.id AND events.action IN ('claim', 'assign'))")
    op.drop_index("ix_requests_delivered", table_name="requests")
    op.create_index("ix_requests_delivered", "requests",
                    ["delivered_at", "team_id", "kind", "created_at", "sla_class",
                     "resolution_seconds", "started_at"])


def downgrade():
    op.drop_index("ix_requests_delivered", table_name="requests")
    op.create_index("ix_requests_delivered", "requests",
                    ["delivered_at", "team_id", "kind", "created_at", "sla_class",
                     "resolution_seconds"])
    # Not through a batch: on SQLite that copies the table, losing the search triggers on it.
    op.execute("ALTER TABLE requests DROP COLUMN started_at")
