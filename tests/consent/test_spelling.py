"""Misspelled opt-out words, told apart from the common words one edit away."""

from __future__ import annotations

import pytest

from consent.keywords import KeywordFamily, match_keyword
from consent.spelling import deleet, is_common_word, misspelled_as


@pytest.mark.parametrize(
    ("token", "word"),
    [
        ("stpo", "stop"),
        ("sotp", "stop"),
        ("stp", "stop"),
        ("stopp", "stop"),
        ("sop", "stop"),
        ("qiut", "quit"),
        ("cancle", "cancel"),
        ("cancell", "cancel"),
        ("revok", "revoke"),
        ("unsubscibe", "unsubscribe"),
        ("unsusbcribe", "unsubscribe"),
        ("unsuscrbe", "unsubscribe"),  # two edits: long words tolerate two
        ("cancelr", "cancel"),
        ("canselar", "cancelar"),
        ("parr", "parar"),
        ("bja", "baja"),
        ("detenr", "detener"),
        ("stops", "stop"),  # the word inflected means the word
        ("revoked", "revoke"),
    ],
)
def test_misspelling_is_read_as_the_word(token: str, word: str) -> None:
    assert misspelled_as(token) == word


@pytest.mark.parametrize(
    "token", ["step", "shop", "top", "atop", "quite", "quiet", "suit", "para", "bajo", "caja", "pagar"]
)
def test_common_words_are_not_misspellings(token: str) -> None:
    assert is_common_word(token)
    assert misspelled_as(token) is None


@pytest.mark.parametrize("token", ["stop", "cancel", "when", "payment", "hello", "1234", "end", "edn"])
def test_exact_words_and_far_words_are_not_misspellings(token: str) -> None:
    assert misspelled_as(token) is None


@pytest.mark.parametrize(
    ("token", "read"), [("st0p", "stop"), ("5top", "stop"), ("qu1t", "quit"), ("1234", "1234")]
)
def test_deleet(token: str, read: str) -> None:
    assert deleet(token) == read


@pytest.mark.parametrize(
    "text",
    [
        "stpo",
        "Sotp!",
        "S T O P",
        "s.t.o.p.",
        "S-T-O-P",
        "st op",
        "ST0P",
        "stoooop",
        "o p t  o u t",
        "b a j a",
    ],
)
def test_odd_spellings_are_opt_out_keywords(text: str) -> None:
    keyword = match_keyword(text)
    assert keyword is not None and keyword.family is KeywordFamily.OPT_OUT, text


@pytest.mark.parametrize("text", ["step", "top", "quite", "para", "s t a r t i n g", "1 2 3 4", "a b c"])
def test_odd_spellings_of_other_words_are_not_opt_out(text: str) -> None:
    keyword = match_keyword(text)
    assert keyword is None or keyword.family is not KeywordFamily.OPT_OUT, text
