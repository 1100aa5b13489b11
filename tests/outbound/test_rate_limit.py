"""The shared sending rate, through real Redis: several workers together never exceed SEND_RATE."""

from __future__ import annotations

import threading
import time
import uuid

import redis

from bot.outbound.rate_limit import RateLimiter


def busiest_second(stamps: list[float]) -> int:
    """The most events in any window [t, t + 1 s) starting at an event."""
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_three_workers_share_one_rate(redis_url: str) -> None:
    key = f"test-rate-{uuid.uuid4().hex}"
    rate, per_worker = 40.0, 20
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = RateLimiter(rate, redis.Redis.from_url(redis_url), key=key)
        for _ in range(per_worker):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert len(stamps) == 60
    assert busiest_second(stamps) <= rate + 1  # +1: a window [t, t+1] closed at both ends
    # 60 slots 25 ms apart: ~1.5 s. Much longer would mean workers block each other needlessly.
    assert 1.4 <= elapsed <= 3.0


def test_slots_are_reserved_in_order_and_the_waits_grow(redis_url: str) -> None:
    waits: list[float] = []
    limiter = RateLimiter(
        10.0, redis.Redis.from_url(redis_url), key=f"test-rate-{uuid.uuid4().hex}", sleep=waits.append
    )
    for _ in range(5):
        limiter.acquire()
    # Nobody slept for real, so each call reserved the next slot 100 ms after the one before.
    assert waits[0] >= 0.08
    assert [round(b - a, 2) for a, b in zip(waits, waits[1:], strict=False)] == [0.1, 0.1, 0.1]


def test_without_redis_one_process_is_paced_alone() -> None:
    limiter = RateLimiter(50.0, None)
    started = time.monotonic()
    for _ in range(11):
        limiter.acquire()
    assert 0.19 <= time.monotonic() - started < 0.6
