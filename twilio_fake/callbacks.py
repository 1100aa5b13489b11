"""Status callbacks: form POSTs signed like Twilio's, sent from background tasks, each tried once.

A message's callbacks go out one after another (so `sent` lands before `delivered` unless a test asks
for the reverse); different messages' callbacks go out concurrently over kept-alive connections.
A callback that fails (refused connection, timeout, non-2xx) is recorded and counted, never retried:
Twilio does not retry status callbacks either.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp

from twilio_fake.message import API_VERSION, Message
from twilio_fake.signature import sign

# (message sid, status reported, HTTP status answered or None, error or None)
Attempt = tuple[str, str, int | None, str | None]


@dataclass(frozen=True, slots=True)
class Step:
    """One status change of a message: the status and, for failures, Twilio's error."""

    status: str
    error_code: int | None = None
    error_message: str | None = None


def callback_params(message: Message, step: Step) -> dict[str, str]:
    """The form Twilio posts to a status callback URL for this status change."""
    params = {
        "SmsSid": message.sid,
        "SmsStatus": step.status,
        "MessageStatus": step.status,
        "To": message.to,
        "MessageSid": message.sid,
        "AccountSid": message.account_sid,
        "From": message.from_ or "",
        "ApiVersion": API_VERSION,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if step.status in ("delivered", "undelivered"):
        params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
    if step.error_code is not None:
        params["ErrorCode"] = str(step.error_code)
        params["ErrorMessage"] = step.error_message or ""
    return params


class CallbackSender:
    """Posts callbacks on the server's event loop; `pending` says how many are still to go."""

    def __init__(self, auth_token: str, concurrency: int = 64, timeout: float = 10.0) -> None:
        self.auth_token = auth_token
        self.concurrency = concurrency
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts: list[Attempt] = []
        self.succeeded = 0
        self.failed = 0
        self.pending = 0
        self._queue: asyncio.Queue[tuple[Message, list[Step]]] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._delayed: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=0)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]

    async def stop(self) -> None:
        for task in [*self._workers, *self._delayed]:
            task.cancel()
        for task in [*self._workers, *self._delayed]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

    def send(self, message: Message, steps: list[Step], delay: float = 0.0) -> None:
        """Post these callbacks in this order, `delay` seconds apart (and before the first)."""
        self.pending += len(steps)
        if delay > 0:
            task = asyncio.create_task(self._post_all(message, steps, delay))
            self._delayed.add(task)
            task.add_done_callback(self._delayed.discard)
        else:
            self._queue.put_nowait((message, steps))

    def forget(self) -> None:
        """Drop the record of past attempts (reset); callbacks under way still finish."""
        self.attempts = []
        self.succeeded = self.failed = 0

    async def _work(self) -> None:
        while True:
            message, steps = await self._queue.get()
            await self._post_all(message, steps, 0.0)

    async def _post_all(self, message: Message, steps: list[Step], delay: float) -> None:
        token = str(uuid.uuid4())  # a resent callback carries the same idempotency token
        for step in steps:
            if delay > 0:
                await asyncio.sleep(delay)
            await self._post(message, step, token)

    async def _post(self, message: Message, step: Step, idempotency_token: str) -> None:
        url = message.status_callback or ""
        params = callback_params(message, step)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(self.auth_token, url, params),
            "I-Twilio-Idempotency-Token": idempotency_token,
            "User-Agent": "TwilioProxy/1.1",
        }
        http_status: int | None = None
        error: str | None = None
        try:
            assert self._session is not None, "start() first"
            async with self._session.post(url, data=urlencode(params), headers=headers) as response:
                await response.read()
                http_status = response.status
                if not 200 <= http_status < 300:
                    error = f"HTTP {http_status}"
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        attempt: Attempt = (message.sid, step.status, http_status, error)
        self.attempts.append(attempt)
        message.callbacks.append((step.status, http_status, error))
        self.pending -= 1
        if error is None:
            self.succeeded += 1
        else:
            self.failed += 1
