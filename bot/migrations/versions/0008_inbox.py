"""Durable inbox: every Telegram update stored before it is acknowledged (bot/inbox.py).

Revision ID: 0008_inbox
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_inbox"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("payload_encrypted", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index(
        "ix_inbox_updates_chat_pending",
        "inbox_updates",
        ["chat_id", "handled_at", "update_id"],
    )
    op.create_index("ix_inbox_updates_received_at", "inbox_updates", ["received_at"])
    op.create_index("ix_inbox_updates_handled_at", "inbox_updates", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_updates_handled_at", table_name="inbox_updates")
    op.drop_index("ix_inbox_updates_received_at", table_name="inbox_updates")
    op.drop_index("ix_inbox_updates_chat_pending", table_name="inbox_updates")
    op.drop_table("inbox_updates")
