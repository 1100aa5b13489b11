"""The operators' outbound commands: send-reminders, approve-announcement, sweep-outbox."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.extensions import database
from bot.outbound import service
from bot.outbound.announcements import AnnouncementRejected, approve, find
from bot.outbound.planning import DAILY_KINDS, KINDS

PROGRESS_THRESHOLD = 200


def _progress(label: str, total: int) -> Callable[[int], None]:
    if total < PROGRESS_THRESHOLD:
        return lambda n: None
    bar = click.progressbar(length=total, label=label, file=sys.stderr)
    bar.__enter__()
    done = [0]

    def advance(steps: int) -> None:
        done[0] += steps
        bar.update(steps)
        if done[0] >= total:
            bar.__exit__(None, None, None)

    return advance


def _days(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        days = tuple(sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise click.BadParameter("give whole numbers of days, e.g. 3 or 7,3,1", param_hint="--days") from None
    if not days or any(not 0 <= day <= 60 for day in days):
        raise click.BadParameter("days must be between 0 and 60", param_hint="--days")
    return days


@click.command("send-reminders")
@click.option("--kind", type=click.Choice(KINDS), help="One kind of notice (default: every daily kind).")
@click.option(
    "--days",
    help="Days before the date (due_soon, appointment_reminder: e.g. 7,3,1), after it "
    "(payment_missed), or the look-back for payments posted (payment_received).",
)
@click.option(
    "--announcement", "announcement_name", help="With --kind announcement: the approved text's name."
)
@click.option(
    "--today", type=click.DateTime(["%Y-%m-%d"]), help="Plan as if today were this date (YYYY-MM-DD)."
)
@click.option("--dry-run", is_flag=True, help="Say what would be queued; write and send nothing.")
@with_appcontext
def send_reminders_command(
    kind: str | None, days: str | None, announcement_name: str | None, today: object, dry_run: bool
) -> None:
    """Write today's notices to the outbox (once each, however often it runs), then queue them."""
    if kind == "announcement" and not announcement_name:
        raise click.ClickException("--kind announcement needs --announcement NAME (see approve-announcement)")
    if announcement_name and kind != "announcement":
        raise click.ClickException("--announcement goes with --kind announcement")
    announcement = None
    if announcement_name:
        with database().session() as session:
            announcement = find(session, announcement_name)
            if announcement is None:
                raise click.ClickException(f"no approved announcement named {announcement_name!r}")
            session.expunge(announcement)
    day = today.date() if today else date.today()
    report = service.send_reminders(
        [kind] if kind else DAILY_KINDS, day, _days(days), announcement, dry_run, progress=_progress
    )
    verb = "would queue" if dry_run else "written"
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.by_kind.items()) if n) or "none"
    click.echo(
        f"{day}: {report.planned} due; {verb}: {sum(report.by_kind.values())} ({kinds}); "
        f"already in the outbox: {report.already}"
    )
    skipped = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in sorted(report.skipped.items()))
    click.echo(f"skipped: {skipped or 'none'}")
    if dry_run:
        return
    if report.redis_down:
        click.echo(
            "Redis could not be reached: the rows are kept in the database and the next "
            "sweep-outbox (every minute under rq cron) queues them",
            err=True,
        )
    elif service.enqueuer().inline:
        outcomes = ", ".join(f"{n} {what}" for what, n in sorted(report.outcomes.items())) or "nothing due"
        click.echo(f"sent here (no REDIS_URL): {outcomes}")
    else:
        click.echo(f"queued for the workers: {report.enqueued}")


@click.command("sweep-outbox")
@with_appcontext
def sweep_outbox_command() -> None:
    """Resolve rows a killed worker left "sending" and queue due rows that have no job."""
    result = service.sweep()
    click.echo(
        f"recovered: {result.recovered_sent} found sent at Twilio, {result.recovered_requeued} put back; "
        f"queued: {result.enqueued}"
    )


@click.command("approve-announcement")
@click.argument("name")
@click.option("--en", "english", required=True, help="The English text (without program name or STOP line).")
@click.option("--es", "spanish", required=True, help="The Spanish text.")
@click.option("--by", "approved_by", default=None, help="Who approves it (default: the OS user).")
@with_appcontext
def approve_announcement_command(name: str, english: str, spanish: str, approved_by: str | None) -> None:
    """Approve an agency-wide text; send it with send-reminders --kind announcement --announcement NAME."""
    replies = current_app.extensions["replies"]
    try:
        with database().transaction() as session:
            approve(session, replies, name, english, spanish, approved_by or getpass.getuser())
    except AnnouncementRejected as exc:
        raise click.ClickException(str(exc)) from None
    for language, text in (("en", english), ("es", spanish)):
        click.echo(
            f"{language}: {replies.render('notice_announcement', language, message=' '.join(text.split()))}"
        )
    click.echo(f"approved {name!r}")


COMMANDS = (send_reminders_command, sweep_outbox_command, approve_announcement_command)
