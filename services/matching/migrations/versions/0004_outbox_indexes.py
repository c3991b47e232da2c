"""Outbox: partial indexes, unpublished rows in seq order for the relay, published ones by time.

Revision ID: matching_0004
Revises: matching_0003
"""

from kit.migrations import create_outbox_indexes_v2, drop_outbox_indexes_v2

revision = "matching_0004"
down_revision = "matching_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_indexes_v2()


def downgrade() -> None:
    drop_outbox_indexes_v2()
