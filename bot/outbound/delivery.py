"""Sending one outbox row, in the worker: every check made at send time, then Twilio, then the record.

Order, per row: claim it (one UPDATE: no other job can send it) -> does the number still belong to the
participant, is the subject (an appointment) unchanged -> quiet hours in the recipient's zone (defer, not
drop) -> wait for a slot of the shared sending rate -> consent, read now, after the wait (a STOP that came
in while the row waited wins; read CONSENT_READ_LEAD before the slot, so that the send itself goes at the
slot) -> Twilio -> mark it sent and add it to the exchange log in one transaction.

A batch job's rows go SEND_CONCURRENCY at a time (`deliver_all`): Twilio takes 100-300 ms to answer, so
one row at a time would cap a worker at a few texts a second. Each row still runs the whole order above
in its own thread, with its own database connection and twilio client; the rate limit is shared through
Redis, so rows in flight together never exceed SEND_RATE.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic as time_now

import redis
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.outbound.quiet_hours import next_allowed, zones_for
from bot.outbound.rate_limit import LATE_LIMIT, RateLimiter
from bot.outbound.twilio_api import OPTED_OUT, SendResult, TwilioSender
from consent import ledger
from consent.ledger import ConsentStatus
from storage import exchange_log, notice_targets, outbox
from storage.crypto import DataCipher
from storage.database import Database
from storage.exchange_log import NewExchange
from storage.models import ConsentChannel, ConsentKind, Direction, utcnow
from storage.outbox import Claimed, Recipient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
)


# How long before its rate slot a row reads consent (a transaction of a few ms; more on a busy machine).
CONSENT_READ_LEAD = 0.02
SLOT_TRIES = 3  # a row late for its slot takes a new one, this many times at most (then it goes anyway)


def backoff(attempts: int) -> timedelta:
    """How long to wait before try number attempts+1."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


