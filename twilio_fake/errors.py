"""Twilio's REST error codes and the JSON error body the twilio library parses.

The body is Twilio's legacy error shape ``{"code", "message", "more_info", "status"}``; the library turns
it into ``TwilioRestException(status, uri, msg, code)``. (A body with "type" and "title" would become a
``TwilioServiceException`` instead, which the Messages API never answers.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


@dataclass(frozen=True, slots=True)
class TwilioError:
    """One error answer: HTTP status, Twilio code and message (and an optional detail)."""

    status: int
    code: int
    message: str
    detail: str | None = None

    def body(self) -> bytes:
        """The JSON body, byte for byte in Twilio's key order."""
        payload: dict[str, object] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            payload["detail"] = self.detail
        payload["more_info"] = MORE_INFO.format(code=self.code)
        payload["status"] = self.status
        return json.dumps(payload).encode()


# ---- authentication and transport -------------------------------------------------------------------
AUTHENTICATE = TwilioError(401, 20003, "Authenticate", "Your AccountSid or AuthToken was incorrect.")
TOO_MANY_REQUESTS = TwilioError(429, 20429, "Too Many Requests")
INTERNAL_ERROR = TwilioError(500, 20500, "Internal Server Error")
SERVICE_UNAVAILABLE = TwilioError(503, 20503, "Service unavailable")


def not_found(path: str) -> TwilioError:
    """20404: no resource at this path."""
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def injected(status: int) -> TwilioError:
    """The error answered for a failure injected by a test (500, 503 or any other 5xx)."""
    if status == 503:
        return SERVICE_UNAVAILABLE
    if status == 500:
        return INTERNAL_ERROR
    return TwilioError(status, 20000 + status, "Injected failure")


# ---- creating a message -----------------------------------------------------------------------------
TO_REQUIRED = TwilioError(400, 21604, "A 'To' phone number is required.")
FROM_REQUIRED = TwilioError(400, 21603, "A 'From' phone number is required.")
BODY_REQUIRED = TwilioError(400, 21602, "A text message body or media urls must be specified.")
BODY_TOO_LONG = TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
UNSUBSCRIBED = TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")


def invalid_to(to: str) -> TwilioError:
    """21211: To is not a phone number."""
    return TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")


def invalid_from(from_: str) -> TwilioError:
    """21212: From is not a phone number, short code or alphanumeric sender ID."""
    return TwilioError(
        400,
        21212,
        f"The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric sender ID.",
    )


def invalid_status_callback(url: str) -> TwilioError:
    """21609: StatusCallback is not an absolute http(s) URL."""
    return TwilioError(400, 21609, f"The StatusCallback URL {url} is not a valid URL.")


# ---- delivery outcomes, reported in status callbacks and on the resource ---------------------------
DELIVERY_ERRORS: dict[int, str] = {
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}
