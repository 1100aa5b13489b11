"""No phone number and no message body in plain text: not in the SQLite files (and their write-ahead
log), not in the application log, after real conversations through the webhook."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import create_app
from storage import schema
from storage.database import Database
from tests.conftest import app_settings
from tests.webhooks.conftest import (
    NEVER_OPTED_IN,
    NOT_ON_FILE,
    OPTED_OUT,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_ES,
    ensure_chain_head,
    load_demo,
    new_sid,
    reply,
    send,
)

# Distinctive texts, so finding one in the bytes can only mean it was written in the clear.
TEXTS = [
    (VERIFIED_EN, "Where is my payment, quokka-8841?"),
    (VERIFIED_ES, "¿Cuándo llega mi pago, ñandú-5521?"),
    (UNVERIFIED, "wombat-3390 did you get my payment"),
    (UNVERIFIED, "0118"),
    (NEVER_OPTED_IN, "narwhal-6612 what is my balance"),
    (NOT_ON_FILE, "axolotl-4407 hello"),
    (OPTED_OUT, "pangolin-9953 are you there"),
    (VERIFIED_EN, "please stop texting me capybara-2286"),
    (VERIFIED_EN, "START"),
]
SECRET_BODIES = [body for _, body in TEXTS if "-" in body]
REJECTED_BODY = "okapi-1175 my case"


def phone_forms(number: str) -> list[str]:
    """The ways one E.164 US number is written."""
    digits = number.removeprefix("+1")
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return [
        number,
        f"1{digits}",
        digits,
        f"{area}-{exchange}-{line}",
        f"({area}) {exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{exchange}-{line}",
        f"{exchange}{line}",
    ]


NUMBERS = sorted({number for number, _ in TEXTS})
FORBIDDEN = [form for number in NUMBERS for form in phone_forms(number)] + SECRET_BODIES + [REJECTED_BODY]


def files_of(path: Path) -> dict[str, bytes]:
    found = {path.name: path.read_bytes()}
    for suffix in ("-wal", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            found[extra.name] = extra.read_bytes()
    return found


def assert_not_in_files(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        for text in FORBIDDEN:
            for encoded in (text.encode("utf-8"), text.encode("utf-16-le")):
                assert encoded not in data, f"{text!r} found in {name}"


def test_no_phone_number_or_body_in_the_database_files_or_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Every logger at INFO, SQLAlchemy's statement log included (parameters and all).
    caplog.set_level(logging.INFO)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.INFO, logger=name)
    # A database file of its own: the shared one keeps freed pages of other tests.
    path = tmp_path / "plain.sqlite3"
    database = Database(f"sqlite:///{path}")
    schema.upgrade(database)
    database.dispose()
    app = create_app(app_settings(f"sqlite:///{path}"))
    sids = []
    try:
        ensure_chain_head(app.extensions["database"])
        load_demo(app)
        client = app.test_client()
        for number, body in TEXTS:
            sids.append(new_sid())
            reply(client, number, body, sid=sids[-1])
        # Refused requests are logged too.
        assert send(client, VERIFIED_EN, REJECTED_BODY, signature="bad").status_code == 403
        assert send(client, VERIFIED_EN.removeprefix("+1"), REJECTED_BODY).status_code == 400
        assert send(client, VERIFIED_EN, REJECTED_BODY + "\x00").status_code == 400
        open_files = files_of(path)
        assert len(open_files.get("plain.sqlite3-wal", b"")) > 0  # the newest pages are in the log
        assert_not_in_files(open_files)
        everything = b"".join(open_files.values())
        assert sids[0].encode() in everything  # the search does see what was written
    finally:
        app.extensions["database"].dispose()
    closed = files_of(path)
    assert_not_in_files(closed)
    assert sids[-1].encode() in b"".join(closed.values())

    log = caplog.text
    assert "sms handled" in log and "sms webhook rejected" in log  # the log was captured
    assert "INSERT INTO exchanges" in log  # SQL statements and their parameters too
    leaked = [text for text in FORBIDDEN if text in log]
    assert not leaked, f"in the application log: {leaked}"
