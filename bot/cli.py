"""The operators' commands: `flask --app bot NAME`. Exit 0 on success, else non-zero with one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from bot import demo
from bot.extensions import cipher, database, settings
from bot.outbound.commands import COMMANDS as OUTBOUND_COMMANDS
from bot.simulate import simulate_command
from storage import exchange_log, rotation, schema
from storage.appointment_import import import_appointments
from storage.bulk import ImportSummary
from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.crypto import generate_key
from storage.csv_rows import ImportRejected
from storage.payment_import import import_payments

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
    click.echo(f"exchange log intact: {report.checked} records, chain verified")


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
)


def register(app: Flask) -> None:
    """Add the operators' commands to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)
