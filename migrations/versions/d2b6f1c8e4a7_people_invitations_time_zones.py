"""people: invitations instead of typed passwords, and each person's time zone (issue 14)

Revision ID: d2b6f1c8e4a7
Revises: a7d4e2c9b513
Create Date: 2026-12-04 09:00:00

People who exist before this revision chose their password already: they count as joined
when their account was created. Their time zone stays empty, which means the installation's.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd2b6f1c8e4a7'
down_revision = 'a7d4e2c9b513'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('joined_at', sa.DateTime(), nullable=True))
    users = sa.table('users', sa.column('created_at', sa.DateTime),
                     sa.column('joined_at', sa.DateTime))
    op.get_bind().execute(users.update().values(joined_at=users.c.created_at))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('joined_at')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('time_zone')
