"""Candidates and their filter tags.

Revision ID: candidates_0002
Revises: candidates_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kit.db import UtcDateTime

revision = "candidates_0002"
down_revision = "candidates_0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=True),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("name_key", sa.Text(), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(16), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("national_id_enc", sa.LargeBinary(), nullable=True),
        sa.Column("national_id_hash", sa.String(64), nullable=True),
        sa.Column("person_hash", sa.String(64), nullable=True),
        sa.Column("address_detail", sa.Text(), nullable=True),
        sa.Column("ward_code", sa.String(5), nullable=True),
        sa.Column("legacy_district_code", sa.String(3), nullable=True),
        sa.Column("legacy_ward_code", sa.String(5), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("occupations", JSONType, nullable=False),
        sa.Column("skills", JSONType, nullable=False),
        sa.Column("trade_level", sa.Integer(), nullable=True),
        sa.Column("qualification", sa.String(32), nullable=False),
        sa.Column("certificates", JSONType, nullable=False),
        sa.Column("experience_years", sa.Integer(), nullable=False),
        sa.Column("desired_wage_vnd", sa.BigInteger(), nullable=True),
        sa.Column("max_commute_km", sa.Float(), nullable=True),
        sa.Column("priority_groups", JSONType, nullable=False),
        sa.Column("consents", JSONType, nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_candidates"),
        sa.UniqueConstraint("national_id_hash", name="uq_candidates_national_id_hash"),
        sa.UniqueConstraint("person_hash", name="uq_candidates_person_hash"),
    )
    op.create_index("ix_candidates_centre_id", "candidates", ["centre_id"])
    op.create_index("ix_candidates_ward_code", "candidates", ["ward_code"])
    op.create_index("ix_candidates_legacy_district_code", "candidates", ["legacy_district_code"])
    op.create_table(
        "candidate_tags",
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["candidates.id"], name="fk_candidate_tags_candidate_id_candidates", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("candidate_id", "kind", "value", name="pk_candidate_tags"),
    )
    op.create_index("ix_candidate_tags_kind_value", "candidate_tags", ["kind", "value"])


def downgrade() -> None:
    op.drop_table("candidate_tags")
    op.drop_table("candidates")