@dataclass
class Courier:
    """Everything a worker needs to send rows; one per process."""

    database: Database
    cipher: DataCipher
    sender: TwilioSender
    limiter: RateLimiter
    quiet_hours: tuple[time, time]
    status_callback_base: str | None  # PUBLIC_BASE_URL + /webhooks/status, or None
    schedule: Callable[[int, datetime], None]  # put a job for this row on the queue at that time
    clock: Callable[[], datetime] = utcnow
    backoff: Callable[[int], timedelta] = backoff
    concurrency: int = 1  # rows of a batch sent at once (SEND_CONCURRENCY), each in a thread of its own
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _pool_pid: int = field(default=0, init=False, repr=False)

    def deliver(self, outbox_id: int) -> str:
        """Send one row if it is still due and allowed; return what happened (for logs and tests)."""
        now = self.clock()
        # Plain connections, no ORM session: every statement here is built once (storage.statements).
        engine = self.database.engine
        with engine.begin() as connection:
            taken = outbox.claim_to_send(connection, outbox_id, now)
            if taken is None:
                return "not_due"
            claimed, recipient = taken
            number = self.cipher.decrypt(recipient.number_enc)
            reason = _changed(connection, claimed, recipient)
            if reason is not None:
                outbox.cancel(connection, claimed.id, reason)
                return f"cancelled:{reason}"
            until = next_allowed(now, zones_for(number), self.quiet_hours)
            if until is not None:
                outbox.hold(connection, claimed.id, until, "quiet_hours")
        if until is not None:
            self.schedule(claimed.id, until)
            return "deferred:quiet_hours"
        # The claim is committed: if this process dies from here on, recovery finds the row "sending".
        self.sender.prepare()
        body = self.cipher.decrypt(claimed.body_enc)
        for attempt in range(1, SLOT_TRIES + 1):
            # The clock read before the call: Redis timed the slot on its arrival, and the reply can sit a
            # few ms waiting for this thread's turn at the interpreter.
            asked = time_now()
            try:
                slot = asked + self.limiter.reserve()
            except redis.RedisError:
                self._put_back(claimed.id)
                raise
            # Wait for the slot but for the consent read's own time, read consent, then send at the slot:
            # the read is the last thing before the send, and the send keeps its slot's place. (Sent a
            # read's round trips late instead, rows in flight together drift off their slots unevenly,
            # and a busy second at Twilio can see more than SEND_RATE.)
            self.limiter.wait_until(slot - CONSENT_READ_LEAD)
            # Its own short transaction: one held open across the Twilio call would sit idle in
            # transaction for up to the client's timeout.
            with engine.begin() as connection:
                state = ledger.current_state(connection, claimed.phone_number_id)
                refusal = _consent_refusal(state, claimed.kind)
                if refusal is not None:
                    outbox.cancel(connection, claimed.id, refusal)
                    return f"cancelled:{refusal}"
            self.limiter.wait_until(slot)
            # Too late for its slot (the machine was busy, a first connection was made): sent now, it would
            # crowd the slots after it. It lets the slot go and takes the next (consent is read again after
            # that wait). A slot free at once counts too: the rows queued behind it are the ones crowded.
            if time_now() - slot <= LATE_LIMIT or attempt == SLOT_TRIES:
                break
        result = self.sender.send(number, body, self._callback_url(claimed.id))
        if result.outcome == "sent":
            sid, status, moment = result.sid, result.status, self.clock()
            with engine.begin() as connection:
                record_sent(connection, self.cipher, claimed, body, state.label, sid, status, moment)
            return "sent"
        return self._record(claimed, result)

    def deliver_all(self, outbox_ids: Sequence[int]) -> dict[str, int]:
        """`deliver` every row, `concurrency` at a time; outcomes counted by kind (sent, deferred...).

        If one raises (Redis or the database down, the job's time is up), no further row is started; the
        rows already started finish; those not sent (never started, or the ones that raised while still
        waiting) are marked not enqueued, so the next sweep queues them within a minute; then the error
        goes on. With concurrency 1 the rows go in turn, in this thread.
        """
        if self.concurrency <= 1 or len(outbox_ids) <= 1:
            return self._deliver_in_turn(outbox_ids)
        return self._deliver_at_once(outbox_ids)

    def _deliver_in_turn(self, outbox_ids: Sequence[int]) -> dict[str, int]:
        outcomes: dict[str, int] = {}
        for done, outbox_id in enumerate(outbox_ids):
            try:
                outcome = self.deliver(outbox_id).split(":", 1)[0]
            except BaseException:
                self._unqueue(outbox_ids[done:])  # this one too, if it is still waiting
                raise
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcomes

    def _deliver_at_once(self, outbox_ids: Sequence[int]) -> dict[str, int]:
        pool = self._threads()
        futures: dict[Future[str], int] = {pool.submit(self.deliver, row): row for row in outbox_ids}
        error: BaseException | None = None
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException as interrupted:  # noqa: BLE001 - raised below, once the started rows finish
            error = interrupted  # the job's time is up (RQ raises it in this thread), Ctrl-C
        # Done, or something raised: rows not started yet never will be; the ones started finish, so a
        # row is never left between its send and its record by our own hand.
        not_started = [outbox_id for future, outbox_id in futures.items() if future.cancel()]
        wait(futures)
        outcomes: dict[str, int] = {}
        failed: list[int] = []
        for future, outbox_id in futures.items():
            if future.cancelled():
                continue
            problem = future.exception()
            if problem is None:
                outcome = future.result().split(":", 1)[0]
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                continue
            failed.append(outbox_id)
            if error is None:
                error = problem
            elif problem is not error:
                log.warning("outbound %s: %s as well", outbox_id, type(problem).__name__)
        if error is None:
            return outcomes
        self._unqueue(not_started + failed)  # the failed ones too, if they are still waiting
        raise error

    def _threads(self) -> ThreadPoolExecutor:
        """This process's sending threads (made at the first batch; a forked child makes its own)."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="courier")
            self._pool_pid = os.getpid()
        return self._pool

    def _unqueue(self, outbox_ids: Sequence[int]) -> None:
        if not outbox_ids:
            return
        try:
            with self.database.transaction() as session:
                outbox.unmark_enqueued(session, outbox_ids)
        except Exception:  # noqa: BLE001 - best effort: without it the sweep still finds them, later
            log.warning("outbound: %d rows not tried; the sweep will queue them", len(outbox_ids))

    def _callback_url(self, outbox_id: int) -> str | None:
        # The row's id rides along: if the worker dies before it saves the SID, the callback still finds it.
        return f"{self.status_callback_base}?outbox={outbox_id}" if self.status_callback_base else None

    def _put_back(self, outbox_id: int) -> None:
        with self.database.transaction() as session:
            outbox.release(session, outbox_id)

    def _record(self, claimed: Claimed, result: SendResult) -> str:
        """What came of a send that Twilio did not take: failed, to retry later, or unknown."""
        now = self.clock()
        with self.database.transaction() as session:
            if result.outcome == "failed":
                if result.error_code == OPTED_OUT:
                    record_carrier_opt_out(session, claimed.phone_number_id, f"outbox:{claimed.id}")
                outbox.mark_failed(
                    session,
                    claimed.id,
                    result.error_code,
                    "opted_out" if result.error_code == OPTED_OUT else "twilio_error",
                )
                log.warning("outbound %s failed: Twilio error %s", claimed.id, result.error_code)
                return f"failed:{result.error_code}"
            if result.outcome == "retry":
                if claimed.attempts >= MAX_ATTEMPTS:
                    outbox.mark_failed(session, claimed.id, result.error_code, "retries_exhausted")
                    return "failed:retries_exhausted"
                until = now + self.backoff(claimed.attempts)
                outbox.hold(session, claimed.id, until, "retry", result.error_code)
            else:
                log.warning("outbound %s: Twilio's answer was lost; recovery will find out", claimed.id)
                return "unknown"
        self.schedule(claimed.id, until)
        return "retry"


def _changed(connection: Connection, claimed: Claimed, recipient: Recipient) -> str | None:
    """Why the notice must not go any more: its number moved to someone else, its appointment changed."""
    if claimed.participant_id is not None and recipient.participant_id != claimed.participant_id:
        return "number_moved"
    if claimed.subject and claimed.subject.startswith("appointment:"):
        appointment_id = int(claimed.subject.split(":", 1)[1].split("@", 1)[0])
        if notice_targets.appointment_subject(connection, appointment_id) != claimed.subject:
            return "appointment_changed"
    return None


def _consent_refusal(state: ledger.ConsentState, kind: str) -> str | None:
    if state.status is not ConsentStatus.OPTED_IN:
        return state.status.value
    if kind != "announcement" and not state.verified:
        return "not_verified"
    return None


def record_sent(
    session: Session | Connection,
    cipher: DataCipher,
    claimed: Claimed,
    body: str,
    consent_label: str,
    sid: str | None,
    status: str | None,
    now: datetime,
) -> bool:
    """Mark the row sent and add the text to the exchange log, in the caller's transaction.

    False, and nothing written, when the row is no longer "sending": a status callback got there first
    and recorded the text already (the row is locked while either does it, so only one can).
    """
    delivery = "sent" if status in (None, "queued", "accepted", "sending", "scheduled") else status
    if not outbox.mark_sent(session, claimed.id, sid, status=delivery, now=now):
        return False
    exchange_log.append(
        session,
        cipher,
        NewExchange(
            direction=Direction.OUTBOUND,
            phone_number_id=claimed.phone_number_id,
            body=body,
            consent_state=consent_label,
            message_sid=sid,
            template_id=claimed.template_id,
            intent=f"notice_{claimed.kind}"[:32],
            delivery_status=delivery,
            occurred_at=now,
        ),
    )
    return True


def record_carrier_opt_out(session: Session, phone_number_id: int, evidence: str) -> None:
    """Twilio said 21610: the number replied STOP at the carrier; the ledger must agree."""
    ledger.record(
        session,
        phone_number_id,
        ConsentKind.OPT_OUT,
        ConsentChannel.DELIVERY_ERROR_21610,
        evidence,
        dedupe_key=f"21610:{evidence}"[:64],
    )
