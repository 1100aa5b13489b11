"""Retention purges on both databases: old records go, held numbers and linked replies stay, and the
hash chain still verifies across the gap, while a forged or altered purge is caught."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from storage import exchange_log, retention
from storage.crypto import DataCipher, generate_key
from storage.database import Database
from storage.exchange_log import NewExchange
from storage.models import ChainPurge, Direction, Exchange, ExchangeTombstone, PhoneNumber, utcnow
from tests.conftest import DATA_KEY

NOW = utcnow()
OLD = NOW - timedelta(days=400)
CUTOFF = NOW - timedelta(days=365)


def phone(database: Database, cipher: DataCipher, number: str) -> int:
    with database.transaction() as session:
        row = PhoneNumber(lookup_hash=cipher.lookup_hash(number), number_enc=cipher.encrypt(number))
        session.add(row)
        session.flush()
        return row.id


def pair(
    database: Database, cipher: DataCipher, phone_id: int, n: int, asked: object, answered: object
) -> None:
    with database.transaction() as session:
        exchange_log.append(
            session,
            cipher,
            NewExchange(
                Direction.INBOUND,
                phone_id,
                f"question {n}",
                "opted_in_verified",
                f"SM{n:032x}",
                occurred_at=asked,
            ),
            NewExchange(
                Direction.OUTBOUND,
                phone_id,
                f"answer {n}",
                "opted_in_verified",
                template_id="help",
                occurred_at=answered,
            ),
        )


@pytest.fixture
def log(database: Database, cipher: DataCipher) -> dict[str, int]:
    """Held number H and free number F, each with old and new exchanges; one old question answered late."""
    held, free = phone(database, cipher, "+19195550301"), phone(database, cipher, "+19195550302")
    pair(database, cipher, held, 1, OLD, OLD)  # old but held
    pair(database, cipher, free, 2, OLD, OLD)  # purged (2 records)
    pair(database, cipher, free, 3, OLD, NOW)  # old question, new answer: both kept
    pair(database, cipher, free, 4, OLD + timedelta(days=1), OLD + timedelta(days=1))  # purged (2 records)
    pair(database, cipher, free, 5, NOW, NOW)
    with database.transaction() as session:
        retention.place_hold(session, held, "Docket 2026-CV-0042", "counsel")
    return {"held": held, "free": free}


def run_purge(database: Database, cipher: DataCipher, **more: object) -> retention.PurgeSummary:
    with database.transaction() as session:
        return retention.purge(session, cipher, CUTOFF, "records officer", **more)


def check(database: Database, cipher: DataCipher) -> exchange_log.ChainReport:
    with database.session() as session:
        return exchange_log.verify(session, cipher)


def bodies(database: Database, cipher: DataCipher) -> list[str]:
    with database.session() as session:
        return [
            cipher.decrypt(b) for b in session.scalars(select(Exchange.body_enc).order_by(Exchange.chain_seq))
        ]


def test_a_purge_removes_old_free_records_and_the_chain_still_verifies(
    database: Database, cipher: DataCipher, log: dict[str, int]
) -> None:
    dry = run_purge(database, cipher, dry_run=True)
    assert (dry.records, dry.kept_on_hold, dry.purge_id) == (4, 2, None)
    assert len(bodies(database, cipher)) == 10
    summary = run_purge(database, cipher)
    assert summary.records == 4
    assert bodies(database, cipher) == [
        "question 1",
        "answer 1",
        "question 3",
        "answer 3",
        "question 5",
        "answer 5",
    ]
    report = check(database, cipher)
    assert report.ok, report.problem
    assert (report.checked, report.purged) == (10, 4)
    # New records keep chaining after a purge; a second purge finds nothing more.
    pair(database, cipher, log["free"], 6, NOW, NOW)
    assert run_purge(database, cipher).records == 0
    assert check(database, cipher).ok


def test_releasing_the_hold_lets_the_next_purge_take_the_old_records(
    database: Database, cipher: DataCipher, log: dict[str, int]
) -> None:
    run_purge(database, cipher)
    with database.transaction() as session:
        retention.release_hold(session, log["held"], "counsel")
        with pytest.raises(retention.HoldError, match="not on legal hold"):
            retention.release_hold(session, log["held"], "counsel")
    assert run_purge(database, cipher).records == 2
    report = check(database, cipher)
    assert report.ok and report.purged == 6


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (lambda s: s.execute(delete(ExchangeTombstone).where(ExchangeTombstone.chain_seq == 3)), "deleted"),
        (
            lambda s: s.execute(
                update(ExchangeTombstone).where(ExchangeTombstone.chain_seq == 4).values(record_hash="0" * 64)
            ),
            "does not follow",
        ),
        (lambda s: s.execute(update(ChainPurge).values(records=3)), "does not match its purged records"),
        (lambda s: s.execute(update(ChainPurge).values(cutoff=NOW)), "altered"),
    ],
)
def test_tampering_with_a_purge_is_found(
    database: Database, cipher: DataCipher, log: dict[str, int], tamper: object, says: str
) -> None:
    run_purge(database, cipher)
    with database.transaction() as session:
        tamper(session)  # type: ignore[operator]
    report = check(database, cipher)
    assert not report.ok and says in report.problem


def test_a_deletion_dressed_up_as_a_purge_is_found(
    database: Database, cipher: DataCipher, log: dict[str, int]
) -> None:
    run_purge(database, cipher)
    with database.transaction() as session:
        victim = session.scalars(select(Exchange).where(Exchange.chain_seq == 10)).one()
        session.execute(delete(Exchange).where(Exchange.chain_seq == 10))
        purge_id = session.scalar(select(func.max(ChainPurge.id)))
        session.add(ExchangeTombstone(chain_seq=10, record_hash=victim.record_hash, purge_id=purge_id))
    report = check(database, cipher)
    assert not report.ok and "does not match its purged records" in report.problem


def test_rotating_keys_after_a_purge_keeps_the_chain_verifiable_with_the_new_key_alone(
    database: Database, cipher: DataCipher, log: dict[str, int]
) -> None:
    run_purge(database, cipher)
    new_key = generate_key()
    with database.transaction() as session:
        exchange_log.rechain(session, DataCipher([new_key, DATA_KEY]))
    report = check(database, DataCipher([new_key]))
    assert report.ok, report.problem
    assert (report.checked, report.purged) == (10, 4)
