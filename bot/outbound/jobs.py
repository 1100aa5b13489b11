"""What RQ workers run. Each worker process builds the app once (settings from the environment).

rq worker --url $REDIS_URL --with-scheduler sms       # sends; --with-scheduler runs delayed jobs
rq cron bot.outbound.cron --url $REDIS_URL            # the sweep every minute, reminders daily
"""

from __future__ import annotations

import gc
from datetime import date

from flask import Flask

from bot.outbound import service

_app: Flask | None = None


def app() -> Flask:
    """This worker process's app (built at the first job)."""
    global _app
    if _app is None:
        from bot.app import create_app

        _app = create_app()
        # As in bot/wsgi.py: out of the collector's walks, so a full collection (70 ms over the loaded app)
        # cannot fall inside this worker's hold on the exchange log's chain lock and stall every web worker.
        gc.freeze()
    return _app


def send_notice(outbox_id: int) -> str:
    """Send one outbox row (RQ job)."""
    with app().app_context():
        return service.courier().deliver(outbox_id)


def send_notices(outbox_ids: list[int]) -> dict[str, int]:
    """Send several outbox rows, one after another (RQ job): what happened to them, by outcome."""
    with app().app_context():
        return service.courier().deliver_all(outbox_ids)


def sweep_outbox() -> dict[str, int]:
    """Recover stuck rows and enqueue rows that have no job (RQ cron job, every minute)."""
    with app().app_context():
        result = service.sweep()
        return {
            "recovered_sent": result.recovered_sent,
            "requeued": result.recovered_requeued,
            "enqueued": result.enqueued,
        }


def daily_reminders() -> dict[str, int]:
    """Plan and queue today's reminders of every daily kind (RQ cron job, once a day)."""
    with app().app_context():
        report = service.send_reminders(kinds=None, today=date.today())
        return {"queued": report.written, "already": report.already}
