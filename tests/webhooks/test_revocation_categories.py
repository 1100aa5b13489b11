"""Every way of saying "stop" that issue 12 lists, through the real, signed webhook, in both languages.

Each text goes to a verified, opted-in demo participant. A revocation must get the one opt-out
confirmation and leave the number opted out (so the next question meets silence); a question that
merely contains a stop-like word must be answered and change nothing. These phrasings are the team's
own; the independent evaluation sets live in bench/data/ (bench/revocation_quality.py).
"""

from __future__ import annotations

import pytest
from flask import Flask

from tests.webhooks.conftest import VERIFIED_EN, VERIFIED_ES, consent_events, consent_label, reply
from tests.webhooks.wording import assert_says

REVOCATIONS = {
    "formal": [
        ("en", "I revoke my consent to receive text messages from your agency."),
        ("en", "Please be advised that I withdraw my permission to be texted"),
        ("es", "Revoco mi consentimiento para recibir mensajes de texto"),
        ("es", "Retiro mi autorización para que me envíen mensajes"),
    ],
    "removal": [
        ("en", "take me off your list"),
        ("en", "please forget this number"),
        ("en", "block my number"),
        ("en", "leave me in peace"),
        ("en", "turn off these notifications"),
        ("en", "dont txt me"),
        ("en", "do not text"),
        ("es", "sáquenme de su lista"),
        ("es", "bloqueen mi número"),
        ("es", "déjenme en paz"),
        ("es", "apaguen las notificaciones"),
        ("es", "ya no me manden textos"),
    ],
    "wrong_number": [
        ("en", "wrong number"),
        ("en", "This isn't Maria's phone"),
        ("en", "I am not the person you are looking for"),
        ("en", "I just got this number, don't know who that is"),
        ("es", "número equivocado"),
        ("es", "Este no es el teléfono de Juan"),
        ("es", "no conozco a esa persona"),
    ],
    "misspelled": [
        ("en", "stpo"),
        ("en", "sotp"),
        ("en", "unsubscibe"),
        ("en", "cancle"),
        ("en", "pls stpo texting me"),
        ("es", "canselar"),
        ("es", "parr"),
    ],
    "spaced": [
        ("en", "S T O P"),
        ("en", "s.t.o.p."),
        ("en", "S-T-O-P"),
        ("es", "b a j a"),
    ],
    "look_alike": [
        ("en", "\u0405\u0422\u041e\u0420"),  # Cyrillic
        ("en", "\u039f\u03a1\u03a4 \u039fU\u03a4"),  # Greek
        ("en", "\U0001d412\U0001d413\U0001d40e\U0001d40f"),  # mathematical bold
        ("en", "\U0001d54a\U0001d54b\U0001d546\u2119"),  # double-struck
        ("en", "\ua731\u1d1b\u1d0f\u1d18"),  # small capitals
        ("es", "\u0412\u0410\u0408\u0410"),  # Cyrillic BAJA
    ],
    "invisible": [
        ("en", "S\u200bT\u200bO\u200bP"),
        ("en", "ST\u200dOP"),
        ("en", "STO\u00adP"),
        ("es", "PA\u2060RAR"),
    ],
    "complaint_then_stop": [
        ("en", "I've paid every month for six years and you still mess it up. Stop texting me"),
        ("es", "Llevo años pagando y siempre hay errores, ya no me manden mensajes"),
    ],
    "stop_and_question": [
        ("en", "stop texting me, when is my court date"),
        ("es", "no me manden más mensajes, cuándo es mi cita"),
    ],
}
QUESTIONS = [
    ("en", "when does my support order end"),
    ("en", "my payments stopped coming"),
    ("en", "I quit my job, can I lower my payments"),
    ("es", "¿cuándo termina mi orden de manutención?"),
    ("es", "se paró el pago de este mes"),
]
NUMBER = {"en": VERIFIED_EN, "es": VERIFIED_ES}


@pytest.mark.parametrize(
    ("language", "text"),
    [case for cases in REVOCATIONS.values() for case in cases],
    ids=[f"{category}-{n}" for category, cases in REVOCATIONS.items() for n in range(len(cases))],
)
def test_revocation_gets_one_confirmation_and_silence_after(
    demo_app: Flask, demo_client, language: str, text: str
) -> None:
    number = NUMBER[language]
    assert consent_label(demo_app, number) == "opted_in_verified"
    assert_says(reply(demo_client, number, text), "opt_out_confirm", language)
    assert consent_label(demo_app, number) == "opted_out"
    assert consent_events(demo_app, number)[-1][0] == "opt_out"
    # The confirmation is the only text: the question that follows meets silence.
    assert reply(demo_client, number, "when is my next payment due") is None
    assert reply(demo_client, number, text) is None  # and a second revocation is not confirmed again


@pytest.mark.parametrize(("language", "text"), QUESTIONS)
def test_question_with_a_stop_like_word_is_answered(
    demo_app: Flask, demo_client, language: str, text: str
) -> None:
    number = NUMBER[language]
    before = consent_events(demo_app, number)
    answer = reply(demo_client, number, text)
    assert answer is not None
    assert "unsubscribed" not in answer and "dado de baja" not in answer
    assert consent_events(demo_app, number) == before
    assert consent_label(demo_app, number) == "opted_in_verified"
