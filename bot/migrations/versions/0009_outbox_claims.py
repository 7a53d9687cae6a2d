"""Outbox claims: several processes send without sending a row twice; outcome of each row.

Revision ID: 0009_outbox_claims
Revises: 0008_inbox
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_outbox_claims"
down_revision = "0008_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Rows finished before this revision: refused ones carry their error, the others went out.
    op.execute(
        "UPDATE outbox SET outcome = CASE WHEN last_error IS NULL THEN 'sent' "
        "ELSE 'undeliverable' END WHERE sent_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("attempt_started_at")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("outcome")
