"""bot.guard: the last check on every outgoing text. What looks like personal data is blocked, with the
reason; what every reply carries (the agency's phone, dates, times, links) is not."""

from __future__ import annotations

import pytest

from bot.guard import blocked_reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Your SSN 123-45-6789 is on file", "ssn"),
        ("ssn 123 45 6789", "ssn"),
        ("number 123456789 on file", "long_number"),
        ("your case DEMO-100234 is open", "long_number"),
        ("case 100234", "long_number"),
        ("write to parent.name+cs@example.com", "email"),
        ("j.doe@mail.example.org", "email"),
        ("Come to 316 Fayetteville St. at 9", "street_address"),
        ("Office: 316 Fayetteville Street, Raleigh", "street_address"),
        ("at 1200 North Main Ave", "street_address"),
        ("4 Oak Ln", "street_address"),
    ],
)
def test_personal_data_is_blocked_with_its_reason(text: str, reason: str) -> None:
    assert blocked_reason(text) == reason


@pytest.mark.parametrize("text", ["Oficina en Calle Mayor 45", "Avenida Juarez 120, Durham"])
def test_a_spanish_street_address_is_blocked(text: str) -> None:
    assert blocked_reason(text) == "street_address"


@pytest.mark.parametrize(
    "text",
    [
        "Call 1-800-555-0199, Monday to Friday 8am-5pm.",
        "llame al 1-800-555-0199",
        "Your next child support payment is due Fri Dec 12. Reply HELP for help.",
        "Su proximo pago de manutencion vence el vie 12 dic.",
        "due 2026-12-12 or 12/12/2026",
        "at 9:30 AM at Wake County Courthouse",
        "a las 14:00 en Durham Child Support Office",
        "case ending 0234 on Fri Dec 12; case ending 0871 on Sat Dec 19",
        "caso que termina en 0234: vie 12 dic; caso que termina en 0871: sab 19 dic",
        "visit https://childsupport.example.gov/text or https://example.gov/pay?step=2",
        "Msg&data rates may apply. Reply STOP to cancel.",
        "",
    ],
)
def test_what_replies_carry_is_not_blocked(text: str) -> None:
    assert blocked_reason(text) is None
