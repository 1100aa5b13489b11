"""Fold a text to the plain lower-case Latin letters a reader sees in it.

A parent's "STOP" may arrive as Cyrillic or Greek look-alikes ("СТОР"), as Unicode's mathematical bold
or double-struck letters, small capitals, full-width letters, with invisible characters inside the
word (zero-width space or joiner, soft hyphen, word joiner), or with control characters a phone or a
gateway let through. None of that changes what the reader sees, so none of it may change what the
text means. `fold` undoes all of it:

1. NFKC compatibility folding (full-width, mathematical and other styled letters become plain ones),
   then case folding.
2. Every character that shows nothing is dropped: format characters (Unicode category Cf: zero-width
   space/joiner/non-joiner, soft hyphen, word joiner, BOM, direction marks), controls other than
   whitespace, unassigned and private-use code points, and combining marks after decomposition
   (accents: "más" reads as "mas", as Spanish texters type it).
3. A letter from another script that Unicode's confusables data (UTS #39, through the
   confusable_homoglyphs library) lists as looking like a Latin letter becomes that letter; a Latin
   letter variant the data does not cover ("LATIN LETTER SMALL CAPITAL T") becomes the plain letter
   its Unicode name gives.
Layout controls (tab, newline, carriage return) and Unicode spaces and separators become spaces; every
other control (ESC, NUL, NEL, ...) is dropped, so "ST\\x85OP" reads as "stop".

Each distinct character is folded once and remembered, so a long text costs a dictionary lookup per
character; plain ASCII (most texts) skips it all.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables

__all__ = ["fold", "fold_char"]

_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cn", "Co", "Cs", "Mn", "Me"})
# Latin letter variants by name, e.g. "LATIN LETTER SMALL CAPITAL S", "LATIN SMALL LETTER DOTLESS I".
_LATIN_NAME = re.compile(r"^LATIN (?:CAPITAL |SMALL )?LETTER (?:SMALL CAPITAL |DOTLESS |SCRIPT )?([A-Z])\b")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# Controls that lay text out; every other control (ESC, NUL, NEL, ...) shows nothing and is dropped.
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c")


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """Fold one character (see the module docstring); the result may be empty or several letters."""
    if unicodedata.category(char) == "Cc":
        return " " if char in _WHITESPACE_CONTROLS else ""
    if char.isspace():
        return " "
    out = []
    for part in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char)):
        if part.isascii():
            out.append(part.lower())
            continue
        if part.isspace():
            out.append(" ")
            continue
        category = unicodedata.category(part)
        if category in _INVISIBLE_CATEGORIES:
            continue
        out.append(_latin_look_alike(part) if category.startswith("L") else part.casefold())
    return "".join(out)


def _latin_look_alike(letter: str) -> str:
    """The plain lower-case Latin letter that `letter` looks like, or `letter` case-folded.

    The letter is looked up as it is, in lower and in upper case; a look-alike of the same case wins
    (Greek capital "Ν" looks like "N", its small "ν" like "v"), then any look-alike (Cyrillic "т" is
    listed only as a look-alike of small capital T, its capital "Т" as one of Latin "T"), then the plain
    letter that a Latin letter variant's Unicode name gives.
    """
    forms = tuple(dict.fromkeys((letter, letter.lower(), letter.upper())))
    found = [(form, plain) for form in forms for plain in _ascii_homoglyphs(form)]
    for form, plain in found:
        if form.isupper() == plain.isupper():
            return plain.lower()
    if found:
        return found[0][1].lower()
    for form in forms:
        named = _LATIN_NAME.match(unicodedata.name(form, "")) if len(form) == 1 else None
        if named is not None:
            return named.group(1).lower()
    return letter.casefold()


def _ascii_homoglyphs(letter: str) -> list[str]:
    """The plain ASCII letters Unicode's confusables data says `letter` can be mistaken for."""
    found = confusables.is_confusable(letter, greedy=True, preferred_aliases=["latin"])
    homoglyphs = found[0]["homoglyphs"] if found else ()
    return [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].lower() in _ASCII_LETTERS]


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def fold(text: str) -> str:
    """Return `text` case-folded, accents and invisible characters removed, look-alikes made Latin."""
    if text.isascii():
        return _CONTROL.sub("", text).lower()
    return "".join(map(fold_char, text))
