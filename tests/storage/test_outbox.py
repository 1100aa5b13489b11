"""The outbox on both databases: written once per dedupe key, claimed by one job, moved only forward."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import outbox
from storage.crypto import DataCipher
from storage.database import Database
from storage.models import OutboundMessage, PhoneNumber, utcnow
from storage.outbox import NewNotice


@pytest.fixture
def phone(database: Database, cipher: DataCipher) -> int:
    with database.transaction() as session:
        number = PhoneNumber(
            lookup_hash=cipher.lookup_hash("+19195550142"), number_enc=cipher.encrypt("+19195550142")
        )
        session.add(number)
        session.flush()
        return number.id


def notice(phone: int, key: str, **more: object) -> NewNotice:
    return NewNotice(
        phone_number_id=phone,
        participant_id=None,
        kind="due_soon",
        template_id="notice_due_soon",
        language="en",
        body=f"Reminder {key}",
        dedupe_key=key,
        **more,
    )


def add(database: Database, cipher: DataCipher, *notices: NewNotice) -> list[int]:
    with database.transaction() as session:
        return outbox.add(session, cipher, notices)


def status_of(database: Database, outbox_id: int) -> tuple[str, int | None, str | None]:
    with database.session() as session:
        row = session.get(OutboundMessage, outbox_id)
        return row.status, row.error_code, row.reason


def test_writing_the_same_notices_twice_adds_each_once(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    first = add(database, cipher, notice(phone, "a"), notice(phone, "b"))
    second = add(database, cipher, notice(phone, "b"), notice(phone, "c"))
    assert len(first) == 2 and len(second) == 1
    with database.session() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [row.dedupe_key for row in rows] == ["a", "b", "c"]
        assert all(row.status == "queued" for row in rows)
        assert cipher.decrypt(rows[0].body_enc) == "Reminder a"
        assert "Reminder" not in rows[0].body_enc  # encrypted at rest
        assert outbox.existing_keys(session, ["a", "x", "c"]) == {"a", "c"}


def test_a_row_is_claimed_once_and_not_before_it_is_due(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    later = utcnow() + timedelta(hours=1)
    now_id, later_id = add(database, cipher, notice(phone, "now"), notice(phone, "later", send_after=later))
    with database.transaction() as session:
        claimed = outbox.claim(session, now_id)
        assert claimed is not None and claimed.attempts == 1
        assert outbox.claim(session, now_id) is None  # a second job for the same row
        assert outbox.claim(session, later_id) is None
        assert outbox.claim(session, later_id, later) is not None


def test_two_workers_racing_for_one_row_claim_it_once(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    (row_id,) = add(database, cipher, notice(phone, "race"))
    results: list[object] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        with database.transaction() as session:
            results.append(outbox.claim(session, row_id))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1


def test_callbacks_only_move_forward(database: Database, cipher: DataCipher, phone: int) -> None:
    (row_id,) = add(database, cipher, notice(phone, "cb"))
    with database.transaction() as session:
        outbox.claim(session, row_id)
        assert outbox.mark_sent(session, row_id, "SM" + "1" * 32)
    steps = [
        ("delivered", "delivered"),
        ("sent", "delivered"),
        ("sending", "delivered"),
        ("delivered", "delivered"),
    ]
    for status, expected in steps:
        with database.transaction() as session:
            change = outbox.apply_callback(session, "SM" + "1" * 32, status, None)
        assert change.outbox_id == row_id
        assert status_of(database, row_id)[0] == expected
    with database.transaction() as session:
        assert outbox.apply_callback(session, "SM" + "9" * 32, "delivered", None).outbox_id is None


def test_a_failed_callback_keeps_the_error_code_and_is_final(
    database: Database, cipher: DataCipher, phone: int
) -> None:
    (row_id,) = add(database, cipher, notice(phone, "fail"))
    with database.transaction() as session:
        outbox.claim(session, row_id)
        outbox.mark_sent(session, row_id, "SM" + "2" * 32)
        outbox.apply_callback(session, "SM" + "2" * 32, "undelivered", 30003)
        outbox.apply_callback(session, "SM" + "2" * 32, "delivered", None)
    assert status_of(database, row_id)[:2] == ("undelivered", 30003)


def test_due_rows_are_those_without_a_live_job(database: Database, cipher: DataCipher, phone: int) -> None:
    ids = add(database, cipher, notice(phone, "1"), notice(phone, "2"), notice(phone, "3"))
    now = utcnow()
    with database.transaction() as session:
        outbox.mark_enqueued(session, [ids[0]], now)
        outbox.mark_enqueued(session, [ids[1]], now - timedelta(hours=1))
        assert outbox.due(session, now + timedelta(seconds=1), timedelta(minutes=15)) == [ids[1], ids[2]]


def test_stuck_rows_are_the_ones_claimed_long_ago(database: Database, cipher: DataCipher, phone: int) -> None:
    now = utcnow()
    early = now - timedelta(hours=1)
    old, fresh = add(
        database, cipher, notice(phone, "old", send_after=early), notice(phone, "fresh", send_after=early)
    )
    with database.transaction() as session:
        outbox.claim(session, old, now - timedelta(minutes=10))
        outbox.claim(session, fresh, now)
        assert [row[0] for row in outbox.stuck_sending(session, now - timedelta(minutes=5))] == [old]
        outbox.release(session, old)
    assert status_of(database, old)[0] == "queued"
