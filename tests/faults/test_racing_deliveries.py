"""Twilio delivering the same MessageSid to two web processes at once: answered alike, stored once."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from collections import Counter, defaultdict

import psycopg
from twilio.request_validator import RequestValidator

from tests.faults.conftest import TOKEN, PrivatePostgres
from tests.webhooks.conftest import SAMPLE, new_sid

COPIES = 6


def post(url: str, params: dict[str, str]) -> tuple[int, bytes]:
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    request = urllib.request.Request(  # noqa: S310 - a local test server
        url, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
        return answer.status, answer.read()


def test_copies_of_one_text_racing_on_four_processes_are_stored_once(
    private_postgres: PrivatePostgres,
    gunicorn_on,  # noqa: ANN001
) -> None:
    service = gunicorn_on(private_postgres.url, workers=4)
    url = f"{service.url}/webhooks/sms"
    texts = [
        {**SAMPLE, "From": number, "Body": body, "MessageSid": new_sid()}
        for number, body in [
            ("+19195550101", "when is my next payment due"),
            ("+19195550103", "STOP"),
            ("+19195550188", "hello"),  # a number on no file: the first text creates its row
            ("+19195550102", "did you get my payment"),
        ]
        * 3
    ]
    answers: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
    lock = threading.Lock()
    barrier = threading.Barrier(COPIES)

    def deliver(params: dict[str, str]) -> None:
        barrier.wait()
        outcome = post(url, params)
        with lock:
            answers[params["MessageSid"]].append(outcome)

    for params in texts:
        threads = [threading.Thread(target=deliver, args=(params,)) for _ in range(COPIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for sid, outcomes in answers.items():
        assert len(outcomes) == COPIES and {status for status, _ in outcomes} == {200}, sid
        assert len({body for _, body in outcomes}) == 1, f"{sid}: copies answered differently"
    with psycopg.connect(private_postgres.url) as connection:
        stored = Counter(
            sid
            for (sid,) in connection.execute("SELECT message_sid FROM exchanges WHERE direction = 'inbound'")
        )
        numbers = connection.execute("SELECT count(*) FROM phone_numbers").fetchone()[0]
        stops = connection.execute(
            "SELECT count(*) FROM consent_events WHERE channel = 'sms_keyword'"
        ).fetchone()[0]
    assert all(stored[params["MessageSid"]] == 1 for params in texts)
    assert numbers == 8  # the 7 demo numbers and the one new number, once
    assert stops == 3  # one opt-out per STOP text, not one per copy
