"""Import consent.csv: opt-ins and opt-outs recorded by the agency's other channels.

phone,status,method,recorded_at,reference   status: opted_in|opted_out;
                                            method: web|ivr|sdu_phone|technician|sms
Each row becomes one event in the append-only consent ledger; re-importing a row adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage import fields
from storage.bulk import Counts, ImportSummary, chunked
from storage.crypto import DataCipher
from storage.csv_rows import CsvFile, ImportRejected, RowCheck, RowProblem, read_csv
from storage.models import ConsentChannel, ConsentEvent, ConsentKind, utcnow
from storage.phones import KEEP_OWNER, save_phones
from storage.progress import NoProgress, Progress

COLUMNS = ("phone", "status", "method", "recorded_at", "reference")


class ConsentStatus(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"


class ConsentMethod(StrEnum):
    WEB = "web"
    IVR = "ivr"
    SDU_PHONE = "sdu_phone"
    TECHNICIAN = "technician"
    SMS = "sms"


KIND = {ConsentStatus.OPTED_IN: ConsentKind.OPT_IN, ConsentStatus.OPTED_OUT: ConsentKind.OPT_OUT}


@dataclass(frozen=True)
class ConsentRow:
    """One checked row of consent.csv."""

    line: int
    phone: str
    status: ConsentStatus
    method: ConsentMethod
    recorded_at: datetime
    reference: str


def check_consent(csv_file: CsvFile) -> list[ConsentRow]:
    """Check every row; raise ImportRejected naming every bad row."""
    latest = utcnow() + timedelta(minutes=5)  # a little clock skew between systems is normal
    problems: list[RowProblem] = []
    good: list[ConsentRow] = []
    for row in csv_file.rows:
        check = RowCheck(row)
        phone = check.get("phone", fields.parse_phone)
        status = check.get("status", fields.parse_choice, choices=ConsentStatus)
        method = check.get("method", fields.parse_choice, choices=ConsentMethod)
        recorded_at = check.get("recorded_at", fields.parse_timestamp)
        reference = check.get("reference", fields.parse_text, max_length=128)
        if recorded_at and recorded_at > latest:
            check.fail("recorded_at", f"{recorded_at.isoformat()} is in the future")
        if check.ok:
            good.append(ConsentRow(row.line, phone, status, method, recorded_at, reference))
        problems.extend(check.problems)
    if problems:
        raise ImportRejected(csv_file.source, problems)
    return good


def _dedupe_key(phone_id: int, row: ConsentRow) -> str:
    # Keyed on the phone's row id, not its hash, so the key survives a DATA_KEYS rotation.
    when = row.recorded_at.astimezone(UTC).isoformat()
    identity = f"import|{phone_id}|{row.status.value}|{row.method.value}|{when}|{row.reference}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def import_consent(
    session: Session, path: str | Path, cipher: DataCipher, progress: Progress | None = None
) -> ImportSummary:
    """Check and import consent.csv; raises ImportRejected (and writes nothing) if any row is bad."""
    progress = progress or NoProgress()
    csv_file = read_csv(path, COLUMNS)
    rows = check_consent(csv_file)
    progress.start(f"Writing {csv_file.source}", 2 * len(rows))
    summary = ImportSummary(csv_file.source, len(rows))
    phone_ids, summary.counts["phone numbers"] = save_phones(
        session, cipher, dict.fromkeys((row.phone for row in rows), KEEP_OWNER), progress
    )
    events = {}
    for row in rows:
        key = _dedupe_key(phone_ids[row.phone], row)
        events[key] = {
            "phone_number_id": phone_ids[row.phone],
            "kind": KIND[row.status].value,
            "channel": ConsentChannel(row.method.value).value,
            "occurred_at": row.recorded_at.astimezone(UTC),
            "evidence": row.reference,
            "dedupe_key": key,
        }
    existing: set[str] = set()
    for chunk in chunked(list(events)):
        existing.update(
            session.scalars(select(ConsentEvent.dedupe_key).where(ConsentEvent.dedupe_key.in_(chunk)))
        )
    new = [event for key, event in events.items() if key not in existing]
    for chunk in chunked(new):
        session.execute(insert(ConsentEvent), list(chunk))
    progress.advance(len(rows))
    progress.finish()
    summary.counts["consent events"] = Counts(created=len(new), unchanged=len(events) - len(new))
    return summary
