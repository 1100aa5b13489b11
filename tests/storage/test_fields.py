"""Field parsers of the CSV importers: what they accept, what they refuse, and what they say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from storage import fields
from storage.fields import FieldError
from storage.models import PaymentSource


@pytest.mark.parametrize(
    "raw",
    [
        "9195550101",
        "919-555-0101",
        "919.555.0101",
        "919 555 0101",
        "(919) 555-0101",
        "(919)555-0101",
        "19195550101",
        "1-919-555-0101",
        "+19195550101",
        "+1 919 555 0101",
        "+1 (919) 555-0101",
        "+1-919-555-0101",
        "  919-555-0101  ",
        "011 1 919 555 0101",
    ],
)
def test_every_way_of_writing_a_us_number_gives_one_e164(raw: str) -> None:
    assert fields.parse_phone(raw) == "+19195550101"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("787-555-0123", "+17875550123"),  # Puerto Rico
        ("+1 787 721 0123", "+17877210123"),
        ("+1 671 555 0123", "+16715550123"),  # Guam
        ("(340) 555-0123", "+13405550123"),  # US Virgin Islands
    ],
)
def test_us_territories_that_share_plus_one_are_accepted(raw: str, expected: str) -> None:
    assert fields.parse_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "+1 416 555 0123",  # Toronto: +1, but Canada
        "416-555-0123",  # the same without the country code
        "+1 204 555 0123",  # Manitoba
        "+44 20 7946 0000",  # London
        "+52 55 1234 5678",  # Mexico City
    ],
)
def test_numbers_outside_the_us_are_refused(raw: str) -> None:
    # The agency's short code reaches only US numbers (and the territories that share +1).
    with pytest.raises(FieldError) as caught:
        fields.parse_phone(raw)
    assert str(caught.value) == "is not a US phone number (the short code reaches only US numbers)"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("hello", "is not a phone number (only digits, spaces, +, -, ., ( and ) are allowed)"),
        # phonenumbers itself would drop an extension or a stray letter; an export with one is wrong.
        ("919-555-0101 ext. 5", "is not a phone number (only digits, spaces, +, -, ., ( and ) are allowed)"),
        ("9195550101x", "is not a phone number (only digits, spaces, +, -, ., ( and ) are allowed)"),
        ("tel:+1-919-555-0101", "is not a phone number (only digits, spaces, +, -, ., ( and ) are allowed)"),
        ("555-0101", "is not a valid phone number"),
        ("919-555-010", "is not a valid phone number"),
        ("+1 919 555 01011", "is not a valid phone number"),
        ("123", "is not a valid phone number"),
    ],
)
def test_bad_phone_numbers_are_refused_without_echoing_them(raw: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        fields.parse_phone(raw)
    assert str(caught.value) == reason
    assert not any(ch.isdigit() for ch in str(caught.value))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("125.50", Decimal("125.50")),
        ("125.5", Decimal("125.5")),
        ("7", Decimal("7")),
        ("0.01", Decimal("0.01")),
        (" 12.30 ", Decimal("12.30")),
        ("0", Decimal("0")),
        ("9999999999.99", Decimal("9999999999.99")),
    ],
)
def test_amounts_accepted(raw: str, expected: Decimal) -> None:
    assert fields.parse_amount(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("$5.00", "'$5.00' is not an amount like 125.50"),
        ("1,000.00", "'1,000.00' is not an amount like 125.50"),
        ("12.345", "'12.345' is not an amount like 125.50"),
        ("1e3", "'1e3' is not an amount like 125.50"),
        ("NaN", "'NaN' is not an amount like 125.50"),
        ("Infinity", "'Infinity' is not an amount like 125.50"),
        (".5", "'.5' is not an amount like 125.50"),
        ("5.", "'5.' is not an amount like 125.50"),
        ("+5", "'+5' is not an amount like 125.50"),
        ("ten", "'ten' is not an amount like 125.50"),
        ("\uff11\uff12.50", "'\uff11\uff12.50' is not an amount like 125.50"),  # full-width digits
        ("\u0663", "'\u0663' is not an amount like 125.50"),  # Arabic-Indic three
        ("-5", "'-5' must be at least 0"),
        ("-0.01", "'-0.01' must be at least 0"),
        ("10000000000", "'10000000000' is too large"),
        ("", "is empty"),
    ],
)
def test_amounts_refused(raw: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        fields.parse_amount(raw)
    assert str(caught.value) == reason


@pytest.mark.parametrize("raw", ["0", "0.00", "-0", "-3.00"])
def test_a_positive_amount_must_be_more_than_zero(raw: str) -> None:
    with pytest.raises(FieldError, match="must be more than 0"):
        fields.parse_amount(raw, positive=True)


def test_an_optional_amount_may_be_empty() -> None:
    assert fields.parse_amount("  ", optional=True) is None
    assert fields.parse_amount("0.01", positive=True) == Decimal("0.01")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-05", date(2026, 1, 5)),
        (" 2024-02-29 ", date(2024, 2, 29)),
        ("1999-12-31", date(1999, 12, 31)),
    ],
)
def test_dates_accepted(raw: str, expected: date) -> None:
    assert fields.parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2026-02-29",  # not a leap year
        "2026-13-01",
        "2026-1-5",
        "20260105",
        "05/01/2026",
        "01/05/2026",
        "2026-01-05T00:00",
        "2026-01-05 00:00:00",
        "Jan 5 2026",
    ],
)
def test_dates_refused(raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        fields.parse_date(raw)
    assert str(caught.value) == f"{raw!r} is not a date in YYYY-MM-DD form"


def test_an_iso_week_date_is_not_yyyy_mm_dd() -> None:
    with pytest.raises(FieldError):
        fields.parse_date("2026-W05-3")


def test_an_empty_date() -> None:
    assert fields.parse_date("", optional=True) is None
    with pytest.raises(FieldError, match="^is empty$"):
        fields.parse_date(" ")


@pytest.mark.parametrize(
    ("raw", "utc", "offset"),
    [
        ("2026-03-02T09:30:00-05:00", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), timedelta(hours=-5)),
        ("2026-03-02T14:30:00Z", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), timedelta(0)),
        ("2026-03-02 09:30-05:00", datetime(2026, 3, 2, 14, 30, tzinfo=UTC), timedelta(hours=-5)),
        ("2026-03-02T23:30:00-10:00", datetime(2026, 3, 3, 9, 30, tzinfo=UTC), timedelta(hours=-10)),
        (
            "2026-03-02T09:30:00.250+05:30",
            datetime(2026, 3, 2, 4, 0, 0, 250000, tzinfo=UTC),
            timedelta(hours=5.5),
        ),
    ],
)
def test_timestamps_keep_their_offset(raw: str, utc: datetime, offset: timedelta) -> None:
    value = fields.parse_timestamp(raw)
    assert value == utc
    assert value.utcoffset() == offset


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2026-03-02T09:30:00", "'2026-03-02T09:30:00' has no UTC offset (add one, e.g. -05:00 or Z)"),
        ("2026-03-02", "'2026-03-02' has no UTC offset (add one, e.g. -05:00 or Z)"),
        ("yesterday", "'yesterday' is not an ISO 8601 date and time (e.g. 2026-03-02T09:30:00-05:00)"),
        (
            "2026-03-02T25:00:00Z",
            "'2026-03-02T25:00:00Z' is not an ISO 8601 date and time (e.g. 2026-03-02T09:30:00-05:00)",
        ),
        (
            "03/02/2026 9:30 AM EST",
            "'03/02/2026 9:30 AM EST' is not an ISO 8601 date and time (e.g. 2026-03-02T09:30:00-05:00)",
        ),
        ("", "is empty"),
    ],
)
def test_timestamps_refused(raw: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        fields.parse_timestamp(raw)
    assert str(caught.value) == reason


def test_choices_ignore_case_and_spaces_and_list_what_is_allowed() -> None:
    assert fields.parse_choice(" Federal_Tax_OFFSET ", PaymentSource) is PaymentSource.FEDERAL_TAX_OFFSET
    with pytest.raises(FieldError) as caught:
        fields.parse_choice("federal tax offset", PaymentSource)
    assert str(caught.value) == (
        "'federal tax offset' is not one of "
        "withholding|direct|federal_tax_offset|state_tax_offset|unemployment|other"
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("C 100", "'C 100' may hold only letters, digits, '-', '_' and '.'"),
        ("-C100", "'-C100' may hold only letters, digits, '-', '_' and '.'"),
        ("C/100", "'C/100' may hold only letters, digits, '-', '_' and '.'"),
        ("C" * 33, "is longer than 32 characters"),
    ],
)
def test_identifiers_refused(raw: str, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        fields.parse_identifier(raw, max_length=32)
    assert str(caught.value) == reason


def test_identifiers_and_text_accepted() -> None:
    assert fields.parse_identifier(" C-100_a.1 ", max_length=32) == "C-100_a.1"
    assert fields.parse_text("  Wake \t County\n ", max_length=11) == "Wake County"
    with pytest.raises(FieldError, match="^is longer than 10 characters$"):
        fields.parse_text("Wake County", max_length=10)
    with pytest.raises(FieldError, match="^is empty$"):
        fields.parse_text(" \t ", max_length=10)


def test_a_long_bad_value_is_shortened_in_the_reason() -> None:
    with pytest.raises(FieldError) as caught:
        fields.parse_amount("9" * 100 + "x")
    assert str(caught.value) == repr("9" * 37 + "...") + " is not an amount like 125.50"
