"""The webhook writes its TwiML itself: byte for byte what twilio's MessagingResponse writes."""

from __future__ import annotations

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from bot.conversation import Reply
from webhooks.sms import twiml


@pytest.mark.parametrize(
    "text",
    [
        None,
        "Child Support Alerts: Reply HELP for help, STOP to cancel.",
        "a & b < c > d \" ' é ñ 😀\nsecond line",
        "",
    ],
)
def test_twiml_is_what_messaging_response_writes(text: str | None) -> None:
    expected = MessagingResponse()
    if text is not None:
        expected.message(text)
    response = twiml(Reply(text, None, None))
    assert response.get_data(as_text=True) == str(expected)
    assert response.mimetype == "text/xml"
