"""One sending rate shared by every worker: SEND_RATE messages per second, paced through Redis.

A generic cell rate algorithm (GCRA) in one Lua script, timed by Redis' own clock: each call reserves
the next free sending slot and says how long to wait for it. Workers on many machines therefore share
one pace, and a burst never exceeds the short code's throughput.
Without Redis (inline sending) the same pacing runs in the one process.

Slots are 2 % more than 1/rate apart: a text goes out a little after its slot (a thread waits for the
interpreter, a busy machine), by up to LATE_LIMIT (the courier takes a new slot when it would be later)
plus the HTTP request's own few ms. Slots spaced exactly 1/rate apart would then let the busiest second
at Twilio see rate + 1; 1 % (10 ms a second) still did on a busy 2-core machine, where a request reached
the local Twilio server up to 18 ms (p99) after it was sent; 2 % (20 ms a second) absorbs that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis

KEY = "sms:send-rate"
SPACING_MARGIN = 0.02  # slots (1 + this) / rate apart
LATE_LIMIT = 0.005  # seconds after its slot past which a text must take a new slot (LATE_LIMIT + the
# request's own jitter must stay within SPACING_MARGIN of a second)

# KEYS[1]: the slot key. ARGV[1]: microseconds between slots. Returns microseconds to wait.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', math.ceil((slot + interval - now) / 1000) + 1000)
return slot - now
"""


class RateLimiter:
    """Wait for a sending slot; `acquire` returns the seconds it waited."""

    def __init__(
        self,
        rate: float,
        connection: redis.Redis | None,
        *,
        key: str = KEY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._interval_us = int(round(1_000_000 * (1 + SPACING_MARGIN) / rate)) if rate > 0 else 0
        self._key = key
        self._sleep = sleep
        self._script = connection.register_script(_RESERVE) if connection is not None and rate > 0 else None
        self._lock = threading.Lock()
        self._next_local = 0.0

    @property
    def enabled(self) -> bool:
        return self._interval_us > 0

    def _reserve_local(self) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_local)
            self._next_local = slot + self._interval_us / 1_000_000
            return slot - now

    def reserve(self) -> float:
        """Take this caller's slot without waiting for it: seconds from now until it comes (0: now).

        Raises redis.RedisError when Redis cannot be reached."""
        if not self.enabled:
            return 0.0
        if self._script is not None:
            return int(self._script(keys=[self._key], args=[self._interval_us])) / 1_000_000
        return self._reserve_local()

    def wait_until(self, moment: float) -> None:
        """Sleep until `moment` (time.monotonic()); at once if it has passed."""
        delay = moment - time.monotonic()
        if delay > 0:
            self._sleep(delay)

    def acquire(self) -> float:
        """Block until this caller's slot comes; raises redis.RedisError when Redis cannot be reached."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait
