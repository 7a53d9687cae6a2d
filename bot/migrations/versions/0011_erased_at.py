"""Erased sleutelpersonen are marked by a column instead of recognised by their blanked fields.

Revision ID: 0011_erased_at
Revises: 0010_encrypted_notes
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_erased_at"
down_revision = "0010_encrypted_notes"
branch_labels = None
depends_on = None

profiles = sa.table(
    "sleutelpersonen",
    sa.column("display_name", sa.String),
    sa.column("organisation", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("erased_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("sleutelpersonen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    # Tombstones made before this column: what erasure left (name "erased", no organisation
    # name, inactive). The moment of erasure was not kept; created_at stands in for it.
    op.execute(
        profiles.update()
        .where(
            profiles.c.display_name == "erased",
            profiles.c.organisation.is_(None),
            profiles.c.active.is_(False),
        )
        .values(erased_at=profiles.c.created_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("sleutelpersonen", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
