"""The operators' commands: `flask --app bot NAME`. Exit 0 on success, else non-zero with one line."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import demo
from bot.extensions import cipher, database, settings
from bot.outbound.commands import COMMANDS as OUTBOUND_COMMANDS
from bot.retention_commands import COMMANDS as RETENTION_COMMANDS
from bot.simulate import simulate_command
from storage import access_log, exchange_log, records, rotation, schema, supervisors
from storage.access_log import AccessAction
from storage.appointment_import import import_appointments
from storage.bulk import ImportSummary
from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.crypto import generate_key
from storage.csv_rows import ImportRejected
from storage.fields import FieldError, parse_phone
from storage.models import Supervisor, SupervisorRole
from storage.payment_import import import_payments
from storage.phones import find_phone

# Below this many rows a progress bar is only noise.
PROGRESS_THRESHOLD = 2000


class ClickProgress:
    """Shows an import's stages as click progress bars on stderr."""

    def __init__(self) -> None:
        self._bar: object | None = None

    def start(self, label: str, total: int) -> None:
        """Open a bar for a stage, if the stage is long enough to need one."""
        self.finish()
        if total >= PROGRESS_THRESHOLD:
            self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self._bar.__enter__()

    def advance(self, steps: int) -> None:
        """Move the bar on."""
        if self._bar is not None:
            self._bar.update(steps)

    def finish(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def run_import(work: Callable[[Session, ClickProgress], ImportSummary]) -> None:
    """Run one import in one transaction; on bad rows print each one, write nothing, exit 1."""
    progress = ClickProgress()
    try:
        with database().transaction() as session:
            summary = work(session, progress)
    except ImportRejected as exc:
        progress.finish()
        for line in exc.report():
            click.echo(line, err=True)
        raise click.ClickException(str(exc)) from None
    click.echo(summary.describe())


def _file_argument(function: Callable[..., None]) -> Callable[..., None]:
    return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(function)


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Apply the database migrations (create or upgrade the schema)."""
    schema.upgrade(database())
    click.echo(f"database schema at revision {schema.current_revision(database())}")


@click.command("import-cases")
@_file_argument
@with_appcontext
def import_cases_command(file: Path) -> None:
    """Import cases.csv (participant_id,phone,language,case_id,role,county,next_due_date,amount_due)."""
    run_import(lambda session, progress: import_cases(session, file, cipher(), progress))


@click.command("import-payments")
@_file_argument
@with_appcontext
def import_payments_command(file: Path) -> None:
    """Import payments.csv (case_id,paid_on,amount,source)."""
    run_import(lambda session, progress: import_payments(session, file, progress))


@click.command("import-consent")
@_file_argument
@with_appcontext
def import_consent_command(file: Path) -> None:
    """Import consent.csv (phone,status,method,recorded_at,reference)."""
    run_import(lambda session, progress: import_consent(session, file, cipher(), progress))


@click.command("import-appointments")
@_file_argument
@with_appcontext
def import_appointments_command(file: Path) -> None:
    """Import appointments.csv (case_id,appointment_id,kind,starts_at,office,status)."""
    run_import(lambda session, progress: import_appointments(session, file, progress))


@click.command("seed-demo")
@click.option("--refresh", is_flag=True, help="Load the demo files again even if they are there.")
@with_appcontext
def seed_demo_command(refresh: bool) -> None:
    """Load fictional demo participants (555-01xx numbers), cases, payments and consent."""
    if settings().production:
        raise click.ClickException("seed-demo refuses to run with BOT_ENV=production (the data is fictional)")
    with database().transaction() as session:
        if demo.is_loaded(session) and not refresh:
            click.echo("demo data already loaded (use --refresh to load it again)")
            return
        for summary in demo.load(session, cipher()):
            click.echo(summary.describe())
    click.echo(demo.describe())


@click.command("verify-log")
@with_appcontext
def verify_log_command() -> None:
    """Check the exchange log's hash chain; name the first altered, inserted or deleted record."""
    with database().session() as session:
        report = exchange_log.verify(session, cipher())
    if not report.ok:
        raise click.ClickException(
            f"exchange log is NOT intact: {report.problem} ({report.checked} records good before it)"
        )
    purged = f" ({report.purged} purged under sealed purges)" if report.purged else ""
    click.echo(f"exchange log intact: {report.checked} records{purged}, chain verified")


@click.command("rotate-keys")
@with_appcontext
def rotate_keys_command() -> None:
    """Re-encrypt stored phone numbers and messages with the newest DATA_KEYS key (verifies first)."""
    with database().transaction() as session:
        report = exchange_log.verify(session, cipher())
        if not report.ok:
            raise click.ClickException(f"refusing to rotate: exchange log is not intact: {report.problem}")
        counts = rotation.rotate_all(session, cipher())
    click.echo("re-encrypted with the newest key: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@click.command("generate-key")
def generate_key_command() -> None:
    """Print a new key for DATA_KEYS (put it first; keep older keys after it)."""
    click.echo(generate_key())


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-supervisor")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in SupervisorRole]),
    help="What the account may do.",
)
@with_appcontext
def create_supervisor_command(email: str, role: str) -> None:
    """Add a dashboard account; the password comes from a prompt, or the first line of stdin."""
    password = _read_password()
    try:
        with database().transaction() as session:
            supervisor = supervisors.create_supervisor(session, email, role, password)
    except supervisors.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {supervisor.role} account {supervisor.email}")


def _parse_day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-01-31", param=param) from None


@click.command("export")
@click.option("--phone", help="One number's full history (E.164 or a US number).")
@click.option("--since", callback=_parse_day, help="First day of a date range (YYYY-MM-DD, UTC).")
@click.option("--until", callback=_parse_day, help="Last day of the range (YYYY-MM-DD, UTC), included.")
@click.option("--format", "fmt", type=click.Choice(records.FORMATS), default="json", show_default=True)
@click.option(
    "--by",
    "by_email",
    required=True,
    help="The auditor or admin account answering this records request (the access log names it).",
)
@with_appcontext
def export_command(
    phone: str | None, since: date | None, until: date | None, fmt: str, by_email: str
) -> None:
    """Export decrypted records with the hash-chain check to stdout; the export is logged."""
    by_range = since is not None or until is not None
    if (phone is None) == (not by_range) or (by_range and (since is None or until is None)):
        raise click.UsageError("give either --phone NUMBER, or both --since DATE and --until DATE")
    if since is not None and until is not None and until < since:
        raise click.UsageError("--until is before --since")
    with database().transaction() as session:
        operator = session.scalars(
            select(Supervisor).where(Supervisor.email == by_email.strip().lower())
        ).one_or_none()
        if operator is None or operator.role not in (SupervisorRole.AUDITOR, SupervisorRole.ADMIN):
            raise click.ClickException(f"--by must name an auditor or admin account ({by_email} is not one)")
        if phone is not None:
            try:
                number = parse_phone(phone)
            except FieldError as exc:
                raise click.ClickException(f"--phone {exc}") from None
            stored = find_phone(session, cipher(), number)
            if stored is None:
                raise click.ClickException("no records for that number")
            found = records.for_phone(session, cipher(), stored.id)
            target = f"phone #{stored.id}"
        else:
            found = records.for_range(session, cipher(), since, until)
            target = f"range {since}..{until}"
        access_log.record(
            session,
            operator.id,
            AccessAction.EXPORT,
            target,
            f"cli, os user {getpass.getuser()}, {fmt}, {found.describe()}",
        )
    click.echo(records.render(found, fmt), nl=False)
    if not found.chain.ok:
        click.echo(f"warning: the exchange log is NOT intact: {found.chain.problem}", err=True)


COMMANDS = (
    migrate_command,
    import_cases_command,
    import_payments_command,
    import_consent_command,
    import_appointments_command,
    seed_demo_command,
    verify_log_command,
    rotate_keys_command,
    simulate_command,
    generate_key_command,
    *OUTBOUND_COMMANDS,
    *RETENTION_COMMANDS,
    create_supervisor_command,
    export_command,
)


def register(app: Flask) -> None:
    """Add the operators' commands to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)
