"""attachments: files on requests and comments (issue 14)

The files themselves live under the attachments folder (instance/attachments by default), by a
random name; this table keeps what the page shows (the cleaned original name, size, type),
the sha256 of the content, who added it and with which event, and when it was removed.

Revision ID: d41c7a9e2f60
Revises: d2b6f1c8e4a7
Create Date: 2026-12-04 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd41c7a9e2f60'
down_revision = 'd2b6f1c8e4a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('uploader_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size')),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE',
                                name=op.f('fk_attachments_request_id_requests')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE',
                                name=op.f('fk_attachments_event_id_events')),
        sa.ForeignKeyConstraint(['uploader_id'], ['users.id'],
                                name=op.f('fk_attachments_uploader_id_users')),
        sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'],
                                name=op.f('fk_attachments_removed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name')),
    )
    op.create_index(op.f('ix_attachments_request_id'), 'attachments', ['request_id'])
    op.create_index(op.f('ix_attachments_event_id'), 'attachments', ['event_id'])


def downgrade():
    op.drop_index(op.f('ix_attachments_event_id'), table_name='attachments')
    op.drop_index(op.f('ix_attachments_request_id'), table_name='attachments')
    op.drop_table('attachments')
