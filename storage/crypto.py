"""Encryption at rest for phone numbers and message bodies, and keyed hashes to find them again."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DataKeyError(ValueError):
    """DATA_KEYS is missing or holds a value that is not a key (the message never shows key material)."""


class UndecryptableError(ValueError):
    """A stored value cannot be decrypted with any key in DATA_KEYS."""


def generate_key() -> str:
    """Return a new random data key in the form DATA_KEYS expects."""
    return Fernet.generate_key().decode("ascii")


def parse_data_keys(value: str) -> list[str]:
    """Split DATA_KEYS ("newest,older,...") into keys, checking each one."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise DataKeyError("DATA_KEYS is empty: it needs at least one key (newest first)")
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise DataKeyError(
                f"DATA_KEYS key #{position} is not a 32-byte url-safe base64 key "
                "(make one with: flask --app bot generate-key)"
            )
    return keys


def _derive(key: str, purpose: bytes) -> bytes:
    # A separate key per purpose, so a hash or MAC reveals nothing about the encryption key.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        base64.urlsafe_b64decode(key.encode("ascii"))
    )


class DataCipher:
    """Encrypts with the newest key, decrypts with any, hashes for lookups.

    Rotation: put the new key first in DATA_KEYS and keep the old ones after it; everything stays
    readable, new writes use the new key, and `flask --app bot rotate-keys` re-encrypts the rest.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise DataKeyError("DataCipher needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._lookup_keys = [_derive(key, b"smsbot lookup hash v1") for key in keys]
        signing = [_derive(key, b"smsbot exchange chain v1") for key in keys]
        self._signing_keys = {hashlib.sha256(k).hexdigest()[:16]: k for k in reversed(signing)}
        self._newest_signing_id = hashlib.sha256(signing[0]).hexdigest()[:16]

    @classmethod
    def from_setting(cls, value: str) -> DataCipher:
        """Build a cipher from the DATA_KEYS setting's text."""
        return cls(parse_data_keys(value))

    def encrypt(self, text: str) -> str:
        """Encrypt text with the newest key."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a value written with any of the keys."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise UndecryptableError("stored value cannot be decrypted with DATA_KEYS") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored value with the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise UndecryptableError("stored value cannot be decrypted with DATA_KEYS") from None

    def lookup_hash(self, value: str) -> str:
        """Keyed hash of a value under the newest key: what new rows store."""
        return hmac.new(self._lookup_keys[0], value.encode("utf-8"), hashlib.sha256).hexdigest()

    def lookup_hashes(self, value: str) -> list[str]:
        """Keyed hashes under every key, newest first: what a lookup searches for."""
        data = value.encode("utf-8")
        return [hmac.new(k, data, hashlib.sha256).hexdigest() for k in self._lookup_keys]

    @property
    def signing_key_id(self) -> str:
        """Names the key `sign` uses now (the newest), without revealing it."""
        return self._newest_signing_id

    def sign(self, data: bytes) -> tuple[str, str]:
        """HMAC-SHA256 of data under the newest key: (key id, hex digest)."""
        key_id = self._newest_signing_id
        return key_id, hmac.new(self._signing_keys[key_id], data, hashlib.sha256).hexdigest()

    def has_signing_key(self, key_id: str | None) -> bool:
        """True when DATA_KEYS still holds the key named key_id."""
        return key_id in self._signing_keys

    def signature(self, key_id: str, data: bytes) -> str | None:
        """HMAC-SHA256 of data under the key named key_id, or None if DATA_KEYS no longer holds it."""
        key = self._signing_keys.get(key_id)
        return None if key is None else hmac.new(key, data, hashlib.sha256).hexdigest()
