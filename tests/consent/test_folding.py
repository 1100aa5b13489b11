"""Folding: what a reader sees is what the text means, whatever the code points."""

from __future__ import annotations

import pytest

from consent.folding import fold, fold_char
from consent.keywords import match_keyword


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("\u0405\u0442\u043e\u0440", "stop"),  # Cyrillic DZE, TE, O, ER
        ("\u0405\u0422\u041e\u0420", "stop"),
        ("\u039f\u03a1\u03a4 \u039fU\u03a4", "opt out"),  # Greek capitals
        ("\u0395\u039d\u0044", "end"),  # Greek EPSILON, NU + Latin D: capital nu is N, not v
        ("QU\u0399\u03a4", "quit"),  # Greek IOTA reads as i, not l
        ("\U0001d412\U0001d413\U0001d40e\U0001d40f", "stop"),  # mathematical bold
        ("\U0001d54a\U0001d54b\U0001d546\u2119", "stop"),  # double-struck
        ("\ua731\u1d1b\u1d0f\u1d18", "stop"),  # small capitals
        ("\u1d1c\u0274\ua731\u1d1c\u0299\ua731\u1d04\u0280\u026a\u0299\u1d07", "unsubscribe"),
        ("\uff33\uff34\uff2f\uff30", "stop"),  # full-width
        ("S\u200bT\u200dO\u00adP\u2060", "stop"),  # zero-width space, joiner, soft hyphen, word joiner
        ("\ufeffSTOP", "stop"),
        ("ST\x1bOP", "stop"),  # ESC
        ("\x00STOP", "stop"),  # NUL
        ("STOP\x85", "stop"),  # NEL
        ("N\u00famero equivocado", "numero equivocado"),
        ("No m\u00e1s", "no mas"),
        ("stop\tnow\nplease", "stop\tnow\nplease"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_text_outside_latin_that_looks_like_nothing_latin_is_kept() -> None:
    assert fold("\u0441\u0442\u043e\u043f") == "cto\u043f"  # Russian "stop": only the look-alikes fold
    assert fold_char("\u4e2d") == "\u4e2d"
    assert fold_char("\U0001f6d1") == "\U0001f6d1"  # emoji are kept (the keyword layer strips them)


@pytest.mark.parametrize(
    "text",
    [
        "\u0405\u0422\u041e\u0420",
        "\U0001d412\U0001d413\U0001d40e\U0001d40f",
        "\ua731\u1d1b\u1d0f\u1d18",
        "S\u200bT\u200bO\u200bP",
        "ST\x00OP",
        "\u0421\u0422\u041e\u0420",  # Cyrillic ES for S: one look-alike off, read as one edit
    ],
)
def test_look_alike_stop_is_the_stop_keyword(text: str) -> None:
    keyword = match_keyword(text)
    assert keyword is not None and keyword.word == "STOP", text
