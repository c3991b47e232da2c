"""Rate-limit buckets unlogged on PostgreSQL: every request that passes updates its client's
bucket, and a logged table made each of those a WAL record flushed to disk before the request
went on. A crash or a fail-over empties an unlogged table; for a rate limit that only means every
client starts again with a full bucket.

Revision ID: gateway_0002
Revises: gateway_0001
"""

from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_buckets SET UNLOGGED")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_buckets SET LOGGED")
