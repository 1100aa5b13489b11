"""Who is due which notice: consent and verification decide, tax offsets never count, each is written once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import Flask

from bot.outbound.planning import plan
from intents import wording
from storage.phones import find_phone
from tests.outbound.conftest import MISSED, PAYER, RECEIVER, TODAY, outbox_rows


def on(offset: int, language: str = "en") -> str:
    return wording.day(TODAY + timedelta(days=offset), language)


def planned(
    app: Flask, kind: str, days: tuple[int, ...] | None = None
) -> tuple[dict[str, list[str]], Counter[str]]:
    """Bodies planned per number, and the skip reasons."""
    with app.extensions["database"].session() as session:
        result = plan(session, app.extensions["replies"], kind, TODAY, days)
        numbers = {}
        for notice in result.notices:
            number = app.extensions["cipher"].decrypt(
                session.get_one(_phone_model(), notice.phone_number_id).number_enc
            )
            numbers.setdefault(number, []).append(notice.body)
    return numbers, result.skipped


def _phone_model():  # noqa: ANN202
    from storage.models import PhoneNumber

    return PhoneNumber


def test_due_soon_goes_to_verified_payers_only(loaded_app: Flask) -> None:
    numbers, skipped = planned(loaded_app, "due_soon")
    assert list(numbers) == [PAYER]
    (body,) = numbers[PAYER]
    assert "case ending 0001" in body and f"is due {on(3)}." in body and "Reply STOP to cancel." in body
    assert "CASE-10001" not in body and "350" not in body
    assert skipped == Counter({"opted_out": 1, "never_opted_in": 1, "not_verified": 1})


def test_payment_missed_only_when_nothing_was_paid(loaded_app: Flask) -> None:
    numbers, _ = planned(loaded_app, "payment_missed")
    assert list(numbers) == [MISSED]
    assert f"was due {on(-1)}." in numbers[MISSED][0]


def test_payment_received_for_both_parents_and_never_for_a_tax_offset(loaded_app: Flask) -> None:
    numbers, _ = planned(loaded_app, "payment_received")
    assert sorted(numbers) == [PAYER, RECEIVER]  # the withholding payment only
    assert numbers[PAYER] == [
        "Child Support Alerts: Your child support payment on case ending 0001 was posted on "
        f"{on(-1)}. Thank you. Reply STOP to cancel."
    ]
    assert numbers[RECEIVER][0].startswith(
        "Child Support Alerts: Se registro un pago de manutencion para usted"
    )
    # The state tax offset on CASE-10002 and the federal one on CASE-10001 produced nothing.
    assert all(len(bodies) == 1 for bodies in numbers.values())


def test_appointment_reminders_at_7_3_and_1_days(loaded_app: Flask) -> None:
    numbers, _ = planned(loaded_app, "appointment_reminder")
    assert sorted(numbers) == [PAYER, RECEIVER]  # the hearing is 7 days out; the cancelled one gets none
    assert f"court hearing is on {on(7)} at 2:00 PM at Wake County Courthouse" in numbers[PAYER][0]
    assert f"audiencia es el {on(7, 'es')} a las 14:00" in numbers[RECEIVER][0]
    assert planned(loaded_app, "appointment_reminder", (3, 1))[0] == {}


def test_send_reminders_twice_the_same_day_writes_each_notice_once(loaded_app: Flask) -> None:
    runner = loaded_app.test_cli_runner()
    first = runner.invoke(args=["send-reminders", "--today", TODAY.isoformat(), "--dry-run"])
    assert first.exit_code == 0, first.output
    assert "would queue: 6" in first.output
    assert outbox_rows(loaded_app) == []  # a dry run writes nothing
    second = runner.invoke(args=["send-reminders", "--today", TODAY.isoformat(), "--kind", "due_soon"])
    assert second.exit_code == 0, second.output
    assert "written: 1 (1 due_soon)" in second.output
    assert "skipped: 1 never opted in, 1 not verified, 1 opted out" in second.output
    third = runner.invoke(args=["send-reminders", "--today", TODAY.isoformat(), "--kind", "due_soon"])
    assert "written: 0" in third.output and "already in the outbox: 1" in third.output
    assert [row.kind for row in outbox_rows(loaded_app)] == ["due_soon"]


def test_a_number_moved_to_someone_else_is_not_planned_for_its_old_owner(loaded_app: Flask, tmp_path) -> None:  # noqa: ANN001
    from tests.outbound.conftest import load_caseload

    # The export now gives the payer's number to a new participant on no case.
    load_caseload(
        loaded_app,
        tmp_path,
        {
            "cases.csv": [
                "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
                "P9,919-555-0201,en,CASE-19999,custodial,Wake,,",
            ]
        },
    )
    numbers, _ = planned(loaded_app, "due_soon")
    assert PAYER not in numbers
    with loaded_app.extensions["database"].session() as session:
        assert find_phone(session, loaded_app.extensions["cipher"], PAYER) is not None
