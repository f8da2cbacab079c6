"""flow_days: the event history summed per local day, team, kind and state; indexes for the
charts' ranges (issue 15)

Charts (cumulative flow, backlog by team) read days from this snapshot instead of scanning
every event; ``flask reports rebuild-snapshot`` fills it (reports/snapshot.py). Deliveries and
first responses in a range, and a request's first claim, are read through indexes.

Revision ID: c7f2a9d4e1b3
Revises: 5c0f3e9a1b42
Create Date: 2026-12-04 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c7f2a9d4e1b3'
down_revision = '5c0f3e9a1b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "flow_days",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("team_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE",
                                name=op.f("fk_flow_days_team_id_teams")),
        sa.PrimaryKeyConstraint("day", "team_id", "kind", "state", name=op.f("pk_flow_days")),
        sqlite_with_rowid=False,
    )
    # Charts' ranges of submissions, deliveries, first responses and closures, covering what
    # the charts read of those requests; and a request's first start of work.
    op.drop_index("ix_requests_state_closed", table_name="requests")
    op.create_index("ix_requests_state_closed", "requests",
                    ["state", "closed_at", "decline_reason", "team_id", "kind"])
    op.create_index("ix_requests_created_team_kind", "requests", ["created_at", "team_id", "kind"])
    op.create_index("ix_requests_delivered", "requests",
                    ["delivered_at", "team_id", "kind", "created_at", "sla_class",
                     "resolution_seconds"])
    op.create_index("ix_requests_first_response", "requests",
                    ["first_response_at", "team_id", "kind", "sla_class",
                     "first_response_seconds"])
    op.create_index("ix_events_request_action_created", "events",
                    ["request_id", "action", "created_at"])


def downgrade():
    op.drop_index("ix_events_request_action_created", table_name="events")
    op.drop_index("ix_requests_first_response", table_name="requests")
    op.drop_index("ix_requests_delivered", table_name="requests")
    op.drop_index("ix_requests_created_team_kind", table_name="requests")
    op.drop_index("ix_requests_state_closed", table_name="requests")
    op.create_index("ix_requests_state_closed", "requests", ["state", "closed_at"])
    op.drop_table("flow_days")
