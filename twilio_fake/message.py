"""The Message resource: what the fake keeps per message and the JSON Twilio answers for it.

Lifecycle (outbound-api, as Twilio reports it):

    queued (From) or accepted (MessagingServiceSid)
      -> [queued, with a messaging service] -> sent -> delivered | undelivered
      -> failed                                          (never sent)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache

from twilio_fake.segments import count_segments

API_VERSION = "2010-04-01"
PRICE_PER_SEGMENT = "0.00790"

# Statuses after which nothing changes any more.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})


def new_sid(prefix: str = "SM") -> str:
    """A Twilio SID: two letters and 32 hex digits."""
    return prefix + os.urandom(16).hex()


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's date format: 'Wed, 18 Aug 2010 20:01:40 +0000'."""
    return None if moment is None else _rfc2822(moment)


@lru_cache(maxsize=8)  # dates are whole seconds: under load, thousands of messages share a few
def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)


def now() -> datetime:
    """The current time in UTC, to the second like Twilio's dates."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(slots=True)
class Message:
    """One outbound message the fake accepted."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    status: str
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    # When the create arrived, in Unix seconds to the microsecond (Twilio's dates are whole seconds):
    # what a benchmark needs to measure a sending rate over 1-second windows.
    created: float = field(default_factory=time.time)
    error_code: int | None = None
    error_message: str | None = None
    # (status, HTTP status or None, error or None) for every callback attempt, in the order they ended.
    callbacks: list[tuple[str, int | None, str | None]] = field(default_factory=list)

    @property
    def segments(self) -> int:
        return count_segments(self.body)

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def advance(self, status: str, error_code: int | None = None, error_message: str | None = None) -> None:
        """Move to a later status (never back from a final one), as Twilio's resource does."""
        if self.status in FINAL_STATUSES:
            return
        self.status = status
        self.date_updated = now()
        if status in ("sent", "delivered", "undelivered") and self.date_sent is None:
            self.date_sent = self.date_updated
        if error_code is not None:
            self.error_code = error_code
            self.error_message = error_message

    def resource(self) -> dict[str, object]:
        """The Message resource JSON, with Twilio's keys."""
        with_service = self.messaging_service_sid is not None
        sent = self.date_sent is not None
        return {
            "body": self.body,
            # Twilio answers 0 segments until a messaging service has picked the sender.
            "num_segments": "0" if with_service and not sent else str(self.segments),
            "direction": "outbound-api",
            "from": self.from_,
            "to": self.to,
            "date_updated": rfc2822(self.date_updated),
            "price": f"-{PRICE_PER_SEGMENT}" if sent and self.status != "failed" else None,
            "error_message": self.error_message,
            "uri": self.uri,
            "account_sid": self.account_sid,
            "num_media": "0",
            "status": self.status,
            "messaging_service_sid": self.messaging_service_sid,
            "sid": self.sid,
            "date_sent": rfc2822(self.date_sent),
            "date_created": rfc2822(self.date_created),
            "error_code": self.error_code,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}/Media.json",
                "feedback": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}/Feedback.json",
            },
        }

    def resource_json(self) -> bytes:
        return json.dumps(self.resource()).encode()

    def summary(self) -> dict[str, object]:
        """What the control API lists: the fields a test asserts on, and every callback's result."""
        return {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "body": self.body,
            "status": self.status,
            "error_code": self.error_code,
            "status_callback": self.status_callback,
            "date_created": rfc2822(self.date_created),
            "created": self.created,
            "callbacks": [
                {"status": status, "http_status": http_status, "error": error}
                for status, http_status, error in self.callbacks
            ],
        }
