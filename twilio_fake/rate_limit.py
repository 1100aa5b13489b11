"""A token bucket: at most `rate` requests per second on average, `burst` at once."""

from __future__ import annotations

import time


class TokenBucket:
    """Refills continuously; `take()` spends one token or says no."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.tokens = self.burst
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend a token if one is there."""
        moment = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (moment - self.updated) * self.rate)
        self.updated = moment
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
