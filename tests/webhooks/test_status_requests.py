"""POST /webhooks/status refuses what Twilio did not sign, and names what is malformed."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.webhooks.conftest import sign, sqlite_only

URL = "http://localhost/webhooks/status"
GOOD = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}


@sqlite_only
def test_an_unsigned_or_wrongly_signed_callback_is_refused(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/webhooks/status", data=GOOD).status_code == 403
    wrong = sign(GOOD, URL, token="someone-elses-token")
    assert (
        client.post("/webhooks/status", data=GOOD, headers={"X-Twilio-Signature": wrong}).status_code == 403
    )
    # Signed for another URL (the ?outbox= is part of what Twilio signs).
    other = sign(GOOD, URL + "?outbox=5")
    assert (
        client.post("/webhooks/status", data=GOOD, headers={"X-Twilio-Signature": other}).status_code == 403
    )


@sqlite_only
@pytest.mark.parametrize(
    ("change", "query", "says"),
    [
        ({"MessageSid": "SM123"}, "", "MessageSid is not a Twilio message SID"),
        ({"MessageStatus": "Delivered!"}, "", "MessageStatus is not a status word"),
        ({"ErrorCode": "30003x"}, "", "ErrorCode is not a number"),
        ({}, "?outbox=12a", "the outbox parameter is not a row number"),
    ],
)
def test_a_malformed_callback_is_refused_by_name(
    app: Flask, change: dict[str, str], query: str, says: str
) -> None:
    params = {**GOOD, **change}
    response = app.test_client().post(
        "/webhooks/status" + query, data=params, headers={"X-Twilio-Signature": sign(params, URL + query)}
    )
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)


@sqlite_only
def test_a_missing_field_is_named(app: Flask) -> None:
    params = {"MessageSid": GOOD["MessageSid"]}
    response = app.test_client().post(
        "/webhooks/status", data=params, headers={"X-Twilio-Signature": sign(params, URL)}
    )
    assert response.status_code == 400 and "missing MessageStatus" in response.get_data(as_text=True)


@sqlite_only
def test_a_callback_for_a_message_we_never_sent_is_acknowledged_and_changes_nothing(app: Flask) -> None:
    response = app.test_client().post(
        "/webhooks/status", data=GOOD, headers={"X-Twilio-Signature": sign(GOOD, URL)}
    )
    assert response.status_code == 200 and response.get_data() == b""
