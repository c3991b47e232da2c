"""Facts with validity intervals, the latest of each candidate, versions, the job-fair funnel.

Revision ID: insights_0002
Revises: insights_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kit.db import UtcDateTime

revision = "insights_0002"
down_revision = "insights_0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _area_columns() -> list[sa.Column]:
    return [sa.Column("ward_code", sa.String(5), nullable=True), sa.Column("district_code", sa.String(3), nullable=True),
            sa.Column("province_code", sa.String(2), nullable=True)]


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *_area_columns(),
        sa.Column("qualification", sa.String(32), nullable=False),
        sa.Column("priority_groups", JSONType, nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_candidates")),
    )
    op.create_table(
        "supply_facts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occupation", sa.String(4), nullable=False),
        *_area_columns(),
        sa.Column("trade_level", sa.Integer(), nullable=True),
        sa.Column("qualification", sa.String(32), nullable=False),
        sa.Column("valid_from", UtcDateTime(), nullable=False),
        sa.Column("valid_to", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_facts")),
    )
    op.create_index(op.f("ix_supply_facts_candidate_id"), "supply_facts", ["candidate_id"])
    op.create_index("ix_supply_facts_valid", "supply_facts", ["valid_from", "valid_to"])
    op.create_table(
        "demand_facts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occupation", sa.String(4), nullable=False),
        *_area_columns(),
        sa.Column("trade_level", sa.Integer(), nullable=True),
        sa.Column("qualification", sa.String(32), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("social_insurance", sa.Boolean(), nullable=False),
        sa.Column("valid_from", UtcDateTime(), nullable=False),
        sa.Column("valid_to", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_facts")),
    )
    op.create_index(op.f("ix_demand_facts_vacancy_id"), "demand_facts", ["vacancy_id"])
    op.create_index("ix_demand_facts_valid", "demand_facts", ["valid_from", "valid_to"])
    op.create_table(
        "versions",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "entity_id", name=op.f("pk_versions")),
    )
    op.create_table(
        "invitations",
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("job_fair_id", sa.String(36), nullable=True),
        sa.Column("candidate_id", sa.String(36), nullable=True),
        sa.Column("vacancy_id", sa.String(36), nullable=True),
        sa.Column("invited_at", UtcDateTime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.String(8), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("hired_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_invitations")),
    )
    op.create_index(op.f("ix_invitations_job_fair_id"), "invitations", ["job_fair_id"])
    op.create_index(op.f("ix_invitations_candidate_id"), "invitations", ["candidate_id"])


def downgrade() -> None:
    for table in ("invitations", "versions", "demand_facts", "supply_facts", "candidates"):
        op.drop_table(table)
