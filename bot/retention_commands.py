"""The operators' retention commands: purge, and legal-hold place/release/list."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from bot.extensions import cipher, database, settings
from storage import exchange_log, retention
from storage.models import PhoneNumber
from storage.phones import find_phone
from storage.retention import HoldError


def _by(value: str | None) -> str:
    return value or getpass.getuser()


@click.command("purge")
@click.option(
    "--before",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Purge records older than this day (default: RETENTION_DAYS ago; never later than that).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@click.option("--by", "purged_by", help="Who runs the purge (default: the OS user).")
@with_appcontext
def purge_command(before: datetime | None, dry_run: bool, purged_by: str | None) -> None:
    """Purge exchange-log records, finished outbox rows and handled queue items past retention."""
    days = settings().RETENTION_DAYS
    limit = datetime.now(UTC) - timedelta(days=days)
    cutoff = before.replace(tzinfo=UTC) if before else limit
    if cutoff > limit:
        raise click.ClickException(
            f"--before {cutoff.date()} is within the retention period (RETENTION_DAYS={days}: "
            f"nothing newer than {limit.date()} may be purged)"
        )
    with database().transaction() as session:
        report = exchange_log.verify(session, cipher())
        if not report.ok:
            raise click.ClickException(f"refusing to purge: exchange log is not intact: {report.problem}")
        summary = retention.purge(session, cipher(), cutoff, _by(purged_by), dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    click.echo(
        f"{verb} records before {cutoff.date()}: {summary.records} log records, {summary.outbound_rows} "
        f"outbox rows, {summary.queue_items} handled queue items; kept on legal hold: {summary.kept_on_hold}"
    )
    if not dry_run:
        click.echo(
            f"purge {summary.purge_id} sealed; `flask --app bot verify-log` checks the chain across it"
        )


@click.group("legal-hold")
def legal_hold_group() -> None:
    """Keep a number's records past retention (litigation, investigations)."""


def _phone_id(session: Session, number: str) -> int:
    phone = find_phone(session, cipher(), number.strip())
    if phone is None:
        raise click.ClickException("no records for that number (give it in E.164, e.g. +19195550101)")
    return phone.id


@legal_hold_group.command("place")
@click.option("--phone", required=True, help="The number, E.164.")
@click.option("--reference", required=True, help="The matter (a case or docket reference; no names).")
@click.option("--by", "placed_by", help="Who places it (default: the OS user).")
@with_appcontext
def place_command(phone: str, reference: str, placed_by: str | None) -> None:
    """Put a number on legal hold."""
    try:
        with database().transaction() as session:
            retention.place_hold(session, _phone_id(session, phone), reference, _by(placed_by))
    except HoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"legal hold placed on the number ending {phone.strip()[-4:]}")


@legal_hold_group.command("release")
@click.option("--phone", required=True, help="The number, E.164.")
@click.option("--by", "released_by", help="Who releases it (default: the OS user).")
@with_appcontext
def release_command(phone: str, released_by: str | None) -> None:
    """End a number's legal hold."""
    try:
        with database().transaction() as session:
            retention.release_hold(session, _phone_id(session, phone), _by(released_by))
    except HoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"legal hold released on the number ending {phone.strip()[-4:]}")


@legal_hold_group.command("list")
@with_appcontext
def list_command() -> None:
    """The holds in force (numbers masked to their last 4 digits)."""
    with database().session() as session:
        holds = retention.active_holds(session)
        for hold in holds:
            last4 = cipher().decrypt(session.get_one(PhoneNumber, hold.phone_number_id).number_enc)[-4:]
            click.echo(f"•••{last4}  {hold.reference}  placed {hold.placed_at:%Y-%m-%d} by {hold.placed_by}")
    if not holds:
        click.echo("no legal holds in force")


COMMANDS = (purge_command, legal_hold_group)
