"""What tests configure: refusals, per-number outcomes, rate limit, injected failures, callback quirks,
and how long a create takes to answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from twilio_fake import errors
from twilio_fake.rate_limit import TokenBucket

OUTCOMES = ("delivered", "undelivered", "failed")
DEFAULT_ERROR = {"undelivered": 30003, "failed": 30008}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How delivery to one number ends."""

    status: str = "delivered"
    error_code: int | None = None

    @property
    def error_message(self) -> str | None:
        return (
            None if self.error_code is None else errors.DELIVERY_ERRORS.get(self.error_code, "Unknown error")
        )


def outcome(status: str, error_code: int | None = None) -> Outcome:
    """Check and complete an outcome: undelivered and failed carry an error code, delivered none."""
    if status not in OUTCOMES:
        raise ValueError(f"outcome status must be one of {', '.join(OUTCOMES)}, not {status!r}")
    if status == "delivered":
        if error_code is not None:
            raise ValueError("a delivered message has no error code")
        return Outcome()
    return Outcome(status, error_code if error_code is not None else DEFAULT_ERROR[status])


@dataclass(slots=True)
class InjectedFailures:
    """The next `count` creates (to `number`, or to anyone) answer `status`."""

    count: int
    status: int
    number: str | None = None


@dataclass(slots=True)
class Behaviour:
    """Everything a test can change; `Behaviour()` is how a fresh fake (and reset) behaves."""

    refused: set[str] = field(default_factory=set)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    rate_limit: TokenBucket | None = None
    failures: list[InjectedFailures] = field(default_factory=list)
    reverse_callbacks: bool = False
    duplicate_callbacks: bool = False
    callback_delay: float = 0.0
    latency: float = 0.0  # seconds every create waits before it is answered (asyncio.sleep: concurrent)

    def outcome_for(self, number: str) -> Outcome:
        return self.outcomes.get(number) or Outcome()

    def injected_failure(self, number: str) -> int | None:
        """The HTTP status of a failure injected for this create, if one is due (and spend it)."""
        for failure in self.failures:
            if failure.number is None or failure.number == number:
                failure.count -= 1
                if failure.count <= 0:
                    self.failures.remove(failure)
                return failure.status
        return None
