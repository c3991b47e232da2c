"""Employers, vacancies, their required-skill filter rows, hires counted from job fairs, imports.

Revision ID: vacancies_0002
Revises: vacancies_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kit.db import UtcDateTime

revision = "vacancies_0002"
down_revision = "vacancies_0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "employers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=True),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("tax_code", sa.String(14), nullable=False),
        sa.Column("industry", sa.String(1), nullable=True),
        sa.Column("fdi", sa.Boolean(), nullable=False),
        sa.Column("ward_code", sa.String(5), nullable=True),
        sa.Column("legacy_district_code", sa.String(3), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address_detail", sa.Text(), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("contact_phone", sa.String(20), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_employers"),
        sa.UniqueConstraint("tax_code", name="uq_employers_tax_code"),
    )
    op.create_index("ix_employers_centre_id", "employers", ["centre_id"])
    op.create_index("ix_employers_industry", "employers", ["industry"])
    op.create_index("ix_employers_ward_code", "employers", ["ward_code"])
    op.create_table(
        "vacancies",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("employer_id", sa.String(36), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=True),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("close_reason", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("occupation", sa.String(4), nullable=False),
        sa.Column("required_skills", JSONType, nullable=False),
        sa.Column("min_trade_level", sa.Integer(), nullable=True),
        sa.Column("min_qualification", sa.String(32), nullable=False),
        sa.Column("openings", sa.Integer(), nullable=False),
        sa.Column("hires", sa.Integer(), nullable=False),
        sa.Column("wage_min_vnd", sa.BigInteger(), nullable=True),
        sa.Column("wage_max_vnd", sa.BigInteger(), nullable=True),
        sa.Column("ward_code", sa.String(5), nullable=False),
        sa.Column("legacy_district_code", sa.String(3), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("social_insurance", sa.Boolean(), nullable=False),
        sa.Column("shifts", sa.String(100), nullable=True),
        sa.Column("accepts_priority_groups", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], name="fk_vacancies_employer_id_employers"),
        sa.PrimaryKeyConstraint("id", name="pk_vacancies"),
    )
    for column in ("employer_id", "centre_id", "status", "occupation", "ward_code", "legacy_district_code", "deadline"):
        op.create_index(f"ix_vacancies_{column}", "vacancies", [column])
    op.create_table(
        "vacancy_skills",
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["vacancy_id"], ["vacancies.id"], name="fk_vacancy_skills_vacancy_id_vacancies", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("vacancy_id", "skill", name="pk_vacancy_skills"),
    )
    op.create_index("ix_vacancy_skills_skill", "vacancy_skills", ["skill"])
    op.create_table(
        "vacancy_hires",
        sa.Column("invitation_id", sa.String(64), nullable=False),
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["vacancy_id"], ["vacancies.id"], name="fk_vacancy_hires_vacancy_id_vacancies"),
        sa.PrimaryKeyConstraint("invitation_id", name="pk_vacancy_hires"),
    )
    op.create_index("ix_vacancy_hires_vacancy_id", "vacancy_hires", ["vacancy_id"])
    op.create_table(
        "vacancy_imports",
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
        sa.PrimaryKeyConstraint("id", name="pk_vacancy_imports"),
    )


def downgrade() -> None:
    op.drop_table("vacancy_imports")
    op.drop_table("vacancy_hires")
    op.drop_table("vacancy_skills")
    op.drop_table("vacancies")
    op.drop_table("employers")
