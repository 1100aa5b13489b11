"""Fixture data for outbound notices: a small caseload loaded through the real importers, dated from TODAY."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

import twilio_fake
from bot import create_app
from bot.outbound import service
from storage.models import OutboundMessage
from tests.conftest import app_settings

# Payments may not be dated in the future: the caseload is dated from the real day; commands use --today.
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


# ---- a live app (real HTTP, so the Twilio fake can post status callbacks to it) ------------------------
TOKEN = "test-auth-token"  # tests/conftest.py app_settings' TWILIO_AUTH_TOKEN
EASTERN = ZoneInfo("America/New_York")


def next_local(hour: int, minute: int = 0, zone: ZoneInfo = EASTERN) -> datetime:
    """The next moment after now when it is hour:minute in the zone (as a UTC datetime)."""
    now = datetime.now(zone)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment <= now:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)


@pytest.fixture
def fake() -> Iterator[twilio_fake.FakeTwilio]:
    """The local Twilio REST server, speaking with the app's account and auth token."""
    with twilio_fake.serve(auth_token=TOKEN) as running:
        yield running


@contextlib.contextmanager
def serve_app(database_url: str, fake: twilio_fake.FakeTwilio, **settings: str) -> Iterator[Flask]:
    """An app on a real local HTTP server; PUBLIC_BASE_URL is that server, TWILIO_API_URL the fake."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    application = create_app(
        app_settings(
            database_url,
            PUBLIC_BASE_URL=f"http://127.0.0.1:{server.port}",
            TWILIO_API_URL=fake.url,
            TWILIO_ACCOUNT_SID=fake.account_sid,
            TWILIO_FROM="+15005550006",
            **settings,
        )
    )
    holder["app"] = application
    try:
        yield application
    finally:
        server.shutdown()
        thread.join()
        application.extensions["database"].dispose()


@pytest.fixture
def live_app(database_url: str, fake: twilio_fake.FakeTwilio, tmp_path: Path) -> Iterator[Flask]:
    """A live app with the caseload loaded, sending inline (no REDIS_URL), its clock at noon Eastern."""
    with serve_app(database_url, fake) as application:
        load_caseload(application, tmp_path)
        set_clock(application, next_local(12))
        yield application


def set_clock(app: Flask, moment: datetime) -> None:
    """What the courier takes for now (quiet hours, due times, backoff)."""
    with app.app_context():
        service.courier().clock = lambda: moment
