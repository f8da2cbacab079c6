"""integrations: an external id on requests, for spreadsheet imports (issue 16)

``requests.external_id`` holds, for a request imported from a spreadsheet
(tickets/imports.py), the file's ID of its row, or a hash of the row's mapped values when the
file has no ID column; NULL for requests made in Datadesk. A unique index, so importing the
same file again adds nothing (both databases allow any number of NULLs in a unique index).

Revision ID: b4d6f8a0c2e3
Revises: a3c5e7f9b1d2
Create Date: 2026-12-04 20:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b4d6f8a0c2e3'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    # Not through a batch: on SQLite that copies the table, and dropping the old one deletes
    # every request's events (ON DELETE CASCADE) and loses the search triggers on it.
    op.add_column("requests", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.create_index("ix_requests_external_id", "requests", ["external_id"], unique=True)


def downgrade():
    op.drop_index("ix_requests_external_id", table_name="requests")
    op.execute("ALTER TABLE requests DROP COLUMN external_id")
