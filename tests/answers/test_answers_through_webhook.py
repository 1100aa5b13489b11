"""Issue 4 through the real, signed webhook: each intent in English and Spanish, answered from the demo
data (bot/demo.py) with its template and the right facts, on SQLite and PostgreSQL.

The demo, in days from the day it was loaded (tests/webhooks/conftest.py DEMO_TODAY):
- 0101 (English, custodial) and 0102 (English, paying) share DEMO-100234: due +5, paid -40 and -10,
  hearing DEMO-A1 at +10 09:30 -05:00, Wake County Courthouse.
- 0102 and 0103 (Spanish, custodial) share DEMO-100871: due +12, paid -15; appointment DEMO-A2 at +4
  14:00 is CANCELLED, mediation DEMO-A3 at +14 10:00, Durham Child Support Office.
- 0104 (Spanish, paying) on DEMO-200456: due +20; a state tax offset at -30 and a federal tax offset of
  1200.00 at -6 (the newest); genetic testing DEMO-A4 at +3 08:15, Johnston County Health Dept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from intents import wording
from storage.appointment_import import import_appointments
from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.models import Direction, Exchange
from tests.answers.conftest import expected, last_exchange
from tests.webhooks.conftest import (
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_EN_IVR,
    VERIFIED_ES,
    VERIFIED_ES_FTI,
    demo_day,
    new_sid,
    phone_id,
    reply,
)
from tests.webhooks.wording import assert_says, written_day

TWO_CASES = VERIFIED_EN_IVR
WAKE = "Wake County Courthouse"
DURHAM = "Durham Child Support Office"
JOHNSTON = "Johnston County Health Dept"
Ask = Callable[..., str]


def day(days: int, language: str) -> str:
    """A demo date as a reply writes it."""
    return written_day(demo_day(days), language)


def both_cases(first: int, second: int, language: str) -> str:
    """0102's two cases in a list, as the per-case replies write them."""
    if language == "en":
        return f"case ending 0234 on {day(first, 'en')}; case ending 0871 on {day(second, 'en')}"
    return f"caso que termina en 0234: {day(first, 'es')}; caso que termina en 0871: {day(second, 'es')}"


@pytest.fixture
def ask(demo_app: Flask, demo_client) -> Ask:  # noqa: ANN001
    """ask(number, body, template, language, **fields): the text gets exactly that reply, and the log
    records it as sent (that template, nothing blocked). Returns the reply."""

    def check(number: str, body: str, template: str, language: str, **fields: str) -> str:
        text = reply(demo_client, number, body)
        assert text == expected(template, language, **fields), body
        _, outbound = last_exchange(demo_app, number)
        assert (outbound.template_id, outbound.blocked_reason) == (template, None), body
        return text

    return check


def intent_of_last_text(app: Flask, number: str) -> str | None:
    return last_exchange(app, number)[0].intent


# --- next due date --------------------------------------------------------------------------------


def test_next_due_date_for_one_case(demo_app: Flask, ask: Ask) -> None:
    ask(VERIFIED_EN, "when is my next payment due", "next_due_date", "en", due_date=day(5, "en"))
    assert intent_of_last_text(demo_app, VERIFIED_EN) == "next_due_date"
    ask(VERIFIED_ES, "cuando vence mi proximo pago", "next_due_date", "es", due_date=day(12, "es"))
    ask(VERIFIED_ES_FTI, "¿cuándo vence mi próximo pago?", "next_due_date", "es", due_date=day(20, "es"))
    assert intent_of_last_text(demo_app, VERIFIED_ES_FTI) == "next_due_date"


