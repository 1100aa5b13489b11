"""The scheduled runs load into RQ's own CronScheduler as the Procfile's `rq cron` would load them."""

from __future__ import annotations

import redis
from rq.cron import CronScheduler

from bot.outbound import jobs


def test_rq_cron_loads_the_sweep_every_minute_and_the_daily_reminders(redis_url: str) -> None:
    scheduler = CronScheduler(connection=redis.Redis.from_url(redis_url))
    scheduler.load_config_from_file("bot.outbound.cron")
    by_function = {job.func: job for job in scheduler.get_jobs()}
    assert set(by_function) == {jobs.sweep_outbox, jobs.daily_reminders}
    assert by_function[jobs.sweep_outbox].interval == 60
    assert by_function[jobs.daily_reminders].cron == "0 15 * * *"
    assert {job.queue_name for job in by_function.values()} == {"sms"}
