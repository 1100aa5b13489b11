"""The exchange log: every inbound and outbound message, encrypted, in a tamper-evident chain.

Appending locks the chain head row, so records from many web processes form one ordered chain.
Each record's HMAC covers its sequence number, the previous record's hash and its fixed fields (the
body in plain text, so re-encryption never breaks the chain). `verify` walks the chain and names the
first record that was altered, inserted or deleted.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.crypto import DataCipher, UndecryptableError
from storage.models import ChainPurge, Direction, Exchange, ExchangeChainHead, ExchangeTombstone, utcnow
from storage.statements import Statement, connection_of

GENESIS = "0" * 64
HEAD_ID = 1


@dataclass(frozen=True)
class NewExchange:
    """A message to add to the log."""

    direction: Direction
    phone_number_id: int
    body: str
    consent_state: str
    message_sid: str | None = None
    intent: str | None = None
    template_id: str | None = None
    delivery_status: str | None = None
    reply_to_seq: int | None = None
    blocked_reason: str | None = None
    occurred_at: datetime = field(default_factory=utcnow)


def _record_bytes(seq: int, prev_hash: str, exchange: Exchange | NewExchange, body: str) -> bytes:
    fixed = [
        seq,
        prev_hash,
        str(exchange.direction),
        exchange.occurred_at.isoformat(),
        exchange.message_sid,
        exchange.phone_number_id,
        exchange.reply_to_seq,
        body,
        exchange.intent,
        exchange.template_id,
        exchange.consent_state,
        exchange.blocked_reason,
    ]
    return json.dumps(fixed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _head_bytes(seq: int, last_hash: str) -> bytes:
    return f"head|{seq}|{last_hash}".encode("ascii")


def lock_head(session: Session) -> ExchangeChainHead:
    """Take the chain head row for update: appends from other processes wait until this one commits."""
    head = session.scalars(
        select(ExchangeChainHead).where(ExchangeChainHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("exchange chain head row is missing: run flask --app bot migrate")
    return head


# Built once: composing statements costs more than running them on the webhook's path.
_LOCK_HEAD = Statement(
    select(ExchangeChainHead.seq, ExchangeChainHead.last_hash)
    .where(ExchangeChainHead.id == HEAD_ID)
    .with_for_update()
)
_COLUMNS = (
    "chain_seq",
    "direction",
    "occurred_at",
    "message_sid",
    "phone_number_id",
    "reply_to_seq",
    "body_enc",
    "intent",
    "template_id",
    "consent_state",
    "delivery_status",
    "blocked_reason",
    "prev_hash",
    "record_hash",
    "key_id",
)
_MOVE_HEAD = Statement(
    update(ExchangeChainHead)
    .where(ExchangeChainHead.id == HEAD_ID)
    .values({name: bindparam(name) for name in ("seq", "last_hash", "key_id", "head_mac")})
)


@cache
def _insert(count: int) -> Statement:
    # One INSERT for the message and its reply: one statement for the database to run, not two.
    rows = [{name: bindparam(f"{name}_{n}") for name in _COLUMNS} for n in range(count)]
    return Statement(insert(Exchange).values(rows))


def append(
    db: Session | Connection, cipher: DataCipher, entry: NewExchange, reply: NewExchange | None = None
) -> int:
    """Add a message, and the reply to it if there is one, to the log in the caller's transaction.

    Returns the message's chain_seq. The chain head stays locked until the caller commits, so do
    everything else first: this is the one serial section of the webhook. In a `batched` block
    (storage.statements) the rows and the head's new value go to the database as one statement.
    """
    connection = connection_of(db)
    items = [entry] if reply is None else [entry, reply]
    # Everything that does not depend on the chain's position is done before its lock is taken.
    items = [replace(item, occurred_at=item.occurred_at.astimezone(UTC)) for item in items]  # stored in UTC
    bodies = [cipher.encrypt(item.body) for item in items]
    head = _LOCK_HEAD.first(connection)
    if head is None:
        raise RuntimeError("exchange chain head row is missing: run flask --app bot migrate")
    seq, last_hash = head
    first = seq + 1
    values: dict[str, object] = {}
    for n, (item, body_enc) in enumerate(zip(items, bodies, strict=True)):
        seq += 1
        if n:  # the reply points at the message it answers
            item = replace(item, reply_to_seq=first)
        key_id, record_hash = cipher.sign(_record_bytes(seq, last_hash, item, item.body))
        row = {
            "chain_seq": seq,
            "direction": str(item.direction),
            "occurred_at": item.occurred_at,
            "message_sid": item.message_sid,
            "phone_number_id": item.phone_number_id,
            "reply_to_seq": item.reply_to_seq,
            "body_enc": body_enc,
            "intent": item.intent,
            "template_id": item.template_id,
            "consent_state": item.consent_state,
            "delivery_status": item.delivery_status,
            "blocked_reason": item.blocked_reason,
            "prev_hash": last_hash,
            "record_hash": record_hash,
            "key_id": key_id,
        }
        values.update({f"{name}_{n}": value for name, value in row.items()})
        last_hash = record_hash
    _insert(len(items)).run(connection, values)
    key_id, head_mac = cipher.sign(_head_bytes(seq, last_hash))
    _MOVE_HEAD.run(connection, {"seq": seq, "last_hash": last_hash, "key_id": key_id, "head_mac": head_mac})
    return first


def find_inbound(session: Session, message_sid: str) -> Exchange | None:
    """The inbound record for a Twilio MessageSid, if it was logged before."""
    return session.scalars(
        select(Exchange).where(
            Exchange.direction == Direction.INBOUND.value, Exchange.message_sid == message_sid
        )
    ).one_or_none()


def reply_to(session: Session, inbound: Exchange) -> Exchange | None:
    """The reply logged for an inbound record (None when the answer was silence)."""
    return session.scalars(
        select(Exchange).where(Exchange.reply_to_seq == inbound.chain_seq).order_by(Exchange.chain_seq)
    ).first()


@dataclass(frozen=True)
class ChainReport:
    """What verify found: how many records it checked (purged ones included) and the first problem."""

    checked: int
    problem: str | None
    purged: int = 0

    @property
    def ok(self) -> bool:
        """True when the whole chain is intact."""
        return self.problem is None


def batched_records(session: Session, query: Select | None = None, batch: int = 2000) -> Iterator[Exchange]:
    """Records in chain order, `batch` at a time, detached once read (bounded memory over any log size)."""
    query = select(Exchange) if query is None else query
    last = -(2**31)  # from the very first row, even a forged one numbered below 1 (int32 column)
    while True:
        rows = session.scalars(
            query.where(Exchange.chain_seq > last).order_by(Exchange.chain_seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].chain_seq
        for row in rows:
            session.expunge(row)


@dataclass(frozen=True)
class Tombstone:
    """A purged record's place in the chain (storage.retention writes them)."""

    chain_seq: int
    record_hash: str
    purge_id: int


