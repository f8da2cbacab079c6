"""reuse: the catalogue (assets and their links to requests), the search index, deflections,
searches that found nothing, and the platform-gap taxonomy and records (issue 12)

Revision ID: f3a9c2d41b7e
Revises: c5e1a7f0d210
Create Date: 2026-12-03 12:40:00

The full-text index is each database's own: on SQLite an FTS5 table over ``search_documents``
(external content, porter stemming, kept in step by triggers), on PostgreSQL a generated
``tsvector`` column with a GIN index. Existing requests are indexed here; search.py keeps the
documents current from then on.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = 'f3a9c2d41b7e'
down_revision = 'c5e1a7f0d210'
branch_labels = None
depends_on = None

GAP_CATEGORIES = [
    ("Data not available", "The data exists nowhere the requester can reach it."),
    ("No access", "The data exists, but the requester has no access to it."),
    ("Does not know the tool", "The requester does not know how to use the tool that answers it."),
    ("Data not trusted", "The requester does not trust the data they can reach."),
    ("Documentation missing", "Nothing tells the requester where the answer is or how to read it."),
    ("Other", "Something else was missing; the note says what."),
]

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]

POSTGRES_INDEX = [
    "ALTER TABLE search_documents ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)",
]


def _dt():
    return sa.DateTime()


def upgrade():
    op.create_table(
        'assets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('tags', sa.String(length=400), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('last_verified_on', sa.Date(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', _dt(), nullable=False),
        sa.Column('updated_at', _dt(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'deprecated')", name=op.f('ck_assets_asset_status')),
        sa.CheckConstraint("kind IN ('dashboard', 'dataset', 'table', 'report', 'document')",
                           name=op.f('ck_assets_asset_kind')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assets_created_by_id_users')),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_assets_team_id_teams')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    )
    op.create_index(op.f('ix_assets_team_id'), 'assets', ['team_id'])
    op.create_index(op.f('ix_assets_status'), 'assets', ['status'])
    op.create_index(op.f('ix_assets_created_at'), 'assets', ['created_at'])

    op.create_table(
        'asset_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('how', sa.String(length=12), nullable=False),
        sa.Column('linked_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', _dt(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], ondelete='CASCADE',
                                name=op.f('fk_asset_links_asset_id_assets')),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE',
                                name=op.f('fk_asset_links_request_id_requests')),
        sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'],
                                name=op.f('fk_asset_links_linked_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_links')),
        sa.UniqueConstraint('asset_id', 'request_id', name='uq_asset_links_asset_request'),
    )
    op.create_index(op.f('ix_asset_links_request_id'), 'asset_links', ['request_id'])

    op.create_table(
        'search_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('ref_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('request', 'asset')",
                           name=op.f('ck_search_documents_search_document_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
        sa.UniqueConstraint('kind', 'ref_id', name='uq_search_documents_kind_ref'),
    )

    op.create_table(
        'deflections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('asset_id', sa.Integer(), nullable=True),
        sa.Column('answer_request_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('resubmitted_request_id', sa.Integer(), nullable=True),
        sa.Column('created_at', _dt(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_deflections_user_id_users')),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_deflections_team_id_teams')),
        sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], ondelete='SET NULL',
                                name=op.f('fk_deflections_asset_id_assets')),
        sa.ForeignKeyConstraint(['answer_request_id'], ['requests.id'], ondelete='SET NULL',
                                name=op.f('fk_deflections_answer_request_id_requests')),
        sa.ForeignKeyConstraint(['resubmitted_request_id'], ['requests.id'], ondelete='SET NULL',
                                name=op.f('fk_deflections_resubmitted_request_id_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deflections')),
    )
    op.create_index(op.f('ix_deflections_user_id'), 'deflections', ['user_id'])
    op.create_index(op.f('ix_deflections_team_id'), 'deflections', ['team_id'])
    op.create_index(op.f('ix_deflections_asset_id'), 'deflections', ['asset_id'])
    op.create_index(op.f('ix_deflections_created_at'), 'deflections', ['created_at'])

    op.create_table(
        'search_misses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('query', sa.String(length=200), nullable=False),
        sa.Column('query_key', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('created_at', _dt(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_search_misses_user_id_users')),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_search_misses_team_id_teams')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_misses')),
    )
    op.create_index(op.f('ix_search_misses_query_key'), 'search_misses', ['query_key'])
    op.create_index(op.f('ix_search_misses_created_at'), 'search_misses', ['created_at'])

    gap_categories = op.create_table(
        'gap_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('name_key', sa.String(length=80), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', _dt(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_gap_categories')),
        sa.UniqueConstraint('name_key', name=op.f('uq_gap_categories_name_key')),
    )

    op.create_table(
        'platform_gaps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('context', sa.String(length=10), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', _dt(), nullable=False),
        sa.CheckConstraint('hours >= 0 AND hours <= 10000', name=op.f('ck_platform_gaps_gap_hours')),
        sa.CheckConstraint("context IN ('decline', 'delivery')",
                           name=op.f('ck_platform_gaps_gap_context')),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ondelete='CASCADE',
                                name=op.f('fk_platform_gaps_request_id_requests')),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_platform_gaps_team_id_teams')),
        sa.ForeignKeyConstraint(['category_id'], ['gap_categories.id'],
                                name=op.f('fk_platform_gaps_category_id_gap_categories')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_platform_gaps_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_gaps')),
    )
    op.create_index(op.f('ix_platform_gaps_request_id'), 'platform_gaps', ['request_id'])
    op.create_index(op.f('ix_platform_gaps_team_id'), 'platform_gaps', ['team_id'])
    op.create_index(op.f('ix_platform_gaps_category_id'), 'platform_gaps', ['category_id'])
    op.create_index(op.f('ix_platform_gaps_created_at'), 'platform_gaps', ['created_at'])

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(gap_categories, [
        {"name": name, "name_key": name.casefold(), "description": description,
         "is_active": True, "position": position, "created_at": now}
        for position, (name, description) in enumerate(GAP_CATEGORIES)])

    dialect = op.get_bind().dialect.name
    for statement in (POSTGRES_INDEX if dialect == "postgresql" else SQLITE_INDEX):
        op.execute(statement)
    # Index the requests there are: their fields, comments and delivery notes (search.py).
    texts = ("string_agg(e.text, ' ' ORDER BY e.id)" if dialect == "postgresql"
             else "group_concat(e.text, ' ')")
    op.execute(
        "INSERT INTO search_documents (kind, ref_id, title, body) "
        "SELECT 'request', r.id, r.title, r.data_needed || ' ' || r.usage || ' ' || "
        "r.lever_result || ' ' || r.lever_expected_shape || ' ' || r.lever_extraction || ' ' || "
        f"r.lever_decision || ' ' || coalesce((SELECT {texts} FROM events e "
        "WHERE e.request_id = r.id AND (e.kind = 'comment' OR e.action = 'deliver')), '') "
        "FROM requests r")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    for table in ('platform_gaps', 'gap_categories', 'search_misses', 'deflections',
                  'search_documents', 'asset_links', 'assets'):
        op.drop_table(table)
