"""What every Twilio webhook request must pass: a strict form parse and a valid signature."""

from __future__ import annotations

import contextlib
import hmac
import logging
from urllib.parse import parse_qsl

from flask import Request
from twilio.request_validator import RequestValidator, get_signature_algorithm
from werkzeug.datastructures import MultiDict

log = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """A request we will not act on; `status` and the message say why (never with its values)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_form(request: Request) -> MultiDict[str, str]:
    """Parse an application/x-www-form-urlencoded body strictly (invalid UTF-8 is refused)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise WebhookRejected(415, "expected an application/x-www-form-urlencoded body")
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise WebhookRejected(400, "the body is not URL-encoded (raw non-ASCII bytes)") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise WebhookRejected(400, "a form value is not valid UTF-8") from None
    return MultiDict(pairs)


def public_url(request: Request, public_base_url: str | None) -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL plus the path, else the URL as the (trusted) proxy saw it."""
    if public_base_url:
        query = request.query_string.decode("latin-1")
        return public_base_url + request.path + (f"?{query}" if query else "")
    return request.url


def check_signature(request: Request, params: MultiDict[str, str], auth_token: str, url: str) -> None:
    """Raise WebhookRejected(403) unless X-Twilio-Signature signs this URL and these parameters."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        raise WebhookRejected(403, "missing X-Twilio-Signature")
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    validator = RequestValidator(auth_token)
    if "bodySHA256" not in url:
        # Twilio signs the URL it requested, which is this one: one HMAC settles the usual case. Anything
        # else gets the library's full check (the URL with and without its port, two more HMACs).
        with contextlib.suppress(ValueError):  # an algorithm it does not know: validate says so below
            if hmac.compare_digest(validator.compute_signature(url, params, algorithm), signature):
                return
    if not validator.validate(url, params, signature, algorithm):
        raise WebhookRejected(403, "X-Twilio-Signature does not match")
