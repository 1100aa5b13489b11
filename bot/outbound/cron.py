"""The scheduled runs, for RQ's cron scheduler:

    rq cron bot.outbound.cron --url $REDIS_URL

- every minute: sweep-outbox (rows whose job was lost or never queued, rows a killed worker left);
- every day at REMINDERS_AT (UTC, default 15:00 = 10 a.m. Eastern): send-reminders for every daily kind.
  Texts that would land in quiet hours somewhere are deferred per recipient, never dropped.
Jobs go to QUEUE_NAME (default "sms"), where `rq worker` takes them.
"""

from __future__ import annotations

import os

from rq import cron

from bot.outbound.jobs import daily_reminders, sweep_outbox

QUEUE = os.environ.get("QUEUE_NAME", "sms")
REMINDERS_AT = os.environ.get("REMINDERS_CRON", "0 15 * * *")

cron.register(sweep_outbox, queue_name=QUEUE, interval=60, job_timeout=300, name="sweep-outbox")
cron.register(daily_reminders, queue_name=QUEUE, cron=REMINDERS_AT, job_timeout=3600, name="send-reminders")
