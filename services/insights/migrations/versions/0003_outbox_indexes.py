"""Outbox: partial indexes, unpublished rows in seq order for the relay, published ones by time.

Revision ID: insights_0003
Revises: insights_0002
"""

from kit.migrations import create_outbox_indexes_v2, drop_outbox_indexes_v2

revision = "insights_0003"
down_revision = "insights_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_indexes_v2()


def downgrade() -> None:
    drop_outbox_indexes_v2()
