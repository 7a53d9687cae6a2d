"""Encryption at rest for what newcomers and sleutelpersonen write (AES-256-GCM).

Rules kept here:
- Every stored message text or caption is encrypted with the current key; each ciphertext
  names the key that made it, so older keys keep decrypting after a rotation.
- Keys come from MESSAGE_KEYS (`id:base64key,...`, the first one encrypts). In development,
  without it, a random key is created once in the data folder; production refuses to start
  without configured keys (see bot/settings.py).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from bot.settings import Settings

FORMAT_VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
ASSOCIATED_DATA = b"sleutelbrug/message"
DEV_KEY_FILE = "message.key"
# A random 32-byte key has about 30 distinct byte values; fewer than this many (all zeros, one
# repeated byte, a short repeated pattern) happens by chance with a probability below 1e-12.
MIN_DISTINCT_KEY_BYTES = 16
# Bytes a person types; a random key consists only of these with a probability near 1e-14.
TYPED_BYTES = frozenset(range(0x20, 0x7F))


class CipherError(Exception):
    """A key is malformed or missing, or a ciphertext cannot be decrypted."""


def parse_keys(spec: str) -> dict[str, bytes]:
    """`id:base64key,id2:base64key` -> {id: key}, in order; the first is current."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key_id, separator, encoded = item.partition(":")
        if not separator or not key_id.isalnum():
            raise CipherError(f"key {key_id!r}: write each key as id:base64, id letters/digits")
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            key = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise CipherError(f"key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise CipherError(f"key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")
        keys[key_id] = key
    if not keys:
        raise CipherError("no keys given")
    return keys


def weakness_of(key: bytes) -> str | None:
    """Why a key cannot have come from a random generator, or None when it may have."""
    if set(key) <= TYPED_BYTES:
        return "is typed text (a placeholder or a passphrase), not random bytes"
    if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
        return "repeats a few byte values (all zeros, one byte repeated or a short pattern)"
    return None


# A random secret written as text (base64 or hex, 32 characters or more): fewer distinct
# characters than this happens by chance with a probability below 1e-12.
MIN_DISTINCT_SECRET_CHARACTERS = 6


def weakness_of_text_secret(secret: str) -> str | None:
    """Why a secret written as text cannot have come from a random generator, or None when it
    may have. The same reading as `weakness_of` for keys, for characters instead of bytes:
    each rule refuses a random 32-character value with a probability below 1e-12."""
    if any(secret == secret[period:] + secret[:period] for period in range(1, len(secret))):
        return "is a short pattern repeated"
    if len(set(secret)) < MIN_DISTINCT_SECRET_CHARACTERS:
        return "repeats a few characters"
    if secret.isalpha() and (secret.islower() or secret.isupper()):
        return "is typed text (letters of one case: a word or a passphrase), not random"
    return None


def new_key_spec(key_id: str) -> str:
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


@dataclass(frozen=True)
class MessageCipher:
    keys: dict[str, bytes]

    @property
    def current_key_id(self) -> str:
        return next(iter(self.keys))

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_key_id]).encrypt(
            nonce, plaintext.encode(), ASSOCIATED_DATA
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{FORMAT_VERSION}:{self.current_key_id}:{token}"

    def decrypt(self, ciphertext: str) -> str:
        version, key_id, token = [*ciphertext.split(":", 2), "", ""][:3]
        if version != FORMAT_VERSION or key_id not in self.keys:
            raise CipherError(f"cannot decrypt: unknown format or key {key_id!r}")
        raw = base64.urlsafe_b64decode(token)
        try:
            plain = AESGCM(self.keys[key_id]).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA
            )
        except InvalidTag:
            raise CipherError("cannot decrypt: the ciphertext was altered") from None
        return plain.decode()

    def seal(self, plaintext: str | None) -> str | None:
        """Encrypt, keeping None (and an empty text) as None."""
        return self.encrypt(plaintext) if plaintext else None

    def unseal(self, sealed: str | None) -> str | None:
        """Decrypt, keeping None (and an empty value) as None."""
        return self.decrypt(sealed) if sealed else None

    def needs_rotation(self, ciphertext: str) -> bool:
        return ciphertext.split(":", 2)[1] != self.current_key_id

    @classmethod
    def from_spec_or_dev_file(cls, spec: str | None, data_dir: Path) -> MessageCipher:
        """Configured keys, or (development only) a key kept in the data folder."""
        if spec:
            return cls(parse_keys(spec))
        key_file = data_dir / DEV_KEY_FILE
        if not key_file.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(new_key_spec("dev"))
            key_file.chmod(0o600)
        return cls(parse_keys(key_file.read_text().strip()))

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageCipher:
        spec = settings.message_keys.get_secret_value() if settings.message_keys else None
        return cls.from_spec_or_dev_file(spec, settings.data_dir)
