"""Parsers for the fields of the agency's CSV files; each raises FieldError with a reason to print.

Reasons never repeat a phone number back (it is personal data); other values are short and shown so an
operator can find the mistake.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

import phonenumbers

# A short code reaches the US and its territories that share +1.
US_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
E = TypeVar("E", bound=StrEnum)
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PHONE_CHARACTERS = re.compile(r"^[0-9+()\-. ]+$")
_NON_DIGITS = re.compile(r"[^0-9]")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})?$")


class FieldError(ValueError):
    """A field's value is not acceptable; the message says why."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def parse_phone(raw: str) -> str:
    """Return the US phone number in E.164 form ("+19195550101")."""
    text = raw.strip()
    if not text:
        raise FieldError("is empty")
    # phonenumbers forgives letters and extensions; an export with them is wrong, so say so.
    if not _PHONE_CHARACTERS.match(text):
        raise FieldError("is not a phone number (only digits, spaces, +, -, ., ( and ) are allowed)")
    # One number is written many ways in one file ("(919) 555-0101", "+1 919.555.0101"); parse each
    # number once by caching on one spelling of it. With region US, 10 digits and 1+10 digits mean +1.
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("+"):
        key = "+" + digits
    elif len(digits) == 10:
        key = "+1" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        key = "+" + digits
    else:
        key = digits
    return _e164(key)


@lru_cache(maxsize=262144)
def _e164(compact: str) -> str:
    try:
        number = phonenumbers.parse(compact, "US")
    except phonenumbers.NumberParseException:
        raise FieldError("is not a phone number") from None
    region = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_valid_number_for_region(number, region):
        raise FieldError("is not a valid phone number")
    if region not in US_REGIONS:
        raise FieldError("is not a US phone number (the short code reaches only US numbers)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_identifier(raw: str, *, max_length: int) -> str:
    """Return an agency identifier: letters, digits, '-', '_' or '.', at most max_length long."""
    text = raw.strip()
    if not text:
        raise FieldError("is empty")
    if len(text) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    if not _IDENTIFIER.match(text):
        raise FieldError(f"{_shown(text)} may hold only letters, digits, '-', '_' and '.'")
    return text


def parse_text(raw: str, *, max_length: int) -> str:
    """Return non-empty plain text of at most max_length characters."""
    text = " ".join(raw.split())
    if not text:
        raise FieldError("is empty")
    if len(text) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    return text


def parse_choice(raw: str, choices: type[E]) -> E:
    """Return the enum member named by raw (case-insensitive)."""
    text = raw.strip().lower()
    try:
        return choices(text)
    except ValueError:
        allowed = "|".join(member.value for member in choices)
        raise FieldError(f"{_shown(raw.strip())} is not one of {allowed}") from None


def parse_date(raw: str, *, optional: bool = False) -> date | None:
    """Return a date written as YYYY-MM-DD (empty allowed when optional)."""
    text = raw.strip()
    if not text:
        if optional:
            return None
        raise FieldError("is empty")
    try:
        if not _ISO_DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{_shown(text)} is not a date in YYYY-MM-DD form") from None


def parse_timestamp(raw: str) -> datetime:
    """Return an ISO 8601 date and time that carries its UTC offset (e.g. 2026-03-02T09:30:00-05:00)."""
    text = raw.strip()
    if not text:
        raise FieldError("is empty")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(
            f"{_shown(text)} is not an ISO 8601 date and time (e.g. 2026-03-02T09:30:00-05:00)"
        ) from None
    if value.tzinfo is None:
        raise FieldError(f"{_shown(text)} has no UTC offset (add one, e.g. -05:00 or Z)")
    return value


def parse_amount(raw: str, *, optional: bool = False, positive: bool = False) -> Decimal | None:
    """Return a dollar amount such as 125.50 (no $ sign or thousands separators)."""
    text = raw.strip()
    if not text:
        if optional:
            return None
        raise FieldError("is empty")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not _AMOUNT.match(text):
        raise FieldError(f"{_shown(text)} is not an amount like 125.50")
    if value < 0 or (positive and value == 0):
        raise FieldError(f"{_shown(text)} must be {'more than' if positive else 'at least'} 0")
    if value >= Decimal("10000000000"):
        raise FieldError(f"{_shown(text)} is too large")
    return value
