"""Twilio's validation codes, authentication, 21610 refusals, the rate limit and injected failures."""

from __future__ import annotations

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

import twilio_fake
from tests.twilio_fake.conftest import SENDER
from twilio_fake import FakeTwilio


def create_error(twilio: Client, **fields: str) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(**fields)
    return raised.value


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "", "from_": SENDER, "body": "x"}, 21604),
        ({"to": "5551230001", "from_": SENDER, "body": "x"}, 21211),
        ({"to": "+1555abc0001", "from_": SENDER, "body": "x"}, 21211),
        ({"to": "+15551230001", "body": "x"}, 21603),
        ({"to": "+15551230001", "from_": "not a number!", "body": "x"}, 21212),
        ({"to": "+15551230001", "from_": SENDER}, 21602),
        ({"to": "+15551230001", "from_": SENDER, "body": ""}, 21602),
        ({"to": "+15551230001", "from_": SENDER, "body": "x" * 1601}, 21617),
        ({"to": "+15551230001", "from_": SENDER, "body": "x", "status_callback": "ftp://host/x"}, 21609),
    ],
)
def test_a_bad_create_gets_twilios_code_and_creates_nothing(
    fake: FakeTwilio, twilio: Client, fields: dict[str, str], code: int
) -> None:
    error = create_error(twilio, **fields)
    assert (error.status, error.code) == (400, code)
    assert fake.messages() == []
    assert fake.stats()["rejected"] == {str(code): 1}


def test_1600_characters_is_still_allowed(fake: FakeTwilio, twilio: Client) -> None:
    assert twilio.messages.create(to="+15551230001", from_=SENDER, body="x" * 1600).status == "queued"


def test_wrong_credentials_are_401_20003(fake: FakeTwilio) -> None:
    for account_sid, token in [(fake.account_sid, "wrong"), ("AC" + "f" * 32, fake.auth_token)]:
        wrong = twilio_fake.client(fake.url, account_sid, token)
        with pytest.raises(TwilioRestException) as raised:
            wrong.messages.create(to="+15551230001", from_=SENDER, body="x")
        assert (raised.value.status, raised.value.code) == (401, 20003)
        assert "Authenticate" in raised.value.msg
    assert fake.messages() == []


def test_a_refused_number_gets_21610_and_nothing_is_created(fake: FakeTwilio, twilio: Client) -> None:
    fake.refuse("+15551230009")

    error = create_error(twilio, to="+15551230009", from_=SENDER, body="x")

    assert (error.status, error.code) == (400, 21610)
    assert "unsubscribed recipient" in error.msg
    assert fake.messages() == []
    twilio.messages.create(to="+15551230001", from_=SENDER, body="others still get theirs")
    fake.refuse("+15551230009", refuse=False)
    twilio.messages.create(to="+15551230009", from_=SENDER, body="after START")
    assert [m["to"] for m in fake.messages()] == ["+15551230001", "+15551230009"]


def test_creates_above_the_max_rate_get_429_20429(fake: FakeTwilio, twilio: Client) -> None:
    fake.max_rate(5)  # 5 per second, a burst of 5

    outcomes = []
    for _ in range(12):
        try:
            twilio.messages.create(to="+15551230001", from_=SENDER, body="x")
            outcomes.append(201)
        except TwilioRestException as error:
            assert error.code == 20429
            outcomes.append(error.status)

    assert outcomes.count(429) >= 5
    assert outcomes[:5] == [201] * 5
    assert len(fake.messages()) == outcomes.count(201)


def test_creates_below_the_max_rate_all_pass(fake: FakeTwilio, twilio: Client) -> None:
    fake.max_rate(40, burst=1)  # no burst: each create needs 25 ms since the last

    for _ in range(8):
        twilio.messages.create(to="+15551230001", from_=SENDER, body="x")
        time.sleep(0.05)

    assert len(fake.messages()) == 8
    fake.max_rate(None)


def test_injected_failures_answer_5xx_then_stop(fake: FakeTwilio, twilio: Client) -> None:
    fake.fail_next(2, status=503)
    fake.fail_next(1, status=500, number="+15551230002")

    codes = []
    for to in ["+15551230001", "+15551230002", "+15551230001", "+15551230002", "+15551230001"]:
        try:
            twilio.messages.create(to=to, from_=SENDER, body="x")
            codes.append(201)
        except TwilioRestException as error:
            codes.append((error.status, error.code))

    assert codes == [(503, 20503), (503, 20503), 201, (500, 20500), 201]
    assert len(fake.messages()) == 2


def test_the_control_api_refuses_nonsense(fake: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="outcome status"):
        fake.outcome("+15551230001", "lost")
    with pytest.raises(ValueError, match="5xx"):
        fake.fail_next(1, status=200)


def test_reset_forgets_messages_and_knobs(fake: FakeTwilio, twilio: Client) -> None:
    twilio.messages.create(to="+15551230001", from_=SENDER, body="x")
    fake.refuse("+15551230009")
    fake.max_rate(1, burst=1)
    fake.fail_next(5)

    fake.reset()

    assert fake.messages() == []
    assert fake.stats()["rejected"] == {}
    for _ in range(3):  # neither rate limited, failing, nor refused any more
        twilio.messages.create(to="+15551230009", from_=SENDER, body="x")
    assert len(fake.messages(to="+15551230009")) == 3
