"""A newcomer's row exists only once they agreed to the consent text.

Rows made before this revision for people who never agreed held their Telegram id and chosen
language (and any preferences); they are deleted, and `consented_at` becomes required. Before
consent no question is stored, so no request or conversation points at such a row; should one
all the same, that row is kept and the migration stops at the required column, for a person
to look at rather than have statistics silently lose their newcomer.

Revision ID: 0014_consent_first
Revises: 0013_sign_in_throttles
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_consent_first"
down_revision = "0013_sign_in_throttles"
branch_labels = None
depends_on = None

newcomers = sa.table(
    "newcomers", sa.column("id", sa.Integer), sa.column("consented_at", sa.DateTime(timezone=True))
)
requests = sa.table("help_requests", sa.column("newcomer_id", sa.Integer))
conversations = sa.table("conversations", sa.column("newcomer_id", sa.Integer))


def upgrade() -> None:
    op.execute(
        newcomers.delete().where(
            newcomers.c.consented_at.is_(None),
            ~sa.exists().where(requests.c.newcomer_id == newcomers.c.id),
            ~sa.exists().where(conversations.c.newcomer_id == newcomers.c.id),
        )
    )
    with op.batch_alter_table("newcomers", schema=None) as batch_op:
        batch_op.alter_column(
            "consented_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("newcomers", schema=None) as batch_op:
        batch_op.alter_column(
            "consented_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
