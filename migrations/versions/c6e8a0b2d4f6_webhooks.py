"""integrations: webhooks, their endpoints and their delivery log (issue 16)

``webhooks`` keeps the endpoints leads register (URL, events, the signing secret, paused or
not and why, whether an admin allowed private addresses, the failures in a row, a version for
optimistic concurrency). ``webhook_deliveries`` is their outbox and log: one row per event
and endpoint (unique ``event_key`` per endpoint), the exact body sent, its status, attempts,
next attempt, lease, and the last answer's code, error and duration.

Revision ID: c6e8a0b2d4f6
Revises: b4d6f8a0c2e3
Create Date: 2026-12-04 21:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c6e8a0b2d4f6'
down_revision = 'b4d6f8a0c2e3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('paused_at', sa.DateTime(), nullable=True),
        sa.Column('paused_reason', sa.String(length=300), nullable=True),
        sa.Column('allow_private', sa.Boolean(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_webhooks_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    )
    op.create_index(op.f('ix_webhooks_created_by_id'), 'webhooks', ['created_by_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('event_key', sa.String(length=100), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('locked_by', sa.String(length=120), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')",
                           name=op.f('ck_webhook_deliveries_delivery_status')),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='SET NULL',
                                name=op.f('fk_webhook_deliveries_request_id_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('webhook_id', 'event_key', name='uq_webhook_deliveries_event_key'),
    )
    op.create_index(op.f('ix_webhook_deliveries_request_id'), 'webhook_deliveries',
                    ['request_id'])
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries',
                    ['status', 'next_attempt_at'])
    op.create_index('ix_webhook_deliveries_log', 'webhook_deliveries',
                    ['webhook_id', 'created_at', 'id'])


def downgrade():
    op.drop_index('ix_webhook_deliveries_log', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_index(op.f('ix_webhook_deliveries_request_id'), table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhooks_created_by_id'), table_name='webhooks')
    op.drop_table('webhooks')
