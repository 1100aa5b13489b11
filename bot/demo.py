"""Fictional demo data: enough participants, cases, payments and consent to try every reply.

Numbers are in the 555-0100..0199 range reserved for fiction; ids start with DEMO.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.appointment_import import import_appointments
from storage.bulk import ImportSummary
from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.crypto import DataCipher
from storage.models import Participant
from storage.payment_import import import_payments

# Who is who, for the README and for `make run`'s hints.
PEOPLE = (
    ("+19195550101", "English, custodial parent, one case, opted in on the web (verified)"),
    ("+19195550102", "English, paying parent on two cases, opted in by IVR (verified)"),
    ("+19195550103", "Spanish, custodial parent, opted in by a technician (verified)"),
    ("+19195550104", "Spanish, paying parent, a federal tax offset on the case, verified"),
    ("+19195550105", "English, opted in on the web, then texted STOP (opted out)"),
    ("+19195550106", "English, opted in by texting START only (not verified)"),
    ("+19195550107", "English, on file but never opted in"),
)


def _cases(today: date) -> str:
    due1, due2, due3 = (today + timedelta(days=d) for d in (5, 12, 20))
    return "\n".join(
        [
            "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
            f"DEMO-P01,919-555-0101,en,DEMO-100234,custodial,Wake,{due1},350.00",
            f"DEMO-P02,919-555-0102,en,DEMO-100234,noncustodial,Wake,{due1},350.00",
            f"DEMO-P02,919-555-0102,en,DEMO-100871,noncustodial,Durham,{due2},125.50",
            f"DEMO-P03,919-555-0103,es,DEMO-100871,custodial,Durham,{due2},125.50",
            f"DEMO-P04,919-555-0104,es,DEMO-200456,noncustodial,Johnston,{due3},410.00",
            f"DEMO-P05,919-555-0105,en,DEMO-300117,custodial,Wake,{due1},200.00",
            f"DEMO-P06,919-555-0106,en,DEMO-300118,noncustodial,Orange,{due2},90.00",
            f"DEMO-P07,919-555-0107,en,DEMO-300119,custodial,Wake,{due3},275.00",
            "",
        ]
    )


def _payments(today: date) -> str:
    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    return "\n".join(
        [
            "case_id,paid_on,amount,source",
            f"DEMO-100234,{ago(40)},350.00,withholding",
            f"DEMO-100234,{ago(10)},350.00,withholding",
            f"DEMO-100871,{ago(15)},125.50,direct",
            f"DEMO-200456,{ago(30)},410.00,state_tax_offset",
            f"DEMO-200456,{ago(6)},1200.00,federal_tax_offset",
            f"DEMO-300117,{ago(20)},200.00,unemployment",
            "",
        ]
    )


def _appointments(today: date) -> str:
    def at(days: int, clock: str) -> str:
        return f"{(today + timedelta(days=days)).isoformat()}T{clock}-05:00"

    return "\n".join(
        [
            "case_id,appointment_id,kind,starts_at,office,status",
            f"DEMO-100234,DEMO-A1,hearing,{at(10, '09:30:00')},Wake County Courthouse,scheduled",
            f"DEMO-100871,DEMO-A2,appointment,{at(4, '14:00:00')},Durham Child Support Office,cancelled",
            f"DEMO-100871,DEMO-A3,mediation,{at(14, '10:00:00')},Durham Child Support Office,scheduled",
            f"DEMO-200456,DEMO-A4,genetic_testing,{at(3, '08:15:00')},Johnston County Health Dept,scheduled",
            "",
        ]
    )


CONSENT = "\n".join(
    [
        "phone,status,method,recorded_at,reference",
        "919-555-0101,opted_in,web,2026-01-05T10:00:00-05:00,DEMO-WEB-0001",
        "919-555-0102,opted_in,ivr,2026-01-06T11:30:00-05:00,DEMO-IVR-0002",
        "919-555-0103,opted_in,technician,2026-01-07T09:15:00-05:00,DEMO-TECH-0003",
        "919-555-0104,opted_in,sdu_phone,2026-01-08T16:45:00-05:00,DEMO-SDU-0004",
        "919-555-0105,opted_in,web,2026-01-09T08:00:00-05:00,DEMO-WEB-0005",
        "919-555-0105,opted_out,sms,2026-02-01T19:20:00-05:00,DEMO-SMS-0005",
        "919-555-0106,opted_in,sms,2026-01-10T12:00:00-05:00,DEMO-SMS-0006",
        "",
    ]
)


def is_loaded(session: Session) -> bool:
    """True when the demo participants are already in the database."""
    return session.scalar(select(Participant.id).where(Participant.external_id == "DEMO-P01")) is not None


def load(session: Session, cipher: DataCipher, today: date | None = None) -> list[ImportSummary]:
    """Import the demo files through the real importers (so the demo is checked like real data)."""
    today = today or date.today()
    with tempfile.TemporaryDirectory(prefix="demo-") as folder:
        files = {
            name: Path(folder, name)
            for name in ("cases.csv", "payments.csv", "appointments.csv", "consent.csv")
        }
        files["cases.csv"].write_text(_cases(today))
        files["payments.csv"].write_text(_payments(today))
        files["appointments.csv"].write_text(_appointments(today))
        files["consent.csv"].write_text(CONSENT)
        return [
            import_cases(session, files["cases.csv"], cipher),
            import_payments(session, files["payments.csv"]),
            import_appointments(session, files["appointments.csv"]),
            import_consent(session, files["consent.csv"], cipher),
        ]


def describe() -> str:
    """The demo numbers and what each one shows."""
    return "Demo numbers:\n" + "\n".join(f"  {number}  {what}" for number, what in PEOPLE)
