"""Status callbacks: signed like Twilio's, in the configured order, with errors for failed deliveries."""

from __future__ import annotations

import time

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.twilio_fake.conftest import SENDER, SERVICE, Receiver
from twilio_fake import FakeTwilio


def send(twilio: Client, receiver: Receiver, to: str = "+15551230001", **fields: str) -> str:
    fields.setdefault("from_", SENDER)
    return twilio.messages.create(to=to, body="x", status_callback=receiver.url, **fields).sid


def test_callbacks_are_sent_then_delivered_and_signed_as_twilio_signs(
    fake: FakeTwilio, twilio: Client, receiver: Receiver
) -> None:
    sid = send(twilio, receiver)
    fake.wait_for_callbacks()

    assert receiver.statuses(sid) == ["sent", "delivered"]
    validator = RequestValidator(fake.auth_token)
    for callback in receiver.received:
        assert callback.path == "/webhooks/status"
        assert callback.headers["Content-Type"] == "application/x-www-form-urlencoded"
        signature = callback.headers["X-Twilio-Signature"]
        assert validator.validate(receiver.url, callback.form, signature)
        assert not RequestValidator("another-token").validate(receiver.url, callback.form, signature)
        assert not validator.validate(receiver.url + "?x=1", callback.form, signature)
        form = callback.form
        assert form["MessageSid"] == form["SmsSid"] == sid
        assert form["MessageStatus"] == form["SmsStatus"]
        assert (form["AccountSid"], form["From"], form["To"]) == (fake.account_sid, SENDER, "+15551230001")
        assert form["ApiVersion"] == "2010-04-01"
        assert "ErrorCode" not in form and "MessagingServiceSid" not in form
    assert [(c["status"], c["http_status"], c["error"]) for c in fake.callbacks()] == [
        ("sent", 200, None),
        ("delivered", 200, None),
    ]
    assert fake.messages()[0]["callbacks"] == [
        {"status": "sent", "http_status": 200, "error": None},
        {"status": "delivered", "http_status": 200, "error": None},
    ]


def test_a_messaging_service_message_reports_queued_first(
    fake: FakeTwilio, twilio: Client, receiver: Receiver
) -> None:
    sid = send(twilio, receiver, from_="", messaging_service_sid=SERVICE)
    fake.wait_for_callbacks()

    assert receiver.statuses(sid) == ["queued", "sent", "delivered"]
    assert all(c.form["MessagingServiceSid"] == SERVICE for c in receiver.received)


@pytest.mark.parametrize("code", [30003, 30005, 30006, 30007])
def test_undelivered_carries_the_error_code_on_callback_and_resource(
    fake: FakeTwilio, twilio: Client, receiver: Receiver, code: int
) -> None:
    fake.outcome("+15551230002", "undelivered", code)

    sid = send(twilio, receiver, to="+15551230002")
    other = send(twilio, receiver, to="+15551230003")
    fake.wait_for_callbacks()

    assert receiver.statuses(sid) == ["sent", "undelivered"]
    final = [c for c in receiver.received if c.form["MessageSid"] == sid][-1]
    assert final.form["ErrorCode"] == str(code)
    assert final.form["ErrorMessage"]
    signature = final.headers["X-Twilio-Signature"]
    assert RequestValidator(fake.auth_token).validate(receiver.url, final.form, signature)
    fetched = twilio.messages(sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", code)
    assert receiver.statuses(other) == ["sent", "delivered"]


def test_failed_is_never_sent(fake: FakeTwilio, twilio: Client, receiver: Receiver) -> None:
    fake.outcome("+15551230002", "failed")

    sid = send(twilio, receiver, to="+15551230002")
    fake.wait_for_callbacks()

    assert receiver.statuses(sid) == ["failed"]
    assert receiver.received[0].form["ErrorCode"] == "30008"
    fetched = twilio.messages(sid).fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 30008)
    assert fetched.date_sent is None and fetched.price is None


def test_callbacks_can_come_reversed_and_twice(fake: FakeTwilio, twilio: Client, receiver: Receiver) -> None:
    fake.callback_mode(reverse=True)
    reversed_sid = send(twilio, receiver)
    fake.wait_for_callbacks()
    fake.callback_mode(reverse=False, duplicate=True)
    twice_sid = send(twilio, receiver)
    fake.wait_for_callbacks()

    assert receiver.statuses(reversed_sid) == ["delivered", "sent"]
    assert receiver.statuses(twice_sid) == ["sent", "sent", "delivered", "delivered"]
    twice = [c for c in receiver.received if c.form["MessageSid"] == twice_sid]
    tokens = [c.headers["I-Twilio-Idempotency-Token"] for c in twice]
    assert len(set(tokens)) == 1  # a resend, not a new event
    assert twilio.messages(reversed_sid).fetch().status == "delivered"  # the resource never goes back


def test_delayed_callbacks_and_the_status_a_fetch_sees_meanwhile(
    fake: FakeTwilio, twilio: Client, receiver: Receiver
) -> None:
    fake.callback_mode(delay=0.3)
    started = time.monotonic()

    sid = send(twilio, receiver)

    assert twilio.messages(sid).fetch().status == "queued"
    assert receiver.statuses(sid) == []
    fake.wait_for_callbacks(timeout=5)
    assert time.monotonic() - started >= 0.6
    assert receiver.statuses(sid) == ["sent", "delivered"]
    assert twilio.messages(sid).fetch().status == "delivered"


def test_failing_callbacks_are_counted_not_retried_and_harm_nothing(
    fake: FakeTwilio, twilio: Client, receiver: Receiver
) -> None:
    receiver.status = 500
    send(twilio, receiver)
    twilio.messages.create(
        to="+15551230001", from_=SENDER, body="x", status_callback="http://127.0.0.1:9/nobody"
    )
    stats = fake.wait_for_callbacks()

    assert stats["callbacks"] == {"succeeded": 0, "failed": 4, "pending": 0}
    assert len(receiver.received) == 2  # one try each, no retries
    results = sorted((c["http_status"] or 0, bool(c["error"])) for c in fake.callbacks())
    assert results == [(0, True), (0, True), (500, True), (500, True)]
    receiver.status = 204
    sid = send(twilio, receiver)  # the server carries on
    assert fake.wait_for_callbacks()["callbacks"]["succeeded"] == 2
    assert receiver.statuses(sid) == ["sent", "delivered"]


def test_no_status_callback_means_no_callbacks(fake: FakeTwilio, twilio: Client, receiver: Receiver) -> None:
    twilio.messages.create(to="+15551230001", from_=SENDER, body="x")
    assert fake.wait_for_callbacks()["callbacks"] == {"succeeded": 0, "failed": 0, "pending": 0}
    assert receiver.received == []
