"""Job fairs, allocation runs, invitations.

Revision ID: matching_0003
Revises: matching_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kit.db import UtcDateTime

revision = "matching_0003"
down_revision = "matching_0002"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job_fairs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("fair_date", sa.Date(), nullable=False),
        sa.Column("venue_ward_code", sa.String(5), nullable=False),
        sa.Column("venue_detail", sa.Text(), nullable=True),
        sa.Column("slots", JSONType, nullable=False),
        sa.Column("vacancies", JSONType, nullable=False),
        sa.Column("invites_per_opening", sa.Integer(), nullable=False),
        sa.Column("max_invites_per_candidate", sa.Integer(), nullable=False),
        sa.Column("priority_min_share", sa.Float(), nullable=True),
        sa.Column("priority_groups", JSONType, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_fairs"),
    )
    op.create_index("ix_job_fairs_fair_date", "job_fairs", ["fair_date"])
    op.create_table(
        "allocation_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("fair_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("parameters", JSONType, nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=True),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("totals", JSONType, nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_allocation_runs"),
    )
    op.create_index("ix_allocation_runs_fair_id", "allocation_runs", ["fair_id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("fair_id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=True),
        sa.Column("candidate_centre_id", sa.String(64), nullable=True),
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("employer_id", sa.String(36), nullable=False),
        sa.Column("slot_id", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("factors", JSONType, nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
    )
    for column in ("fair_id", "candidate_id", "vacancy_id", "status"):
        op.create_index(f"ix_invitations_{column}", "invitations", [column])


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_table("allocation_runs")
    op.drop_table("job_fairs")
