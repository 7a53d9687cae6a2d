"""Coordinators on call: their Telegram account and on-call hours.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("on_call_hours", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint("uq_coordinators_telegram_user_id", ["telegram_user_id"])


def downgrade() -> None:
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.drop_constraint("uq_coordinators_telegram_user_id", type_="unique")
        batch_op.drop_column("on_call_hours")
        batch_op.drop_column("telegram_user_id")
