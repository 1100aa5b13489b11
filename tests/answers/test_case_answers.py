"""storage.case_answers: what the answers may know of a case. A tax offset's payment is never returned;
`hidden_newer` says only that a newer payment exists that a text may not show. Real SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.appointment_import import import_appointments
from storage.case_answers import AppointmentFacts, PaymentFacts, cases_of, last_payments, next_appointments
from storage.case_import import find_case_ids, import_cases
from storage.crypto import DataCipher
from storage.database import Database
from storage.models import CaseRole, Participant
from storage.payment_import import import_payments

TODAY = date(2026, 3, 16)
WriteCsv = Callable[..., Path]


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


# One paying parent, one case per situation.
CASES = (
    "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
    "T-P1,919-555-0150,en,T-CASE-1001,noncustodial,Wake,2026-03-20,100.00",  # visible, then FTI newer
    "T-P1,919-555-0150,en,T-CASE-1002,noncustodial,Wake,2026-03-20,100.00",  # FTI only
    "T-P1,919-555-0150,en,T-CASE-1003,noncustodial,Wake,2026-03-20,100.00",  # FTI older than the newest
    "T-P1,919-555-0150,en,T-CASE-1004,noncustodial,Wake,,",  # no payment at all
    "T-P1,919-555-0150,en,T-CASE-1005,noncustodial,Wake,2026-03-20,100.00",  # state offset newest
    "T-P1,919-555-0150,en,T-CASE-1006,noncustodial,Wake,2026-03-20,100.00",  # two offsets, then visible
)
PAYMENTS = (
    "case_id,paid_on,amount,source",
    f"T-CASE-1001,{ago(30)},100.00,withholding",
    f"T-CASE-1001,{ago(10)},110.00,direct",
    f"T-CASE-1001,{ago(5)},1200.00,federal_tax_offset",
    f"T-CASE-1002,{ago(3)},900.00,federal_tax_offset",
    f"T-CASE-1003,{ago(40)},1500.00,federal_tax_offset",
    f"T-CASE-1003,{ago(2)},120.00,unemployment",
    f"T-CASE-1005,{ago(20)},130.00,other",
    f"T-CASE-1005,{ago(4)},700.00,state_tax_offset",
    f"T-CASE-1006,{ago(60)},140.00,withholding",
    f"T-CASE-1006,{ago(8)},800.00,state_tax_offset",
    f"T-CASE-1006,{ago(7)},950.00,federal_tax_offset",
)
OFFSETS = {(row.split(",")[1], Decimal(row.split(",")[2])) for row in PAYMENTS if "tax_offset" in row}


@pytest.fixture
def case_ids(database: Database, cipher: DataCipher, write_csv: WriteCsv) -> dict[str, int]:
    """The cases above, imported through the real importers; their row ids by case id."""
    with database.transaction() as session:
        import_cases(session, write_csv("cases.csv", *CASES), cipher)
        import_payments(session, write_csv("payments.csv", *PAYMENTS))
    with database.session() as session:
        return find_case_ids(session, {line.split(",")[3] for line in CASES[1:]})


def test_last_payments_never_returns_a_tax_offset(database: Database, case_ids: dict[str, int]) -> None:
    with database.session() as session:
        found = last_payments(session, list(case_ids.values()))
    by_ref = {ref: found[case_id] for ref, case_id in case_ids.items()}
    assert by_ref == {
        # The newest payment that may be shown, and that a newer one exists.
        "T-CASE-1001": PaymentFacts(date.fromisoformat(ago(10)), Decimal("110.00"), True),
        # Only an offset: nothing to show, but something exists.
        "T-CASE-1002": PaymentFacts(None, None, True),
        # An older offset hides nothing newer.
        "T-CASE-1003": PaymentFacts(date.fromisoformat(ago(2)), Decimal("120.00"), False),
        # Nothing at all: nothing hidden either.
        "T-CASE-1004": PaymentFacts(None, None, False),
        # State offsets are held back as federal ones are (COMPLIANCE.md).
        "T-CASE-1005": PaymentFacts(date.fromisoformat(ago(20)), Decimal("130.00"), True),
        "T-CASE-1006": PaymentFacts(date.fromisoformat(ago(60)), Decimal("140.00"), True),
    }
    for facts in found.values():
        assert (facts.paid_on and facts.paid_on.isoformat(), facts.amount) not in OFFSETS


def test_last_payments_of_some_cases_only(database: Database, case_ids: dict[str, int]) -> None:
    with database.session() as session:
        assert last_payments(session, [case_ids["T-CASE-1002"]]) == {
            case_ids["T-CASE-1002"]: PaymentFacts(None, None, True)
        }
        assert last_payments(session, []) == {}


def test_cases_of_a_participant_by_their_last_4_digits(database: Database, case_ids: dict[str, int]) -> None:
    with database.session() as session:
        participant = session.scalar(select(Participant.id).where(Participant.external_id == "T-P1"))
        cases = cases_of(session, participant)
    assert [case.last4 for case in cases] == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert {case.role for case in cases} == {CaseRole.NONCUSTODIAL}
    assert cases[0].next_due_date == date(2026, 3, 20) and cases[3].next_due_date is None


def test_next_appointments_skip_cancelled_and_past_ones_and_keep_the_offices_time(
    database: Database, case_ids: dict[str, int], write_csv: WriteCsv
) -> None:
    now = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
    with database.transaction() as session:
        import_appointments(
            session,
            write_csv(
                "appointments.csv",
                "case_id,appointment_id,kind,starts_at,office,status",
                "T-CASE-1001,T-A1,hearing,2026-03-16T09:00:00-05:00,Past Office,scheduled",  # 14:00 UTC: past
                "T-CASE-1001,T-A2,appointment,2026-03-17T09:00:00-05:00,Cancelled Office,cancelled",
                "T-CASE-1001,T-A3,mediation,2026-03-20T08:30:00-07:00,Mountain Office,scheduled",
                "T-CASE-1001,T-A4,hearing,2026-03-25T10:00:00-05:00,Later Office,scheduled",
                "T-CASE-1002,T-B1,appointment,2026-03-18T09:00:00-05:00,Cancelled Office,cancelled",
            ),
        )
    with database.session() as session:
        found = next_appointments(session, list(case_ids.values()), now=now)
    assert list(found) == [case_ids["T-CASE-1001"]]
    soonest = found[case_ids["T-CASE-1001"]]
    assert soonest == AppointmentFacts("mediation", soonest.starts_at, "Mountain Office")
    # The office's own clock: 08:30 at -07:00.
    assert (soonest.starts_at.hour, soonest.starts_at.minute) == (8, 30)
    assert soonest.starts_at.utcoffset() == timedelta(hours=-7)
    assert soonest.starts_at == datetime(2026, 3, 20, 15, 30, tzinfo=UTC)
