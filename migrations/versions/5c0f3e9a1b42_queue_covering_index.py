"""queues: a covering index on requests for ranking (issue 15)

``ix_requests_queue`` holds every column ``queues`` reads to rank and filter the accepted and
in-work requests (state and team first, for the WHERE), so the queue and backlog SELECT is an
index-only scan on SQLite and PostgreSQL rather than one table lookup per waiting request.

Revision ID: 5c0f3e9a1b42
Revises: 5e7a1c3b9d20
Create Date: 2026-12-04 05:20:00
"""
from alembic import op

revision = '5c0f3e9a1b42'
down_revision = '5e7a1c3b9d20'
branch_labels = None
depends_on = None

COLUMNS = ["state", "team_id", "id", "business_impact", "deadline", "is_exec_sponsored",
           "size", "created_at", "rank_override", "kind", "assignee_id", "is_confidential",
           "is_central", "sla_due_at", "sla_at_risk_at"]


def upgrade():
    with op.batch_alter_table("requests") as batch:
        batch.create_index("ix_requests_queue", COLUMNS)


def downgrade():
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_queue")