def test_next_due_date_for_two_cases_is_answered_per_case(ask: Ask) -> None:
    text = ask(
        TWO_CASES, "when is my next payment due", "next_due_date_cases", "en", items=both_cases(5, 12, "en")
    )
    assert "100234" not in text and "DEMO" not in text  # a case is named by its last 4 digits only
    ask(TWO_CASES, "cuando vence mi proximo pago", "next_due_date_cases", "es", items=both_cases(5, 12, "es"))


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("when is my next payment due for case 0871", "en"),
        ("next payment for 0871", "en"),
        ("¿cuándo vence mi próximo pago? caso 0871", "es"),
        ("cuando vence mi proximo pago del caso 0871", "es"),
    ],
)
def test_a_text_naming_one_case_answers_only_that_case(ask: Ask, body: str, language: str) -> None:
    text = ask(TWO_CASES, body, "next_due_date", language, due_date=day(12, language))
    assert day(5, language) not in text  # nothing of DEMO-100234


def test_more_than_three_cases_ask_which_one_and_the_digits_answer_the_question(
    demo_app: Flask, ask: Ask, tmp_path: Path
) -> None:
    # A paying parent on four cases, verified by their web opt-in.
    number, header = (
        "+19195550160",
        "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
    )
    cases = [f"T-P60,919-555-0160,en,T-CASE-{n}1,noncustodial,Wake,{demo_day(n)},10.00" for n in (2, 3, 4, 6)]
    (tmp_path / "cases.csv").write_text("\n".join([header, *cases]) + "\n")
    (tmp_path / "consent.csv").write_text(
        "phone,status,method,recorded_at,reference\n919-555-0160,opted_in,web,2026-01-05T10:00:00-05:00,T-WEB-60\n"
    )
    with demo_app.extensions["database"].transaction() as session:
        import_cases(session, tmp_path / "cases.csv", demo_app.extensions["cipher"])
        import_consent(session, tmp_path / "consent.csv", demo_app.extensions["cipher"])
    ask(number, "when is my next payment due", "choose_case", "en", count="4", items="0021, 0031, 0041, 0061")
    # The bare digits answer the question asked, for that case only.
    ask(number, "0041", "next_due_date", "en", due_date=day(4, "en"))
    assert intent_of_last_text(demo_app, number) == "case_choice"
    ask(
        number, "cuando vence mi proximo pago", "next_due_date", "es", due_date=day(4, "es")
    )  # still that case


# --- last payment ---------------------------------------------------------------------------------


def test_did_you_get_my_payment_for_a_paying_parent(demo_app: Flask, ask: Ask) -> None:
    body = "did you get my payment for case 0871"
    ask(TWO_CASES, body, "last_payment_paid_by_me", "en", paid_on=day(-15, "en"))
    assert intent_of_last_text(demo_app, TWO_CASES) == "last_payment"
    ask(
        TWO_CASES, "recibieron mi pago del caso 0871", "last_payment_paid_by_me", "es", paid_on=day(-15, "es")
    )
    # Both cases: each one's newest payment (DEMO-100234's -10, not its older -40).
    ask(TWO_CASES, "did you get my payment", "last_payment_cases", "en", items=both_cases(-10, -15, "en"))
    ask(TWO_CASES, "¿recibieron mi pago?", "last_payment_cases", "es", items=both_cases(-10, -15, "es"))


def test_did_you_get_my_payment_for_a_receiving_parent(demo_app: Flask, ask: Ask) -> None:
    ask(VERIFIED_EN, "did you get my payment", "last_payment_paid_to_me", "en", paid_on=day(-10, "en"))
    ask(VERIFIED_ES, "recibieron mi pago", "last_payment_paid_to_me", "es", paid_on=day(-15, "es"))
    assert intent_of_last_text(demo_app, VERIFIED_ES) == "last_payment"


# --- next appointment -----------------------------------------------------------------------------


