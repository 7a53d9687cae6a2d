"""Feedback comments, handback notes and signals encrypted like message texts; chats whose
Redis traces are still to be erased.

Existing rows are encrypted here with the current MESSAGE_KEYS key (in development the key in
DATA_DIR), read from the environment as the application reads it. Downgrading decrypts them.

Revision ID: 0010_encrypted_notes
Revises: 0009_outbox_claims
Create Date: 2026-12-03
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from bot.crypto import MessageCipher

revision = "0010_encrypted_notes"
down_revision = "0009_outbox_claims"
branch_labels = None
depends_on = None

# (table, plaintext column, its type, encrypted column)
COLUMNS = (
    ("conversations", "feedback_comment", sa.String(length=1000), "feedback_comment_encrypted"),
    ("help_requests", "handback_note", sa.String(length=500), "handback_note_encrypted"),
    ("signals", "text", sa.String(length=80), "text_encrypted"),
)


def _cipher() -> MessageCipher:
    from bot.settings import load_settings

    return MessageCipher.from_settings(load_settings())


def _rewrite(table: str, source: str, target: str, change: Callable[[str], str]) -> None:
    """Copy `source` into `target` through `change`, row by row; "" and NULL stay as they are."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(f"SELECT id, {source} FROM {table} WHERE {source} IS NOT NULL")  # noqa: S608
    ).all()
    for row_id, value in rows:
        connection.execute(
            sa.text(f"UPDATE {table} SET {target} = :value WHERE id = :id"),  # noqa: S608
            {"value": change(value) if value else value, "id": row_id},
        )


def _has_rows(table: str, column: str) -> bool:
    statement = f"SELECT 1 FROM {table} WHERE {column} <> '' LIMIT 1"  # noqa: S608
    return op.get_bind().execute(sa.text(statement)).first() is not None


def upgrade() -> None:
    # Keys are needed only when there is something to encrypt (a fresh database has nothing).
    cipher = _cipher() if any(_has_rows(t, old) for t, old, _type, _new in COLUMNS) else None
    for table, old, _type, new in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(new, sa.Text(), nullable=True))
        if cipher is not None:
            _rewrite(table, old, new, cipher.encrypt)
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_index("ix_signals_key")
        batch_op.drop_column("key")
    for table, old, _type, _new in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(old)
    op.create_table(
        "redis_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("redis_erasures")
    cipher = _cipher() if any(_has_rows(t, new) for t, _old, _type, new in COLUMNS) else None
    for table, old, old_type, new in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(old, old_type, nullable=True))
        if cipher is not None:
            _rewrite(table, new, old, cipher.decrypt)
    # Signals whose words were removed cannot go back to a table that requires them.
    op.execute("DELETE FROM signals WHERE text IS NULL")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=80), nullable=True))
    op.execute("UPDATE signals SET key = lower(text)")
    for table, old, old_type, new in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(new)
            if table == "signals":
                batch_op.alter_column(old, existing_type=old_type, nullable=False)
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(length=80), nullable=False)
        batch_op.create_index("ix_signals_key", ["key"], unique=False)
