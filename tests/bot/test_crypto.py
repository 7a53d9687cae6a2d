"""Encryption at rest: round trip, key rotation, tampering, configuration errors."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from bot.crypto import CipherError, MessageCipher, new_key_spec, parse_keys, weakness_of
from bot.settings import SettingsError, load_settings
from bot.storage import MIGRATIONS_DIR, sync_database_url


def test_round_trip_and_every_ciphertext_differs() -> None:
    cipher = MessageCipher(parse_keys(new_key_spec("k1")))
    text = "عندي رسالة من الـ IND عن الإقامة"
    first, second = cipher.encrypt(text), cipher.encrypt(text)
    assert first != second and text not in first
    assert cipher.decrypt(first) == cipher.decrypt(second) == text


def test_rotation_keeps_old_ciphertexts_readable() -> None:
    old_spec, new_spec = new_key_spec("k1"), new_key_spec("k2")
    before = MessageCipher(parse_keys(old_spec)).encrypt("ሓኪም")
    rotated = MessageCipher(parse_keys(f"{new_spec},{old_spec}"))
    assert rotated.decrypt(before) == "ሓኪም"
    assert rotated.needs_rotation(before)
    after = rotated.encrypt("ሓኪም")
    assert after.split(":")[1] == "k2" and not rotated.needs_rotation(after)
    with pytest.raises(CipherError, match="unknown format or key"):
        MessageCipher(parse_keys(old_spec)).decrypt(after)


def test_tampering_is_detected() -> None:
    cipher = MessageCipher(parse_keys(new_key_spec("k1")))
    sealed = cipher.encrypt("geheim")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(CipherError, match="altered"):
        cipher.decrypt(flipped)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [("", "no keys"), ("k1", "id:base64"), ("k1:!!!", "base64"), ("k1:c2hvcnQ=", "32 bytes")],
)
def test_bad_key_specs_are_refused(spec: str, problem: str) -> None:
    with pytest.raises(CipherError, match=problem):
        parse_keys(spec)


def test_settings_name_the_key_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MESSAGE_KEYS", "k1:c2hvcnQ=")
    with pytest.raises(SettingsError, match="MESSAGE_KEYS"):
        load_settings()
    monkeypatch.delenv("MESSAGE_KEYS")
    monkeypatch.setenv("SLEUTELBRUG_ENV", "production")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    with pytest.raises(SettingsError, match="MESSAGE_KEYS is required in production"):
        load_settings()


def test_development_key_is_created_once_and_kept_private(tmp_path: Path) -> None:
    first = MessageCipher.from_spec_or_dev_file(None, tmp_path)
    second = MessageCipher.from_spec_or_dev_file(None, tmp_path)
    assert second.decrypt(first.encrypt("x")) == "x"
    assert (tmp_path / "message.key").stat().st_mode & 0o077 == 0


def test_weak_keys_are_named_and_random_ones_pass() -> None:
    assert weakness_of(bytes(32)) is not None
    assert weakness_of(b"placeholder-placeholder-placehol") is not None
    assert all(weakness_of(os.urandom(32)) is None for _ in range(1000))


def migrate_to(database_url: str, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_database_url(database_url))
    (command.downgrade if down else command.upgrade)(config, revision)


def test_the_migration_encrypts_existing_comments_notes_and_signals_and_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = new_key_spec("k1")
    monkeypatch.setenv("MESSAGE_KEYS", spec)
    cipher = MessageCipher(parse_keys(spec))
    comment, note, signal = "شكرا كتير", "Zij heeft een boete van het CJIB", "Veel CJIB-boetes"
    migrate_to(database_url, "0009_outbox_claims")
    engine = sa.create_engine(sync_database_url(database_url))
    now = {"now": datetime(2026, 12, 1, tzinfo=UTC)}
    inserts = [
        "INSERT INTO sleutelpersonen (id, display_name, locale, languages, domains, roles, paid,"
        " timezone, works_on_public_holidays, max_open_conversations, max_new_per_week, active,"
        " created_at) VALUES (1, 'Amal', 'nl', '[]', '[]', '[]', false, 'Europe/Amsterdam',"
        " false, 3, 5, true, :now)",
        "INSERT INTO help_requests (id, language, status, institutions, created_at, updated_at,"
        f" urgent, handback_note) VALUES (1, 'ar', 'closed', '[]', :now, :now, false, '{note}'),"
        " (2, 'ar', 'closed', '[]', :now, :now, false, ''),"
        " (3, 'ar', 'closed', '[]', :now, :now, false, NULL)",
        "INSERT INTO conversations (id, request_id, sleutelpersoon_id, label, status, opened_at,"
        f" feedback_pending, feedback_comment) VALUES (1, 1, 1, '#1', 'closed', :now, false,"
        f" '{comment}')",
        "INSERT INTO signals (id, conversation_id, sleutelpersoon_id, text, key, created_at)"
        f" VALUES (1, 1, 1, '{signal}', '{signal.lower()}', :now)",
    ]
    try:
        with engine.begin() as connection:
            for statement in inserts:
                connection.execute(sa.text(statement), now)
        migrate_to(database_url, "head")
        with engine.connect() as connection:
            notes = (
                connection.execute(
                    sa.text("SELECT handback_note_encrypted FROM help_requests ORDER BY id")
                )
                .scalars()
                .all()
            )
            comments = (
                connection.execute(sa.text("SELECT feedback_comment_encrypted FROM conversations"))
                .scalars()
                .all()
            )
            signals = connection.execute(sa.text("SELECT text_encrypted FROM signals")).scalars()
            sealed = [*notes, *comments, *signals]
        assert not any(plain in str(sealed) for plain in (comment, note, signal))
        assert [cipher.unseal(value) for value in sealed] == [note, None, None, comment, signal]
        assert notes[1:] == ["", None]  # handed back without a note / never handed back

        migrate_to(database_url, "0009_outbox_claims", down=True)
        with engine.connect() as connection:
            assert connection.execute(
                sa.text("SELECT handback_note FROM help_requests ORDER BY id")
            ).scalars().all() == [note, "", None]
            assert connection.execute(
                sa.text("SELECT feedback_comment FROM conversations")
            ).scalars().all() == [comment]
            assert connection.execute(sa.text("SELECT text, key FROM signals")).all() == [
                (signal, signal.lower())
            ]
    finally:
        engine.dispose()
