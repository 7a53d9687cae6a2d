"""Erasure: requests and conversations may outlive their newcomer anonymously.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("help_requests", "conversations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("newcomer_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "erasure_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("erasure_events")
    for table in ("help_requests", "conversations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("newcomer_id", existing_type=sa.Integer(), nullable=False)
