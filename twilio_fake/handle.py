"""`FakeTwilio`: the Python face of a running fake (in this process or another), over its /_fake/ API."""

from __future__ import annotations

import time
from typing import Any

import requests
from twilio.rest import Client

from twilio_fake.client import client


class FakeTwilio:
    """A running fake: its URL and credentials, a real twilio client for it, and its test knobs."""

    def __init__(self, url: str, account_sid: str, auth_token: str) -> None:
        self.url = url
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._http = requests.Session()

    def client(self, timeout: float | None = None) -> Client:
        """A real twilio.rest.Client pointed at this fake."""
        return client(self.url, self.account_sid, self.auth_token, timeout=timeout)

    # ---- what happened ------------------------------------------------------------------------------
    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages in creation order (sid, to, from, body, status, error_code, callbacks, ...)."""
        return self._get("messages", params={"to": to} if to else None)

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback attempt that ended: message_sid, status, http_status (None if no answer), error."""
        return self._get("callbacks")

    def stats(self) -> dict[str, Any]:
        """Counts: messages, statuses, rejected (by Twilio code), callbacks (succeeded, failed, pending),
        creates (in_flight now, max_in_flight: the most handled at once since start or reset), and the
        serving process's pid and peak RSS (max_rss_kb; the whole process, in serve() mode)."""
        return self._get("stats")

    def wait_for_callbacks(self, timeout: float = 10.0) -> dict[str, Any]:
        """Block until no callback is pending (scheduled, queued or in flight); answers the stats."""
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            stats = self.stats()
            if stats["callbacks"]["pending"] == 0:
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"callbacks still pending after {timeout} s: {stats['callbacks']}")
            # Counting 100,000 messages' statuses costs the fake ~10 ms: poll less often as the wait grows.
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

    # ---- how it behaves -----------------------------------------------------------------------------
    def refuse(self, number: str, refuse: bool = True) -> None:
        """Creates to `number` answer 400 / 21610 (or, with refuse=False, stop doing so)."""
        self._post("refuse", {"number": number, "refuse": refuse})

    def outcome(self, number: str, status: str = "delivered", error_code: int | None = None) -> None:
        """How delivery to `number` ends: delivered, undelivered (30003 unless told) or failed (30008)."""
        self._post("outcome", {"number": number, "status": status, "error_code": error_code})

    def max_rate(self, per_second: float | None, burst: float | None = None) -> None:
        """Answer 429 / 20429 to creates above `per_second` (token bucket, `burst` defaults to the rate)."""
        self._post("max_rate", {"per_second": per_second, "burst": burst})

    def fail_next(self, count: int, status: int = 503, number: str | None = None) -> None:
        """The next `count` creates (to `number`, if given) answer `status` (500 -> 20500, 503 -> 20503)."""
        self._post("fail_next", {"count": count, "status": status, "number": number})

    def callback_mode(
        self, *, reverse: bool | None = None, duplicate: bool | None = None, delay: float | None = None
    ) -> None:
        """Post callbacks final-status-first, each one twice, and/or `delay` seconds apart."""
        change = {"reverse": reverse, "duplicate": duplicate, "delay": delay}
        self._post("callback_mode", {name: value for name, value in change.items() if value is not None})

    def latency(self, ms: float) -> None:
        """Answer every create `ms` milliseconds after it arrives (0: at once); creates wait concurrently."""
        self._post("latency", {"ms": ms})

    def reset(self) -> None:
        """Forget messages and callbacks, and undo every knob (latency back to the start-up value)."""
        self._post("reset", {})

    # ---- transport ----------------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = self._http.get(f"{self.url}/_fake/{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, data: dict[str, Any]) -> None:
        response = self._http.post(f"{self.url}/_fake/{path}", json=data, timeout=30)
        if response.status_code == 400:
            raise ValueError(response.json()["error"])
        response.raise_for_status()

    def close(self) -> None:
        self._http.close()
