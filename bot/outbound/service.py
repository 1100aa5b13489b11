"""The outbound service as the running app sets it up: its courier, its queue, and `send-reminders`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import redis
from flask import current_app

from bot.extensions import cipher, database, redis_connection, settings
from bot.outbound.delivery import Courier
from bot.outbound.planning import DAILY_KINDS, plan
from bot.outbound.queueing import REQUEUE_AFTER, Enqueuer, SweepResult, rows_per_job
from bot.outbound.queueing import sweep as sweep_rows
from bot.outbound.rate_limit import RateLimiter
from bot.outbound.twilio_api import TwilioSender
from storage import outbox
from storage.models import Announcement

_KEY = "outbound"


def _parts() -> dict[str, object]:
    parts = current_app.extensions.get(_KEY)
    if parts is None:
        config = settings()
        connection = redis_connection()
        enqueuer_holder: list[Enqueuer] = []
        courier = Courier(
            database=database(),
            cipher=cipher(),
            sender=TwilioSender(
                config.TWILIO_ACCOUNT_SID,
                config.TWILIO_AUTH_TOKEN,
                api_url=config.TWILIO_API_URL,
                messaging_service_sid=config.TWILIO_MESSAGING_SERVICE_SID,
                from_number=config.TWILIO_FROM,
            ),
            limiter=RateLimiter(config.SEND_RATE, connection, key=f"{config.QUEUE_NAME}:send-rate"),
            quiet_hours=config.QUIET_HOURS,
            status_callback_base=f"{config.PUBLIC_BASE_URL}/webhooks/status"
            if config.PUBLIC_BASE_URL
            else None,
            schedule=lambda outbox_id, at: enqueuer_holder[0].schedule(outbox_id, at),
            concurrency=config.SEND_CONCURRENCY,
        )
        enqueuer = Enqueuer(
            connection,
            lambda: courier,
            config.QUEUE_NAME,
            rows_per_job(config.SEND_RATE, config.SEND_CONCURRENCY),
        )
        enqueuer_holder.append(enqueuer)
        parts = current_app.extensions[_KEY] = {"courier": courier, "enqueuer": enqueuer}
    return parts


def courier() -> Courier:
    """The app's courier (one per process)."""
    return _parts()["courier"]  # type: ignore[return-value]


def enqueuer() -> Enqueuer:
    """The app's enqueuer: RQ when REDIS_URL is set, else inline sending."""
    return _parts()["enqueuer"]  # type: ignore[return-value]


def sweep() -> SweepResult:
    """Recover stuck rows and enqueue due rows that have no job."""
    return sweep_rows(courier(), enqueuer())


@dataclass
class ReminderReport:
    """What one `send-reminders` run did."""

    planned: int = 0
    written: int = 0
    already: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    enqueued: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    redis_down: bool = False
    by_kind: Counter[str] = field(default_factory=Counter)


def send_reminders(
    kinds: Iterable[str] | None,
    today: date,
    days: tuple[int, ...] | None = None,
    announcement: Announcement | None = None,
    dry_run: bool = False,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
    enqueue: bool = True,
) -> ReminderReport:
    """Plan each kind, write the new rows (one transaction per kind), then enqueue every due row
    (unless enqueue is False: the sweep will)."""
    report = ReminderReport()
    for kind in kinds or DAILY_KINDS:
        with database().transaction() as session:
            planned = plan(session, current_app.extensions["replies"], kind, today, days, announcement)
            report.planned += len(planned.notices)
            report.skipped.update(planned.skipped)
            keys = [notice.dedupe_key for notice in planned.notices]
            if dry_run:
                existing = outbox.existing_keys(session, keys)
                report.already += len(existing)
                report.by_kind[kind] += len(keys) - len(existing)
                session.rollback()
                continue
            written = outbox.add(session, cipher(), planned.notices)
            report.written += len(written)
            report.already += len(planned.notices) - len(written)
            report.by_kind[kind] += len(written)
    if dry_run or not enqueue:
        return report
    with database().transaction() as session:
        # Every due row, not one sweep's batch: the rows just written must all be queued now.
        due_ids = outbox.due(session, courier().clock(), REQUEUE_AFTER, limit=None)
    advance = (
        progress("sending" if enqueuer().inline else "queueing", len(due_ids))
        if progress
        else (lambda n: None)
    )
    try:
        report.outcomes = enqueuer().enqueue(due_ids, advance) if due_ids else {}
        report.enqueued = len(due_ids)
    except redis.RedisError:
        report.redis_down = True  # the rows are safe in the database: the next sweep queues them
    return report
