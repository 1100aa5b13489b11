"""`python -m twilio_fake` runs as its own process and answers the real client."""

from __future__ import annotations

import time

from twilio.base.exceptions import TwilioRestException

import twilio_fake


def test_the_subprocess_starts_answers_and_stops() -> None:
    with twilio_fake.spawn(account_sid="AC" + "ab" * 16, auth_token="process-token", latency_ms=50) as fake:
        twilio = fake.client(timeout=10)
        started = time.perf_counter()
        message = twilio.messages.create(to="+15551230001", from_="+15005550006", body="hello")
        took = time.perf_counter() - started
        fake.refuse("+15551230002")
        try:
            twilio.messages.create(to="+15551230002", from_="+15005550006", body="hello")
            refused = None
        except TwilioRestException as error:
            refused = error.code

        assert message.account_sid == "AC" + "ab" * 16
        assert took >= 0.05  # --latency-ms reached the process
        assert refused == 21610
        assert [m["sid"] for m in fake.messages()] == [message.sid]
