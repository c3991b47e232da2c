"""Read models of candidates and vacancies, outcomes, scoring models.

Revision ID: matching_0002
Revises: matching_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kit.db import UtcDateTime

revision = "matching_0002"
down_revision = "matching_0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "candidate_profiles",
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("matching_consent", sa.Boolean(), nullable=False),
        sa.Column("occupations", JSONType, nullable=False),
        sa.Column("skills", JSONType, nullable=False),
        sa.Column("trade_level", sa.Integer(), nullable=True),
        sa.Column("qualification", sa.String(32), nullable=False),
        sa.Column("experience_years", sa.Integer(), nullable=False),
        sa.Column("desired_wage_vnd", sa.BigInteger(), nullable=True),
        sa.Column("max_commute_km", sa.Float(), nullable=True),
        sa.Column("ward_code", sa.String(5), nullable=True),
        sa.Column("legacy_district_code", sa.String(3), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("priority_groups", JSONType, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_candidate_profiles"),
    )
    op.create_table(
        "vacancy_profiles",
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.String(36), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("occupation", sa.String(4), nullable=False),
        sa.Column("required_skills", JSONType, nullable=False),
        sa.Column("min_trade_level", sa.Integer(), nullable=True),
        sa.Column("min_qualification", sa.String(32), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("hires", sa.Integer(), nullable=False),
        sa.Column("wage_min_vnd", sa.BigInteger(), nullable=True),
        sa.Column("wage_max_vnd", sa.BigInteger(), nullable=True),
        sa.Column("ward_code", sa.String(5), nullable=True),
        sa.Column("legacy_district_code", sa.String(3), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("social_insurance", sa.Boolean(), nullable=False),
        sa.Column("accepts_priority_groups", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("vacancy_id", name="pk_vacancy_profiles"),
    )
    op.create_table(
        "outcomes",
        sa.Column("invitation_id", sa.String(64), nullable=False),
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("factors", JSONType, nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("invitation_id", name="pk_outcomes"),
    )
    for column in ("vacancy_id", "candidate_id", "recorded_at"):
        op.create_index(f"ix_outcomes_{column}", "outcomes", [column])
    op.create_table(
        "scoring_models",
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("weights", JSONType, nullable=False),
        sa.Column("evaluation", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_scoring_models"),
    )


def downgrade() -> None:
    op.drop_table("scoring_models")
    op.drop_table("outcomes")
    op.drop_table("vacancy_profiles")
    op.drop_table("candidate_profiles")
