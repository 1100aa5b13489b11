"""Import cases.csv: participants, their phone numbers, their cases and their part in each case.

participant_id,phone,language,case_id,role,county,next_due_date,amount_due
One row per participant per case. The whole file is checked first; one bad row imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import fields
from storage.bulk import ImportSummary, chunked, upsert_rows
from storage.crypto import DataCipher
from storage.csv_rows import CsvFile, ImportRejected, RowCheck, RowProblem, read_csv
from storage.models import Case, CaseMember, CaseRole, Language, Participant
from storage.phones import save_phones
from storage.progress import NoProgress, Progress

COLUMNS = (
    "participant_id",
    "phone",
    "language",
    "case_id",
    "role",
    "county",
    "next_due_date",
    "amount_due",
)


@dataclass(frozen=True)
class CaseRow:
    """One checked row of cases.csv."""

    line: int
    participant: str
    phone: str
    language: Language
    case_ref: str
    role: CaseRole
    county: str
    next_due_date: date | None
    amount_due: Decimal | None


def check_cases(csv_file: CsvFile, progress: Progress | None = None) -> list[CaseRow]:
    """Check every row and the rows against each other; raise ImportRejected naming every bad row."""
    progress = progress or NoProgress()
    progress.start(f"Checking {csv_file.source}", len(csv_file.rows))
    problems: list[RowProblem] = []
    good: list[CaseRow] = []
    first_language: dict[str, tuple[Language, int]] = {}
    phone_owner: dict[str, tuple[str, int]] = {}
    case_facts: dict[str, tuple[tuple[str, date | None, Decimal | None], int]] = {}
    member_role: dict[tuple[str, str], tuple[CaseRole, int]] = {}
    for index, row in enumerate(csv_file.rows, start=1):
        check = RowCheck(row)
        participant = check.get("participant_id", fields.parse_identifier, max_length=64)
        phone = check.get("phone", fields.parse_phone)
        language = check.get("language", fields.parse_choice, choices=Language)
        case_ref = check.get("case_id", fields.parse_identifier, max_length=32)
        role = check.get("role", fields.parse_choice, choices=CaseRole)
        county = check.get("county", fields.parse_text, max_length=64)
        due = check.get("next_due_date", fields.parse_date, optional=True)
        amount = check.get("amount_due", fields.parse_amount, optional=True)
        if participant and language:
            seen = first_language.setdefault(participant, (language, row.line))
            if seen[0] != language:
                check.fail("language", f"differs from line {seen[1]} for the same participant_id")
        if phone and participant:
            owner = phone_owner.setdefault(phone, (participant, row.line))
            if owner[0] != participant:
                check.fail("phone", f"is given for another participant_id on line {owner[1]}")
        if case_ref and county:
            facts = (county, due, amount)
            seen_facts = case_facts.setdefault(case_ref, (facts, row.line))
            if seen_facts[0] != facts:
                check.fail(
                    None,
                    f"county, next_due_date or amount_due differ from line {seen_facts[1]} for case_id",
                )
        if case_ref and participant and role:
            seen_role = member_role.setdefault((case_ref, participant), (role, row.line))
            if seen_role[0] != role:
                check.fail("role", f"differs from line {seen_role[1]} for the same participant and case")
        if check.ok:
            good.append(CaseRow(row.line, participant, phone, language, case_ref, role, county, due, amount))
        problems.extend(check.problems)
        if index % 1000 == 0:
            progress.advance(1000)
    progress.advance(len(csv_file.rows) % 1000)
    progress.finish()
    if problems:
        raise ImportRejected(csv_file.source, problems)
    return good


def write_cases(
    session: Session,
    rows: list[CaseRow],
    cipher: DataCipher,
    source: str,
    progress: Progress | None = None,
) -> ImportSummary:
    """Write checked rows; the caller's transaction makes it all or nothing."""
    progress = progress or NoProgress()
    participants = {(r.participant,): {"language": r.language.value} for r in rows}
    cases = {
        (r.case_ref,): {"county": r.county, "next_due_date": r.next_due_date, "amount_due": r.amount_due}
        for r in rows
    }
    phone_owners = {r.phone: r.participant for r in rows}
    members = {(r.case_ref, r.participant): r.role.value for r in rows}
    total = len(participants) + len(cases) + len(phone_owners) + len(members)
    progress.start(f"Writing {source}", total)
    summary = ImportSummary(source, len(rows))
    participant_ids, summary.counts["participants"] = upsert_rows(
        session, Participant, ("external_id",), participants, progress
    )
    case_ids, summary.counts["cases"] = upsert_rows(session, Case, ("case_ref",), cases, progress)
    owners = {phone: participant_ids[(participant,)] for phone, participant in phone_owners.items()}
    _, summary.counts["phone numbers"] = save_phones(session, cipher, owners, progress)
    member_rows = {
        (case_ids[(case_ref,)], participant_ids[(participant,)]): {"role": role}
        for (case_ref, participant), role in members.items()
    }
    _, summary.counts["case members"] = upsert_rows(
        session, CaseMember, ("case_id", "participant_id"), member_rows, progress
    )
    progress.finish()
    return summary


def import_cases(
    session: Session, path: str | Path, cipher: DataCipher, progress: Progress | None = None
) -> ImportSummary:
    """Check and import cases.csv; raises ImportRejected (and writes nothing) if any row is bad."""
    csv_file = read_csv(path, COLUMNS)
    rows = check_cases(csv_file, progress)
    return write_cases(session, rows, cipher, csv_file.source, progress)


def find_case_ids(session: Session, case_refs: set[str]) -> dict[str, int]:
    """The row id of each of these state case ids that is on file."""
    found: dict[str, int] = {}
    for chunk in chunked(sorted(case_refs)):
        for case_id, case_ref in session.execute(
            select(Case.id, Case.case_ref).where(Case.case_ref.in_(chunk))
        ):
            found[case_ref] = case_id
    return found
