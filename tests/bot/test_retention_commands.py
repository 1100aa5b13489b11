"""The purge and legal-hold commands, as an operator runs them."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from bot import create_app
from storage import exchange_log
from storage.exchange_log import NewExchange
from storage.models import Direction, utcnow
from tests.conftest import app_settings
from tests.webhooks.conftest import (
    NOT_ON_FILE,
    VERIFIED_EN,
    VERIFIED_ES,
    ensure_chain_head,
    load_demo,
    phone_id,
)


def old_exchange(app: Flask, number: str, n: int, days_ago: int) -> None:
    when = utcnow() - timedelta(days=days_ago)
    with app.extensions["database"].transaction() as session:
        exchange_log.append(
            session,
            app.extensions["cipher"],
            NewExchange(
                Direction.INBOUND,
                phone_id(app, number),
                f"q{n}",
                "opted_in_verified",
                f"SM{n:032x}",
                occurred_at=when,
            ),
            NewExchange(
                Direction.OUTBOUND, phone_id(app, number), f"a{n}", "opted_in_verified", occurred_at=when
            ),
        )


def test_purge_keeps_held_numbers_and_the_log_stays_verifiable(database_url: str) -> None:
    app = create_app(app_settings(database_url, RETENTION_DAYS="30"))
    ensure_chain_head(app.extensions["database"])
    load_demo(app)
    for n, (number, age) in enumerate([(VERIFIED_EN, 40), (VERIFIED_ES, 40), (VERIFIED_ES, 5)], start=1):
        old_exchange(app, number, n, age)
    runner = app.test_cli_runner()

    placed = runner.invoke(
        args=["legal-hold", "place", "--phone", VERIFIED_EN, "--reference", "Docket 42", "--by", "counsel"]
    )
    assert placed.exit_code == 0 and "ending 0101" in placed.output
    again = runner.invoke(args=["legal-hold", "place", "--phone", VERIFIED_EN, "--reference", "Docket 42"])
    assert again.exit_code != 0 and "already" in again.output
    unknown = runner.invoke(args=["legal-hold", "place", "--phone", NOT_ON_FILE, "--reference", "x"])
    assert unknown.exit_code != 0 and "no records for that number" in unknown.output
    assert NOT_ON_FILE not in unknown.output
    listed = runner.invoke(args=["legal-hold", "list"])
    assert "•••0101  Docket 42" in listed.output and VERIFIED_EN not in listed.output

    too_new = runner.invoke(args=["purge", "--before", date.today().isoformat()])
    assert too_new.exit_code != 0 and "within the retention period (RETENTION_DAYS=30" in too_new.output
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0 and "would purge" in dry.output and "2 log records" in dry.output
    assert "kept on legal hold: 2" in dry.output
    done = runner.invoke(args=["purge", "--by", "records officer"])
    assert done.exit_code == 0 and "purged records before" in done.output and "2 log records" in done.output
    verified = runner.invoke(args=["verify-log"])
    assert verified.exit_code == 0
    assert "exchange log intact: 6 records (2 purged under sealed purges)" in verified.output

    released = runner.invoke(args=["legal-hold", "release", "--phone", VERIFIED_EN])
    assert released.exit_code == 0
    assert "2 log records" in runner.invoke(args=["purge"]).output
    assert "(4 purged" in runner.invoke(args=["verify-log"]).output
    app.extensions["database"].dispose()
