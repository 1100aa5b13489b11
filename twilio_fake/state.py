"""The fake's memory: accepted messages, configured behaviour, and counters. Lives on the event loop."""

from __future__ import annotations

import asyncio
import os
import resource
from collections import Counter

from twilio_fake.behaviour import Behaviour
from twilio_fake.callbacks import CallbackSender, Step
from twilio_fake.message import Message, new_sid, now

# The number a messaging service "picks" as sender when the create named no From.
SERVICE_SENDER = "+15005550006"


class FakeState:
    """Messages by SID, the knobs tests turn, and what happened (for the control API)."""

    def __init__(
        self, account_sid: str, auth_token: str, callback_concurrency: int = 64, latency: float = 0.0
    ) -> None:
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.start_latency = latency  # what the fake was started with; reset comes back to it
        self.behaviour = Behaviour(latency=latency)
        self.messages: dict[str, Message] = {}
        self.rejected: Counter[int] = Counter()  # Twilio error code -> how many requests got it
        self.callbacks = CallbackSender(auth_token, concurrency=callback_concurrency)
        self.creates_in_flight = 0  # create requests being handled now (waiting out the latency)
        self.max_creates_in_flight = 0  # the most at once since start or reset

    def reset(self) -> None:
        """Forget messages, callbacks and counters; behave like a fresh fake (as started)."""
        self.behaviour = Behaviour(latency=self.start_latency)
        self.messages = {}
        self.rejected = Counter()
        self.callbacks.forget()
        self.max_creates_in_flight = self.creates_in_flight

    def create(
        self, to: str, from_: str | None, service_sid: str | None, body: str, status_callback: str | None
    ) -> Message:
        """Accept a message; its delivery runs later, on the loop, after the create has been answered."""
        moment = now()
        message = Message(
            sid=new_sid(),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            messaging_service_sid=service_sid,
            body=body,
            status_callback=status_callback,
            status="accepted" if service_sid else "queued",
            date_created=moment,
            date_updated=moment,
        )
        self.messages[message.sid] = message
        return message

    def deliver(self, message: Message) -> None:
        """Run the message through its status changes and post its callbacks, as configured."""
        behaviour = self.behaviour
        steps = self.steps(message)
        delay = behaviour.callback_delay
        if delay > 0:
            loop = asyncio.get_running_loop()
            for index, step in enumerate(steps, start=1):
                loop.call_later(delay * index, self.advance, message, step)
        else:
            for step in steps:
                self.advance(message, step)
        if message.status_callback:
            posted = list(reversed(steps)) if behaviour.reverse_callbacks else list(steps)
            if behaviour.duplicate_callbacks:
                posted = [step for step in posted for _ in (1, 2)]
            self.callbacks.send(message, posted, delay)

    def advance(self, message: Message, step: Step) -> None:
        if message.messaging_service_sid and message.from_ is None and step.status != "failed":
            message.from_ = SERVICE_SENDER
        message.advance(step.status, step.error_code, step.error_message)

    def steps(self, message: Message) -> list[Step]:
        """Status changes after creation: [queued,] sent, delivered|undelivered; or [queued,] failed."""
        outcome = self.behaviour.outcome_for(message.to)
        steps = [Step("queued")] if message.messaging_service_sid else []
        if outcome.status != "failed":
            steps.append(Step("sent"))
        steps.append(Step(outcome.status, outcome.error_code, outcome.error_message))
        return steps

    def stats(self) -> dict[str, object]:
        """Counts a benchmark polls: messages by status, rejections by code, callbacks by result, create
        requests in flight (now, and the most at once), memory."""
        return {
            "pid": os.getpid(),
            "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "messages": len(self.messages),
            "statuses": dict(Counter(message.status for message in self.messages.values())),
            "rejected": {str(code): count for code, count in self.rejected.items()},
            "creates": {"in_flight": self.creates_in_flight, "max_in_flight": self.max_creates_in_flight},
            "callbacks": {
                "succeeded": self.callbacks.succeeded,
                "failed": self.callbacks.failed,
                "pending": self.callbacks.pending,
            },
        }
