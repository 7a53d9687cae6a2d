"""dashboard: organisations, coordinators, sessions, audit log, signals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Sleutelpersonen get an organisation: profiles that already name one in their free-text
`organisation` field are linked to an organisation of that name, created here, so that its
coordinators find them when they first sign in.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "coordinators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coordinators_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("coordinator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["coordinator_id"], ["coordinators.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("dashboard_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_sessions_coordinator_id"), ["coordinator_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dashboard_sessions_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("coordinator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("subject_coordinator_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "action <> 'transcript_opened' OR (conversation_id IS NOT NULL AND reason IS NOT NULL)",
            name="ck_audit_log_transcript_reason",
        ),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["coordinator_id"], ["coordinators.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["sleutelpersoon_id"], ["sleutelpersonen.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["help_requests.id"]),
        sa.ForeignKeyConstraint(["subject_coordinator_id"], ["coordinators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["sleutelpersoon_id"], ["sleutelpersonen.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signals_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_signals_sleutelpersoon_id"), ["sleutelpersoon_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_signals_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_signals_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("sleutelpersonen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sleutelpersonen_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_sleutelpersonen_organisation_id_organisations",
            "organisations",
            ["organisation_id"],
            ["id"],
        )

    _link_named_organisations()


def _link_named_organisations() -> None:
    """Create an organisation for every name profiles already carry, and link them to it."""
    connection = op.get_bind()
    people = sa.table(
        "sleutelpersonen",
        sa.column("organisation", sa.String()),
        sa.column("organisation_id", sa.Integer()),
    )
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    names = connection.execute(
        sa.select(people.c.organisation).where(people.c.organisation.is_not(None)).distinct()
    ).scalars()
    # SQLite stores naive UTC (bot/models.py UtcDateTime); PostgreSQL takes the aware value.
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now
    for name in sorted({name.strip()[:120] for name in names if name and name.strip()}):
        connection.execute(sa.insert(organisations).values(name=name, created_at=stamp))
        organisation_id = connection.execute(
            sa.select(organisations.c.id).where(organisations.c.name == name)
        ).scalar_one()
        connection.execute(
            sa.update(people)
            .where(sa.func.trim(people.c.organisation) == name)
            .values(organisation_id=organisation_id)
        )


def downgrade() -> None:
    with op.batch_alter_table("sleutelpersonen", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_sleutelpersonen_organisation_id_organisations", type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_sleutelpersonen_organisation_id"))
        batch_op.drop_column("organisation_id")

    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signals_created_at"))
        batch_op.drop_index(batch_op.f("ix_signals_key"))
        batch_op.drop_index(batch_op.f("ix_signals_sleutelpersoon_id"))
        batch_op.drop_index(batch_op.f("ix_signals_conversation_id"))
    op.drop_table("signals")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")

    with op.batch_alter_table("dashboard_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_dashboard_sessions_coordinator_id"))
    op.drop_table("dashboard_sessions")

    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coordinators_organisation_id"))
    op.drop_table("coordinators")
    op.drop_table("organisations")
