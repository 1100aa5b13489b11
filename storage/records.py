"""Records requests: one number's full history, or every message in a date range, decrypted, with the
exchange log's hash-chain check, as JSON or CSV.

The chain check covers the whole log (a deleted or altered record anywhere would make any part of it
doubtful), so an export's result says whether the log it was taken from is intact.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import exchange_log
from storage.crypto import DataCipher
from storage.exchange_log import ChainReport
from storage.models import ConsentEvent, Exchange, PhoneNumber, utcnow

FORMATS = ("json", "csv")
MESSAGE_FIELDS = (
    "seq",
    "occurred_at",
    "direction",
    "phone",
    "body",
    "intent",
    "template_id",
    "consent_state",
    "delivery_status",
    "blocked_reason",
    "message_sid",
    "record_hash",
)
CONSENT_FIELDS = ("occurred_at", "phone", "kind", "channel", "evidence", "recorded_at")
CSV_COLUMNS = ("record", *MESSAGE_FIELDS, "kind", "channel", "evidence", "recorded_at")
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
UNTRUSTED = frozenset({"body", "evidence"})  # text that came from outside: a texter or an import
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Records:
    """What an export holds."""

    scope: dict[str, str]
    chain: ChainReport
    generated_at: datetime = field(default_factory=utcnow)
    messages: list[dict[str, Any]] = field(default_factory=list)
    consent_events: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the access log (no personal data)."""
        chain = "intact" if self.chain.ok else "NOT intact"
        return f"{len(self.messages)} messages, {len(self.consent_events)} consent events, chain {chain}"


class _Numbers:
    """Decrypts each phone number once per export."""

    def __init__(self, session: Session, cipher: DataCipher) -> None:
        self._session, self._cipher = session, cipher
        self._known: dict[int, str] = {}

    def __call__(self, phone_id: int) -> str:
        if phone_id not in self._known:
            encrypted = self._session.scalar(select(PhoneNumber.number_enc).where(PhoneNumber.id == phone_id))
            self._known[phone_id] = self._cipher.decrypt(encrypted) if encrypted else ""
        return self._known[phone_id]


def _message(record: Exchange, cipher: DataCipher, phone: str) -> dict[str, Any]:
    return {
        "seq": record.chain_seq,
        "occurred_at": record.occurred_at.isoformat(),
        "direction": record.direction,
        "phone": phone,
        "body": cipher.decrypt(record.body_enc),
        "intent": record.intent,
        "template_id": record.template_id,
        "consent_state": record.consent_state,
        "delivery_status": record.delivery_status,
        "blocked_reason": record.blocked_reason,
        "message_sid": record.message_sid,
        "record_hash": record.record_hash,
    }


def _consent(event: ConsentEvent, phone: str) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "phone": phone,
        "kind": event.kind,
        "channel": event.channel,
        "evidence": event.evidence,
        "recorded_at": event.recorded_at.isoformat(),
    }


def for_phone(session: Session, cipher: DataCipher, phone_id: int) -> Records:
    """Everything on file for one number: every message, every consent event."""
    numbers = _Numbers(session, cipher)
    phone = numbers(phone_id)
    records = Records({"phone_number_id": str(phone_id)}, exchange_log.verify(session, cipher))
    query = select(Exchange).where(Exchange.phone_number_id == phone_id)
    records.messages = [_message(r, cipher, phone) for r in exchange_log.batched_records(session, query)]
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.phone_number_id == phone_id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    )
    records.consent_events = [_consent(e, phone) for e in events]
    return records


def day_range(since: date, until: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of `since` to the end of `until` (both days included)."""
    start = datetime.combine(since, time(), tzinfo=UTC)
    if until == date.max:  # no day after it: the range ends with the last datetime there is
        return start, datetime.max.replace(tzinfo=UTC)
    return start, datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)


def for_range(session: Session, cipher: DataCipher, since: date, until: date) -> Records:
    """Every message and consent event from the start of `since` to the end of `until` (UTC days)."""
    start, end = day_range(since, until)
    numbers = _Numbers(session, cipher)
    records = Records(
        {"since": since.isoformat(), "until": until.isoformat()}, exchange_log.verify(session, cipher)
    )
    query = select(Exchange).where(Exchange.occurred_at >= start, Exchange.occurred_at < end)
    records.messages = [
        _message(r, cipher, numbers(r.phone_number_id)) for r in exchange_log.batched_records(session, query)
    ]
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.occurred_at >= start, ConsentEvent.occurred_at < end)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    )
    records.consent_events = [_consent(e, numbers(e.phone_number_id)) for e in events]
    return records


def _chain(report: ChainReport) -> dict[str, Any]:
    return {"intact": report.ok, "records_checked": report.checked, "problem": report.problem}


def to_json(records: Records) -> str:
    """The export as one JSON document."""
    document = {
        "generated_at": records.generated_at.isoformat(),
        "scope": records.scope,
        "hash_chain": _chain(records.chain),
        "messages": records.messages,
        "consent_events": records.consent_events,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _cell(value: Any, column: str) -> str:
    text = "" if value is None else str(value)
    if column not in UNTRUSTED:
        return text
    # A leading apostrophe keeps a spreadsheet from running it; JSON exports keep the exact text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(records: Records) -> str:
    """The export as CSV: a first row with the chain check, then messages, then consent events.

    The `record` column says which kind each row is; a message body or evidence that a spreadsheet
    would run as a formula starts with an apostrophe.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    chain = records.chain
    verdict = (
        f"intact: {chain.checked} records checked"
        if chain.ok
        else f"NOT intact: {chain.problem} ({chain.checked} records good before it)"
    )
    writer.writerow(["hash_chain", *([""] * 4), verdict, *([""] * (len(CSV_COLUMNS) - 6))])
    for message in records.messages:
        writer.writerow(["message", *(_cell(message[k], k) for k in MESSAGE_FIELDS), "", "", "", ""])
    for event in records.consent_events:
        row = {"record": "consent_event", **event}
        writer.writerow([_cell(row.get(column), column) for column in CSV_COLUMNS])
    return out.getvalue()


def render(records: Records, fmt: str) -> str:
    """The export in `fmt` (json or csv)."""
    if fmt == "json":
        return to_json(records)
    if fmt == "csv":
        return to_csv(records)
    raise ValueError(f"format must be json or csv, not {fmt!r}")
