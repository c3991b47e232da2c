"""Candidate tags keyed by what searches look up: one primary key (kind, value, candidate_id)
serves both the filters and uniqueness, in place of a key by candidate plus an index by value;
and no foreign key (candidates are never deleted, erasure keeps a tombstone, and the tags are
written in the candidate's own transaction). An import writes four to five tags per candidate:
each index entry and each foreign-key check cost PostgreSQL about as much as the tag itself.

Revision ID: candidates_0007
Revises: candidates_0006
"""

from alembic import op

revision = "candidates_0007"
down_revision = "candidates_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_candidate_tags_kind_value", table_name="candidate_tags")
    with op.batch_alter_table("candidate_tags") as table:  # SQLite rebuilds the table
        table.drop_constraint("fk_candidate_tags_candidate_id_candidates", type_="foreignkey")
        table.drop_constraint("pk_candidate_tags", type_="primary")
        table.create_primary_key("pk_candidate_tags", ["kind", "value", "candidate_id"])


def downgrade() -> None:
    with op.batch_alter_table("candidate_tags") as table:
        table.drop_constraint("pk_candidate_tags", type_="primary")
        table.create_primary_key("pk_candidate_tags", ["candidate_id", "kind", "value"])
        table.create_foreign_key("fk_candidate_tags_candidate_id_candidates", "candidates", ["candidate_id"], ["id"],
                                 ondelete="CASCADE")
    op.create_index("ix_candidate_tags_kind_value", "candidate_tags", ["kind", "value"])
