"""integrations: personal access tokens for the REST API (issue 16)

``access_tokens`` keeps, per token, its owner, a name, the secret's first characters (to tell
tokens apart on the page), a SHA-256 hash of the secret (never the secret), its scope (read or
write), when it was made, expires, was last used and revoked.

Revision ID: a3c5e7f9b1d2
Revises: d7e2b4c9a1f5
Create Date: 2026-12-04 20:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a3c5e7f9b1d2'
down_revision = 'd7e2b4c9a1f5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'access_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("scope IN ('read', 'write')", name=op.f('ck_access_tokens_scope')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_access_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_access_tokens_token_hash')),
    )
    op.create_index(op.f('ix_access_tokens_user_id'), 'access_tokens', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_access_tokens_user_id'), table_name='access_tokens')
    op.drop_table('access_tokens')
