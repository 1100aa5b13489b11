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
import unicodedata
from dataclasses import dataclass

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


def normalise(text: str) -> str:
    """Return the folded form of a message used for keyword matching.

    Case-folded, accents removed (NFKD, combining marks dropped, so "ñ" becomes "n"), anything
    that is not a letter or digit stripped from both ends (punctuation, emoji), and inner
    whitespace collapsed to single spaces. Inner punctuation is kept ("opt-out" stays as is).
    """
    if text.isascii():
        # Most texts are plain ASCII: skip the Unicode work, which costs far more than the rest.
        folded = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    core = _CORE.search(folded)
    return " ".join(core.group().split()) if core else ""


def _spaced(folded: str) -> str:
    return " ".join(_INNER_PUNCT.sub(" ", folded).split())


_LOOKUP: dict[str, Keyword] = {}
for _keyword in KEYWORDS:
    _LOOKUP.setdefault(normalise(_keyword.word), _keyword)
# NO MAS is the same keyword as NO MÁS once folded; it needs no entry of its own.
# Longer messages cannot be a keyword with punctuation inside, so they skip the second lookup.
_LONGEST_PUNCTUATED = 3 * max(len(form) for form in _LOOKUP)


def match_keyword(text: str) -> Keyword | None:
    """Return the keyword a whole message is, or None when it is anything else."""
    return match_normalised(normalise(text))


def match_normalised(folded: str) -> Keyword | None:
    """Return the keyword for a message already passed through `normalise`, or None.

    One dict lookup, plus a second one with inner punctuation read as a space ("opt.out",
    "no-mas") that only odd spellings pay for. Callers that need the folded text anyway
    (the revocation classifier) use this to fold a message once.
    """
    found = _LOOKUP.get(folded)
    if found is None and len(folded) <= _LONGEST_PUNCTUATED and not folded.replace(" ", "").isalnum():
        found = _LOOKUP.get(_spaced(folded))
    return found
