"""The exchange log at the storage level: the chain append builds, what verify checks, rechain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from storage import exchange_log
from storage.crypto import DataCipher, UndecryptableError, generate_key
from storage.database import Database
from storage.exchange_log import GENESIS, HEAD_ID, NewExchange
from storage.models import Direction, Exchange, ExchangeChainHead, PhoneNumber
from tests.conftest import DATA_KEY


@pytest.fixture
def phone(database: Database, cipher: DataCipher) -> int:
    """A phone number row, and the chain head row the migration makes (tests/conftest.py empties it)."""
    with database.transaction() as session:
        if session.get(ExchangeChainHead, HEAD_ID) is None:
            session.execute(insert(ExchangeChainHead).values(id=HEAD_ID, seq=0, last_hash=GENESIS))
        number = PhoneNumber(
            lookup_hash=cipher.lookup_hash("+19195550142"), number_enc=cipher.encrypt("+19195550142")
        )
        session.add(number)
        session.flush()
        return number.id


def inbound(phone_id: int, body: str, sid: str, **more: object) -> NewExchange:
    return NewExchange(
        direction=Direction.INBOUND,
        phone_number_id=phone_id,
        body=body,
        consent_state="opted_in_verified",
        message_sid=sid,
        intent="question",
        **more,
    )


def outbound(phone_id: int, body: str) -> NewExchange:
    return NewExchange(
        direction=Direction.OUTBOUND,
        phone_number_id=phone_id,
        body=body,
        consent_state="opted_in_verified",
        template_id="next_due_date",
        delivery_status="twiml",
    )


def write_exchange(database: Database, cipher: DataCipher, phone: int, n: int) -> None:
    with database.transaction() as session:
        exchange_log.append(
            session,
            cipher,
            inbound(phone, f"question {n} ¿sí?", f"SM{n:032x}"),
            outbound(phone, f"answer {n}"),
        )


def test_append_chains_records_and_encrypts_bodies(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    for n in range(3):
        write_exchange(database, cipher, phone, n)
    with database.session() as session:
        rows = session.scalars(select(Exchange).order_by(Exchange.chain_seq)).all()
        head = session.get(ExchangeChainHead, HEAD_ID)
        assert [row.chain_seq for row in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[0].prev_hash == GENESIS
        assert [row.prev_hash for row in rows[1:]] == [row.record_hash for row in rows[:-1]]
        assert (head.seq, head.last_hash) == (6, rows[-1].record_hash)
        assert head.head_mac is not None and head.key_id == cipher.signing_key_id
        assert all(row.key_id == cipher.signing_key_id for row in rows)
        assert "question 0" not in rows[0].body_enc
        assert cipher.decrypt(rows[0].body_enc) == "question 0 ¿sí?"
        assert exchange_log.verify(session, cipher) == exchange_log.ChainReport(6, None)


def test_find_inbound_and_reply_to(database: Database, cipher: DataCipher, phone: int) -> None:
    write_exchange(database, cipher, phone, 7)
    with database.session() as session:
        found = exchange_log.find_inbound(session, f"SM{7:032x}")
        assert found is not None and found.chain_seq == 1
        answer = exchange_log.reply_to(session, found)
        assert answer is not None and cipher.decrypt(answer.body_enc) == "answer 7"
        assert exchange_log.find_inbound(session, f"SM{8:032x}") is None


def test_one_message_sid_is_logged_inbound_only_once(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    # The webhook's duplicate handling relies on this unique key.
    write_exchange(database, cipher, phone, 1)
    with pytest.raises(IntegrityError), database.transaction() as session:
        exchange_log.append(session, cipher, inbound(phone, "again", f"SM{1:032x}"))
    with database.session() as session:
        assert exchange_log.verify(session, cipher).ok


def test_append_without_the_head_row_says_to_migrate(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    with database.transaction() as session:
        session.execute(ExchangeChainHead.__table__.delete())
    with pytest.raises(RuntimeError, match="migrate"), database.transaction() as session:
        exchange_log.append(session, cipher, inbound(phone, "hi", f"SM{1:032x}"))


def test_concurrent_appends_form_one_chain(database: Database, cipher: DataCipher, phone: int) -> None:
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(offset, offset + 8):
                write_exchange(database, cipher, phone, n)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(offset,)) for offset in (0, 100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with database.session() as session:
        assert exchange_log.verify(session, cipher) == exchange_log.ChainReport(48, None)
        pairs = session.execute(
            select(Exchange.chain_seq, Exchange.reply_to_seq).order_by(Exchange.chain_seq)
        ).all()
    # Each transaction's two records are neighbours in the chain.
    assert all(row.reply_to_seq == row.chain_seq - 1 for row in pairs if row.reply_to_seq)
    assert sum(1 for row in pairs if row.reply_to_seq) == 24


def test_a_record_written_with_a_non_utc_time_verifies(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    eastern = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    with database.transaction() as session:
        exchange_log.append(session, cipher, inbound(phone, "hi", f"SM{1:032x}", occurred_at=eastern))
    with database.session() as session:
        stored = session.scalars(select(Exchange.occurred_at)).one()
        assert stored == eastern and stored.tzinfo == UTC
        assert exchange_log.verify(session, cipher).ok


def test_rechain_moves_every_record_to_the_newest_key(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    for n in range(3):
        write_exchange(database, cipher, phone, n)
    new_key = generate_key()
    rotating = DataCipher([new_key, DATA_KEY])  # `cipher` is DataCipher([DATA_KEY])
    new_only = DataCipher([new_key])
    with database.session() as session:
        assert not exchange_log.verify(session, new_only).ok
        old_hashes = session.scalars(select(Exchange.record_hash).order_by(Exchange.chain_seq)).all()
    with database.transaction() as session:
        assert exchange_log.rechain(session, rotating) == 6
    with database.session() as session:
        assert exchange_log.verify(session, new_only) == exchange_log.ChainReport(6, None)
        rows = session.scalars(select(Exchange).order_by(Exchange.chain_seq)).all()
        assert [new_only.decrypt(row.body_enc) for row in rows[:2]] == ["question 0 ¿sí?", "answer 0"]
        assert all(row.key_id == new_only.signing_key_id for row in rows)
        assert [row.record_hash for row in rows] != old_hashes
        with pytest.raises(UndecryptableError):
            cipher.decrypt(rows[0].body_enc)