def _tombstones(session: Session, batch: int = 5000) -> Iterator[Tombstone]:
    last = -(2**31)
    while True:
        rows = session.execute(
            select(ExchangeTombstone.chain_seq, ExchangeTombstone.record_hash, ExchangeTombstone.purge_id)
            .where(ExchangeTombstone.chain_seq > last)
            .order_by(ExchangeTombstone.chain_seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from (Tombstone(*row) for row in rows)
        last = rows[-1][0]


def chain(session: Session) -> Iterator[Exchange | Tombstone]:
    """The chain in order: live records and the tombstones of purged ones."""
    return heapq.merge(batched_records(session), _tombstones(session), key=lambda item: item.chain_seq)


def purge_bytes(purge_id: int, cutoff: datetime, records: int, digest: str) -> bytes:
    """What a purge's seal covers."""
    return f"purge|{purge_id}|{cutoff.astimezone(UTC).isoformat()}|{records}|{digest}".encode("ascii")


def tombstone_digest(pairs: Iterator[tuple[int, str]]) -> str:
    """SHA-256 over a purge's tombstones, in chain order."""
    digest = hashlib.sha256()
    for seq, record_hash in pairs:
        digest.update(f"{seq}:{record_hash}\n".encode("ascii"))
    return digest.hexdigest()


def verify(session: Session, cipher: DataCipher) -> ChainReport:
    """Walk the chain from the start; report the first altered, inserted or deleted record.

    A purged record counts when its tombstone belongs to a purge whose seal still matches: the
    records after it must follow its hash, so a purge cannot hide a deletion or an edit.
    """
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    purged: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for item in chain(session):
        if isinstance(item, Tombstone):
            if item.chain_seq > expected_seq:
                gone = _missing(expected_seq, item.chain_seq - 1)
                return ChainReport(
                    checked, f"{gone} deleted: the chain jumps to purged record #{item.chain_seq}"
                )
            if item.chain_seq < expected_seq:
                return ChainReport(
                    checked, f"purged record #{item.chain_seq} was inserted: it is out of place"
                )
            purged[item.purge_id].append((item.chain_seq, item.record_hash))
            expected_seq, prev_hash, checked = expected_seq + 1, item.record_hash, checked + 1
            continue
        problem = _record_problem(cipher, item, expected_seq, prev_hash)
        if problem is not None:
            return ChainReport(checked, problem)
        expected_seq, prev_hash, checked = expected_seq + 1, item.record_hash, checked + 1
    count = sum(len(pairs) for pairs in purged.values())
    problem = _purge_problem(session, cipher, purged) or _head_problem(session, cipher, checked, prev_hash)
    return ChainReport(checked, problem, count)


def _purge_problem(
    session: Session, cipher: DataCipher, purged: dict[int, list[tuple[int, str]]]
) -> str | None:
    purges = {purge.id: purge for purge in session.scalars(select(ChainPurge))}
    for purge_id in sorted(set(purged) - set(purges)):
        return f"purged records name purge {purge_id}, which is not on file (a forged purge)"
    for purge in sorted(purges.values(), key=lambda purge: purge.id):
        pairs = purged.get(purge.id, [])
        where = f"purge {purge.id} ({purge.purged_at.isoformat()})"
        if not cipher.has_signing_key(purge.key_id):
            return f"{where} was sealed with a key no longer in DATA_KEYS (put the old key back to check it)"
        if len(pairs) != purge.records or tombstone_digest(iter(pairs)) != purge.digest:
            return f"{where} does not match its purged records (a record was removed or changed under it)"
        seal = cipher.signature(
            purge.key_id, purge_bytes(purge.id, purge.cutoff, purge.records, purge.digest)
        )
        if seal != purge.seal:
            return f"{where} was altered (its seal does not match)"
    return None


def _missing(first: int, last: int) -> str:
    return f"record #{first}" if first == last else f"records #{first}..#{last}"


def _record_problem(cipher: DataCipher, record: Exchange, expected_seq: int, prev_hash: str) -> str | None:
    where = f"record #{record.chain_seq} (id {record.id}, {record.occurred_at.isoformat()})"
    if record.chain_seq < expected_seq:
        return f"{where} was inserted: its sequence number is out of place"
    if record.chain_seq > expected_seq:
        return f"{_missing(expected_seq, record.chain_seq - 1)} deleted: the chain jumps to {where}"
    if record.prev_hash != prev_hash:
        return f"{where} does not follow the record before it (inserted or altered)"
    if not cipher.has_signing_key(record.key_id):
        return f"{where} was signed with a key no longer in DATA_KEYS (put the old key back to check it)"
    try:
        body = cipher.decrypt(record.body_enc)
    except UndecryptableError:
        return f"{where} cannot be decrypted with DATA_KEYS (altered)"
    if (
        cipher.signature(record.key_id, _record_bytes(record.chain_seq, prev_hash, record, body))
        != record.record_hash
    ):
        return f"{where} was altered (its contents do not match its hash)"
    return None


def _head_problem(session: Session, cipher: DataCipher, checked: int, last_hash: str) -> str | None:
    head = session.get(ExchangeChainHead, HEAD_ID)
    if head is None:
        return "the chain head row is missing"
    if head.seq > checked:
        gone = f"record #{head.seq}" if head.seq == checked + 1 else f"records #{checked + 1}..#{head.seq}"
        return f"{gone} deleted from the end of the log"
    if head.seq != checked or head.last_hash != last_hash:
        return "the chain head does not match the last record (altered)"
    if checked:
        seal = cipher.signature(head.key_id or "", _head_bytes(head.seq, head.last_hash))
        if seal is None or seal != head.head_mac:
            return "the chain head was altered (its seal does not match)"
    return None


def rechain(session: Session, cipher: DataCipher) -> int:
    """Re-encrypt every body and re-sign every record (and every purge) under the newest key, after
    verify passed. Used by key rotation; returns the number of records rewritten."""
    head = lock_head(session)
    tombstones = session.execute(
        select(ExchangeTombstone.chain_seq, ExchangeTombstone.record_hash).order_by(
            ExchangeTombstone.chain_seq
        )
    ).all()
    next_tombstone = 0
    prev_hash, last, count = GENESIS, -(2**31), 0
    while True:
        rows = session.scalars(
            select(Exchange).where(Exchange.chain_seq > last).order_by(Exchange.chain_seq).limit(2000)
        ).all()
        if not rows:
            break
        for record in rows:
            # A purged record's content is gone: the chain goes on from its hash.
            while next_tombstone < len(tombstones) and tombstones[next_tombstone][0] < record.chain_seq:
                prev_hash = tombstones[next_tombstone][1]
                next_tombstone += 1
            body = cipher.decrypt(record.body_enc)
            record.body_enc = cipher.rotate(record.body_enc)
            record.prev_hash = prev_hash
            record.key_id, record.record_hash = cipher.sign(
                _record_bytes(record.chain_seq, prev_hash, record, body)
            )
            prev_hash = record.record_hash
        session.flush()
        for record in rows:
            session.expunge(record)
        last, count = rows[-1].chain_seq, count + len(rows)
    if next_tombstone < len(tombstones):
        prev_hash = tombstones[-1][1]
    for purge in session.scalars(select(ChainPurge)):
        purge.key_id, purge.seal = cipher.sign(
            purge_bytes(purge.id, purge.cutoff, purge.records, purge.digest)
        )
    head.last_hash = prev_hash
    head.key_id, head.head_mac = cipher.sign(_head_bytes(head.seq, prev_hash))
    session.flush()
    return count
