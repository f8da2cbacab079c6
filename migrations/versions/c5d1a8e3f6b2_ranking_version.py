"""queues: the ranking version, so each process ranks the queues again only after a change (issue 15)

``ranking_version`` holds one row (id 1) whose ``version`` every transaction that changes
what the queues rank (a committed request's score inputs, state or SLA clock) raises as its
last statement; ``queues.current_ranking`` keeps the ranking it made
under that number.

Revision ID: c5d1a8e3f6b2
Revises: b3e9f5a1d7c4
Create Date: 2026-12-04 14:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c5d1a8e3f6b2'
down_revision = 'b3e9f5a1d7c4'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "ranking_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade():
    op.drop_table("ranking_version")
