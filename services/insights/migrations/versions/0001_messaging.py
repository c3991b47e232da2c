"""Outbox and inbox tables.

Revision ID: insights_0001
Revises:
"""

from kit.migrations import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "insights_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()


def downgrade() -> None:
    drop_messaging_tables_v1()
