"""handover: sleutelpersonen, requests, offers, conversations, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sleutelpersonen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("circle", sa.String(length=80), nullable=True),
        sa.Column("organisation", sa.String(length=120), nullable=True),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("works_on_public_holidays", sa.Boolean(), nullable=False),
        sa.Column("max_open_conversations", sa.Integer(), nullable=False),
        sa.Column("max_new_per_week", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("selected_conversation_id", sa.Integer(), nullable=True),
        sa.Column("invite_token_hash", sa.String(length=64), nullable=True),
        sa.Column("invite_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_token_hash"),
        sa.UniqueConstraint("telegram_user_id"),
    )
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("newcomer_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("domain", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("institutions", sa.JSON(), nullable=False),
        sa.Column("handback_note", sa.String(length=500), nullable=True),
        sa.Column("next_match_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["newcomer_id"],
            ["newcomers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_help_requests_newcomer_id"), ["newcomer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_help_requests_next_match_at"), ["next_match_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_help_requests_status"), ["status"], unique=False)

    op.create_table(
        "leaves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sleutelpersoon_id"],
            ["sleutelpersonen.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("leaves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leaves_sleutelpersoon_id"), ["sleutelpersoon_id"], unique=False
        )

    op.create_table(
        "office_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sleutelpersoon_id"],
            ["sleutelpersonen.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("office_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_office_windows_sleutelpersoon_id"), ["sleutelpersoon_id"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sleutelpersoon_id"],
            ["sleutelpersonen.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_not_before"), ["not_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("newcomer_id", sa.Integer(), nullable=False),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("header_message_id", sa.BigInteger(), nullable=True),
        sa.Column("away_notice_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback", sa.String(length=8), nullable=True),
        sa.Column("feedback_comment", sa.String(length=1000), nullable=True),
        sa.Column("feedback_pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["newcomer_id"],
            ["newcomers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sleutelpersoon_id"],
            ["sleutelpersonen.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversations_newcomer_id"), ["newcomer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_sleutelpersoon_id"), ["sleutelpersoon_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_conversations_status"), ["status"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sleutelpersoon_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sleutelpersoon_id"],
            ["sleutelpersonen.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "sleutelpersoon_id"),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_request_id"), ["request_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_offers_sleutelpersoon_id"), ["sleutelpersoon_id"], unique=False
        )

    op.create_table(
        "request_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["help_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_messages_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "relayed_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "telegram_message_id"),
    )
    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relayed_messages_conversation_id"), ["conversation_id"], unique=False
        )

    with op.batch_alter_table("newcomers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("preferred_gender", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("avoid_circle", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("newcomers", schema=None) as batch_op:
        batch_op.drop_column("avoid_circle")
        batch_op.drop_column("preferred_gender")
        batch_op.drop_column("consented_at")

    with op.batch_alter_table("relayed_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relayed_messages_conversation_id"))

    op.drop_table("relayed_messages")
    with op.batch_alter_table("request_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_messages_request_id"))

    op.drop_table("request_messages")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_sleutelpersoon_id"))
        batch_op.drop_index(batch_op.f("ix_offers_request_id"))
        batch_op.drop_index(batch_op.f("ix_offers_expires_at"))

    op.drop_table("offers")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_status"))
        batch_op.drop_index(batch_op.f("ix_conversations_sleutelpersoon_id"))
        batch_op.drop_index(batch_op.f("ix_conversations_newcomer_id"))

    op.drop_table("conversations")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_sent_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_not_before"))
        batch_op.drop_index(batch_op.f("ix_outbox_chat_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("office_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_windows_sleutelpersoon_id"))

    op.drop_table("office_windows")
    with op.batch_alter_table("leaves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leaves_sleutelpersoon_id"))

    op.drop_table("leaves")
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_requests_status"))
        batch_op.drop_index(batch_op.f("ix_help_requests_next_match_at"))
        batch_op.drop_index(batch_op.f("ix_help_requests_newcomer_id"))

    op.drop_table("help_requests")
    op.drop_table("sleutelpersonen")
