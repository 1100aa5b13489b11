"""What the webhook accepts: Twilio's signature over the public URL, well-formed fields, and each
MessageSid once. Anything else gets a clear 4xx (never a 500) and stores nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from bot import conversation
from storage import exchange_log
from tests.webhooks.conftest import (
    LOCAL_URL,
    NOT_ON_FILE,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_EN_IVR,
    VERIFIED_ES,
    consent_events,
    demo_day,
    exchange_rows,
    message_text,
    new_sid,
    payload,
    reply,
    row_counts,
    send,
    sign,
    sqlite_only,
)
from tests.webhooks.wording import assert_answered, assert_says, written_day

PUBLIC_URL = "https://sms.childsupport.example.gov/webhooks/sms"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.childsupport.example.gov"}


def assert_rejected(
    app: Flask, response: TestResponse, status: int, names: str, before: dict[str, int]
) -> None:
    """A plain-text 4xx naming what was wrong, and not one row written."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert names in text, f"{names!r} not in {text!r}"
    assert row_counts(app) == before


# --- signatures ----------------------------------------------------------------------------------


def test_a_correctly_signed_request_is_answered_and_stored(demo_app: Flask, demo_client) -> None:
    before = row_counts(demo_app)
    text = reply(demo_client, VERIFIED_EN, "when is my next payment due")
    assert_says(text, "next_due_date", "en")
    assert written_day(demo_day(5), "en") in text  # DEMO-100234's next due date
    after = row_counts(demo_app)
    assert after["exchanges"] == before["exchanges"] + 2
    assert after["chain_head_seq"] == before["chain_head_seq"] + 2


