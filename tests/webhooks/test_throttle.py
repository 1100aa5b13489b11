"""A number texting past INBOUND_PER_MINUTE (issue 7), through the real, signed webhook.

With the limit at 5: texts 1-5 are handled as usual, text 6 gets the "throttled" reply in the sender's
language, every later one an empty <Response/>; all are recorded (intent "throttled" from text 6 on)
and only replies actually sent are. Consent keywords are honoured mid-flood, other numbers are not
slowed, and a minute later the number is answered again. One WARNING per crossing, without the number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, select

from bot.conversation import TOLD_LOOKBACK, _sender_statement
from storage.models import Direction, Exchange
from tests.webhooks.conftest import (
    NEVER_OPTED_IN,
    NOT_ON_FILE,
    OPTED_OUT,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_EN_IVR,
    VERIFIED_ES,
    consent_events,
    consent_label,
    exchange_rows,
    load_demo,
    new_sid,
    phone_id,
    reply,
)
from tests.webhooks.wording import assert_answered, assert_says

LIMIT = 5
WARNING = f"sms throttled: a number passed {LIMIT} texts a minute"
QUESTION = {"en": "when is my next payment due", "es": "¿cuándo vence mi próximo pago?"}


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The demo data, on an app that lets a number send LIMIT texts a minute."""
    application = make_app(INBOUND_PER_MINUTE=str(LIMIT))
    load_demo(application)
    return application


@pytest.fixture
def client(app: Flask):  # noqa: ANN201 - a Flask test client
    return app.test_client()


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The throttle's WARNING lines logged so far."""
    caplog.set_level(logging.INFO)
    return lambda: [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and "throttled" in record.getMessage()
    ]


def age(app: Flask, number: str, by: timedelta, *, oldest: int | None = None) -> None:
    """Let time pass for a number: its records (or its `oldest` inbound texts and their replies) move
    back (as tests/webhooks/test_sms_consent_states.py does for the verification window; the log's
    chain no longer verifies after this)."""
    found = phone_id(app, number)
    with app.extensions["database"].transaction() as session:
        query = select(Exchange).where(Exchange.phone_number_id == found).order_by(Exchange.chain_seq)
        moved = 0
        for record in session.scalars(query):
            moved += record.direction == Direction.INBOUND.value
            if oldest is not None and moved > oldest:
                break
            record.occurred_at -= by


def flood(client, number: str, body: str, count: int) -> list[str | None]:  # noqa: ANN001
    return [reply(client, number, body) for _ in range(count)]


def records(app: Flask, number: str) -> tuple[list[tuple[str | None, str]], list[str | None]]:
    """The number's inbound records as (intent, consent state), and its outbound records' templates."""
    rows = exchange_rows(app, number)
    inbound = [(row.intent, row.consent_state) for row in rows if row.direction == Direction.INBOUND.value]
    outbound = [row.template_id for row in rows if row.direction == Direction.OUTBOUND.value]
    return inbound, outbound


@pytest.mark.parametrize(("number", "language"), [(VERIFIED_EN, "en"), (VERIFIED_ES, "es")])
def test_past_the_limit_one_slow_down_reply_then_silence_and_every_text_recorded(
    app: Flask, client, number: str, language: str, warnings: Callable[[], list[str]]
) -> None:
    answers = flood(client, number, QUESTION[language], 12)
    for text in answers[:LIMIT]:
        assert_answered(text, language)
    assert_says(answers[LIMIT], "throttled", language)
    assert answers[LIMIT + 1 :] == [None] * (12 - LIMIT - 1)

    inbound, outbound = records(app, number)
    assert [intent for intent, _ in inbound] == ["next_due_date"] * LIMIT + ["throttled"] * (12 - LIMIT)
    assert {state for _, state in inbound} == {"opted_in_verified"}
    # Only the replies actually sent are recorded.
    assert outbound == ["next_due_date"] * LIMIT + ["throttled"]
    assert warnings() == [WARNING]


