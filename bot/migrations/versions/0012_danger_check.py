"""The danger question: whether a newcomer was asked "are you in danger right now?" and the answer.

Revision ID: 0012_danger_check
Revises: 0011_erased_at
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_danger_check"
down_revision = "0011_erased_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("danger_check", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_column("danger_check")
