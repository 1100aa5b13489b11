"""Import payments.csv: payments posted to cases already on file.

case_id,paid_on,amount,source      source: withholding|direct|federal_tax_offset|state_tax_offset|
                                           unemployment|other
Identical rows are separate payments (two withholdings on one day); re-importing the file adds nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from storage import fields
from storage.bulk import ImportSummary, upsert_rows
from storage.case_import import find_case_ids
from storage.csv_rows import CsvFile, ImportRejected, RowCheck, RowProblem, read_csv
from storage.models import Payment, PaymentSource, utcnow
from storage.progress import NoProgress, Progress

COLUMNS = ("case_id", "paid_on", "amount", "source")


@dataclass(frozen=True)
class PaymentRow:
    """One checked row of payments.csv, with its case's row id."""

    line: int
    case_id: int
    paid_on: date
    amount: Decimal
    source: PaymentSource


def check_payments(csv_file: CsvFile, known_cases: dict[str, int]) -> list[PaymentRow]:
    """Check every row; raise ImportRejected naming every bad row."""
    today = utcnow().date()
    problems: list[RowProblem] = []
    good: list[PaymentRow] = []
    for row in csv_file.rows:
        check = RowCheck(row)
        case_ref = check.get("case_id", fields.parse_identifier, max_length=32)
        paid_on = check.get("paid_on", fields.parse_date)
        amount = check.get("amount", fields.parse_amount, positive=True)
        source = check.get("source", fields.parse_choice, choices=PaymentSource)
        if case_ref and case_ref not in known_cases:
            check.fail("case_id", "is not a case on file (import cases.csv first)")
        # A day's slack: the export may be written in a time zone ahead of UTC.
        if paid_on and (paid_on - today).days > 1:
            check.fail("paid_on", f"{paid_on.isoformat()} is in the future")
        if check.ok:
            good.append(PaymentRow(row.line, known_cases[case_ref], paid_on, amount, source))
        problems.extend(check.problems)
    if problems:
        raise ImportRejected(csv_file.source, problems)
    return good


def import_payments(session: Session, path: str | Path, progress: Progress | None = None) -> ImportSummary:
    """Check and import payments.csv; raises ImportRejected (and writes nothing) if any row is bad."""
    progress = progress or NoProgress()
    csv_file = read_csv(path, COLUMNS)
    refs = {row.values["case_id"].strip() for row in csv_file.rows}
    rows = check_payments(csv_file, find_case_ids(session, refs))
    seen: Counter[tuple[int, date, Decimal, str]] = Counter()
    desired: dict[tuple[object, ...], dict[str, object]] = {}
    for row in rows:
        identity = (row.case_id, row.paid_on, row.amount, row.source.value)
        seen[identity] += 1
        desired[(*identity, seen[identity])] = {}
    progress.start(f"Writing {csv_file.source}", len(desired))
    summary = ImportSummary(csv_file.source, len(rows))
    _, summary.counts["payments"] = upsert_rows(
        session, Payment, ("case_id", "paid_on", "amount", "source", "seq"), desired, progress
    )
    progress.finish()
    return summary
