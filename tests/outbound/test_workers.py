"""Real RQ workers (subprocesses, `rq worker`) on real Redis, sending to the local Twilio server.

Each test uses its own queue name, so test runs sharing one Redis never take each other's jobs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from rq import Queue
from sqlalchemy import select

import twilio_fake
from bot.outbound import queueing, service
from storage import outbox
from storage.models import PhoneNumber, utcnow
from tests.conftest import DATA_KEY, ROOT
from tests.outbound.conftest import PAYER, TODAY, TOKEN, load_caseload, outbox_rows, serve_app
from tests.webhooks.conftest import reply

# The workers run at the real time of day: quiet hours off (development only) so the tests do not
# depend on the hour. Quiet hours are tested in test_delivery.py with the courier's clock.
WORKER_SETTINGS = {"QUIET_HOURS": "00:00-00:00"}


@pytest.fixture
def queue_name() -> str:
    return f"test-sms-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def worker_app(
    database_url: str, fake: twilio_fake.FakeTwilio, redis_url: str, queue_name: str, tmp_path: Path
) -> Iterator[Flask]:
    with serve_app(database_url, fake, REDIS_URL=redis_url, QUEUE_NAME=queue_name, **WORKER_SETTINGS) as app:
        load_caseload(app, tmp_path)
        yield app


def worker_env(app: Flask) -> dict[str, str]:
    config = app.config
    names = (
        "DATABASE_URL",
        "REDIS_URL",
        "QUEUE_NAME",
        "TWILIO_API_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_FROM",
        "PUBLIC_BASE_URL",
        "SEND_RATE",
        "SEND_CONCURRENCY",
    )
    env = {name: str(config[name]) for name in names if config.get(name) is not None}
    env.update(
        SECRET_KEY="test-secret-key",
        DATA_KEYS=DATA_KEY,
        TWILIO_AUTH_TOKEN=TOKEN,
        QUIET_HOURS="00:00-00:00",
        PATH=os.environ["PATH"],
        PYTHONPATH=str(ROOT),
    )
    return env


def start_worker(app: Flask, *, burst: bool = True) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "--url",
        app.config["REDIS_URL"],
        "--worker-class",
        "rq.worker.SimpleWorker",
        "--with-scheduler",
    ]
    command += ["--burst"] if burst else []
    command += [app.config["QUEUE_NAME"]]
    return subprocess.Popen(
        command, cwd=ROOT, env=worker_env(app), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def run_workers(app: Flask, count: int = 2, timeout: float = 60) -> None:
    workers = [start_worker(app) for _ in range(count)]
    for worker in workers:
        output, _ = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, output.decode(errors="replace")[-2000:]


def remind(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["send-reminders", "--today", TODAY.isoformat(), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_send_reminders_queues_every_row_it_wrote_however_many_one_sweep_takes(
    worker_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_due = outbox.due

    def due_in_batches_of_two(session, now, requeue_after, limit=2):  # noqa: ANN001, ANN202
        return real_due(session, now, requeue_after, limit)

    monkeypatch.setattr(outbox, "due", due_in_batches_of_two)
    assert "queued for the workers: 6" in remind(worker_app)
    assert all(row.enqueued_at is not None for row in outbox_rows(worker_app))


def test_two_workers_send_every_notice_exactly_once_even_when_jobs_are_doubled(
    worker_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    assert "queued for the workers: 6" in remind(worker_app)
    ids = [row.id for row in outbox_rows(worker_app)]
    with worker_app.app_context():
        service.enqueuer().enqueue(ids)  # every job twice on the queue: a re-enqueue must not send twice
    run_workers(worker_app)
    fake.wait_for_callbacks()
    sids = [message["sid"] for message in fake.messages()]
    assert len(sids) == 6 and len(set(sids)) == 6
    rows = outbox_rows(worker_app)
    assert sorted(row.twilio_sid for row in rows) == sorted(sids)
    assert {row.status for row in rows} == {"delivered"}
    assert {row.attempts for row in rows} == {1}


def test_a_stop_while_the_job_waits_on_redis_wins(worker_app: Flask, fake: twilio_fake.FakeTwilio) -> None:
    remind(worker_app, "--kind", "due_soon")
    base = worker_app.config["PUBLIC_BASE_URL"]
    assert reply(worker_app.test_client(), PAYER, "STOP", url=f"{base}/webhooks/sms").startswith("You are")
    run_workers(worker_app, count=1)
    assert fake.messages() == []
    (row,) = outbox_rows(worker_app)
    assert (row.status, row.reason) == ("cancelled", "opted_out")


def test_rows_written_while_redis_is_down_are_sent_once_it_is_back(
    database_url: str, fake: twilio_fake.FakeTwilio, redis_url: str, queue_name: str, tmp_path: Path
) -> None:
    down = {"REDIS_URL": "redis://127.0.0.1:1/0", "QUEUE_NAME": queue_name, **WORKER_SETTINGS}
    with serve_app(database_url, fake, **down) as app:
        load_caseload(app, tmp_path)
        result = app.test_cli_runner().invoke(args=["send-reminders", "--today", TODAY.isoformat()])
        assert result.exit_code == 0, result.output
        assert "Redis could not be reached: the rows are kept in the database" in result.output
        assert [(row.status, row.enqueued_at) for row in outbox_rows(app)] == [("queued", None)] * 6
    with serve_app(database_url, fake, REDIS_URL=redis_url, QUEUE_NAME=queue_name, **WORKER_SETTINGS) as app:
        result = app.test_cli_runner().invoke(args=["sweep-outbox"])
        assert result.exit_code == 0 and "queued: 6" in result.output, result.output
        run_workers(app, count=1)
        assert len(fake.messages()) == 6
        assert {row.status for row in outbox_rows(app)} <= {"sent", "delivered"}


@pytest.mark.parametrize("concurrency", ["1", "8"])
def test_a_worker_killed_mid_run_loses_nothing_and_sends_nothing_twice(
    database_url: str,
    fake: twilio_fake.FakeTwilio,
    redis_url: str,
    queue_name: str,
    tmp_path: Path,
    concurrency: str,
) -> None:
    # One message every 2 s: the worker sends the first at once and is killed waiting for the next slot.
    # (At this rate a job carries one row, whatever SEND_CONCURRENCY: the killed job held one row.)
    slow = {"REDIS_URL": redis_url, "QUEUE_NAME": queue_name, "SEND_RATE": "0.5", **WORKER_SETTINGS}
    slow["SEND_CONCURRENCY"] = concurrency
    with serve_app(database_url, fake, **slow) as app:
        load_caseload(app, tmp_path)
        remind(app)
        worker = start_worker(app, burst=False)
        deadline = time.monotonic() + 30
        while not fake.messages() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        stuck = [row for row in outbox_rows(app) if row.status == "sending"]
        assert len(fake.messages()) == 1 and len(stuck) == 1
        with app.app_context():
            result = queueing.sweep(
                service.courier(), service.enqueuer(), now=utcnow(), stuck_after=timedelta(0)
            )
        assert (result.recovered_sent, result.recovered_requeued) == (0, 1)
        assert result.enqueued == 1  # the killed row; the four never started still have their jobs
        assert Queue(queue_name, connection=app.extensions["redis"]).count == 5
    with serve_app(database_url, fake, REDIS_URL=redis_url, QUEUE_NAME=queue_name, **WORKER_SETTINGS) as app:
        run_workers(app)
        messages = fake.messages()
        assert len(messages) == 6 and len({m["sid"] for m in messages}) == 6
        assert len({(m["to"], m["body"]) for m in messages}) == 6
        assert {row.status for row in outbox_rows(app)} <= {"sent", "delivered"}


@pytest.mark.parametrize(("rate", "concurrency"), [("40", "1"), ("2", "8")])
def test_at_a_high_send_rate_a_job_carries_several_rows_and_each_goes_once(
    database_url: str,
    fake: twilio_fake.FakeTwilio,
    redis_url: str,
    queue_name: str,
    tmp_path: Path,
    rate: str,
    concurrency: str,
) -> None:
    fast = {"REDIS_URL": redis_url, "QUEUE_NAME": queue_name, "SEND_RATE": rate, **WORKER_SETTINGS}
    fast["SEND_CONCURRENCY"] = concurrency
    with serve_app(database_url, fake, **fast) as app:
        load_caseload(app, tmp_path)
        assert queueing.rows_per_job(float(rate), int(concurrency)) == 4
        assert "queued for the workers: 6" in remind(app)
        queue = Queue(queue_name, connection=app.extensions["redis"])
        assert [len(job.args[0]) for job in queue.jobs] == [4, 2]
        run_workers(app)
        messages = fake.messages()
        assert len(messages) == 6 and len({(m["to"], m["body"]) for m in messages}) == 6
        assert {row.status for row in outbox_rows(app)} <= {"sent", "delivered"}
        assert {row.attempts for row in outbox_rows(app)} == {1}


def test_rows_per_job_is_a_tenth_of_a_second_of_sending_between_1_and_50() -> None:
    assert [queueing.rows_per_job(rate) for rate in (0.5, 1, 19.9, 20, 100, 499, 10000)] == [
        1,
        1,
        1,
        2,
        10,
        49,
        50,
    ]


def test_with_sends_in_flight_together_a_job_is_two_seconds_of_sending_between_1_and_100() -> None:
    rates = (0.4, 1.9, 2, 20, 49.9, 100, 10000)
    assert [queueing.rows_per_job(rate, 8) for rate in rates] == [1, 3, 4, 40, 99, 100, 100]
    assert [queueing.rows_per_job(rate, 1) for rate in rates] == [queueing.rows_per_job(r) for r in rates]


# ---- SEND_CONCURRENCY: several sends in flight per worker, against a Twilio that takes its time ---------
LATENCY_MS = 200
MANY = 40


def many_payers(count: int = MANY) -> dict[str, list[str]]:
    """`count` payers with a case due in 3 days and a web opt-in (verified): one due_soon notice each."""
    numbers = [f"919-555-{300 + n:04d}" for n in range(count)]
    due = (TODAY + timedelta(days=3)).isoformat()
    return {
        "cases.csv": [
            "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
            *(
                f"M{n},{number},en,CASE-2{n:04d},noncustodial,Wake,{due},100.00"
                for n, number in enumerate(numbers)
            ),
        ],
        "consent.csv": [
            "phone,status,method,recorded_at,reference",
            *(f"{number},opted_in,web,2026-01-05T10:00:00-05:00,W{n}" for n, number in enumerate(numbers)),
        ],
    }


@pytest.fixture
def many_app(
    database_url: str, fake: twilio_fake.FakeTwilio, redis_url: str, queue_name: str, tmp_path: Path
) -> Iterator[Flask]:
    """MANY due_soon notices, workers sending 8 at once, and a Twilio that answers in LATENCY_MS."""
    fake.latency(LATENCY_MS)
    settings = {"REDIS_URL": redis_url, "QUEUE_NAME": queue_name, "SEND_CONCURRENCY": "8", **WORKER_SETTINGS}
    with serve_app(database_url, fake, **settings) as app:
        load_caseload(app, tmp_path, many_payers())
        yield app


def sent_once(app: Flask, fake: twilio_fake.FakeTwilio) -> list[dict[str, object]]:
    """The fake's messages, after checking each went once and matches its outbox row's SID."""
    messages = fake.messages()
    assert len({(m["to"], m["body"]) for m in messages}) == len(messages)
    sent = {row.twilio_sid for row in outbox_rows(app) if row.status in ("sent", "delivered")}
    assert sent == {m["sid"] for m in messages}
    return messages


def test_a_worker_keeps_several_sends_in_flight_and_each_notice_goes_once(
    many_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    assert f"queued for the workers: {MANY}" in remind(many_app, "--kind", "due_soon")
    run_workers(many_app, count=1)
    messages = sent_once(many_app, fake)
    assert len(messages) == MANY
    # Deterministic: the fake counted the creates it was answering at once; never more than the setting.
    assert 2 <= fake.stats()["creates"]["max_in_flight"] <= 8
    # One at a time, the creates would span (MANY - 1) x LATENCY = 7.8 s; 8 at once, about 1 s (5 rounds
    # of 0.2 s). A third of one-at-a-time is generous for a shared, noisy machine and still tells them apart.
    created = sorted(m["created"] for m in messages)
    assert created[-1] - created[0] < MANY * LATENCY_MS / 1000 / 3
    fake.wait_for_callbacks()
    assert {(row.status, row.attempts) for row in outbox_rows(many_app)} == {("delivered", 1)}


def numbers_in_row_order(app: Flask) -> list[str]:
    """Each outbox row's number, in row order (the order a batch job starts them)."""
    cipher = app.extensions["cipher"]
    with app.extensions["database"].session() as session:
        numbers = {
            phone.id: cipher.decrypt(phone.number_enc) for phone in session.scalars(select(PhoneNumber))
        }
    return [numbers[row.phone_number_id] for row in outbox_rows(app)]


