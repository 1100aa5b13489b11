"""Fixture data for outbound notices: a small caseload loaded through the real importers, dated from TODAY."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from storage.models import OutboundMessage

# Payments may not be dated in the future, so the caseload is dated from the real day; commands run with --today.
TODAY = date.today()
PAYER = "+19195550201"  # noncustodial, English, web opt-in; CASE-10001 due TODAY+3
RECEIVER = "+19195550202"  # custodial on CASE-10001, Spanish, IVR opt-in
OPTED_OUT = "+19195550203"  # payer, web opt-in then STOP
NEVER = "+19195550204"  # payer, never opted in
UNVERIFIED = "+19195550205"  # payer, opted in by SMS only
MISSED = "+19195550206"  # payer, due yesterday, nothing paid
PAID = "+19195550207"  # payer, due yesterday, paid 5 days before


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def caseload() -> dict[str, list[str]]:
    return {
        "cases.csv": [
            "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
            f"P1,919-555-0201,en,CASE-10001,noncustodial,Wake,{day(3)},350.00",
            f"P2,919-555-0202,es,CASE-10001,custodial,Wake,{day(3)},350.00",
            f"P3,919-555-0203,en,CASE-10002,noncustodial,Wake,{day(3)},100.00",
            f"P4,919-555-0204,en,CASE-10003,noncustodial,Wake,{day(3)},100.00",
            f"P5,919-555-0205,en,CASE-10004,noncustodial,Wake,{day(3)},100.00",
            f"P6,919-555-0206,en,CASE-10005,noncustodial,Wake,{day(-1)},100.00",
            f"P7,919-555-0207,en,CASE-10006,noncustodial,Wake,{day(-1)},100.00",
        ],
        "consent.csv": [
            "phone,status,method,recorded_at,reference",
            "919-555-0201,opted_in,web,2026-01-05T10:00:00-05:00,W1",
            "919-555-0202,opted_in,ivr,2026-01-05T10:00:00-05:00,I2",
            "919-555-0203,opted_in,web,2026-01-05T10:00:00-05:00,W3",
            "919-555-0203,opted_out,sms,2026-02-05T10:00:00-05:00,S3",
            "919-555-0205,opted_in,sms,2026-01-05T10:00:00-05:00,S5",
            "919-555-0206,opted_in,web,2026-01-05T10:00:00-05:00,W6",
            "919-555-0207,opted_in,technician,2026-01-05T10:00:00-05:00,T7",
        ],
        "payments.csv": [
            "case_id,paid_on,amount,source",
            f"CASE-10001,{day(-1)},350.00,withholding",
            f"CASE-10001,{day(-1)},900.00,federal_tax_offset",
            f"CASE-10002,{day(-1)},100.00,state_tax_offset",
            f"CASE-10006,{day(-5)},100.00,direct",
        ],
        "appointments.csv": [
            "case_id,appointment_id,kind,starts_at,office,status",
            f"CASE-10001,A-1,hearing,{day(7)}T14:00:00-05:00,Wake County Courthouse,scheduled",
            f"CASE-10005,A-2,appointment,{day(3)}T09:00:00-05:00,Wake Child Support Office,cancelled",
        ],
    }


def load_caseload(app: Flask, folder: Path, files: dict[str, list[str]] | None = None) -> None:
    """Import the files through the operators' commands, in dependency order."""
    runner = app.test_cli_runner()
    files = files or caseload()
    for name, command in (
        ("cases.csv", "import-cases"),
        ("consent.csv", "import-consent"),
        ("payments.csv", "import-payments"),
        ("appointments.csv", "import-appointments"),
    ):
        if name in files:
            path = folder / name
            path.write_text("\n".join(files[name]) + "\n", encoding="utf-8")
            result = runner.invoke(args=[command, str(path)])
            assert result.exit_code == 0, result.output


def outbox_rows(app: Flask) -> list[OutboundMessage]:
    with app.extensions["database"].session() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        session.expunge_all()
        return list(rows)


@pytest.fixture
def loaded_app(app: Flask, tmp_path: Path) -> Flask:
    load_caseload(app, tmp_path)
    return app
