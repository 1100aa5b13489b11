"""Sending one text through Twilio's Messages REST API with the twilio library, and what came of it.

TWILIO_API_URL points the client at another server that speaks the same API (a local test double);
otherwise it talks to https://api.twilio.com. Every outcome is one of: sent (Twilio has it, with a
SID), retry (nothing was created: throttled, Twilio down, connection refused), failed (Twilio refused
it for good, with its error code), or unknown (the request may have reached Twilio and the answer was
lost: the row stays "sending" and recovery finds out, so a retry never sends twice).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

# The twilio client logs every request's URL and headers at INFO: not for our logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

OPTED_OUT = 21610  # the recipient replied STOP to this sender: nothing can go until START
RETRY_HTTP = frozenset({429, 500, 502, 503, 504})
RETRY_CODES = frozenset({20429, 20500, 20503, 30001})  # too many requests, internal error, queue overflow
TIMEOUT_SECONDS = 10.0
# Twilio's magic "from" number for test credentials: a development default only.
DEVELOPMENT_FROM = "+15005550006"


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | retry | failed | unknown
    sid: str | None = None
    status: str | None = None
    error_code: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class FoundMessage:
    sid: str
    status: str


class TwilioSender:
    """The twilio client, one per thread that sends (each keeps its HTTP connections alive).

    One per thread because the library's client is not made for sharing: TwilioHttpClient keeps the last
    request and response on itself, and a requests Session is not documented as thread-safe. Workers
    send SEND_CONCURRENCY texts at once from a pool of threads (bot.outbound.delivery).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_url: str | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
    ) -> None:
        self._credentials = (account_sid, auth_token)
        self._api_url = api_url.rstrip("/") if api_url else None
        self._local = threading.local()
        self._sender = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number or DEVELOPMENT_FROM}
        )

    @property
    def _client(self) -> Client:
        """This thread's client (made at its first use)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = Client(*self._credentials, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS))
            if self._api_url:
                client.api.base_url = self._api_url
            self._local.client = client
        return client

    def prepare(self) -> None:
        """Make this thread's client before a send's slot comes: the first one builds the library's
        resources (lazy imports, tens of ms), which would otherwise make that send late for its slot."""
        self._client.messages  # noqa: B018 - touched for its side effect

    def send(self, to: str, body: str, status_callback: str | None) -> SendResult:
        """Ask Twilio to send one text; never raises for what Twilio or the network does."""
        extra = {"status_callback": status_callback} if status_callback else {}
        try:
            message = self._client.messages.create(to=to, body=body, **self._sender, **extra)
        except TwilioRestException as exc:
            if exc.status in RETRY_HTTP or exc.code in RETRY_CODES:
                return SendResult("retry", error_code=exc.code or exc.status)
            return SendResult("failed", error_code=exc.code or exc.status)
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError):
            return SendResult("retry")
        except requests.exceptions.ConnectionError as exc:
            # Refused before anything was sent: safe to retry. Anything later: the request may have landed.
            if _refused(exc):
                return SendResult("retry")
            return SendResult("unknown")
        except requests.exceptions.RequestException:
            return SendResult("unknown")
        return SendResult("sent", sid=message.sid, status=message.status)

    def find(self, to: str, body: str, created_after: object) -> FoundMessage | None:
        """A message Twilio already has to this number with this text, created after a moment (recovery)."""
        for message in self._client.messages.list(to=to, limit=50):
            if (
                message.body == body
                and message.date_created is not None
                and message.date_created >= created_after
            ):
                return FoundMessage(message.sid, message.status)
        return None


def _refused(exc: requests.exceptions.ConnectionError) -> bool:
    text = repr(exc.args[0]) if exc.args else ""
    return "NewConnectionError" in text or "Connection refused" in text
