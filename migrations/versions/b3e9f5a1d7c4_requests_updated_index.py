"""lists: an index on requests' last update, for the "Recently updated" sort (issue 15)

``ix_requests_updated`` (updated_at, id) is the order of the request lists' "Recently updated"
sort: a page of it, at any depth and whatever the state filter, reads the index in order
instead of sorting every request (100,000 here).

Revision ID: b3e9f5a1d7c4
Revises: a3c8e5f1d926
Create Date: 2026-12-04 11:00:00
"""
from alembic import op

revision = 'b3e9f5a1d7c4'
down_revision = 'a3c8e5f1d926'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("requests") as batch:
        batch.create_index("ix_requests_updated", ["updated_at", "id"])


def downgrade():
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_updated")
