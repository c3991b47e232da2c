"""Invitations: drop the indexes on vacancy_id and status; factors as json, not jsonb.

Every query of a fair's invitations goes through fair_id (vacancy and status only filter within
a fair); the two indexes only cost a write per invitation, and a run writes 100,000. The factors
are only ever read whole, in Python, and parsing them into jsonb was 40 % of the database's work
to store a run's invitations.

Revision ID: matching_0006
Revises: matching_0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "matching_0006"
down_revision = "matching_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_invitations_vacancy_id", table_name="invitations")
    op.drop_index("ix_invitations_status", table_name="invitations")
    if op.get_bind().dialect.name == "postgresql":  # SQLite has one JSON type
        op.alter_column("invitations", "factors", type_=sa.JSON(), postgresql_using="factors::json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("invitations", "factors", type_=JSONB(), postgresql_using="factors::jsonb")
    op.create_index("ix_invitations_status", "invitations", ["status"])
    op.create_index("ix_invitations_vacancy_id", "invitations", ["vacancy_id"])
