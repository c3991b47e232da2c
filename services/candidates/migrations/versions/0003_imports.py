"""Bulk import jobs.

Revision ID: candidates_0003
Revises: candidates_0002
"""

import sqlalchemy as sa
from alembic import op

from kit.db import UtcDateTime

revision = "candidates_0003"
down_revision = "candidates_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate_imports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=True),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_candidate_imports"),
    )


def downgrade() -> None:
    op.drop_table("candidate_imports")
