"""How each candidate prefers to be reached for invitations.

Revision ID: candidates_0004
Revises: candidates_0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "candidates_0004"
down_revision = "candidates_0003"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("contact_channels", JSONType, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("contact_channels")