def test_throttled_texts_are_recorded_encrypted_like_any_other(app: Flask, client) -> None:
    bodies = [f"question number {n}?" for n in range(LIMIT + 3)]
    for body in bodies:
        reply(client, VERIFIED_EN, body)
    cipher = app.extensions["cipher"]
    rows = [row for row in exchange_rows(app, VERIFIED_EN) if row.direction == Direction.INBOUND.value]
    assert [cipher.decrypt(row.body_enc) for row in rows] == bodies
    assert not any(body in row.body_enc for body, row in zip(bodies, rows, strict=True))
    assert app.test_cli_runner().invoke(args=["verify-log"]).exit_code == 0


def test_the_slow_down_reply_is_in_the_participants_language_when_the_text_says_nothing(
    app: Flask, client
) -> None:
    answers = flood(client, VERIFIED_ES, "?", LIMIT + 2)
    assert_says(answers[LIMIT], "throttled", "es")
    assert answers[LIMIT + 1] is None


def test_stop_mid_flood_is_honoured_at_once_with_the_ctia_confirmation(app: Flask, client) -> None:
    flood(client, VERIFIED_EN, QUESTION["en"], LIMIT + 10)
    sid = new_sid()
    assert_says(reply(client, VERIFIED_EN, "STOP", sid=sid), "opt_out_confirm", "en")
    assert consent_events(app, VERIFIED_EN)[-1] == ("opt_out", "sms_keyword", sid)
    assert consent_label(app, VERIFIED_EN) == "opted_out"
    # Opted out: silence as always (not "throttled": nothing the number gets changes).
    assert reply(client, VERIFIED_EN, QUESTION["en"]) is None
    inbound, outbound = records(app, VERIFIED_EN)
    assert inbound[-2:] == [("stop_keyword", "opted_in_verified"), ("while_opted_out", "opted_out")]
    assert outbound[-1] == "opt_out_confirm"


def test_every_consent_event_mid_flood_is_honoured(app: Flask, client) -> None:
    flood(client, VERIFIED_EN_IVR, QUESTION["en"], LIMIT + 5)
    assert_says(reply(client, VERIFIED_EN_IVR, "HELP"), "help", "en")
    assert reply(client, VERIFIED_EN_IVR, QUESTION["en"]) is None  # the flood goes on: not told again
    assert_says(reply(client, VERIFIED_EN_IVR, "please stop texting me"), "opt_out_confirm", "en")
    assert consent_label(app, VERIFIED_EN_IVR) == "opted_out"
    assert_says(reply(client, VERIFIED_EN_IVR, "START"), "opt_in_confirm", "en")
    assert consent_label(app, VERIFIED_EN_IVR) == "opted_in_verified"
    assert_says(reply(client, VERIFIED_EN_IVR, "AYUDA"), "help", "es")
    # Twilio's Advanced Opt-Out answered the STOP itself: recorded, nothing sent.
    assert reply(client, VERIFIED_EN_IVR, "STOP", extra={"OptOutType": "STOP"}) is None
    assert consent_events(app, VERIFIED_EN_IVR)[-1][:2] == ("opt_out", "twilio_opt_out_type")
    assert_says(reply(client, VERIFIED_EN_IVR, "UNSTOP"), "opt_in_confirm", "en")
    # An unclear revocation is still asked about, once (part of honouring a revocation).
    assert_says(reply(client, VERIFIED_EN_IVR, "i want to cancel"), "revoke_clarify", "en")
    assert_says(reply(client, VERIFIED_EN_IVR, "yes"), "opt_out_confirm", "en")
    assert_says(reply(client, VERIFIED_EN_IVR, "START"), "opt_in_confirm", "en")
    # The flood goes on: still silence, and the slow-down reply is not repeated.
    assert reply(client, VERIFIED_EN_IVR, QUESTION["en"]) is None
    _, outbound = records(app, VERIFIED_EN_IVR)
    assert outbound.count("throttled") == 1


def test_a_number_that_passed_the_limit_with_keywords_is_told_at_its_next_question(
    app: Flask, client, warnings: Callable[[], list[str]]
) -> None:
    for text in flood(client, VERIFIED_EN, "HELP", LIMIT + 3):
        assert_says(text, "help", "en")
    assert_says(reply(client, VERIFIED_EN, QUESTION["en"]), "throttled", "en")
    assert reply(client, VERIFIED_EN, QUESTION["en"]) is None
    assert warnings() == [WARNING]


