"""hardening: session generations, case-folded team names, outbox lanes and lock owners

Revision ID: c5e1a7f0d210
Revises: e0979b309ca0
Create Date: 2026-12-03 06:30:00

Existing rows get their values in Python (a random session token per user, the NFKC case-fold
of each team name), so the same code fills them on SQLite and PostgreSQL before the columns
become NOT NULL and unique.
"""
import secrets
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = 'c5e1a7f0d210'
down_revision = 'e0979b309ca0'
branch_labels = None
depends_on = None


def _name_key(text):
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=80), nullable=True))

    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(24)))
    teams = sa.table('teams', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('name_key', sa.String))
    seen = set()
    for team_id, name in connection.execute(sa.select(teams.c.id, teams.c.name)
                                            .order_by(teams.c.id)).all():
        key = _name_key(name)
        # Teams that differ only in case were allowed before; keep them apart by their id.
        if key in seen:
            key = f"{key[:70]}#{team_id}"
        seen.add(key)
        connection.execute(teams.update().where(teams.c.id == team_id).values(name_key=key))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_teams_name_key'), ['name_key'])

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), server_default='1',
                                      nullable=False))
        batch_op.add_column(sa.Column('locked_by', sa.String(length=120), nullable=True))
        batch_op.create_index('ix_outbox_status_priority_send_after',
                              ['status', 'priority', 'send_after'], unique=False)
    outbox = sa.table('outbox', sa.column('kind', sa.String), sa.column('priority', sa.SmallInteger))
    connection.execute(outbox.update().where(outbox.c.kind != 'digest').values(priority=0))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_priority_send_after')
        batch_op.drop_column('locked_by')
        batch_op.drop_column('priority')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_teams_name_key'), type_='unique')
        batch_op.drop_column('name_key')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
