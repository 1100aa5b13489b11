"""Shared pieces for tests through the real /webhooks/sms route: demo data, signed requests, TwiML.

Requests are built from the field set Twilio really posts (../shared/samples/twilio-inbound-sms.json,
copied below so the tests do not depend on a file outside the repository) and signed with the twilio
library's own RequestValidator, never with the code under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from bot import create_app, demo
from consent import ledger
from storage.database import Database
from storage.exchange_log import GENESIS, HEAD_ID
from storage.models import ConsentEvent, Exchange, ExchangeChainHead, PhoneNumber
from storage.phones import find_phone
from tests.conftest import app_settings

TOKEN = "test-auth-token"  # tests/conftest.py app_settings' TWILIO_AUTH_TOKEN
LOCAL_URL = "http://localhost/webhooks/sms"
PROGRAM = "Child Support Alerts"
AGENCY_PHONE = "1-800-555-0199"
AGENCY_URL = "https://childsupport.example.gov/text"

# Demo numbers (bot/demo.py) by consent state.
VERIFIED_EN = "+19195550101"  # opted in on the web
VERIFIED_EN_IVR = "+19195550102"  # opted in by IVR, two cases
VERIFIED_ES = "+19195550103"  # Spanish, opted in by a technician
VERIFIED_ES_FTI = "+19195550104"  # Spanish, federal tax offset on the case
OPTED_OUT = "+19195550105"  # web opt-in, then STOP
UNVERIFIED = "+19195550106"  # opted in by texting START only; case DEMO-300118
NEVER_OPTED_IN = "+19195550107"  # on file, never opted in; case DEMO-300119
NOT_ON_FILE = "+19195550188"  # in no import at all
# The day the demo data is loaded as (bot/demo.py dates everything from it): fixed once per run, so a
# test that crosses midnight still finds the dates it expects.
DEMO_TODAY = date.today()


def demo_day(days: int) -> date:
    """A demo date: days after (or, negative, before) DEMO_TODAY."""
    return DEMO_TODAY + timedelta(days=days)


# The inbound-SMS form fields of the sample, minus its _comment.
SAMPLE: dict[str, str] = {
    "ToCountry": "US",
    "ToState": "NC",
    "SmsMessageSid": "SM0123456789abcdef0123456789abcdef",
    "NumMedia": "0",
    "ToCity": "",
    "FromZip": "27601",
    "SmsSid": "SM0123456789abcdef0123456789abcdef",
    "FromState": "NC",
    "SmsStatus": "received",
    "FromCity": "RALEIGH",
    "Body": "when is my next payment due",
    "FromCountry": "US",
    "To": "89361",
    "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
    "ToZip": "",
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+19195550101",
    "ApiVersion": "2010-04-01",
}


# For requests refused before the database is touched: the backend cannot matter, so run them once.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def new_sid() -> str:
    """A fresh Twilio-shaped message SID."""
    return "SM" + uuid.uuid4().hex


def payload(
    sender: str,
    body: str,
    *,
    sid: str | None = None,
    extra: Mapping[str, str] | None = None,
    omit: tuple[str, ...] = (),
) -> dict[str, str]:
    """The form fields of one inbound SMS, as Twilio posts them."""
    sid = sid or new_sid()
    params = {**SAMPLE, "From": sender, "Body": body, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
    params.update(extra or {})
    for name in omit:
        params.pop(name, None)
    return params


def sign(params: Mapping[str, str], url: str = LOCAL_URL, token: str = TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it (the twilio library's validator)."""
    return RequestValidator(token).compute_signature(url, dict(params))


