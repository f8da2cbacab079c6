"""notifications: in-app notifications and a mode per kind (issue 14)

A ``notifications`` table holds what each person is told in the app (``/notifications``), and
the mail preference becomes a mapping: each kind of notification immediately, in a daily
batch, or off (``users.notification_modes``) instead of the list of kinds wanted
(``users.notifications``).

Existing choices carry over: a kind a person had chosen is "immediately", a kind they could
have chosen and did not is "off", and the kinds issue 14 added (which nobody could choose yet)
are "immediately".

Revision ID: b8e41f6c2d07
Revises: d41c7a9e2f60
Create Date: 2026-12-04 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8e41f6c2d07'
down_revision = 'd41c7a9e2f60'
branch_labels = None
depends_on = None

# The kinds a person could choose before this revision (issue 4), and every kind after it.
OLD_KINDS = ("question", "delivered", "assigned", "sla_at_risk", "released")
KINDS = ("accepted", "declined", "question", "answered", "comment", "mention", "assigned",
         "delivered", "reopened", "waitlisted", "released", "sla_at_risk")

users = sa.table("users", sa.column("id", sa.Integer), sa.column("notifications", sa.JSON),
                 sa.column("notification_modes", sa.JSON))


def modes_of(chosen):
    """The mode of each kind for a person who had chosen the kinds ``chosen`` (a list)."""
    chosen = set(chosen or ())
    return {kind: "off" if kind in OLD_KINDS and kind not in chosen else "immediately"
            for kind in KINDS}


def upgrade():
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('is_daily', sa.Boolean(), nullable=False),
        sa.Column('mailed_at', sa.DateTime(), nullable=True),
        sa.Column('once_key', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_notifications_recipient_id_users')),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE',
                                name=op.f('fk_notifications_request_id_requests')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE',
                                name=op.f('fk_notifications_event_id_events')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_notifications_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('once_key', name=op.f('uq_notifications_once_key')),
    )
    op.create_index(op.f('ix_notifications_request_id'), 'notifications', ['request_id'])
    op.create_index(op.f('ix_notifications_event_id'), 'notifications', ['event_id'])
    op.create_index('ix_notifications_recipient_read', 'notifications',
                    ['recipient_id', 'read_at'])
    op.create_index('ix_notifications_recipient_created', 'notifications',
                    ['recipient_id', 'created_at'])
    op.create_index('ix_notifications_daily_mailed', 'notifications', ['is_daily', 'mailed_at'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_modes', sa.JSON(), server_default='{}',
                                      nullable=False))
    connection = op.get_bind()
    for user_id, chosen in connection.execute(sa.select(users.c.id, users.c.notifications)):
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(notification_modes=modes_of(chosen)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notifications')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'notifications', sa.JSON(),
            server_default='["question", "delivered", "assigned", "sla_at_risk", "released"]',
            nullable=False))
    connection = op.get_bind()
    for user_id, modes in connection.execute(sa.select(users.c.id,
                                                       users.c.notification_modes)):
        modes = modes or {}
        connection.execute(users.update().where(users.c.id == user_id).values(
            notifications=[kind for kind in KINDS if modes.get(kind, "immediately") != "off"]))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notification_modes')

    op.drop_index('ix_notifications_daily_mailed', table_name='notifications')
    op.drop_index('ix_notifications_recipient_created', table_name='notifications')
    op.drop_index('ix_notifications_recipient_read', table_name='notifications')
    op.drop_index(op.f('ix_notifications_event_id'), table_name='notifications')
    op.drop_index(op.f('ix_notifications_request_id'), table_name='notifications')
    op.drop_table('notifications')
