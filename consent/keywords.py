"""Whole-message consent keywords (STOP, START, HELP families) in English and Spanish.

A message is a keyword only when the whole message, once normalised, is one of the words below:
"STOP!!" and " stop. " are keywords, "stop texting me" is not (that is `consent.revocation`'s job).

Choices beyond the FCC, Twilio and CTIA lists, and why:
- opt_out adds STOP ALL (Twilio's STOPALL typed with a space), UNSUBSCRIBE's Spanish forms
  DESUSCRIBIR/DESUSCRIBIRME, and DETENTE/PARE/PAREN (the imperatives of "stop" a Spanish
  speaker types).
  BASTA ("enough") and PARA (also the preposition "for") are left out on purpose: alone they are
  ambiguous, so the revocation classifier answers UNCLEAR for them and the caller asks once.
  NO alone is left out: it is usually an answer to a question, not a revocation.
- opt_in adds OPT IN/OPT-IN/OPTIN and SUBSCRIBE (the mirror images of the opt-out words), and
  Spanish INICIAR and SUSCRIBIR. YES and SI stay because the brief and Twilio use them; the caller
  should only treat them as opt-in where an opt-in makes sense (e.g. the number is opted out).
- help adds Spanish INFORMACION. HELP replies are harmless, so a false match costs little.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from consent.folding import fold
from consent.spelling import deleet, misspelled_as

__all__ = ["KEYWORDS", "Keyword", "KeywordFamily", "match_keyword", "match_normalised", "normalise"]


class KeywordFamily(enum.StrEnum):
    """The three keyword families carriers and the FCC recognise."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


@dataclass(frozen=True)
class Keyword:
    """A recognised keyword: its family, canonical spelling and language."""

    family: KeywordFamily
    word: str
    language: str | None


def _kw(family: KeywordFamily, language: str | None, *words: str) -> list[Keyword]:
    return [Keyword(family, word, language) for word in words]


_OUT, _IN, _HELP = KeywordFamily.OPT_OUT, KeywordFamily.OPT_IN, KeywordFamily.HELP

KEYWORDS: tuple[Keyword, ...] = tuple(
    _kw(_OUT, "en", "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
    + _kw(_OUT, "en", "REVOKE", "OPTOUT", "OPT OUT", "OPT-OUT")
    + _kw(_OUT, "es", "PARAR", "CANCELAR", "ALTO", "BAJA", "DETENER", "NO MÁS")
    + _kw(_OUT, "es", "DETENTE", "PARE", "PAREN", "DESUSCRIBIR", "DESUSCRIBIRME")
    + _kw(_IN, "en", "START", "YES", "UNSTOP", "OPTIN", "OPT IN", "OPT-IN", "SUBSCRIBE")
    + _kw(_IN, "es", "COMENZAR", "INICIO", "INICIAR", "SÍ", "SUSCRIBIR")
    + _kw(_HELP, "en", "HELP")
    + _kw(_HELP, None, "INFO")
    + _kw(_HELP, "es", "AYUDA", "INFORMACIÓN")
)

# What is kept of a message: from its first letter or digit to its last. Anything around that
# (punctuation, symbols, emoji, spaces, zero-width joiners, variation selectors) is dropped.
_CORE = re.compile(r"[^\W_](?:.*[^\W_])?", re.DOTALL)
# Inside a keyword, "opt-out", "opt_out" and "opt . out" are the same request as "opt out".
_INNER_PUNCT = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"([a-z])\1+")


def normalise(text: str) -> str:
    """Return the folded form of a message used for keyword matching.

    Folded by `consent.folding.fold` (case, accents, look-alike letters from other scripts and styled
    letters made plain Latin, invisible and control characters dropped), anything that is not a letter
    or digit stripped from both ends (punctuation, emoji), and inner whitespace collapsed to single
    spaces. Inner punctuation is kept ("opt-out" stays as is).
    """
    core = _CORE.search(fold(text))
    return " ".join(core.group().split()) if core else ""


def _spaced(folded: str) -> str:
    return " ".join(_INNER_PUNCT.sub(" ", folded).split())


def _squeezed(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


_LOOKUP: dict[str, Keyword] = {}
for _keyword in KEYWORDS:
    _LOOKUP.setdefault(normalise(_keyword.word), _keyword)
# NO MAS is the same keyword as NO MÁS once folded; it needs no entry of its own.
# Opt-out words with their letters run together or repeated ("optout", "stooop", "stopall").
_OPT_OUT_FORMS: dict[str, Keyword] = {}
for _form, _keyword in _LOOKUP.items():
    if _keyword.family is KeywordFamily.OPT_OUT:
        _OPT_OUT_FORMS.setdefault(_squeezed(_spaced(_form).replace(" ", "")), _keyword)
_OPT_OUT_FORMS.setdefault("unsubscribeme", _LOOKUP["unsubscribe"])
# Messages longer than this are sentences, never a keyword with odd spelling: they skip the fallbacks.
_LONGEST_ODD = 3 * max(len(form) for form in _LOOKUP)


def match_keyword(text: str) -> Keyword | None:
    """Return the keyword a whole message is, or None when it is anything else."""
    return match_normalised(normalise(text))


def match_normalised(folded: str) -> Keyword | None:
    """Return the keyword for a message already passed through `normalise`, or None.

    One dict lookup for the plain spellings. Short messages that are not one then get, in order:
    inner punctuation read as a space ("opt.out", "no-mas"); letters spaced or dotted out read as one
    word ("s t o p", "S.T.O.P", "st op"); digits used as letters ("ST0P"); and, for the opt-out words
    only, repeated letters ("stoooop") and one-edit misspellings that are no common word ("stpo",
    "cancle"; `consent.spelling`). Callers that need the folded text anyway (the revocation
    classifier) use this to fold a message once.
    """
    found = _LOOKUP.get(folded)
    if found is not None or not folded or len(folded) > _LONGEST_ODD:
        return found
    tokens = _spaced(folded).split()
    found = _LOOKUP.get(" ".join(tokens))
    if found is not None or len(tokens) > 12:
        return found
    if len(tokens) > 1 and (len(tokens) <= 3 or all(len(token) <= 2 for token in tokens)):
        tokens = ["".join(tokens)]  # "s t o p", "s.t.o.p", "st op", "o p t o u t"
    if len(tokens) != 1:
        return None
    word = deleet(tokens[0])
    found = _LOOKUP.get(word) or _OPT_OUT_FORMS.get(_squeezed(word))
    if found is None:
        meant = misspelled_as(word)
        found = None if meant is None else _OPT_OUT_FORMS.get(_squeezed(meant))
    return found
