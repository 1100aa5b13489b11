"""`flask --app bot simulate --from NUMBER`: chat with the service as a participant's phone would.

Every line typed is sent as a signed Twilio webhook request, through the real /webhooks/sms route:
in-process by default, or to a running server with --url.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlencode
from xml.etree import ElementTree

import click
from flask import current_app
from flask.cli import with_appcontext
from twilio.request_validator import RequestValidator

from bot.extensions import settings

DEFAULT_TO = "89361"


def signed_request(
    url: str, auth_token: str, sender: str, body: str, to: str = DEFAULT_TO
) -> tuple[dict, str]:
    """The form fields of an inbound SMS as Twilio sends them, and their X-Twilio-Signature."""
    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": settings().TWILIO_ACCOUNT_SID,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    return params, RequestValidator(auth_token).compute_signature(url, params)


def reply_text(twiml: str) -> str | None:
    """The text of the <Message> in a TwiML answer, or None for an empty <Response/>."""
    message = ElementTree.fromstring(twiml).find("Message")  # noqa: S314 - our own server's answer
    return None if message is None else (message.text or "")


@click.command("simulate")
@click.option("--from", "sender", required=True, help="The participant's number, E.164 (+19195550101).")
@click.option("--url", default=None, help="A running server's webhook URL (default: this app, in-process).")
@with_appcontext
def simulate_command(sender: str, url: str | None) -> None:
    """Chat with the bot as the phone SENDER would (Ctrl-D to stop)."""
    config = settings()
    logging.getLogger("webhooks.sms").setLevel(logging.WARNING)  # the chat, not the request log
    target = url or (config.PUBLIC_BASE_URL or "http://localhost") + "/webhooks/sms"
    client = None if url else current_app.test_client()
    click.echo(f"Texting {target} as {sender}. Type a message; Ctrl-D ends.")
    while True:
        try:
            body = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        params, signature = signed_request(target, config.TWILIO_AUTH_TOKEN, sender, body)
        headers = {"X-Twilio-Signature": signature}
        if client is not None:
            response = client.post(
                "/webhooks/sms", data=params, headers=headers, base_url=target.rsplit("/webhooks", 1)[0]
            )
            status, text = response.status_code, response.get_data(as_text=True)
        else:
            request = urllib.request.Request(  # noqa: S310 - the operator's own URL
                target,
                data=urlencode(params).encode(),
                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                    status, text = response.status, response.read().decode("utf-8")
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read().decode("utf-8", "replace")
        if status != 200:
            click.echo(f"bot> (HTTP {status}: {text.strip()})")
            continue
        answer = reply_text(text)
        click.echo("bot> (no reply)" if answer is None else f"bot> {answer}")
