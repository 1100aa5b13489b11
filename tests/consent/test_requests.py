"""Plain-language requests for help and for texts, told apart from questions and refusals."""

from __future__ import annotations

import pytest

from consent.requests import Ask, classify_ask


@pytest.mark.parametrize(
    "text",
    [
        "help me",
        "I need help",
        "Can someone help me?",
        "what is this?",
        "necesito ayuda",
        "Ayúdenme por favor",
    ],
)
def test_plain_help(text: str) -> None:
    assert classify_ask(text) is Ask.HELP


@pytest.mark.parametrize(
    "text",
    [
        "I want to get texts again",
        "please start sending me reminders again",
        "sign me back up",
        "resubscribe me",
        "quiero volver a recibir mensajes",
        "mándenme los mensajes otra vez",
        "yes keep texting me",
    ],
)
def test_wants_texts(text: str) -> None:
    assert classify_ask(text) is Ask.WANTS_TEXTS


@pytest.mark.parametrize(
    "text",
    [
        "help me pay",
        "I need help with my payment",
        "I don't want texts",
        "no quiero recibir mensajes",
        "where is my money",
        "thanks",
        "yes",
        "",
    ],
)
def test_neither(text: str) -> None:
    assert classify_ask(text) is None


def test_a_bare_yes_answers_the_keep_texting_question_only() -> None:
    assert classify_ask("yes") is None
    assert classify_ask("Yes please", after_question=True) is Ask.WANTS_TEXTS
    assert classify_ask("sí claro", after_question=True) is Ask.WANTS_TEXTS