def test_when_is_my_court_date_gives_the_day_the_offices_time_and_the_office(
    demo_app: Flask, ask: Ask
) -> None:
    ask(
        VERIFIED_EN,
        "when is my court date",
        "next_appointment",
        "en",
        kind="court hearing",
        day=day(10, "en"),
        time="9:30 AM",
        office=WAKE,
    )
    assert intent_of_last_text(demo_app, VERIFIED_EN) == "next_appointment"
    es = {"day": day(10, "es"), "time": "9:30", "office": WAKE}
    ask(VERIFIED_EN, "cuando es mi audiencia", "next_appointment", "es", kind="audiencia", **es)
    en = {"day": day(3, "en"), "time": "8:15 AM", "office": JOHNSTON}
    ask(
        VERIFIED_ES_FTI,
        "when is my hearing",
        "next_appointment",
        "en",
        kind="genetic testing appointment",
        **en,
    )
    es = {"day": day(3, "es"), "time": "8:15", "office": JOHNSTON}
    ask(VERIFIED_ES_FTI, "cuando es mi cita", "next_appointment", "es", kind="cita de prueba genetica", **es)


def test_a_cancelled_appointment_is_never_answered(ask: Ask) -> None:
    # DEMO-A2 (+4 at 14:00) comes before A3 and A1 but is cancelled.
    a3_es = {"kind": "sesion de mediacion", "day": day(14, "es"), "time": "10:00", "office": DURHAM}
    a3_en = {"kind": "mediation", "day": day(14, "en"), "time": "10:00 AM", "office": DURHAM}
    a1_en = {"kind": "court hearing", "day": day(10, "en"), "time": "9:30 AM", "office": WAKE}
    texts = [
        ask(VERIFIED_ES, "¿cuándo es mi cita en la corte?", "next_appointment", "es", **a3_es),
        ask(VERIFIED_ES, "when is my court date", "next_appointment", "en", **a3_en),
        # 0102 is on both cases: the soonest scheduled one is DEMO-A1.
        ask(TWO_CASES, "when is my court date", "next_appointment", "en", **a1_en),
    ]
    for text in texts:
        for cancelled in (day(4, "en"), day(4, "es"), "2:00 PM", "14:00"):
            assert cancelled not in text


def import_appointment_rows(app: Flask, folder: Path, *rows: str) -> None:
    """Import appointments.csv rows through the real importer."""
    path = folder / "appointments.csv"
    path.write_text("case_id,appointment_id,kind,starts_at,office,status\n" + "\n".join(rows) + "\n")
    with app.extensions["database"].transaction() as session:
        import_appointments(session, path)


def at(days: int, clock: str, offset: str) -> str:
    """An appointments.csv starts_at: a demo day at a local time with its office's UTC offset."""
    return f"{demo_day(days).isoformat()}T{clock}{offset}"


def test_an_appointment_cancelled_by_a_later_import_is_no_longer_answered(
    demo_app: Flask, ask: Ask, tmp_path: Path
) -> None:
    row = f"DEMO-100234,DEMO-A1,hearing,{at(10, '09:30:00', '-05:00')},{WAKE},cancelled"
    import_appointment_rows(demo_app, tmp_path, row)
    ask(VERIFIED_EN, "when is my court date", "no_appointment", "en")
    ask(VERIFIED_EN, "cuando es mi audiencia", "no_appointment", "es")


def test_the_time_is_the_offices_local_time(demo_app: Flask, ask: Ask, tmp_path: Path) -> None:
    # An office three hours behind the demo's: 09:30 there is 12:30 in Raleigh and 17:30 UTC.
    office = "Pacific Field Office"
    row = f"DEMO-100234,T-PAC-1,appointment,{at(2, '09:30:00', '-08:00')},{office},scheduled"
    import_appointment_rows(demo_app, tmp_path, row)
    en = {"kind": "appointment", "day": day(2, "en"), "time": "9:30 AM", "office": office}
    text = ask(VERIFIED_EN, "when is my next appointment", "next_appointment", "en", **en)
    assert "12:30" not in text and "5:30" not in text
    es = {"kind": "cita", "day": day(2, "es"), "time": "9:30", "office": office}
    ask(VERIFIED_EN, "cuando es mi proxima cita", "next_appointment", "es", **es)


