"""Misspelled opt-out words: "stpo", "sotp", "cancle", "unsubscibe", "cancelr", read as the word meant.

The FCC counts a misspelled STOP as a STOP. A word one edit away from a per-se opt-out word (a letter
missing, added, replaced, or two neighbours swapped; two edits for the long words) is read as that
word, unless it is itself a common word that a texter may well mean (inflections of the word itself, "stops"
or "cancels", mean the word): "step", "shop", "top", "quite",
"para", "bajo" and "caja" are one edit away from STOP, QUIT, PARAR or BAJA and mean something else.
What counts as common comes from the English and Spanish word-frequency lists that pyspellchecker
ships (built from large subtitle corpora), not from a list of our own: a word seen at least
COMMON_COUNT times in either is a word someone means.

Words shorter than four letters (END, FIN, NO) get no tolerance: one edit from them is nearly always
another word or noise. Look-alike letters and digits are folded before this (`consent.folding`,
and `deleet` here for "ST0P", "5TOP", "$TOP").
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

__all__ = ["COMMON_COUNT", "deleet", "is_common_word", "misspelled_as"]

# Per-se opt-out words as folded tokens (no spaces: "opt out" is matched as "optout").
OPT_OUT_WORDS = (
    "stop",
    "stopall",
    "quit",
    "revoke",
    "optout",
    "cancel",
    "unsubscribe",
    "parar",
    "cancelar",
    "baja",
    "detener",
    "desuscribir",
    "desuscribirme",
    "unsubscribeme",
)
MIN_LENGTH = 4
_INFLECTIONS = frozenset({"s", "es", "d", "ed", "ing", "ped", "ping"})
LONG = 9  # words this long tolerate two edits
COMMON_COUNT = 500
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {left + right[1:] for left, right in splits if right}
    transposes = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    replaces = {left + c + right[1:] for left, right in splits if right for c in _LETTERS}
    inserts = {left + c + right for left, right in splits for c in _LETTERS}
    return deletes | transposes | replaces | inserts


def _osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one part)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


_ONE_EDIT: dict[str, str] = {}
for _word in OPT_OUT_WORDS:
    if len(_word) >= MIN_LENGTH:
        for _variant in _edits1(_word):
            _ONE_EDIT.setdefault(_variant, _word)
for _word in OPT_OUT_WORDS:  # an exact word is never read as a misspelling of another
    _ONE_EDIT.pop(_word, None)
_LONG_WORDS = tuple(word for word in OPT_OUT_WORDS if len(word) >= LONG)


def misspelled_as(token: str, *, inflected: bool = True) -> str | None:
    """The per-se opt-out word that `token` (folded, one word) misspells, or None.

    None for the words themselves, for tokens that are common words, and for anything further away.
    inflected: read the word's inflections ("stops", "cancels") as the word, as a whole message means
    them; inside a sentence ("what if he quits") they are the words they are.
    """
    found = _ONE_EDIT.get(token)
    if found is None and len(token) >= LONG - 2:
        found = next((word for word in _LONG_WORDS if _close(token, word)), None)
    if found is None:
        return None
    # "stops", "quits", "revoked", "cancels" are the word itself, inflected: they mean what it means.
    if inflected and token[len(found) :] in _INFLECTIONS and token.startswith(found):
        return found
    if not is_common_word(token):
        return found
    return None


def _close(token: str, word: str) -> bool:
    return abs(len(token) - len(word)) <= 2 and token[:1] == word[:1] and _osa_distance(token, word) <= 2


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_TOKEN = re.compile(r"[a-z0-9@$]*[a-z][a-z0-9@$]*")


def deleet(token: str) -> str:
    """Read digits and symbols used as letters inside a word ("st0p", "$top", "5top") as those letters.

    A token of digits alone ("1234", the last 4 digits of a case) is left alone.
    """
    if token.isalpha() or not _LEET_TOKEN.fullmatch(token):
        return token
    return token.translate(_LEET)


# --- the lexicon of common words, loaded on first need ----------------------------------------------

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Common English and Spanish words among the near-misses of the opt-out words.

    The frequency lists are large (about 0.7 s and 35 MB to load both); only the words one or two edits
    from an opt-out word are kept, so what stays in memory is a few hundred words.
    """
    from spellchecker import SpellChecker

    with _lock:
        candidates = set(_ONE_EDIT)
        common = set()
        for language in ("en", "es"):
            frequencies = SpellChecker(language=language, distance=1).word_frequency
            common.update(word for word in candidates if frequencies[word] >= COMMON_COUNT)
            common.update(
                word
                for word in frequencies.keys()
                if len(word) >= LONG - 2
                and frequencies[word] >= COMMON_COUNT
                and any(_close(word, long) for long in _LONG_WORDS)
            )
        return frozenset(common)


def is_common_word(token: str) -> bool:
    """Tell whether `token` is a common English or Spanish word near an opt-out word (see the docstring)."""
    return token in _common_words()


def warm() -> None:
    """Load the lexicon now (a web process does it before it serves, not inside a text's request)."""
    _common_words()
