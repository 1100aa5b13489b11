"""Fuzzing the CSV importers: any file either imports or is refused row by row, and a refused file
changes nothing."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.appointment_import import import_appointments
from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.crypto import DataCipher
from storage.csv_rows import ImportRejected
from storage.database import Database
from storage.models import Appointment, Case, ConsentEvent, Participant, Payment, PhoneNumber
from storage.payment_import import import_payments

# Every refusal line names the file, then the line (or the file), then the field where there is one.
PROBLEM = re.compile(r"^(cases|payments|consent|appointments)\.csv (line \d+|file)(, [a-z_]+)?: \S.*$")

cells = {
    "participant_id": st.one_of(st.from_regex(r"P[0-9]{1,3}", fullmatch=True), st.text(max_size=8)),
    "phone": st.one_of(st.from_regex(r"919-555-0[0-9]{3}", fullmatch=True), st.text(max_size=14)),
    "language": st.sampled_from(["en", "es", "EN", "fr", ""]),
    "case_id": st.one_of(st.from_regex(r"C-[0-9]{4,6}", fullmatch=True), st.text(max_size=10)),
    "role": st.sampled_from(["custodial", "noncustodial", "parent", ""]),
    "county": st.one_of(st.just("Wake"), st.text(max_size=10)),
    "next_due_date": st.one_of(st.dates().map(str), st.just(""), st.text(max_size=10)),
    "amount_due": st.one_of(st.decimals(-10, 10**6, places=2).map(str), st.just(""), st.text(max_size=6)),
    "paid_on": st.one_of(
        st.dates(max_value=date(2025, 12, 31)).map(str), st.text(max_size=10)
    ),
    "amount": st.one_of(st.decimals(0, 10**5, places=2).map(str), st.text(max_size=6)),
    "source": st.sampled_from(["withholding", "federal_tax_offset", "state_tax_offset", "gift", ""]),
    "status": st.sampled_from(["opted_in", "opted_out", "scheduled", "cancelled", "maybe"]),
    "method": st.sampled_from(["web", "ivr", "sdu_phone", "technician", "sms", "fax"]),
    "recorded_at": st.one_of(
        st.just("2026-01-05T10:00:00-05:00"), st.datetimes().map(str), st.text(max_size=8)
    ),
    "reference": st.text(max_size=20),
    "appointment_id": st.one_of(st.from_regex(r"A-[0-9]{1,4}", fullmatch=True), st.text(max_size=6)),
    "kind": st.sampled_from(["hearing", "appointment", "genetic_testing", "mediation", "party"]),
    "starts_at": st.one_of(
        st.just("2027-01-05T09:30:00-05:00"), st.datetimes().map(str), st.text(max_size=8)
    ),
    "office": st.text(max_size=30),
}
FILES = {
    "cases.csv": (
        import_cases,
        True,
        "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
    ),
    "payments.csv": (import_payments, False, "case_id,paid_on,amount,source"),
    "consent.csv": (import_consent, True, "phone,status,method,recorded_at,reference"),
    "appointments.csv": (import_appointments, False, "case_id,appointment_id,kind,starts_at,office,status"),
}


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def table_counts(database: Database) -> tuple[int, ...]:
    with database.session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Participant, PhoneNumber, Case, Payment, ConsentEvent, Appointment)
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", sorted(FILES))
@given(data=st.data())
def test_any_file_imports_or_is_refused_row_by_row(
    database: Database, cipher: DataCipher, tmp_path: Path, name: str, data: st.DataObject
) -> None:
    work, needs_cipher, header = FILES[name]
    columns = header.split(",")
    rows = data.draw(st.lists(st.fixed_dictionaries({c: cells[c] for c in columns}), max_size=6))
    path = tmp_path / name
    lines = [header] + [",".join(csv_cell(row[c]) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = table_counts(database)
    try:
        with database.transaction() as session:
            args = (session, path, cipher) if needs_cipher else (session, path)
            work(*args)
    except ImportRejected as exc:
        report = exc.report()
        assert report and all(PROBLEM.match(line) for line in report), report
        assert table_counts(database) == before
        # No phone is repeated back, unless another cell (shown to find the mistake) holds its text too.
        others = [cell for row in rows for column, cell in row.items() if column != "phone"]
        phones = [row["phone"] for row in rows if len(row.get("phone", "")) >= 7]
        assert not any(
            phone in line for phone in phones if not any(phone in cell for cell in others) for line in report
        )
