"""Contacts, employers' names, invitations, deliveries and opt-outs.

Revision ID: notifications_0002
Revises: notifications_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kit.db import UtcDateTime

revision = "notifications_0002"
down_revision = "notifications_0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notifications", sa.Boolean(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("channels", JSONType, nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_phone"), "contacts", ["phone"])
    op.create_table(
        "employers",
        sa.Column("employer_id", sa.String(36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("employer_id", name=op.f("pk_employers")),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("job_fair_id", sa.String(36), nullable=False),
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("vacancy_id", sa.String(36), nullable=False),
        sa.Column("vacancy_title", sa.Text(), nullable=False),
        sa.Column("employer_id", sa.String(36), nullable=False),
        sa.Column("fair_date", sa.Date(), nullable=False),
        sa.Column("slot_start", sa.String(5), nullable=False),
        sa.Column("slot_end", sa.String(5), nullable=False),
        sa.Column("venue_ward_code", sa.String(5), nullable=False),
        sa.Column("venue_detail", sa.Text(), nullable=True),
        sa.Column("rsvp_code", sa.String(12), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("answer", sa.String(8), nullable=True),
        sa.Column("answered_via", sa.String(8), nullable=True),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("rsvp_code", name=op.f("uq_invitations_rsvp_code")),
    )
    op.create_index(op.f("ix_invitations_job_fair_id"), "invitations", ["job_fair_id"])
    op.create_index(op.f("ix_invitations_candidate_id"), "invitations", ["candidate_id"])
    op.create_index("ix_invitations_due", "invitations", ["state", "next_attempt_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], name=op.f("fk_deliveries_invitation_id_invitations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("invitation_id", "channel", name=op.f("uq_deliveries_invitation_id")),
    )
    op.create_table(
        "opt_outs",
        sa.Column("candidate_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("candidate_id", "channel", name=op.f("pk_opt_outs")),
    )


def downgrade() -> None:
    for table in ("opt_outs", "deliveries", "invitations", "employers", "contacts"):
        op.drop_table(table)
