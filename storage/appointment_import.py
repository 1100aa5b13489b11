"""Import appointments.csv: hearings and appointments on cases already on file.

case_id,appointment_id,kind,starts_at,office,status
kind: hearing|appointment|genetic_testing|mediation; starts_at: ISO 8601 with the office's UTC offset;
status: scheduled|cancelled. Re-importing an appointment_id updates it (a reschedule or a cancellation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from storage import fields
from storage.bulk import ImportSummary, upsert_rows
from storage.case_import import find_case_ids
from storage.csv_rows import CsvFile, ImportRejected, RowCheck, RowProblem, read_csv
from storage.models import Appointment, AppointmentKind, AppointmentStatus
from storage.progress import NoProgress, Progress

COLUMNS = ("case_id", "appointment_id", "kind", "starts_at", "office", "status")


@dataclass(frozen=True)
class AppointmentRow:
    """One checked row of appointments.csv."""

    line: int
    appointment_id: str
    case_id: int
    kind: AppointmentKind
    starts_at: datetime
    office: str
    status: AppointmentStatus


def check_appointments(csv_file: CsvFile, known_cases: dict[str, int]) -> list[AppointmentRow]:
    """Check every row; raise ImportRejected naming every bad row."""
    problems: list[RowProblem] = []
    good: list[AppointmentRow] = []
    first_line: dict[str, tuple[tuple[object, ...], int]] = {}
    for row in csv_file.rows:
        check = RowCheck(row)
        case_ref = check.get("case_id", fields.parse_identifier, max_length=32)
        appointment_id = check.get("appointment_id", fields.parse_identifier, max_length=64)
        kind = check.get("kind", fields.parse_choice, choices=AppointmentKind)
        starts_at = check.get("starts_at", fields.parse_timestamp)
        office = check.get("office", fields.parse_text, max_length=128)
        status = check.get("status", fields.parse_choice, choices=AppointmentStatus)
        if case_ref and case_ref not in known_cases:
            check.fail("case_id", "is not a case on file (import cases.csv first)")
        if check.ok:
            record = AppointmentRow(
                row.line, appointment_id, known_cases[case_ref], kind, starts_at, office, status
            )
            # The offset is part of the details: it sets the office-local time in reminders.
            facts = (record.case_id, kind, starts_at, starts_at.utcoffset(), office, status)
            seen = first_line.setdefault(appointment_id, (facts, row.line))
            if seen[0] != facts:
                check.fail("appointment_id", f"appears on line {seen[1]} with other details")
            else:
                good.append(record)
        problems.extend(check.problems)
    if problems:
        raise ImportRejected(csv_file.source, problems)
    return good


def import_appointments(
    session: Session, path: str | Path, progress: Progress | None = None
) -> ImportSummary:
    """Check and import appointments.csv; raises ImportRejected (and writes nothing) if any row is bad."""
    progress = progress or NoProgress()
    csv_file = read_csv(path, COLUMNS)
    refs = {row.values["case_id"].strip() for row in csv_file.rows}
    rows = check_appointments(csv_file, find_case_ids(session, refs))
    desired = {
        (row.appointment_id,): {
            "case_id": row.case_id,
            "kind": row.kind.value,
            "starts_at": row.starts_at.astimezone(UTC),
            "utc_offset_minutes": int(row.starts_at.utcoffset().total_seconds() // 60),
            "office": row.office,
            "status": row.status.value,
        }
        for row in rows
    }
    progress.start(f"Writing {csv_file.source}", len(desired))
    summary = ImportSummary(csv_file.source, len(rows))
    _, summary.counts["appointments"] = upsert_rows(session, Appointment, ("external_id",), desired, progress)
    progress.finish()
    return summary
