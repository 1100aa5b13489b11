"""Putting outbox rows on the RQ queue, sweeping for rows that have no job, and recovering stuck rows.

The database is the record of what must go out; Redis only carries work. So:
- rows are written first, then enqueued; if Redis is down they stay "queued" with no enqueued_at and
  the next sweep (every minute from `rq cron`, and at every `send-reminders`) enqueues them;
- a job for a row that another job already sent does nothing (claiming is atomic);
- a row left "sending" by a killed worker is resolved by asking Twilio whether it has the message
  (and by its status callback, which carries the row's id): found -> marked sent; not found -> sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
import requests
from rq import Queue
from twilio.base.exceptions import TwilioException

from bot.outbound.delivery import Courier, record_sent
from consent import ledger
from storage import outbox
from storage.models import OutboundMessage, PhoneNumber
from storage.outbox import Claimed

log = logging.getLogger(__name__)

QUEUE = "sms"
JOB = "bot.outbound.jobs.send_notice"  # one row, at a time (quiet hours, retry backoff)
BATCH_JOB = "bot.outbound.jobs.send_notices"  # rows due now, in order
# A job's run is bounded (RQ's job timeout); after this long a "sending" row's worker is surely gone.
STUCK_AFTER = timedelta(minutes=5)
# A job put on Redis this long ago whose row still waits was lost (Redis flushed, worker died).
REQUEUE_AFTER = timedelta(minutes=15)
JOB_TIMEOUT = 120
ENQUEUE_CHUNK = 1000
MAX_ROWS_PER_JOB = 50
MAX_ROWS_PER_JOB_IN_FLIGHT = 100  # SEND_CONCURRENCY > 1


def rows_per_job(send_rate: float, concurrency: int = 1) -> int:
    """Rows one RQ job sends: about a tenth of a second's worth at SEND_RATE when a worker sends one at a
    time (SEND_CONCURRENCY 1; 1 to 50 rows), about two seconds' worth when it sends several at once
    (1 to 100).

    RQ costs a few ms of CPU and some 60 Redis commands per job, several times what one Twilio request
    costs, so a job per row would cap a worker far below a high SEND_RATE. With sends in flight
    together, a job's end also costs a Twilio answer's time (100-300 ms) in which the worker waits for its
    last rows and starts no new one: the job must last long next to that (measured at SEND_RATE=100 and
    100 ms answers: a second's worth per job kept 91 % of the rate, two seconds' 95 %). A job still
    holds little work (a killed worker strands at most that many rows until the sweep), and at low rates
    (under 20 per second one at a time, under 1 several at once) it is one job per row.
    """
    if concurrency <= 1:
        return max(1, min(MAX_ROWS_PER_JOB, int(send_rate / 10)))
    return max(1, min(MAX_ROWS_PER_JOB_IN_FLIGHT, int(send_rate * 2)))


class Enqueuer:
    """Puts jobs on Redis (or, with no Redis, sends at once in this process)."""

    def __init__(
        self,
        connection: redis.Redis | None,
        courier_factory: Callable[[], Courier],
        queue_name: str = QUEUE,
        rows_per_job: int = 1,
    ) -> None:
        self._connection = connection
        self._courier_factory = courier_factory
        self._rows_per_job = max(1, rows_per_job)
        self._queue = Queue(queue_name, connection=connection) if connection is not None else None

    @property
    def inline(self) -> bool:
        return self._queue is None

    def enqueue(self, ids: Sequence[int], progress: Callable[[int], None] = lambda n: None) -> dict[str, int]:
        """Queue jobs for the rows (one per row, or per `rows_per_job` rows; marking enqueued_at); with
        no Redis, send them here and now."""
        if self._queue is None:
            courier = self._courier_factory()
            outcomes: dict[str, int] = {}
            for outbox_id in ids:
                outcome = courier.deliver(outbox_id).split(":", 1)[0]
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                progress(1)
            return outcomes
        database = self._courier_factory().database
        for start in range(0, len(ids), ENQUEUE_CHUNK):
            chunk = list(ids[start : start + ENQUEUE_CHUNK])
            per_job = self._rows_per_job
            jobs = [
                Queue.prepare_data(
                    JOB, args=(outbox_id,), timeout=JOB_TIMEOUT, result_ttl=0, failure_ttl=86400
                )
                if per_job == 1
                else Queue.prepare_data(
                    BATCH_JOB,
                    args=(chunk[n : n + per_job],),
                    timeout=JOB_TIMEOUT,
                    result_ttl=0,
                    failure_ttl=86400,
                )
                for n, outbox_id in enumerate(chunk)
                if n % per_job == 0
            ]
            self._queue.enqueue_many(jobs)
            with database.transaction() as session:
                outbox.mark_enqueued(session, chunk)
            progress(len(chunk))
        return {"queued": len(ids)}

    def schedule(self, outbox_id: int, at: datetime) -> None:
        """Put a job for this row on the queue at a later time; with no Redis the sweep does it."""
        if self._queue is None:
            return
        try:
            self._queue.enqueue_at(at, JOB, outbox_id, job_timeout=JOB_TIMEOUT, result_ttl=0)
        except redis.RedisError:
            log.warning("outbound %s: could not schedule on Redis; the sweep will enqueue it", outbox_id)
            return
        with self._courier_factory().database.transaction() as session:
            outbox.mark_enqueued(session, [outbox_id], now=at)


@dataclass(frozen=True)
class SweepResult:
    recovered_sent: int
    recovered_requeued: int
    enqueued: int
    outcomes: dict[str, int]


def recover_stuck(
    courier: Courier, now: datetime | None = None, stuck_after: timedelta = STUCK_AFTER
) -> tuple[int, int]:
    """Resolve rows left "sending": (found at Twilio and marked sent, put back to be sent)."""
    now = now or courier.clock()
    with courier.database.transaction() as session:
        stuck = outbox.stuck_sending(session, now - stuck_after)
    found = requeued = 0
    for outbox_id, phone_id, body_enc, claimed_at in stuck:
        with courier.database.transaction() as session:
            number = courier.cipher.decrypt(session.get(PhoneNumber, phone_id).number_enc)
            body = courier.cipher.decrypt(body_enc)
            try:
                message = courier.sender.find(number, body, claimed_at - timedelta(minutes=1))
            except (TwilioException, requests.exceptions.RequestException) as exc:
                log.warning(
                    "outbound recovery: cannot ask Twilio about %s (%s); later", outbox_id, type(exc).__name__
                )
                continue
            if message is not None:
                claimed = Claimed.of(session.get_one(OutboundMessage, outbox_id))
                label = ledger.current_state(session, phone_id).label
                record_sent(session, courier.cipher, claimed, body, label, message.sid, message.status, now)
                found += 1
            else:
                outbox.release(session, outbox_id)
                requeued += 1
    if stuck:
        log.warning("outbound recovery: %d stuck rows found at Twilio, %d put back to send", found, requeued)
    return found, requeued


def sweep(
    courier: Courier, enqueuer: Enqueuer, now: datetime | None = None, stuck_after: timedelta = STUCK_AFTER
) -> SweepResult:
    """Recover stuck rows, then enqueue every due row that has no live job."""
    now = now or courier.clock()
    found, requeued = recover_stuck(courier, now, stuck_after)
    with courier.database.transaction() as session:
        ids = outbox.due(session, now, REQUEUE_AFTER)
    outcomes = enqueuer.enqueue(ids) if ids else {}
    return SweepResult(found, requeued, len(ids), outcomes)
