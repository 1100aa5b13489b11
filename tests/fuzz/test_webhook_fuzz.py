"""Fuzzing the two Twilio webhooks with correctly signed but arbitrary requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes

from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import ConsentEvent, Exchange, OutboundMessage, PhoneNumber
from tests.webhooks.conftest import LOCAL_URL, SAMPLE, VERIFIED_EN, sign

STATUS_URL = "http://localhost/webhooks/status"
# Messages a refusal may carry: each names the field or the rule that failed.
SPECIFIC = (
    "MessageSid",
    "From",
    "Body",
    "MessageStatus",
    "ErrorCode",
    "outbox",
    "UTF-8",
    "URL-encoded",
    "X-Twilio-Signature",
    "application/x-www-form-urlencoded",
    "control characters",
)

phones = st.one_of(
    st.just(VERIFIED_EN),
    st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True),
    st.text(max_size=20),
)
sids = st.one_of(
    st.from_regex(r"SM[0-9a-f]{32}", fullmatch=True),
    st.text(max_size=40),
    st.from_regex(r"SM[0-9a-f]{32}\n", fullmatch=True),
)
bodies = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["STOP", "stop please", "AYUDA", "START", "when is my payment due", "1234", "0871"]),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1500, max_size=1700),
)
extra = st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=30), max_size=4)


def counts(app: Flask) -> dict[str, int]:
    with app.extensions["database"].session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Exchange, ConsentEvent, PhoneNumber, OutboundMessage)
        }


def post_signed(client: Any, path: str, url: str, params: dict[str, str]) -> Any:
    return client.post(path, data=params, headers={"X-Twilio-Signature": sign(params, url)})


@given(
    sender=phones,
    sid=sids,
    body=bodies,
    more=extra,
    drop=st.sets(st.sampled_from(["From", "Body", "MessageSid"])),
)
def test_any_signed_inbound_text_is_answered_or_refused_specifically(
    demo_app: Flask, sender: str, sid: str, body: str, more: dict[str, str], drop: set[str]
) -> None:
    params = {**SAMPLE, **more, "From": sender, "MessageSid": sid, "Body": body}
    for name in drop:
        params.pop(name)
    before = counts(demo_app)
    response = post_signed(demo_app.test_client(), "/webhooks/sms", LOCAL_URL, params)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert counts(demo_app) == before
        message = response.get_data(as_text=True)
        assert any(word in message for word in SPECIFIC), message
        assert len(sender) < 7 or sender not in message  # never echoes the number
    else:
        assert response.mimetype == "text/xml"


@given(raw=st.binary(max_size=300))
def test_any_raw_body_never_breaks_the_webhook(demo_app: Flask, raw: bytes) -> None:
    before = counts(demo_app)
    response = demo_app.test_client().post(
        "/webhooks/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "c2lnbmF0dXJl"},
    )
    assert response.status_code in (400, 403, 413, 415)
    assert counts(demo_app) == before


@given(value=st.binary(min_size=1, max_size=40))
def test_percent_encoded_bytes_that_are_not_utf8_are_refused_by_name(demo_app: Flask, value: bytes) -> None:
    try:
        value.decode("utf-8")
        return  # valid UTF-8 is another test's business
    except UnicodeDecodeError:
        pass
    sender = quote_from_bytes(VERIFIED_EN.encode())
    body = f"From={sender}&Body={quote_from_bytes(value)}&MessageSid=SM{'a' * 32}"
    response = demo_app.test_client().post(
        "/webhooks/sms",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)


statuses = st.one_of(
    st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read", "accepted"]),
    st.text(max_size=25),
)


@given(
    sid=sids,
    status=statuses,
    error=st.one_of(st.none(), st.sampled_from(["21610", "30003"]), st.text(max_size=8)),
    outbox=st.one_of(st.none(), st.integers(min_value=0, max_value=10**12).map(str), st.text(max_size=6)),
    more=extra,
)
def test_any_signed_status_callback_is_applied_or_refused_specifically(
    demo_app: Flask, sid: str, status: str, error: str | None, outbox: str | None, more: dict[str, str]
) -> None:
    params = {**more, "MessageSid": sid, "MessageStatus": status, "AccountSid": SAMPLE["AccountSid"]}
    if error is not None:
        params["ErrorCode"] = error
    query = "" if outbox is None else "?" + "outbox=" + quote_from_bytes(outbox.encode())
    before = counts(demo_app)
    response = post_signed(demo_app.test_client(), "/webhooks/status" + query, STATUS_URL + query, params)
    assert response.status_code < 500, response.get_data(as_text=True)
    # No such message is in the outbox: whatever the callback says, nothing may change.
    assert counts(demo_app) == before
    if response.status_code >= 400:
        message = response.get_data(as_text=True)
        assert any(word in message for word in SPECIFIC), message
