"""Encryption at rest and keyed lookup hashes, including key rotation (DATA_KEYS newest first)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from sqlalchemy import func, select

from storage.crypto import DataCipher, DataKeyError, UndecryptableError, generate_key, parse_data_keys
from storage.models import PhoneNumber
from storage.phones import KEEP_OWNER, find_phone, save_phones

K1 = generate_key()
K2 = generate_key()
NUMBER = "+19195550101"


def test_round_trip() -> None:
    cipher = DataCipher([K1])
    for text in (NUMBER, "¿Cuándo vence mi pago? 🙂", ""):
        assert cipher.decrypt(cipher.encrypt(text)) == text


def test_ciphertext_is_fresh_each_time_and_hides_the_plaintext() -> None:
    cipher = DataCipher([K1])
    first, second = cipher.encrypt(NUMBER), cipher.encrypt(NUMBER)
    assert first != second
    for token in (first, second):
        assert NUMBER not in token
        assert "9195550101" not in token
        assert "5550101" not in token


def test_a_token_from_another_key_or_tampered_is_undecryptable() -> None:
    token = DataCipher([K1]).encrypt(NUMBER)
    with pytest.raises(UndecryptableError):
        DataCipher([K2]).decrypt(token)
    tampered = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    with pytest.raises(UndecryptableError):
        DataCipher([K1]).decrypt(tampered)


def test_rotation_keeps_old_values_readable_and_moves_them_to_the_new_key() -> None:
    old = DataCipher([K1]).encrypt(NUMBER)
    rotating = DataCipher([K2, K1])
    assert rotating.decrypt(old) == NUMBER

    rotated = rotating.rotate(old)
    assert rotated != old
    assert DataCipher([K2]).decrypt(rotated) == NUMBER
    with pytest.raises(UndecryptableError):
        DataCipher([K1]).decrypt(rotated)
    # New writes use the newest key too.
    assert DataCipher([K2]).decrypt(rotating.encrypt(NUMBER)) == NUMBER


def test_rotate_refuses_a_value_no_key_can_read() -> None:
    with pytest.raises(UndecryptableError):
        DataCipher([K2]).rotate(DataCipher([K1]).encrypt(NUMBER))


def test_lookup_hashes_cover_every_key_newest_first() -> None:
    old_hash = DataCipher([K1]).lookup_hash(NUMBER)
    new_hash = DataCipher([K2]).lookup_hash(NUMBER)
    rotating = DataCipher([K2, K1])
    assert old_hash != new_hash
    assert rotating.lookup_hash(NUMBER) == new_hash
    assert rotating.lookup_hashes(NUMBER) == [new_hash, old_hash]
    # Deterministic, keyed (not a plain hash of the number), and different for another number.
    assert DataCipher([K1]).lookup_hash(NUMBER) == old_hash
    assert old_hash != hashlib.sha256(NUMBER.encode()).hexdigest()
    assert DataCipher([K1]).lookup_hash("+19195550102") != old_hash
    assert "9195550101" not in old_hash


def test_a_number_stored_under_the_old_key_is_found_after_rotation(database) -> None:  # noqa: ANN001
    with database.transaction() as session:
        save_phones(session, DataCipher([K1]), {NUMBER: KEEP_OWNER})
    rotating = DataCipher([K2, K1])
    with database.session() as session:
        phone = find_phone(session, rotating, NUMBER)
        assert phone is not None
        assert rotating.decrypt(phone.number_enc) == NUMBER
        assert find_phone(session, DataCipher([K2]), NUMBER) is None
        assert find_phone(session, rotating, "+19195550102") is None
    # An import after rotation finds the old row rather than adding a second one.
    with database.transaction() as session:
        ids, counts = save_phones(session, rotating, {NUMBER: KEEP_OWNER})
    assert (counts.created, counts.unchanged) == (0, 1)
    assert ids[NUMBER] == phone.id
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PhoneNumber)) == 1


def test_parse_data_keys_splits_newest_first() -> None:
    assert parse_data_keys(f" {K2} , {K1} ,") == [K2, K1]
    cipher = DataCipher.from_setting(f"{K2},{K1}")
    assert cipher.decrypt(DataCipher([K1]).encrypt(NUMBER)) == NUMBER


def test_a_cipher_needs_a_key() -> None:
    with pytest.raises(DataKeyError):
        DataCipher([])


SHORT_KEY = base64.urlsafe_b64encode(b"0123456789abcdef").decode()  # 16 bytes, not 32
LONG_KEY = base64.urlsafe_b64encode(b"k" * 48).decode()


@pytest.mark.parametrize(
    ("value", "secret", "message"),
    [
        ("", None, "DATA_KEYS is empty"),
        (" , ,", None, "DATA_KEYS is empty"),
        ("not-a-key!", "not-a-key!", "DATA_KEYS key #1 is not a 32-byte url-safe base64 key"),
        ("c2VjcmV0LXBhc3N3b3Jk=", "c2VjcmV0LXBhc3N3b3Jk", "DATA_KEYS key #1 is not a 32-byte"),  # bad padding
        (f"{K1},{SHORT_KEY}", SHORT_KEY, "DATA_KEYS key #2 is not a 32-byte"),
        (f"{LONG_KEY},{K1}", LONG_KEY, "DATA_KEYS key #1 is not a 32-byte"),
        (f"{K1},hunter2ñ", "hunter2", "DATA_KEYS key #2 is not a 32-byte"),
        (K1[:-2], K1[:-2], "DATA_KEYS key #1 is not a 32-byte"),
    ],
)
def test_bad_data_keys_are_refused_without_showing_them(value: str, secret: str | None, message: str) -> None:
    with pytest.raises(DataKeyError) as caught:
        parse_data_keys(value)
    assert str(caught.value).startswith(message)
    if secret:
        assert secret not in str(caught.value)
        assert secret[:8] not in str(caught.value)
    # A good key given alongside must not leak either.
    assert K1 not in str(caught.value)
    assert K1[:8] not in str(caught.value)