def test_late_in_the_evening_the_day_is_the_offices_day(demo_app: Flask, ask: Ask, tmp_path: Path) -> None:
    # 23:30 at -05:00 is already the next day in UTC: the reply keeps the office's day.
    row = f"DEMO-100234,T-LATE-1,hearing,{at(2, '23:30:00', '-05:00')},{WAKE},scheduled"
    import_appointment_rows(demo_app, tmp_path, row)
    late = {"kind": "court hearing", "day": day(2, "en"), "time": "11:30 PM", "office": WAKE}
    ask(VERIFIED_EN, "when is my court date", "next_appointment", "en", **late)


# --- answers without case data --------------------------------------------------------------------

SIMPLE = [
    # (intent, English text, Spanish text, template)
    ("payment_options", "how can i pay", "como puedo pagar", "payment_options"),
    ("office_info", "what are your office hours", "cual es el horario de la oficina", "office_info"),
    ("agent_request", "i need to talk to someone", "quiero hablar con alguien", "agent_request"),
    ("update_info", "i need to update my address", "quiero cambiar mi direccion", "update_info"),
    ("documents", "where do i send my papers", "donde mando mis documentos", "documents"),
    ("greet", "hello", "hola", "greet"),
    ("thanks", "thanks", "gracias", "thanks"),
    ("help", "what can i ask", "que puedo preguntar", "help_menu"),
    ("out_of_scope", "when do my food stamps come", "cuando llegan mis cupones de comida", "out_of_scope"),
]


@pytest.mark.parametrize(("intent", "english", "spanish", "template"), SIMPLE, ids=[row[0] for row in SIMPLE])
def test_each_intent_without_case_data_in_both_languages(
    demo_app: Flask, ask: Ask, intent: str, english: str, spanish: str, template: str
) -> None:
    for number, body, language in (
        (VERIFIED_EN, english, "en"),
        (VERIFIED_ES, spanish, "es"),
        (VERIFIED_EN, spanish, "es"),  # the text's language, not the preference
        (VERIFIED_ES, english, "en"),
    ):
        ask(number, body, template, language)
        assert intent_of_last_text(demo_app, number) == intent, body


def test_an_agent_request_is_answered_and_found_by_the_supervisors_queue(
    demo_app: Flask, demo_client
) -> None:
    asked = {}
    for number, body, language in (
        (VERIFIED_EN, "i need to talk to someone", "en"),
        (VERIFIED_ES, "necesito hablar con una persona", "es"),
    ):
        asked[number] = new_sid()
        assert reply(demo_client, number, body, sid=asked[number]) == expected("agent_request", language)
        reply(demo_client, number, "thanks")  # later texts do not hide the request
    # What the queue asks the log: the inbound texts whose intent is agent_request.
    with demo_app.extensions["database"].session() as session:
        queued = session.execute(
            select(Exchange.phone_number_id, Exchange.message_sid).where(
                Exchange.direction == Direction.INBOUND.value, Exchange.intent == "agent_request"
            )
        ).all()
    assert sorted(queued) == sorted((phone_id(demo_app, number), sid) for number, sid in asked.items())


# --- language -------------------------------------------------------------------------------------


def test_the_reply_is_in_the_texts_language_when_clear_else_the_preference(ask: Ask) -> None:
    # English preference, Spanish text: Spanish; Spanish preference, English text: English.
    ask(VERIFIED_EN, "cuando vence mi proximo pago", "next_due_date", "es", due_date=day(5, "es"))
    ask(VERIFIED_ES, "when is my next payment due", "next_due_date", "en", due_date=day(12, "en"))
    # "ok" says nothing of its language: each participant's preference.
    ask(VERIFIED_EN, "ok", "out_of_scope", "en")
    ask(VERIFIED_ES, "ok", "out_of_scope", "es")
    ask(VERIFIED_ES_FTI, "ok", "out_of_scope", "es")


# --- federal tax information ----------------------------------------------------------------------

FTI_WORDS = re.compile(r"tax|impuesto|offset|federal|\birs\b|refund|reembolso", re.IGNORECASE)


def date_forms(value: date) -> list[str]:
    """Every way a reply might write a date: the wording helpers' and the usual numeric ones."""
    forms = [value.isoformat(), f"{value.month}/{value.day}", f"{value.month:02d}/{value.day:02d}"]
    for language in ("en", "es"):
        forms += [wording.day(value, language), written_day(value, language)]
    return forms + [value.strftime("%b %d"), value.strftime("%B %d"), value.strftime("%d/%m")]


