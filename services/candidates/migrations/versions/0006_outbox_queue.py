"""Outbox as a queue: the relay deletes published rows; published_at, its indexes and the unique
index on event_id go.

Revision ID: candidates_0006
Revises: candidates_0005
"""

from kit.migrations import outbox_as_queue_v3, outbox_with_marks_v3

revision = "candidates_0006"
down_revision = "candidates_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox_as_queue_v3()


def downgrade() -> None:
    outbox_with_marks_v3()
