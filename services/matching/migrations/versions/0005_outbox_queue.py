"""Outbox as a queue: the relay deletes published rows; published_at, its indexes and the unique
index on event_id go.

Revision ID: matching_0005
Revises: matching_0004
"""

from kit.migrations import outbox_as_queue_v3, outbox_with_marks_v3

revision = "matching_0005"
down_revision = "matching_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_as_queue_v3()


def downgrade() -> None:
    outbox_with_marks_v3()
