"""Consent keywords through the real, signed webhook: every word of every family, in both languages.

STOP-family words revoke and get the CTIA unsubscribe confirmation (once), START-family words opt in,
HELP-family words are answered in every consent state, and Twilio Advanced Opt-Out is mirrored.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from consent.keywords import KEYWORDS, Keyword, KeywordFamily
from tests.webhooks.conftest import (
    NEVER_OPTED_IN,
    NOT_ON_FILE,
    OPTED_OUT,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_ES,
    consent_events,
    consent_label,
    exchange_rows,
    message_text,
    new_sid,
    reply,
    send,
)
from tests.webhooks.wording import assert_answered, assert_says


def family(which: KeywordFamily) -> list[Keyword]:
    words = [keyword for keyword in KEYWORDS if keyword.family is which]
    assert words
    return words


OPT_OUT_WORDS = family(KeywordFamily.OPT_OUT)
OPT_IN_WORDS = family(KeywordFamily.OPT_IN)
HELP_WORDS = family(KeywordFamily.HELP)


def test_the_keyword_lists_cover_both_languages() -> None:
    for words in (OPT_OUT_WORDS, OPT_IN_WORDS, HELP_WORDS):
        assert {"en", "es"} <= {keyword.language for keyword in words}


def test_every_opt_out_keyword_revokes_with_the_ctia_confirmation_in_its_language(
    demo_app: Flask, demo_client
) -> None:
    for keyword in OPT_OUT_WORDS:
        sid = new_sid()
        text = reply(demo_client, VERIFIED_EN, keyword.word, sid=sid)
        assert_says(text, "opt_out_confirm", keyword.language or "en")
        assert consent_events(demo_app, VERIFIED_EN)[-1] == ("opt_out", "sms_keyword", sid), keyword.word
        assert consent_label(demo_app, VERIFIED_EN) == "opted_out", keyword.word
        assert reply(demo_client, VERIFIED_EN, "when is my next payment due") is None, keyword.word
        # Back in for the next word.
        assert_says(reply(demo_client, VERIFIED_EN, "START"), "opt_in_confirm", "en")


def test_every_opt_in_keyword_resubscribes_with_the_ctia_confirmation_in_its_language(
    demo_app: Flask, make_app: Callable[..., Flask]
) -> None:
    # Three texts a keyword, in a few seconds, is more than INBOUND_PER_MINUTE lets a number send
    # (tests/webhooks/test_throttle.py): this test is about the keywords, so the limit is lifted.
    demo_client = make_app(INBOUND_PER_MINUTE="10000").test_client()
    assert consent_label(demo_app, OPTED_OUT) == "opted_out"
    for keyword in OPT_IN_WORDS:
        sid = new_sid()
        text = reply(demo_client, OPTED_OUT, keyword.word, sid=sid)
        assert_says(text, "opt_in_confirm", keyword.language or "en")
        assert consent_events(demo_app, OPTED_OUT)[-1] == ("opt_in", "sms_keyword", sid), keyword.word
        # The number was verified by its web opt-in; an SMS opt-in keeps that.
        assert consent_label(demo_app, OPTED_OUT) == "opted_in_verified", keyword.word
        assert_says(reply(demo_client, OPTED_OUT, "hello"), "greet", "en")
        assert_says(reply(demo_client, OPTED_OUT, "STOP"), "opt_out_confirm", "en")


def test_opting_in_by_text_from_a_number_never_opted_in_does_not_verify_it(
    demo_app: Flask, demo_client
) -> None:
    assert_says(reply(demo_client, NEVER_OPTED_IN, "START"), "opt_in_confirm", "en")
    assert consent_label(demo_app, NEVER_OPTED_IN) == "opted_in_unverified"
    assert_says(reply(demo_client, NEVER_OPTED_IN, "when is my next payment due"), "verify_ask", "en")

    assert_says(reply(demo_client, NOT_ON_FILE, "comenzar"), "opt_in_confirm", "es")
    assert consent_label(demo_app, NOT_ON_FILE) == "opted_in_unverified"


def test_help_words_are_answered_in_every_consent_state(demo_app: Flask, demo_client) -> None:
    states = {
        VERIFIED_EN: "opted_in_verified",
        UNVERIFIED: "opted_in_unverified",
        OPTED_OUT: "opted_out",
        NEVER_OPTED_IN: "never_opted_in",
        NOT_ON_FILE: "never_opted_in",
    }
    for number, label in states.items():
        for keyword in HELP_WORDS:
            sid = new_sid()
            text = reply(demo_client, number, keyword.word, sid=sid)
            assert_says(text, "help", keyword.language or "en")
            assert consent_events(demo_app, number)[-1] == ("help", "sms_keyword", sid), keyword.word
            assert consent_label(demo_app, number) == label, f"{keyword.word} changed {label}"
    assert reply(demo_client, OPTED_OUT, "hello") is None  # HELP is answered, nothing else


def test_info_is_answered_in_the_participants_language(demo_client) -> None:
    # INFO is the same word in both languages: the participant's language decides.
    assert_says(reply(demo_client, VERIFIED_ES, "INFO"), "help", "es")
    assert_says(reply(demo_client, VERIFIED_EN, "info"), "help", "en")
    assert_says(reply(demo_client, VERIFIED_ES, "ayuda"), "help", "es")


SPELLINGS = [
    ("  Stop!! ", "opt_out_confirm", "en"),
    ("stop", "opt_out_confirm", "en"),
    ("STOP.", "opt_out_confirm", "en"),
    ("Stop 🙏", "opt_out_confirm", "en"),
    ("\tstop\n", "opt_out_confirm", "en"),
    ('"Unsubscribe"', "opt_out_confirm", "en"),
    ("opt-out", "opt_out_confirm", "en"),
    ("Opt Out!", "opt_out_confirm", "en"),
    ("¡PARAR!", "opt_out_confirm", "es"),
    ("No más", "opt_out_confirm", "es"),
    ("no mas...", "opt_out_confirm", "es"),
    (" Start! ", "opt_in_confirm", "en"),
    ("unstop.", "opt_in_confirm", "en"),
    ("Sí", "opt_in_confirm", "es"),
    ("  help?? ", "help", "en"),
    ("¡Ayuda!", "help", "es"),
]


def test_case_spaces_and_punctuation_around_a_keyword_are_ignored(demo_client) -> None:
    # The verified English number: STOP-family words take it out, START-family words back in.
    for text, template, language in SPELLINGS:
        if template == "opt_in_confirm":
            assert reply(demo_client, VERIFIED_EN, "STOP") is not None
        assert_says(reply(demo_client, VERIFIED_EN, text), template, language)
        if template == "opt_out_confirm":
            assert reply(demo_client, VERIFIED_EN, "START") is not None


def test_keywords_inside_a_sentence_are_not_keywords(demo_app: Flask, demo_client) -> None:
    # Questions for the answering step, not the HELP and STOP keywords' replies.
    assert_answered(reply(demo_client, VERIFIED_EN, "help me understand my payment"), "en")
    assert_answered(reply(demo_client, VERIFIED_EN, "when does my support order end"), "en")
    assert consent_label(demo_app, VERIFIED_EN) == "opted_in_verified"


def test_a_second_stop_gets_silence_but_is_still_recorded(demo_app: Flask, demo_client) -> None:
    assert_says(reply(demo_client, VERIFIED_EN, "STOP"), "opt_out_confirm", "en")
    sid = new_sid()
    response = send(demo_client, VERIFIED_EN, "stop", sid=sid)
    assert message_text(response) is None
    assert response.get_data(as_text=True).rstrip().endswith("<Response />")
    events = consent_events(demo_app, VERIFIED_EN)
    assert [kind for kind, _, _ in events[-2:]] == ["opt_out", "opt_out"]
    assert events[-1] == ("opt_out", "sms_keyword", sid)
    second = [row for row in exchange_rows(demo_app, VERIFIED_EN) if row.message_sid == sid]
    assert [(row.direction, row.intent, row.consent_state) for row in second] == [
        ("inbound", "stop_keyword", "opted_out")
    ]
    assert not [
        row for row in exchange_rows(demo_app, VERIFIED_EN) if row.reply_to_seq == second[0].chain_seq
    ]

    # The demo's opted-out number is the same: recorded, not answered.
    sid = new_sid()
    assert reply(demo_client, OPTED_OUT, "CANCELAR", sid=sid) is None
    assert consent_events(demo_app, OPTED_OUT)[-1] == ("opt_out", "sms_keyword", sid)


@pytest.mark.parametrize(
    ("opt_out_type", "number", "body", "kind", "label"),
    [
        ("STOP", VERIFIED_EN, "STOP", "opt_out", "opted_out"),
        ("STOP", VERIFIED_ES, "Parar", "opt_out", "opted_out"),
        ("START", OPTED_OUT, "START", "opt_in", "opted_in_verified"),
        ("START", NEVER_OPTED_IN, "unstop", "opt_in", "opted_in_unverified"),
        ("HELP", VERIFIED_EN, "HELP", "help", "opted_in_verified"),
        ("HELP", OPTED_OUT, "info", "help", "opted_out"),
    ],
)
def test_twilio_advanced_opt_out_is_recorded_and_not_answered_again(
    demo_app: Flask, demo_client, opt_out_type: str, number: str, body: str, kind: str, label: str
) -> None:
    sid = new_sid()
    response = send(demo_client, number, body, sid=sid, extra={"OptOutType": opt_out_type})
    # Twilio already sent its own reply to the keyword: ours would be a second one.
    assert message_text(response) is None
    assert consent_events(demo_app, number)[-1] == (kind, "twilio_opt_out_type", sid)
    assert consent_label(demo_app, number) == label
    logged = [row for row in exchange_rows(demo_app, number) if row.message_sid == sid]
    assert [(row.direction, row.intent) for row in logged] == [("inbound", f"twilio_{kind}")]
    assert not [row for row in exchange_rows(demo_app, number) if row.reply_to_seq == logged[0].chain_seq]
    # Both sides now agree on the state.
    follow_up = reply(demo_client, number, "when is my next payment due")
    if label == "opted_out":
        assert follow_up is None
    else:
        assert follow_up is not None
