"""Sign-in throttles: guesses counted per client address and account, per client address and per
account (dashboard/throttle.py), instead of a lock-out counter on the account that a stranger
could trip and that concurrent guesses could overtake.

Revision ID: 0013_sign_in_throttles
Revises: 0012_danger_check
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sign_in_throttles"
down_revision = "0012_danger_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=True),
        sa.Column("guesses", sa.Integer(), nullable=False),
        sa.Column("resets_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("sign_in_throttles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_in_throttles_account_key"), ["account_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sign_in_throttles_resets_at"), ["resets_at"], unique=False
        )
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")
        batch_op.add_column(sa.Column("last_sign_in_from", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.drop_column("last_sign_in_from")
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("sign_in_throttles")