@sqlite_only
@pytest.mark.parametrize(
    "how",
    ["wrong_signature", "missing_signature", "empty_signature", "other_token", "other_url", "other_path"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(demo_app: Flask, demo_client, how: str) -> None:
    before = row_counts(demo_app)
    if how == "missing_signature":
        response = demo_client.post("/webhooks/sms", data=payload(VERIFIED_EN, "STOP"))
    else:
        kwargs = {
            "wrong_signature": {"signature": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="},
            "empty_signature": {"signature": ""},
            "other_token": {"token": "someone-elses-token"},
            "other_url": {"url": "https://attacker.example/webhooks/sms"},
            "other_path": {"url": "http://localhost/webhooks/status"},
        }[how]
        response = send(demo_client, VERIFIED_EN, "STOP", **kwargs)
    assert_rejected(demo_app, response, 403, "X-Twilio-Signature", before)
    assert consent_events(demo_app, VERIFIED_EN)[-1][0] == "opt_in"


@sqlite_only
@pytest.mark.parametrize(("field", "value"), [("Body", "STOP"), ("From", UNVERIFIED), ("OptOutType", "STOP")])
def test_a_tampered_field_breaks_the_signature(demo_app: Flask, demo_client, field: str, value: str) -> None:
    before = row_counts(demo_app)
    params = payload(VERIFIED_EN, "when is my next payment due")
    signature = sign(params)
    params[field] = value
    response = demo_client.post("/webhooks/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert_rejected(demo_app, response, 403, "X-Twilio-Signature does not match", before)


def test_public_base_url_is_what_the_signature_must_cover(make_app: Callable[..., Flask]) -> None:
    app = make_app(PUBLIC_BASE_URL="https://sms.childsupport.example.gov/")
    client = app.test_client()
    before = row_counts(app)
    assert_rejected(app, send(client, NOT_ON_FILE, "hello", url=LOCAL_URL), 403, "does not match", before)
    assert_says(reply(client, NOT_ON_FILE, "hello", url=PUBLIC_URL), "enroll", "en")


def test_a_trusted_proxys_forwarded_proto_and_host_rebuild_the_public_url(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(TRUSTED_PROXIES="1")
    client = app.test_client()
    before = row_counts(app)
    refused = send(client, NOT_ON_FILE, "hello", url=LOCAL_URL, headers=FORWARDED)
    assert_rejected(app, refused, 403, "does not match", before)
    assert_says(reply(client, NOT_ON_FILE, "hello", url=PUBLIC_URL, headers=FORWARDED), "enroll", "en")
    # Only the value the trusted proxy appended (the last) counts, not one the caller sent ahead of it.
    spoofed = {**FORWARDED, "X-Forwarded-Host": "attacker.example, sms.childsupport.example.gov"}
    assert_says(reply(client, NOT_ON_FILE, "hello", url=PUBLIC_URL, headers=spoofed), "enroll", "en")
    after = row_counts(app)
    attacker = send(
        client, NOT_ON_FILE, "hello", url="https://attacker.example/webhooks/sms", headers=spoofed
    )
    assert_rejected(app, attacker, 403, "does not match", after)


def test_without_trusted_proxies_forwarded_headers_are_ignored(demo_app: Flask, demo_client) -> None:
    before = row_counts(demo_app)
    refused = send(demo_client, VERIFIED_EN, "hello", url=PUBLIC_URL, headers=FORWARDED)
    assert_rejected(demo_app, refused, 403, "does not match", before)
    assert_says(reply(demo_client, VERIFIED_EN, "hello", url=LOCAL_URL, headers=FORWARDED), "greet", "en")


@sqlite_only
def test_unknown_extra_fields_are_accepted(demo_client) -> None:
    extra = {"NewTwilioField": "something", "MediaUrl0": "", "AddOns": '{"status":"successful"}'}
    assert_says(reply(demo_client, VERIFIED_EN, "hello", extra=extra), "greet", "en")


def test_refused_requests_store_nothing_on_either_database(demo_app: Flask, demo_client) -> None:
    before = row_counts(demo_app)
    refused = [
        send(demo_client, VERIFIED_EN, "STOP", signature="bad"),
        send(demo_client, VERIFIED_EN, "STOP", omit=("From",)),
        send(demo_client, "9195550101", "STOP"),
        send(demo_client, VERIFIED_EN, "STOP\x00"),
        send(demo_client, VERIFIED_EN, "STOP", extra={"MessageSid": "SM1"}),
    ]
    assert [response.status_code for response in refused] == [403, 400, 400, 400, 400]
    assert row_counts(demo_app) == before


# --- bad input -----------------------------------------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("field", ["From", "Body", "MessageSid"])
def test_a_missing_field_is_named(demo_app: Flask, demo_client, field: str) -> None:
    before = row_counts(demo_app)
    assert_rejected(
        demo_app, send(demo_client, VERIFIED_EN, "STOP", omit=(field,)), 400, f"missing {field}", before
    )


def test_a_body_of_1600_characters_is_accepted_and_1601_is_not(demo_app: Flask, demo_client) -> None:
    assert_answered(reply(demo_client, VERIFIED_EN, "ñ" * 1600))
    before = row_counts(demo_app)
    assert_rejected(
        demo_app, send(demo_client, VERIFIED_EN, "a" * 1601), 400, "Body is longer than 1600", before
    )


@sqlite_only
@pytest.mark.parametrize("body", ["stop\x00", "\x1b[2Jhello", "hi\x7f", "pay\x85ment"])
def test_control_characters_in_the_body_are_refused(demo_app: Flask, demo_client, body: str) -> None:
    before = row_counts(demo_app)
    assert_rejected(
        demo_app, send(demo_client, VERIFIED_EN, body), 400, "Body contains control characters", before
    )


@sqlite_only
def test_newlines_and_tabs_in_the_body_are_fine(demo_client) -> None:
    assert_answered(reply(demo_client, VERIFIED_EN, "line one\r\nline two\tend"), "en")


@sqlite_only
@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"Body=%FF%FE", "not valid UTF-8"),
        (b"Body=caf%E9", "not valid UTF-8"),
        (b"Body=\xff\xfe", "raw non-ASCII bytes"),
    ],
)
def test_invalid_utf8_is_refused_before_anything_else(
    demo_app: Flask, demo_client, raw: bytes, names: str
) -> None:
    before = row_counts(demo_app)
    params = payload(VERIFIED_EN, "placeholder")
    del params["Body"]
    data = urlencode(params).encode("ascii") + b"&" + raw
    # Signed as Twilio would sign the bytes read as Latin-1: the body is refused either way.
    signature = sign({**params, "Body": raw.split(b"=", 1)[1].decode("latin-1")})
    response = demo_client.post(
        "/webhooks/sms",
        data=data,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert_rejected(demo_app, response, 400, names, before)


@sqlite_only
@pytest.mark.parametrize(
    "sender",
    ["9195550101", "+1abc", "", "+01919555010", "+1 919 555 0101", "19195550101", "whatsapp:+19195550101"],
)
def test_a_sender_that_is_not_e164_is_refused(demo_app: Flask, demo_client, sender: str) -> None:
    before = row_counts(demo_app)
    assert_rejected(demo_app, send(demo_client, sender, "STOP"), 400, "From is not an E.164", before)


@sqlite_only
def test_a_sender_with_a_trailing_newline_is_refused(demo_app: Flask, demo_client) -> None:
    before = row_counts(demo_app)
    assert_rejected(demo_app, send(demo_client, VERIFIED_EN + "\n", "STOP"), 400, "From", before)


@sqlite_only
@pytest.mark.parametrize(
    "sid",
    ["SM123", "", "sm" + "0" * 32, "SM" + "g" * 32, "SM" + "0" * 33, "SM" + "0" * 31, "../../" + "0" * 28],
)
def test_a_malformed_message_sid_is_refused(demo_app: Flask, demo_client, sid: str) -> None:
    before = row_counts(demo_app)
    response = send(demo_client, VERIFIED_EN, "STOP", extra={"MessageSid": sid})
    assert_rejected(demo_app, response, 400, "MessageSid is not a Twilio message SID", before)


@sqlite_only
def test_a_message_sid_with_a_trailing_newline_is_refused(demo_app: Flask, demo_client) -> None:
    before = row_counts(demo_app)
    response = send(demo_client, VERIFIED_EN, "STOP", extra={"MessageSid": new_sid() + "\n"})
    assert_rejected(demo_app, response, 400, "MessageSid", before)


def test_an_mms_sid_is_a_message_sid(demo_client) -> None:
    sid = "MM" + new_sid()[2:]
    # A picture with no text asks nothing: answered as out of scope, in the participant's language.
    assert_says(reply(demo_client, VERIFIED_EN, "", sid=sid, extra={"NumMedia": "1"}), "out_of_scope", "en")


@sqlite_only
@pytest.mark.parametrize("kind", ["json", "multipart", "text"])
def test_a_body_that_is_not_a_url_encoded_form_is_refused(demo_app: Flask, demo_client, kind: str) -> None:
    before = row_counts(demo_app)
    params = payload(VERIFIED_EN, "STOP")
    headers = {"X-Twilio-Signature": sign(params)}
    if kind == "json":
        response = demo_client.post("/webhooks/sms", json=params, headers=headers)
    elif kind == "multipart":
        response = demo_client.post(
            "/webhooks/sms", data=params, headers=headers, content_type="multipart/form-data"
        )
    else:
        response = demo_client.post(
            "/webhooks/sms", data=urlencode(params), headers=headers, content_type="text/plain"
        )
    assert_rejected(demo_app, response, 415, "application/x-www-form-urlencoded", before)


@sqlite_only
def test_only_post_is_allowed(demo_app: Flask, demo_client) -> None:
    before = row_counts(demo_app)
    params = payload(VERIFIED_EN, "STOP")
    response = demo_client.get(
        "/webhooks/sms", query_string=params, headers={"X-Twilio-Signature": sign(params)}
    )
    assert response.status_code == 405
    assert row_counts(demo_app) == before


# --- duplicates ----------------------------------------------------------------------------------


def test_the_same_message_sid_twice_gets_the_same_reply_and_is_stored_once(
    demo_app: Flask, demo_client
) -> None:
    before = row_counts(demo_app)
    sid = new_sid()
    first = send(demo_client, VERIFIED_EN, "STOP", sid=sid)
    second = send(demo_client, VERIFIED_EN, "STOP", sid=sid)
    assert_says(message_text(first), "opt_out_confirm", "en")
    assert second.get_data() == first.get_data()
    after = row_counts(demo_app)
    assert after["exchanges"] == before["exchanges"] + 2
    assert after["consent_events"] == before["consent_events"] + 1
    rows = [row for row in exchange_rows(demo_app, VERIFIED_EN)]
    assert [(row.direction, row.message_sid) for row in rows] == [("inbound", sid), ("outbound", None)]
    assert rows[1].reply_to_seq == rows[0].chain_seq


def test_a_retried_stop_after_a_later_start_does_not_revoke_again(demo_app: Flask, demo_client) -> None:
    stop_sid = new_sid()
    stop_reply = send(demo_client, VERIFIED_EN, "STOP", sid=stop_sid).get_data()
    assert_says(reply(demo_client, VERIFIED_EN, "START"), "opt_in_confirm", "en")
    # Twilio retries the old STOP delivery: same answer as then, and no new opt-out.
    assert send(demo_client, VERIFIED_EN, "STOP", sid=stop_sid).get_data() == stop_reply
    assert [kind for kind, _, _ in consent_events(demo_app, VERIFIED_EN)] == ["opt_in", "opt_out", "opt_in"]
    assert_says(reply(demo_client, VERIFIED_EN, "hello"), "greet", "en")


def test_a_retried_silent_message_stays_silent(demo_app: Flask, demo_client) -> None:
    assert reply(demo_client, VERIFIED_EN, "STOP") is not None
    sid = new_sid()
    assert reply(demo_client, VERIFIED_EN, "hello", sid=sid) is None
    before = row_counts(demo_app)
    assert reply(demo_client, VERIFIED_EN, "hello", sid=sid) is None
    assert row_counts(demo_app) == before


def test_a_retried_verification_is_not_counted_as_a_second_try(demo_app: Flask, demo_client) -> None:
    assert_says(reply(demo_client, UNVERIFIED, "hello"), "verify_ask", "en")
    sid = new_sid()
    for _ in range(3):
        assert_says(reply(demo_client, UNVERIFIED, "1234", sid=sid), "verify_retry", "en")
    assert_says(reply(demo_client, UNVERIFIED, "4321"), "verify_retry", "en")  # the 2nd try, not the 4th


def _race(app: Flask, requests: list[tuple[str, str, str]]) -> list[TestResponse]:
    """Post the requests at the same moment, each from its own thread and test client."""
    barrier = threading.Barrier(len(requests))
    responses: list[TestResponse | BaseException | None] = [None] * len(requests)

    def deliver(index: int, sender: str, body: str, sid: str) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=10)
            responses[index] = send(client, sender, body, sid=sid)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            responses[index] = exc

    threads = [
        threading.Thread(target=deliver, args=(index, *request)) for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    for response in responses:
        if isinstance(response, BaseException):
            raise response
    return responses  # type: ignore[return-value]


@pytest.fixture
def overlap(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Make two deliveries overlap for sure: both have read the sender (and found a new number missing)
    before either writes, and a first attempt never looks the MessageSid up, so one of them must lose on
    a unique key and run again. Counts the reads and the duplicate checks (only a retry makes one)."""
    calls = {"reads": 0, "find_inbound": 0}
    rendezvous = threading.Barrier(2)
    lock = threading.Lock()
    original_find_sender = conversation._find_sender
    original_find = exchange_log.find_inbound

    def find_sender(*args):  # noqa: ANN002, ANN202
        found = original_find_sender(*args)
        with lock:
            calls["reads"] += 1
            first_two = calls["reads"] <= 2
        if first_two:
            rendezvous.wait(timeout=10)
        return found

    def find_inbound(*args):  # noqa: ANN002, ANN202
        with lock:
            calls["find_inbound"] += 1
        return original_find(*args)

    monkeypatch.setattr(conversation, "_find_sender", find_sender)
    monkeypatch.setattr(exchange_log, "find_inbound", find_inbound)
    return calls


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("forced", [False, True], ids=["started_together", "overlapping"])
@pytest.mark.parametrize(
    ("senders", "body", "template"),
    [
        ((VERIFIED_EN, VERIFIED_EN_IVR, VERIFIED_ES), "STOP", "opt_out_confirm"),
        ((VERIFIED_EN, VERIFIED_EN, VERIFIED_EN), "when is my next payment due", "next_due_date"),
        ((NOT_ON_FILE, "+19195550189", "+19195550190"), "hi", "enroll"),
    ],
    ids=["stop", "question", "new_number"],
)
def test_two_concurrent_deliveries_of_one_message_sid_are_stored_once(
    demo_app: Flask,
    request: pytest.FixtureRequest,
    forced: bool,
    senders: tuple[str, ...],
    body: str,
    template: str,
) -> None:
    for sender in senders[: 1 if forced else 3]:  # unforced: a few rounds, so they likely overlap once
        calls = request.getfixturevalue("overlap") if forced else None
        before = row_counts(demo_app)
        sid = new_sid()
        first, second = _race(demo_app, [(sender, body, sid), (sender, body, sid)])
        assert first.status_code == second.status_code == 200
        assert first.get_data() == second.get_data()
        # A bare STOP says nothing of the sender's language: the reply follows the participant's.
        assert_says(message_text(first), template, "es" if sender == VERIFIED_ES else "en")
        if calls is not None:
            # Both read first; the loser failed on the MessageSid's unique key, looked it up, found it.
            assert calls == {"reads": 2, "find_inbound": 1}
        after = row_counts(demo_app)
        inbound = [row for row in exchange_rows(demo_app) if row.message_sid == sid]
        assert len(inbound) == 1
        assert len([row for row in exchange_rows(demo_app) if row.reply_to_seq == inbound[0].chain_seq]) == 1
        assert after["exchanges"] == before["exchanges"] + 2
        assert after["consent_events"] == before["consent_events"] + (1 if body == "STOP" else 0)
        assert after["phone_numbers"] == before["phone_numbers"] + (1 if template == "enroll" else 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_concurrent_first_texts_from_a_new_number_make_one_phone_row(
    demo_app: Flask, overlap: dict[str, int]
) -> None:
    before = row_counts(demo_app)
    first, second = _race(demo_app, [(NOT_ON_FILE, "hi", new_sid()), (NOT_ON_FILE, "hello", new_sid())])
    # The loser failed on the phone number's unique key and ran again: checked, read again.
    assert overlap == {"reads": 3, "find_inbound": 1}
    assert_says(message_text(first), "enroll", "en")
    assert_says(message_text(second), "enroll", "en")
    after = row_counts(demo_app)
    assert after["phone_numbers"] == before["phone_numbers"] + 1
    assert after["exchanges"] == before["exchanges"] + 4
