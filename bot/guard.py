"""The last check on every outgoing text: nothing that looks like personal data leaves.

Templates already refuse personal fields; this catches what a field's value might still carry (an
office name with a street address, a case id typed into the wrong column). A blocked text is replaced
by the safe fallback and the reason is recorded (never the text).
"""

from __future__ import annotations

import re

CHECKS = (
    # SSN with or without separators, e.g. 123-45-6789 or 123 45 6789.
    ("ssn", re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")),
    # Five digits or more in a row: a full case number, an SSN or an account number. Phone numbers in
    # replies are written with separators (1-800-555-0199) and dates never run that long.
    ("long_number", re.compile(r"\d{5,}")),
    ("email", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    (
        "street_address",
        re.compile(
            # Not after ':' or '.', so a time ("9:00 AM at Family Court") is not a house number.
            r"(?<![:.\d])\b\d{1,6}\s+(?:[A-Za-z0-9.'-]+\s+){1,4}"
            r"(?:st|street|ave|avenue|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place|hwy|highway"
            r"|pkwy|parkway|cir|circle|ter|terrace)\b\.?",
            re.IGNORECASE,
        ),
    ),
    # Spanish order: the kind of street first, the number last ("Calle Mayor 45").
    (
        "street_address",
        re.compile(
            r"\b(?:calle|avenida|av\.|carretera|camino|paseo)\s+(?:[\w.'-]+\s+){1,4}\d{1,6}\b", re.IGNORECASE
        ),
    ),
)


def blocked_reason(text: str) -> str | None:
    """Why this text may not be sent, or None when it may."""
    for reason, pattern in CHECKS:
        if pattern.search(text):
            return reason
    return None
