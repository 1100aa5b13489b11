"""A create answered after a latency, as Twilio answers in ~100-300 ms: many wait out theirs at once."""

from __future__ import annotations

import threading
import time

import pytest
from twilio.base.exceptions import TwilioRestException

import twilio_fake
from tests.twilio_fake.conftest import SENDER
from twilio_fake import FakeTwilio

LATENCY = 0.2


def test_a_create_waits_out_the_latency_and_keeps_its_arrival_time(fake: FakeTwilio) -> None:
    fake.latency(LATENCY * 1000)
    twilio = fake.client(timeout=10)
    started = time.time()
    twilio.messages.create(to="+15551230001", from_=SENDER, body="hi")
    took = time.time() - started
    fake.refuse("+15551230002")
    refused_at = time.perf_counter()
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(to="+15551230002", from_=SENDER, body="hi")
    refused_took = time.perf_counter() - refused_at

    assert took >= LATENCY and refused_took >= LATENCY  # errors are answered as late as successes
    assert raised.value.code == 21610
    (message,) = fake.messages()
    assert message["created"] - started < LATENCY  # created at arrival: a window of creates is the requests'


def test_concurrent_creates_are_all_answered_in_about_one_latency(fake: FakeTwilio) -> None:
    fake.latency(LATENCY * 1000)
    count = 10
    clients = [fake.client(timeout=10) for _ in range(count)]  # a requests session is not for sharing
    for n, twilio in enumerate(clients):  # connect first, so the timed part is only the creates
        twilio.messages.create(to=f"+1555123010{n}", from_=SENDER, body="warm-up")
    fake.reset()
    fake.latency(LATENCY * 1000)
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        barrier.wait()
        try:
            clients[n].messages.create(to=f"+1555123000{n}", from_=SENDER, body="hi")
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=10)
    took = time.perf_counter() - started

    assert errors == []
    assert len(fake.messages()) == count
    # One after another they would take count x LATENCY = 2 s; at once, one latency plus the machine's
    # noise (a shared 2-core box): a third of that is a generous bound that still tells the two apart.
    assert LATENCY <= took < count * LATENCY / 3
    creates = fake.stats()["creates"]
    assert creates == {"in_flight": 0, "max_in_flight": count}  # every one was waiting at the same time


def test_the_latency_is_a_start_up_setting_that_reset_comes_back_to() -> None:
    with twilio_fake.serve(latency_ms=100) as fake:
        twilio = fake.client(timeout=10)
        fake.latency(0)
        fake.reset()
        started = time.perf_counter()
        twilio.messages.create(to="+15551230001", from_=SENDER, body="hi")
        assert time.perf_counter() - started >= 0.1
        with pytest.raises(ValueError, match="ms must be >= 0"):
            fake.latency(-1)