def test_other_numbers_are_answered_as_usual_during_a_flood(app: Flask, client) -> None:
    flood(client, VERIFIED_EN, QUESTION["en"], LIMIT + 5)
    for _ in range(LIMIT):  # interleaved with the flood, up to their own limit
        assert reply(client, VERIFIED_EN, QUESTION["en"]) is None
        assert_answered(reply(client, VERIFIED_ES, QUESTION["es"]), "es")
    assert_says(reply(client, NEVER_OPTED_IN, "hello"), "enroll", "en")
    assert_says(reply(client, NOT_ON_FILE, "hello"), "enroll", "en")


def test_a_minute_later_the_number_is_answered_again_and_a_new_flood_is_told_again(
    app: Flask, client, warnings: Callable[[], list[str]]
) -> None:
    flood(client, VERIFIED_EN, QUESTION["en"], LIMIT + 5)
    age(app, VERIFIED_EN, timedelta(seconds=30))
    assert reply(client, VERIFIED_EN, QUESTION["en"]) is None  # the flood's texts still count
    assert warnings() == [WARNING]
    age(app, VERIFIED_EN, timedelta(seconds=61))  # a minute after the last text
    answers = flood(client, VERIFIED_EN, QUESTION["en"], LIMIT + 3)
    for text in answers[:LIMIT]:
        assert_answered(text, "en")
    assert_says(answers[LIMIT], "throttled", "en")
    assert answers[LIMIT + 1 :] == [None, None]
    assert warnings() == [WARNING, WARNING]  # once per crossing


def test_told_again_only_after_more_keyword_texts_than_the_lookback(
    app: Flask, client, warnings: Callable[[], list[str]]
) -> None:
    flood(client, VERIFIED_EN, QUESTION["en"], LIMIT + 1)
    flood(client, VERIFIED_EN, "HELP", TOLD_LOOKBACK - 1)
    assert reply(client, VERIFIED_EN, QUESTION["en"]) is None  # the reply to wait is among the newest
    flood(client, VERIFIED_EN, "HELP", TOLD_LOOKBACK)
    assert_says(reply(client, VERIFIED_EN, QUESTION["en"]), "throttled", "en")
    assert warnings() == [WARNING, WARNING]


def test_a_flood_sliding_out_of_the_minute_is_not_told_again(
    app: Flask, client, warnings: Callable[[], list[str]]
) -> None:
    flood(client, VERIFIED_EN, QUESTION["en"], LIMIT + 5)
    # The answered texts leave the minute: what is left of the flood is LIMIT texts, all throttled.
    age(app, VERIFIED_EN, timedelta(seconds=61), oldest=LIMIT)
    assert reply(client, VERIFIED_EN, QUESTION["en"]) is None
    assert warnings() == [WARNING]


def test_the_warning_names_no_number(
    app: Flask, client, caplog: pytest.LogCaptureFixture, warnings: Callable[[], list[str]]
) -> None:
    body = "my number is 919-555-0101, please answer"
    flood(client, VERIFIED_EN, body, LIMIT + 3)
    assert warnings() == [WARNING]
    assert not re.search(r"\d{3}", WARNING)  # the limit's digits, never a number's
    forms = [VERIFIED_EN, VERIFIED_EN[2:], "555-0101", "5550101", body]
    forms += app.extensions["cipher"].lookup_hashes(VERIFIED_EN)
    for record in caplog.records:
        text = record.getMessage()
        assert not [form for form in forms if form in text], text


def test_a_number_texting_silence_already_is_left_alone(
    app: Flask, client, warnings: Callable[[], list[str]]
) -> None:
    assert flood(client, OPTED_OUT, "are you there?", LIMIT + 5) == [None] * (LIMIT + 5)
    inbound, outbound = records(app, OPTED_OUT)
    assert [intent for intent, _ in inbound] == ["while_opted_out"] * (LIMIT + 5)
    assert outbound == [] and warnings() == []