def assert_reveals_no_offset(text: str) -> None:
    """Nothing of 0104's offsets: the federal one (-6, 1200.00), nor the state one (-30, 410.00)."""
    for days in (-6, -30):
        leaked = [form for form in date_forms(demo_day(days)) if form in text]
        assert not leaked, f"the offset's date {leaked} in {text!r}"
    for amount in ("1200", "1,200", "410"):
        assert amount not in text, text
    assert FTI_WORDS.search(text) is None, text


def test_a_federal_tax_offset_is_never_disclosed(demo_app: Flask, demo_client, ask: Ask) -> None:
    fti = {}
    for body, language in (
        ("did you get my payment", "en"),
        ("recibieron mi pago", "es"),
        ("did u get my pymt", "en"),
    ):
        fti[body] = ask(VERIFIED_ES_FTI, body, "payment_see_portal", language)
        assert_reveals_no_offset(fti[body])
        assert intent_of_last_text(demo_app, VERIFIED_ES_FTI) == "last_payment"
    # 0106's case (DEMO-300118) has no payment at all: the very same words, so the reply tells nothing.
    assert_says(reply(demo_client, UNVERIFIED, "hello"), "verify_ask", "en")
    assert_says(reply(demo_client, UNVERIFIED, "0118"), "verify_ok", "en")
    for body, text in fti.items():
        assert reply(demo_client, UNVERIFIED, body) == text, body
    # Nor does any other answer to 0104 mention it.
    for body in (
        "when is my next payment due",
        "cuando es mi cita",
        "how can i pay",
        "hola",
        "what can i ask",
    ):
        assert_reveals_no_offset(reply(demo_client, VERIFIED_ES_FTI, body))


# --- the guard ------------------------------------------------------------------------------------


def test_an_office_with_a_street_address_is_blocked_and_the_safe_fallback_sent(
    demo_app: Flask, demo_client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    office = "Wake Office 316 Fayetteville St"
    row = f"DEMO-100234,T-ADDR-1,hearing,{at(2, '09:00:00', '-05:00')},{office},scheduled"
    import_appointment_rows(demo_app, tmp_path, row)
    caplog.set_level(logging.INFO)
    text = reply(demo_client, VERIFIED_EN, "when is my court date")
    assert text == expected("safe_fallback", "en")
    inbound, outbound = last_exchange(demo_app, VERIFIED_EN)
    assert inbound.intent == "next_appointment"
    assert (outbound.template_id, outbound.blocked_reason) == ("safe_fallback", "street_address")
    # The log keeps what was sent, not what was blocked.
    assert demo_app.extensions["cipher"].decrypt(outbound.body_enc) == text
    # The application log says why, never what.
    blocked = [record.getMessage() for record in caplog.records if "guard" in record.getMessage()]
    assert len(blocked) == 1 and "street_address" in blocked[0], blocked
    for secret in ("Fayetteville", "316", "Wake Office", day(2, "en")):
        assert secret not in caplog.text, secret
    # In Spanish too.
    assert reply(demo_client, VERIFIED_EN, "cuando es mi audiencia") == expected("safe_fallback", "es")
    assert last_exchange(demo_app, VERIFIED_EN)[1].blocked_reason == "street_address"


def test_an_office_named_court_is_not_taken_for_a_street_address(
    demo_app: Flask, ask: Ask, tmp_path: Path
) -> None:
    office = "Durham Family Court"
    row = f"DEMO-100234,T-FAM-1,hearing,{at(2, '10:00:00', '-05:00')},{office},scheduled"
    import_appointment_rows(demo_app, tmp_path, row)
    hearing = {"kind": "court hearing", "day": day(2, "en"), "time": "10:00 AM", "office": office}
    ask(VERIFIED_EN, "when is my court date", "next_appointment", "en", **hearing)
