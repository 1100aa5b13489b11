"""Creating and fetching a message with the real twilio client, over HTTP."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.twilio_fake.conftest import SENDER, SERVICE
from twilio_fake import FakeTwilio


def test_a_create_answers_the_full_resource_and_a_fetch_round_trips_it(
    fake: FakeTwilio, twilio: Client
) -> None:
    body = "Your payment is due Friday."
    message = twilio.messages.create(to="+15551230001", from_=SENDER, body=body)

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.account_sid == fake.account_sid
    assert (message.to, message.from_, message.body) == ("+15551230001", SENDER, body)
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.api_version == "2010-04-01"
    assert message.num_segments == "1"
    assert message.num_media == "0"
    assert message.messaging_service_sid is None
    assert message.error_code is None and message.error_message is None
    assert message.price is None and message.price_unit == "USD"
    assert message.uri == f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{message.sid}.json"
    assert message.date_sent is None
    # The library parses RFC 2822 dates into aware datetimes: they must be now-ish.
    assert abs(message.date_created - datetime.now(UTC)) < timedelta(seconds=5)
    assert message.date_updated >= message.date_created

    fetched = twilio.messages(message.sid).fetch()
    assert (fetched.sid, fetched.to, fetched.body) == (message.sid, message.to, message.body)
    assert fetched.status == "delivered"  # no callback knobs: delivery happens at once, after the answer
    assert fetched.date_sent is not None
    assert fetched.price == "-0.00790"
    assert [m["sid"] for m in fake.messages()] == [message.sid]


def test_the_raw_answer_is_201_json_with_rfc_2822_dates(fake: FakeTwilio) -> None:
    response = requests.post(
        f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json",
        data={"To": "+15551230001", "From": SENDER, "Body": "hi"},
        auth=(fake.account_sid, fake.auth_token),
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    resource = response.json()
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", resource["date_created"])
    assert resource["error_code"] is None and resource["date_sent"] is None
    assert set(resource["subresource_uris"]) == {"media", "feedback"}


def test_the_control_api_keeps_each_creation_time_to_the_microsecond(
    fake: FakeTwilio, twilio: Client
) -> None:
    before = time.time()
    for n in range(3):
        twilio.messages.create(to=f"+1555123000{n}", from_=SENDER, body="hi")
    after = time.time()
    created = [message["created"] for message in fake.messages()]
    assert len(created) == 3 and before <= created[0] <= created[1] <= created[2] <= after
    assert any(value != int(value) for value in created)  # not whole seconds like date_created


def test_a_messaging_service_create_is_accepted_with_no_sender_yet(fake: FakeTwilio, twilio: Client) -> None:
    message = twilio.messages.create(to="+15551230001", messaging_service_sid=SERVICE, body="hola")

    assert message.status == "accepted"
    assert message.messaging_service_sid == SERVICE
    assert message.from_ is None
    assert message.num_segments == "0"
    fetched = twilio.messages(message.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.from_ == "+15005550006"
    assert fetched.num_segments == "1"


def test_segments_follow_gsm_7_and_ucs_2(twilio: Client) -> None:
    def segments(body: str) -> str:
        return twilio.messages.create(to="+15551230001", from_=SENDER, body=body).num_segments

    assert segments("a" * 160) == "1"
    assert segments("a" * 161) == "2"
    assert segments("á" * 70) == "1"  # á is not GSM-7: UCS-2, 70 per segment
    assert segments("á" * 71) == "2"


def test_fetching_an_unknown_sid_is_20404(fake: FakeTwilio, twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages("SM" + "0" * 32).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_the_client_lists_messages_to_a_number_newest_first_across_pages(twilio: Client) -> None:
    sent = [twilio.messages.create(to="+15551230077", from_=SENDER, body=f"n{i}").sid for i in range(5)]
    twilio.messages.create(to="+15551230078", from_=SENDER, body="other")
    listed = twilio.messages.list(to="+15551230077", page_size=2)
    assert [message.sid for message in listed] == list(reversed(sent))
    assert [message.body for message in twilio.messages.list(to="+15551230077", limit=1)] == ["n4"]
    assert twilio.messages.list(to="+15551239999") == []
