"""events: a partial index of the reopen transitions, for the reopen rate (issue 15)

Closures' reopen rate asks, of the requests delivered in a range, which were ever reopened.
Seeking each delivery's reopen among its events cost a seek per delivery (80,000 over five
years at 100,000 requests); the requests ever reopened are a few thousand entries of this
index, read whole.

Revision ID: a3c8e5f1d926
Revises: e4b7c2a9f013
Create Date: 2026-12-04 10:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c8e5f1d926'
down_revision = 'e4b7c2a9f013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_events_reopen", "events", ["request_id"],
                    sqlite_where=sa.text("action = 'reopen'"),
                    postgresql_where=sa.text("action = 'reopen'"))


def downgrade():
    op.drop_index("ix_events_reopen", table_name="events")
