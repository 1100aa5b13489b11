"""Whole-message keyword matching: every word, its variants, its language, and what is not one."""

from __future__ import annotations

import dataclasses

import pytest

from consent.keywords import KEYWORDS, Keyword, KeywordFamily, match_keyword, normalise

OPT_OUT, OPT_IN, HELP = KeywordFamily.OPT_OUT, KeywordFamily.OPT_IN, KeywordFamily.HELP

# The words the FCC, Twilio, CTIA and the brief require; the module may add more, never fewer.
REQUIRED = {
    OPT_OUT: {
        "STOP": "en",
        "STOPALL": "en",
        "UNSUBSCRIBE": "en",
        "CANCEL": "en",
        "END": "en",
        "QUIT": "en",
        "REVOKE": "en",
        "OPTOUT": "en",
        "OPT OUT": "en",
        "OPT-OUT": "en",
        "PARAR": "es",
        "CANCELAR": "es",
        "ALTO": "es",
        "BAJA": "es",
        "DETENER": "es",
        "NO MÁS": "es",
    },
    OPT_IN: {
        "START": "en",
        "YES": "en",
        "UNSTOP": "en",
        "COMENZAR": "es",
        "INICIO": "es",
        "SÍ": "es",
    },
    HELP: {"HELP": "en", "INFO": None, "AYUDA": "es"},
}
REQUIRED_CASES = [
    (family, word, language) for family, words in REQUIRED.items() for word, language in words.items()
]


def variants(word: str) -> list[str]:
    """Spellings a participant types for one keyword."""
    return [
        word,
        word.lower(),
        word.title(),
        f"  {word}  ",
        f"{word}!!",
        f"{word.lower()}.",
        f"¡{word}!",
        f"{word} 🙏",
        f"\t{word.lower()}\n",
        f'"{word}"',
    ]


@pytest.mark.parametrize(("family", "word", "language"), REQUIRED_CASES)
def test_required_keyword_matches_with_family_word_and_language(
    family: KeywordFamily, word: str, language: str | None
) -> None:
    assert match_keyword(word) == Keyword(family, word, language)


@pytest.mark.parametrize("keyword", KEYWORDS, ids=lambda k: k.word)
def test_every_keyword_matches_in_every_spelling(keyword: Keyword) -> None:
    for text in variants(keyword.word):
        found = match_keyword(text)
        assert found is not None, text
        assert found.family is keyword.family, text


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("parár", "PARAR"),
        ("PARAR", "PARAR"),
        ("no mas", "NO MÁS"),
        ("NO MAS", "NO MÁS"),
        ("No Más!!", "NO MÁS"),
        ("no   más", "NO MÁS"),
        ("no-mas", "NO MÁS"),
        ("si", "SÍ"),
        ("Sí.", "SÍ"),
        ("SÍ", "SÍ"),
        ("informacion", "INFORMACIÓN"),
        ("cancelár", "CANCELAR"),
        ("ÁLTO", "ALTO"),
        ("Ayúda", "AYUDA"),
    ],
)
def test_accents_are_folded(text: str, word: str) -> None:
    found = match_keyword(text)
    assert found is not None
    assert found.word == word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("opt   out", "OPT OUT"),
        ("OPT\tOUT", "OPT OUT"),
        ("opt-out", "OPT-OUT"),
        ("Opt-Out!", "OPT-OUT"),
        ("opt.out", "OPT OUT"),
        ("opt_out", "OPT OUT"),
        ("optout", "OPTOUT"),
        ("stop all", "STOP ALL"),
        ("stopall", "STOPALL"),
        ("opt in", "OPT IN"),
    ],
)
def test_inner_whitespace_and_punctuation(text: str, word: str) -> None:
    found = match_keyword(text)
    assert found is not None
    assert found.word == word


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!",
        "🙏",
        "stop texting me",
        "help me pay",
        "stop stop",
        "please stop",
        "when does my order end",
        "cancel my autopay",
        "no",
        "basta",
        "para",
        "yes please",
        "starting",
        "information",
        "no mas mensajes",
        "helpful",
        "step",
        "shop",
        "top",
        "quite",
        "quiet",
        "bajo",
        "caja",
        "stopped",
        "endless",
    ],
)
def test_not_a_whole_message_keyword(text: str) -> None:
    assert match_keyword(text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("STOP", "en"),
        ("cancel", "en"),
        ("cancelar", "es"),
        ("parar", "es"),
        ("baja", "es"),
        ("no más", "es"),
        ("start", "en"),
        ("comenzar", "es"),
        ("sí", "es"),
        ("yes", "en"),
        ("help", "en"),
        ("ayuda", "es"),
        ("info", None),
    ],
)
def test_language_attribution(text: str, language: str | None) -> None:
    found = match_keyword(text)
    assert found is not None
    assert found.language == language


def test_families_do_not_overlap() -> None:
    folded = [normalise(k.word) for k in KEYWORDS]
    assert len(folded) == len(set(folded))


def test_spanish_has_words_in_every_family() -> None:
    for family in KeywordFamily:
        assert any(k.language == "es" and k.family is family for k in KEYWORDS), family


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  STOP!! ", "stop"),
        ("Parár 🙏", "parar"),
        ("¿No   Más?", "no mas"),
        ("Opt-Out.", "opt-out"),
        ("Niño", "nino"),
        ("ＳＴＯＰ", "stop"),
        ("", ""),
        ("¡¡!!", ""),
    ],
)
def test_normalise(text: str, folded: str) -> None:
    assert normalise(text) == folded


def test_keyword_is_frozen_and_family_is_a_string() -> None:
    keyword = match_keyword("STOP")
    assert keyword is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        keyword.word = "START"  # type: ignore[misc]
    assert keyword.family == "opt_out"
    assert {f.value for f in KeywordFamily} == {"opt_out", "opt_in", "help"}
