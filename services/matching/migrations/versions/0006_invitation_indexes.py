"""Invitations: drop the indexes on vacancy_id and status.

Every query of a fair's invitations goes through fair_id (vacancy and status only filter within
a fair); the two indexes only cost a write per invitation, and a run writes 100,000.

Revision ID: matching_0006
Revises: matching_0005
"""

from alembic import op

revision = "matching_0006"
down_revision = "matching_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_invitations_vacancy_id", table_name="invitations")
    op.drop_index("ix_invitations_status", table_name="invitations")


def downgrade() -> None:
    op.create_index("ix_invitations_status", "invitations", ["status"])
    op.create_index("ix_invitations_vacancy_id", "invitations", ["vacancy_id"])
