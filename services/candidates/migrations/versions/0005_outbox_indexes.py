"""Outbox: partial indexes, unpublished rows in seq order for the relay, published ones by time.

Revision ID: candidates_0005
Revises: candidates_0004
"""

from kit.migrations import create_outbox_indexes_v2, drop_outbox_indexes_v2

revision = "candidates_0005"
down_revision = "candidates_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_indexes_v2()


def downgrade() -> None:
    drop_outbox_indexes_v2()
