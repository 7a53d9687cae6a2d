"""Encryption at rest: round trip, key rotation, tampering, configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.crypto import CipherError, MessageCipher, new_key_spec, parse_keys
from bot.settings import SettingsError, load_settings


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
