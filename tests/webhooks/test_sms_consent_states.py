"""What each consent state gets, through the real webhook, with the demo participants (bot/demo.py).

opted out -> silence (only opt-in and HELP words answered); never opted in -> enrollment instructions;
opted in but unverified -> the last 4 digits of a case number, 3 tries a day; verified -> the
answering step (its answers are tested in tests/answers). Plain-language revocation revokes; an unclear
one is asked about once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from storage.models import Exchange, utcnow
from tests.webhooks.conftest import (
    NEVER_OPTED_IN,
    NOT_ON_FILE,
    OPTED_OUT,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_ES,
    VERIFIED_ES_FTI,
    consent_events,
    consent_label,
    demo_day,
    exchange_rows,
    new_sid,
    phone_id,
    reply,
)
from tests.webhooks.wording import assert_answered, assert_says, written_day

QUESTION = "when is my next payment due"
# What the demo files hold about 0106/0107's cases: none of it may reach a number not yet verified.
CASE_DATA = ("DEMO", "3001", "0119", "0118", "275", "90.00", "Wake", "Orange", "$")


def assert_no_case_data(text: str) -> None:
    leaked = [item for item in CASE_DATA if item in text]
    assert not leaked, f"case data {leaked} in {text!r}"


def test_an_opted_out_number_gets_silence_for_anything_but_opt_in_and_help(
    demo_app: Flask, demo_client
) -> None:
    events = consent_events(demo_app, OPTED_OUT)
    sids = []
    for body in (QUESTION, "hello", "i want to cancel", "0117", "", "no"):
        sids.append(new_sid())
        assert reply(demo_client, OPTED_OUT, body, sid=sids[-1]) is None, body
    assert consent_events(demo_app, OPTED_OUT) == events  # nothing recorded: already out
    logged = exchange_rows(demo_app, OPTED_OUT)
    assert [(row.direction, row.message_sid, row.intent, row.consent_state) for row in logged] == [
        ("inbound", sid, "while_opted_out", "opted_out") for sid in sids
    ]
    # A plain-language revocation while out gets no second confirmation but is kept as evidence.
    revoke_sid = new_sid()
    assert reply(demo_client, OPTED_OUT, "please stop texting me", sid=revoke_sid) is None
    assert consent_events(demo_app, OPTED_OUT)[-1] == ("opt_out", "sms_plain_language", revoke_sid)
    assert_says(reply(demo_client, OPTED_OUT, "help"), "help", "en")
    assert_says(reply(demo_client, OPTED_OUT, "yes!!"), "opt_in_confirm", "en")


def test_a_number_never_opted_in_gets_enrollment_instructions_and_no_case_data(
    demo_app: Flask, demo_client
) -> None:
    # The reply follows the text's language when it is clear ("hola"), else the participant's (English).
    for body, language in ((QUESTION, "en"), ("what is my balance", "en"), ("hola", "es")):
        text = reply(demo_client, NEVER_OPTED_IN, body)
        assert_says(text, "enroll", language)
        assert_no_case_data(text)
    assert consent_label(demo_app, NEVER_OPTED_IN) == "never_opted_in"
    assert [row.intent for row in exchange_rows(demo_app, NEVER_OPTED_IN) if row.direction == "inbound"] == [
        "not_enrolled"
    ] * 3


def test_a_number_not_on_file_is_enrolled_and_cannot_verify(demo_app: Flask, demo_client) -> None:
    assert phone_id(demo_app, NOT_ON_FILE) is None
    assert_says(reply(demo_client, NOT_ON_FILE, QUESTION), "enroll", "en")
    assert phone_id(demo_app, NOT_ON_FILE) is not None
    assert_says(reply(demo_client, NOT_ON_FILE, "START"), "opt_in_confirm", "en")
    assert consent_label(demo_app, NOT_ON_FILE) == "opted_in_unverified"
    for body in (QUESTION, "0118", "1234"):
        text = reply(demo_client, NOT_ON_FILE, body)
        assert_says(text, "verify_unknown", "en")
        assert_no_case_data(text)
    assert consent_label(demo_app, NOT_ON_FILE) == "opted_in_unverified"
    assert [kind for kind, _, _ in consent_events(demo_app, NOT_ON_FILE)] == ["opt_in"]


def test_an_unverified_number_is_asked_for_case_digits_and_verified_by_the_right_ones(
    demo_app: Flask, demo_client
) -> None:
    assert consent_label(demo_app, UNVERIFIED) == "opted_in_unverified"
    text = reply(demo_client, UNVERIFIED, QUESTION)
    assert_says(text, "verify_ask", "en")
    assert_no_case_data(text)
    # Asked again, not answered, while the number is unverified.
    assert_says(reply(demo_client, UNVERIFIED, "did you get my payment"), "verify_ask", "en")
    sid = new_sid()
    # DEMO-300118: its last 4 digits.
    assert_says(reply(demo_client, UNVERIFIED, " 0118. ", sid=sid), "verify_ok", "en")
    assert consent_events(demo_app, UNVERIFIED)[-1] == ("verification", "sms_case_digits", sid)
    assert consent_label(demo_app, UNVERIFIED) == "opted_in_verified"
    # Now answered from its case (DEMO-300118, due 12 days after the demo's day).
    text = reply(demo_client, UNVERIFIED, QUESTION)
    assert_says(text, "next_due_date", "en")
    assert written_day(demo_day(12), "en") in text
    inbound = [row.intent for row in exchange_rows(demo_app, UNVERIFIED) if row.direction == "inbound"]
    assert inbound == ["unverified", "unverified", "case_digits", "next_due_date"]


def test_case_digits_sent_before_being_asked_are_not_taken(demo_app: Flask, demo_client) -> None:
    assert_says(reply(demo_client, UNVERIFIED, "0118"), "verify_ask", "en")
    assert consent_label(demo_app, UNVERIFIED) == "opted_in_unverified"
    assert_says(reply(demo_client, UNVERIFIED, "0118"), "verify_ok", "en")


def test_wrong_digits_get_a_retry_then_three_wrong_tries_lock_the_number_for_a_day(
    demo_app: Flask, demo_client
) -> None:
    assert_says(reply(demo_client, UNVERIFIED, QUESTION), "verify_ask", "en")
    assert_says(reply(demo_client, UNVERIFIED, "1234"), "verify_retry", "en")
    assert_says(reply(demo_client, UNVERIFIED, "0117"), "verify_retry", "en")  # the neighbour's case
    assert_says(reply(demo_client, UNVERIFIED, "9999"), "verify_locked", "en")
    # Locked: even the right digits, and anything else, get the locked text and verify nothing.
    assert_says(reply(demo_client, UNVERIFIED, "0118"), "verify_locked", "en")
    assert_says(reply(demo_client, UNVERIFIED, QUESTION), "verify_locked", "en")
    assert consent_label(demo_app, UNVERIFIED) == "opted_in_unverified"
    assert "verification" not in [kind for kind, _, _ in consent_events(demo_app, UNVERIFIED)]

    # 24 hours later the wrong tries no longer count.
    with demo_app.extensions["database"].transaction() as session:
        session.execute(
            update(Exchange)
            .where(Exchange.intent == "case_digits_wrong")
            .values(occurred_at=utcnow() - timedelta(hours=25))
        )
    assert_says(reply(demo_client, UNVERIFIED, "0118"), "verify_ask", "en")
    assert_says(reply(demo_client, UNVERIFIED, "0118"), "verify_ok", "en")
    assert consent_label(demo_app, UNVERIFIED) == "opted_in_verified"


# What each verified demo number gets: (template, language, a demo date the reply must carry) for a
# question in English, "did you get my payment", a question in Spanish, and a plain "yes". The language
# is the text's when it is clear, else the participant's.
VERIFIED_ANSWERS = {
    # English, custodial on DEMO-100234: due in 5 days, paid to them 10 days ago.
    VERIFIED_EN: [
        ("next_due_date", "en", demo_day(5)),
        ("last_payment_paid_to_me", "en", demo_day(-10)),
        ("next_due_date", "es", demo_day(5)),
        ("out_of_scope", "en", None),
    ],
    # Spanish, custodial on DEMO-100871: due in 12 days, paid to them 15 days ago.
    VERIFIED_ES: [
        ("next_due_date", "en", demo_day(12)),
        ("last_payment_paid_to_me", "en", demo_day(-15)),
        ("next_due_date", "es", demo_day(12)),
        ("out_of_scope", "es", None),
    ],
    # Spanish, paying on DEMO-200456 (due in 20 days), whose newest payment is a federal tax offset.
    VERIFIED_ES_FTI: [
        ("next_due_date", "en", demo_day(20)),
        ("payment_see_portal", "en", None),
        ("next_due_date", "es", demo_day(20)),
        ("out_of_scope", "es", None),
    ],
}


@pytest.mark.parametrize("number", list(VERIFIED_ANSWERS))
def test_a_verified_number_reaches_the_answering_step(demo_app: Flask, demo_client, number: str) -> None:
    bodies = (QUESTION, "did you get my payment", "¿cuándo es mi próximo pago?", "yes")
    for body, (template, language, day) in zip(bodies, VERIFIED_ANSWERS[number], strict=True):
        text = reply(demo_client, number, body)
        assert_says(text, template, language)
        if day is not None:
            assert written_day(day, language) in text, body
        # 0104's case has a federal tax offset of 1200.00: FTI never reaches a text.
        assert "1200" not in text and "1,200" not in text
    assert consent_label(demo_app, number) == "opted_in_verified"  # a plain "yes" is not an opt-in event
    assert [kind for kind, _, _ in consent_events(demo_app, number)] == ["opt_in"]


def test_plain_language_revocation_revokes_with_the_stop_confirmation(demo_app: Flask, demo_client) -> None:
    for body, language in (
        ("please stop texting me", "en"),
        ("take me off this list", "en"),
        ("no me manden más mensajes", "es"),
    ):
        sid = new_sid()
        assert_says(reply(demo_client, VERIFIED_EN, body, sid=sid), "opt_out_confirm", language)
        assert consent_events(demo_app, VERIFIED_EN)[-1] == ("opt_out", "sms_plain_language", sid)
        assert consent_label(demo_app, VERIFIED_EN) == "opted_out"
        assert reply(demo_client, VERIFIED_EN, QUESTION) is None
        assert reply(demo_client, VERIFIED_EN, "START") is not None  # back in for the next one


def test_questions_that_contain_a_stop_word_do_not_revoke(demo_app: Flask, demo_client) -> None:
    for body in ("when does my support order end", "how do i cancel autopay", "can you stop the garnishment"):
        assert_answered(reply(demo_client, VERIFIED_EN, body), "en")
    assert consent_label(demo_app, VERIFIED_EN) == "opted_in_verified"
    assert [kind for kind, _, _ in consent_events(demo_app, VERIFIED_EN)] == ["opt_in"]


def test_an_unclear_request_is_asked_about_once_and_yes_then_revokes(demo_app: Flask, demo_client) -> None:
    assert_says(reply(demo_client, VERIFIED_EN, "i want to cancel"), "revoke_clarify", "en")
    assert consent_label(demo_app, VERIFIED_EN) == "opted_in_verified"  # asking records nothing
    sid = new_sid()
    assert_says(reply(demo_client, VERIFIED_EN, "yes", sid=sid), "opt_out_confirm", "en")
    assert consent_events(demo_app, VERIFIED_EN)[-1] == ("opt_out", "sms_plain_language", sid)
    assert consent_label(demo_app, VERIFIED_EN) == "opted_out"


def test_an_unclear_request_in_spanish_is_asked_in_spanish_and_si_revokes(
    demo_app: Flask, demo_client
) -> None:
    assert_says(reply(demo_client, VERIFIED_ES, "basta"), "revoke_clarify", "es")
    assert_says(reply(demo_client, VERIFIED_ES, "Sí"), "opt_out_confirm", "es")
    assert consent_label(demo_app, VERIFIED_ES) == "opted_out"


def test_the_clarifying_question_is_asked_only_once(demo_app: Flask, demo_client) -> None:
    assert_says(reply(demo_client, VERIFIED_EN, "i want to cancel"), "revoke_clarify", "en")
    # A second unclear text right after the question is not asked about again: the answering step has it.
    assert_answered(reply(demo_client, VERIFIED_EN, "i want to cancel"), "en")
    # "yes" is no longer an answer to the question.
    assert_says(reply(demo_client, VERIFIED_EN, "yes"), "out_of_scope", "en")
    assert consent_label(demo_app, VERIFIED_EN) == "opted_in_verified"


def test_after_a_revocation_only_opt_in_and_help_words_are_answered(demo_app: Flask, demo_client) -> None:
    assert_says(reply(demo_client, VERIFIED_EN, "please stop texting me"), "opt_out_confirm", "en")
    for body in (QUESTION, "please stop texting me", "i want to cancel", "0101", "hello?", "no"):
        assert reply(demo_client, VERIFIED_EN, body) is None, body
    assert_says(reply(demo_client, VERIFIED_EN, "HELP"), "help", "en")
    assert reply(demo_client, VERIFIED_EN, QUESTION) is None
    assert_says(reply(demo_client, VERIFIED_EN, "START"), "opt_in_confirm", "en")
    assert_says(reply(demo_client, VERIFIED_EN, QUESTION), "next_due_date", "en")
    outbound = [
        row.template_id for row in exchange_rows(demo_app, VERIFIED_EN) if row.direction == "outbound"
    ]
    assert outbound == ["opt_out_confirm", "help", "opt_in_confirm", "next_due_date"]