def stop(app: Flask, number: str) -> None:
    base = app.config["PUBLIC_BASE_URL"]
    assert reply(app.test_client(), number, "STOP", url=f"{base}/webhooks/sms").startswith("You are")


def test_a_stop_before_or_during_a_concurrent_run_wins_for_every_row(
    many_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    remind(many_app, "--kind", "due_soon")
    numbers = numbers_in_row_order(many_app)
    before = numbers[::3]  # opted out while their rows wait on Redis
    for number in before:
        stop(many_app, number)
    # 10 a second: the last rows start seconds after the first send, long after the STOPs below.
    many_app.config["SEND_RATE"] = 10
    worker = start_worker(many_app)
    deadline = time.monotonic() + 30
    while not fake.messages() and time.monotonic() < deadline:
        time.sleep(0.02)
    during = [number for number in numbers[-8:] if number not in before]  # while the worker runs
    for number in during:
        stop(many_app, number)
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output.decode(errors="replace")[-2000:]
    messages = sent_once(many_app, fake)
    assert not {m["to"] for m in messages} & set(before + during)
    assert len(messages) == MANY - len(before) - len(during)
    reasons = [(row.status, row.reason) for row in outbox_rows(many_app)]
    assert reasons.count(("cancelled", "opted_out")) == len(before) + len(during)


def test_a_worker_killed_with_sends_in_flight_sends_nothing_twice(
    many_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    # 4 a second, answers after 1.5 s: the kill comes while the first row's create waits for its answer
    # at Twilio and the other rows the threads took wait, claimed, for their slots.
    fake.latency(1500)
    many_app.config["SEND_RATE"] = 4
    remind(many_app, "--kind", "due_soon")  # one job: MANY rows (SEND_RATE 100 when it was queued)
    worker = start_worker(many_app, burst=False)
    deadline = time.monotonic() + 30
    while not fake.messages() and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    at_twilio = len(fake.messages())
    claimed = [row for row in outbox_rows(many_app) if row.status == "sending"]
    assert 1 <= at_twilio <= len(claimed) <= 8
    time.sleep(2)  # the creates' answers go nowhere; their status callbacks still come, and adopt rows
    fake.wait_for_callbacks()
    stuck = [row for row in outbox_rows(many_app) if row.status == "sending"]
    with many_app.app_context():
        # After REQUEUE_AFTER the sweep also queues the killed job's rows no thread had started.
        later = utcnow() + queueing.REQUEUE_AFTER + timedelta(minutes=1)
        result = queueing.sweep(service.courier(), service.enqueuer(), now=later, stuck_after=timedelta(0))
    assert result.recovered_sent + result.recovered_requeued == len(stuck)
    assert result.enqueued == MANY - len(claimed) + result.recovered_requeued
    fake.latency(0)
    many_app.config["SEND_RATE"] = 10000
    run_workers(many_app, count=2)
    messages = sent_once(many_app, fake)
    assert len(messages) == MANY  # every notice once
    assert {row.status for row in outbox_rows(many_app)} <= {"sent", "delivered"}