def send(
    client: Any,
    sender: str,
    body: str,
    *,
    sid: str | None = None,
    url: str = LOCAL_URL,
    token: str = TOKEN,
    extra: Mapping[str, str] | None = None,
    signature: str | None = None,
    omit: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
) -> TestResponse:
    """POST one signed inbound SMS to /webhooks/sms (on http://localhost) as a form.

    `url` is the URL the signature covers; `signature` replaces the computed one; `omit` drops
    fields before signing (a missing field, correctly signed).
    """
    params = payload(sender, body, sid=sid, extra=extra, omit=omit)
    all_headers = {"X-Twilio-Signature": sign(params, url, token) if signature is None else signature}
    all_headers.update(headers or {})
    return client.post("/webhooks/sms", data=params, headers=all_headers)


def message_text(response: TestResponse) -> str | None:
    """The <Message> text of a 200 TwiML answer; None for an empty <Response/>."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 - the app's own TwiML
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1, "at most one reply per inbound text"
    assert len(root) == len(messages), "nothing but <Message> in the answer"
    return None if not messages else (messages[0].text or "")


def reply(client: Any, sender: str, body: str, **kwargs: Any) -> str | None:
    """send() and return the reply text (None for silence), asserting a 200 TwiML answer."""
    return message_text(send(client, sender, body, **kwargs))


def ensure_chain_head(database: Database) -> None:
    """Put back the exchange chain's head row that the migration creates.

    tests/conftest.py empties every table after each test, this one included, so the second test on a
    shared database would otherwise find no head row.
    """
    with database.transaction() as session:
        if session.get(ExchangeChainHead, HEAD_ID) is None:
            session.execute(insert(ExchangeChainHead).values(id=HEAD_ID, seq=0, last_hash=GENESIS))


def load_demo(app: Flask) -> None:
    """Seed the fictional demo participants, cases, payments and consent into the app's database."""
    with app.extensions["database"].transaction() as session:
        demo.load(session, app.extensions["cipher"], today=DEMO_TODAY)


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in the tables a webhook request may write, plus the chain head's sequence number."""
    with app.extensions["database"].session() as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Exchange, ConsentEvent, PhoneNumber)
        }
        counts["chain_head_seq"] = session.scalar(select(ExchangeChainHead.seq))
    return counts


def phone_id(app: Flask, number: str) -> int | None:
    """The phone_numbers row id of a number, or None when it is not stored."""
    with app.extensions["database"].session() as session:
        phone = find_phone(session, app.extensions["cipher"], number)
        return None if phone is None else phone.id


def consent_events(app: Flask, number: str) -> list[tuple[str, str, str]]:
    """The number's consent ledger, oldest first, as (kind, channel, evidence)."""
    found = phone_id(app, number)
    if found is None:
        return []
    with app.extensions["database"].session() as session:
        return [(e.kind, e.channel, e.evidence) for e in ledger.history(session, found)]


def consent_label(app: Flask, number: str) -> str:
    """The number's consent state as the exchange log writes it (opted_in_verified, opted_out...)."""
    found = phone_id(app, number)
    assert found is not None, "number not stored"
    with app.extensions["database"].session() as session:
        return ledger.current_state(session, found).label


def exchange_rows(app: Flask, number: str | None = None) -> list[Exchange]:
    """Exchange records in chain order (of one number, or all)."""
    with app.extensions["database"].session() as session:
        query = select(Exchange).order_by(Exchange.chain_seq)
        if number is not None:
            query = query.where(Exchange.phone_number_id == phone_id(app, number))
        return list(session.scalars(query))


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    """The test app (SQLite and PostgreSQL) with the demo data loaded."""
    ensure_chain_head(app.extensions["database"])
    load_demo(app)
    return app


@pytest.fixture
def demo_client(demo_app: Flask) -> Any:
    """A test client for the app with the demo data."""
    return demo_app.test_client()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build more apps on the test's database with other settings (PUBLIC_BASE_URL, DATA_KEYS...)."""
    made: list[Flask] = []

    def build(**settings: str) -> Flask:
        application = create_app(app_settings(database_url, **settings))
        ensure_chain_head(application.extensions["database"])
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["database"].dispose()
