"""triage: indexes for the triage page and the request page (issue 15)

``ix_requests_triage`` (state, created_at, id, is_central, is_confidential, team_id, kind):
the triage page reads the requests of one state oldest first, filtered by the columns after
the order; with all of them in the index its page is read in order and stops after a page,
and its counts never touch the table.

The request page: ``ix_requests_duplicate_of`` finds a request's duplicates (it scanned the
table), and ``ix_requests_team_delivered`` (team_id, delivered_at, size) the team's recent
deliveries that its forecast counts, from the index alone.

Revision ID: 5e7a1c3b9d20
Revises: b8e41f6c2d07
Create Date: 2026-12-04 05:30:00
"""
from alembic import op

revision = '5e7a1c3b9d20'
down_revision = 'b8e41f6c2d07'
branch_labels = None
depends_on = None

COLUMNS = ["state", "created_at", "id", "is_central", "is_confidential", "team_id", "kind"]


def upgrade():
    with op.batch_alter_table("requests") as batch_op:
        batch_op.create_index("ix_requests_triage", COLUMNS)
        batch_op.create_index("ix_requests_duplicate_of", ["duplicate_of_id"])
        batch_op.create_index("ix_requests_team_delivered", ["team_id", "delivered_at", "size"])


def downgrade():
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_index("ix_requests_team_delivered")
        batch_op.drop_index("ix_requests_duplicate_of")
        batch_op.drop_index("ix_requests_triage")