def test_enrollment_and_verification_are_throttled_too_and_a_throttled_guess_verifies_nothing(
    app: Flask, client
) -> None:
    answers = flood(client, NEVER_OPTED_IN, "hello", LIMIT + 2)
    assert [text is not None for text in answers] == [True] * (LIMIT + 1) + [False]
    assert_says(answers[LIMIT], "throttled", "en")
    for text in flood(client, UNVERIFIED, "hi", LIMIT):
        assert_says(text, "verify_ask", "en")
    # The case's right digits, past the limit: recorded, not tried.
    assert_says(reply(client, UNVERIFIED, "0118"), "throttled", "en")
    assert consent_label(app, UNVERIFIED) == "opted_in_unverified"
    inbound, _ = records(app, UNVERIFIED)
    assert inbound[-1] == ("throttled", "opted_in_unverified")


def test_a_redelivered_message_sid_gets_the_reply_it_got(app: Flask, client) -> None:
    sids = [new_sid() for _ in range(LIMIT + 3)]
    first = [reply(client, VERIFIED_EN, QUESTION["en"], sid=sid) for sid in sids]
    count = len(exchange_rows(app))
    again = [reply(client, VERIFIED_EN, QUESTION["en"], sid=sid) for sid in sids]
    assert again == first
    assert first[LIMIT] is not None and first[-1] is None
    assert len(exchange_rows(app)) == count


# --- the count costs no statement -------------------------------------------------------------------


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs, as the driver gets it."""
    seen: list[str] = []
    engine = app.extensions["database"].engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    yield seen
    event.remove(engine, "before_cursor_execute", listener)


def test_each_text_reads_its_sender_and_count_in_one_statement(
    app: Flask, client, statements: list[str]
) -> None:
    # "hello" from a verified number needs no case data: the sender's read, the log's lock, its rows and
    # head (one WITH statement on PostgreSQL; SQLite's transaction starts with BEGIN IMMEDIATE). The same
    # below the limit, at it and past it: the count rides on the sender's read.
    expected = 3 if app.extensions["database"].backend == "postgresql" else 5
    for n in range(LIMIT + 3):
        statements.clear()
        text = reply(client, VERIFIED_EN, "hello")
        if n <= LIMIT:
            assert_says(text, "greet" if n < LIMIT else "throttled", "en")
        else:
            assert text is None
        reads = [sql for sql in statements if "FROM phone_numbers" in sql]
        assert len(reads) == 1 and "last_minute" in reads[0], statements
        assert sum("last_minute" in sql for sql in statements) == 1
        assert len(statements) == expected, statements


def test_the_count_reads_at_most_the_limit_plus_one_index_entries(app: Flask, client) -> None:
    flood(client, VERIFIED_EN, "hello", LIMIT * 6)
    database = app.extensions["database"]
    with database.engine.connect() as connection:
        compiled = _sender_statement(1, LIMIT).statement.compile(dialect=connection.dialect)
        now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC (storage.models.UTCDateTime)
        params = compiled.construct_params(
            {
                "hash_0": app.extensions["cipher"].lookup_hashes(VERIFIED_EN)[0],
                "since": now - timedelta(minutes=30),
                "minute_ago": now - timedelta(minutes=1),
            }
        )
        if database.backend == "postgresql":
            plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.string}", params)
            scans = list(_index_scans(plan.scalar()[0]["Plan"]))
            # The count's scan stops at LIMIT + 1 rows; the others read 1 (last reply) or up to 10 (recent
            # texts, and the lookback for a throttled one).
            assert (LIMIT + 1, "ix_exchanges_phone_direction_time") in scans, scans
            assert max(rows for rows, _ in scans) <= max(10, TOLD_LOOKBACK), scans
        else:
            args = tuple(params[name] for name in compiled.positiontup)
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", args).all()
            detail = [row[-1] for row in plan]
            assert any(
                "ix_exchanges_phone_direction_time" in line and "occurred_at>?" in line for line in detail
            ), detail


def _index_scans(plan: dict) -> Iterator[tuple[int, str]]:
    """(rows read, index) of every index scan in a PostgreSQL JSON plan."""
    if "Index Name" in plan:
        yield plan["Actual Rows"], plan["Index Name"]
    for child in plan.get("Plans", []):
        yield from _index_scans(child)
