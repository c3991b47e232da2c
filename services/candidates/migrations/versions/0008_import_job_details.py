"""Import jobs record when they last handed a batch to the database (a job whose process died is
told from a running one by it) and the header columns they did not read.

Revision ID: candidates_0008
Revises: candidates_0007
"""

import sqlalchemy as sa
from alembic import op

from kit.db import UtcDateTime

revision = "candidates_0008"
down_revision = "candidates_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidate_imports") as batch:
        batch.add_column(sa.Column("progress_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("ignored_columns", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("candidate_imports") as batch:
        batch.drop_column("ignored_columns")
        batch.drop_column("progress_at")
