"""Sending notices through the real twilio client to the local Twilio server, with its status callbacks
coming back to the app over real HTTP. No Redis here: without REDIS_URL, send-reminders sends inline."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import twilio_fake
from bot.outbound import service
from bot.outbound.delivery import CONSENT_READ_LEAD
from bot.outbound.queueing import recover_stuck
from bot.outbound.twilio_api import TwilioSender
from consent import ledger
from storage import outbox
from storage.models import Exchange, OutboundMessage, utcnow
from tests.outbound.conftest import (
    EASTERN,
    NEVER,
    OPTED_OUT,
    PAYER,
    RECEIVER,
    TODAY,
    load_caseload,
    next_local,
    outbox_rows,
    serve_app,
    set_clock,
)
from tests.webhooks.conftest import consent_events, reply


def remind(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["send-reminders", "--today", TODAY.isoformat(), *args])
    assert result.exit_code == 0, result.output
    return result.output


def sent_to(fake: twilio_fake.FakeTwilio) -> list[str]:
    return [message["to"] for message in fake.messages()]


def outbound_log(app: Flask) -> list[tuple[str | None, str | None, str | None]]:
    with app.extensions["database"].session() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Exchange.message_sid, Exchange.template_id, Exchange.delivery_status)
                .where(Exchange.direction == "outbound")
                .order_by(Exchange.chain_seq)
            )
        ]


def text_in(app: Flask, number: str, body: str) -> str | None:
    """An inbound text through the real /webhooks/sms, signed for the app's public URL."""
    base = app.config["PUBLIC_BASE_URL"]
    return reply(app.test_client(), number, body, url=f"{base}/webhooks/sms")


def test_a_due_soon_notice_is_sent_once_logged_and_followed_to_delivered(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    output = remind(live_app, "--kind", "due_soon")
    assert "sent here (no REDIS_URL): 1 sent" in output
    (message,) = fake.messages()
    assert message["to"] == PAYER and "case ending 0001" in message["body"]
    fake.wait_for_callbacks()
    (row,) = outbox_rows(live_app)
    assert (row.status, row.twilio_sid, row.attempts) == ("delivered", message["sid"], 1)
    assert outbound_log(live_app) == [(message["sid"], "notice_due_soon", "delivered")]
    # Every callback reached the app and was accepted (signature checked against PUBLIC_BASE_URL).
    assert {callback["http_status"] for callback in fake.callbacks()} == {200}
    assert "sent here (no REDIS_URL): nothing due" in remind(live_app, "--kind", "due_soon")
    assert len(fake.messages()) == 1
    result = live_app.test_cli_runner().invoke(args=["verify-log"])
    assert result.exit_code == 0 and "intact" in result.output


def test_numbers_that_never_opted_in_or_opted_out_get_nothing(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    remind(live_app)
    assert OPTED_OUT not in sent_to(fake) and NEVER not in sent_to(fake)
    assert sorted(set(sent_to(fake))) == sorted({PAYER, RECEIVER, "+19195550206"})


def test_a_stop_that_arrives_while_the_notice_waits_wins(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    set_clock(live_app, next_local(23))  # quiet hours: the notice is written and waits
    assert "1 deferred" in remind(live_app, "--kind", "due_soon")
    assert text_in(live_app, PAYER, "stop").startswith("You are unsubscribed")
    set_clock(live_app, next_local(23) + timedelta(hours=10))  # 9 a.m. Eastern: due now
    with live_app.app_context():
        result = service.sweep()
    assert result.outcomes == {"cancelled": 1}
    assert fake.messages() == []
    (row,) = outbox_rows(live_app)
    assert (row.status, row.reason) == ("cancelled", "opted_out")


def test_quiet_hours_defer_to_8am_in_the_recipients_zone_and_then_send(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    late = next_local(22, 30)
    set_clock(live_app, late)
    remind(live_app, "--kind", "due_soon")
    (row,) = outbox_rows(live_app)
    assert (row.status, row.reason) == ("deferred", "quiet_hours")
    assert row.send_after.astimezone(EASTERN).hour == 8
    assert row.send_after - late < timedelta(hours=10)
    assert fake.messages() == []
    set_clock(live_app, row.send_after)
    with live_app.app_context():
        assert service.sweep().outcomes == {"sent": 1}
    assert sent_to(fake) == [PAYER]


def test_21610_fails_the_row_and_records_the_opt_out(live_app: Flask, fake: twilio_fake.FakeTwilio) -> None:
    fake.refuse(PAYER)
    remind(live_app, "--kind", "due_soon")
    (row,) = outbox_rows(live_app)
    assert (row.status, row.error_code, row.reason) == ("failed", 21610, "opted_out")
    kind, channel, evidence = consent_events(live_app, PAYER)[-1]
    assert (kind, channel, evidence) == ("opt_out", "delivery_error_21610", f"outbox:{row.id}")
    # The ledger now says opted out: the next notice for the number is not even planned.
    assert "1 opted out" in remind(live_app, "--kind", "payment_received")


def test_transient_errors_are_retried_with_backoff_and_sent_once(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    fake.fail_next(2, status=503)
    noon = next_local(12)
    remind(live_app, "--kind", "due_soon")
    (row,) = outbox_rows(live_app)
    assert (row.status, row.reason, row.error_code) == ("queued", "retry", 20503)
    assert row.send_after == noon + timedelta(seconds=30)
    for step in (timedelta(seconds=30), timedelta(minutes=3)):
        set_clock(live_app, noon + step)
        with live_app.app_context():
            service.sweep()
    (row,) = outbox_rows(live_app)
    assert (row.status, row.attempts) in {("sent", 3), ("delivered", 3)}
    assert sent_to(fake) == [PAYER]


def test_callbacks_out_of_order_or_repeated_never_move_a_row_back(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    fake.callback_mode(reverse=True, duplicate=True)
    fake.outcome(RECEIVER, "undelivered", 30003)
    remind(live_app, "--kind", "payment_received")
    fake.wait_for_callbacks()
    statuses = {row.phone_number_id: (row.status, row.error_code) for row in outbox_rows(live_app)}
    assert sorted(statuses.values()) == [("delivered", None), ("undelivered", 30003)]
    assert sorted(status for _, _, status in outbound_log(live_app)) == ["delivered", "undelivered"]


def test_a_rescheduled_appointment_gets_fresh_reminders_and_the_stale_ones_never_go(
    live_app: Flask, fake: twilio_fake.FakeTwilio, tmp_path: Path
) -> None:
    set_clock(live_app, next_local(23))  # written tonight, sent tomorrow morning
    remind(live_app, "--kind", "appointment_reminder")
    day = (TODAY + timedelta(days=9)).isoformat()
    load_caseload(
        live_app,
        tmp_path,
        {
            "appointments.csv": [
                "case_id,appointment_id,kind,starts_at,office,status",
                f"CASE-10001,A-1,hearing,{day}T10:00:00-05:00,Wake County Courthouse,scheduled",
            ]
        },
    )
    remind(live_app, "--kind", "appointment_reminder", "--days", "9")
    set_clock(live_app, next_local(23) + timedelta(hours=10))
    with live_app.app_context():
        outcomes = service.sweep().outcomes
    assert outcomes == {"cancelled": 2, "sent": 2}
    assert all("10:00" in m["body"] or "10:00 AM" in m["body"] for m in fake.messages())
    reasons = sorted((row.status, row.reason) for row in outbox_rows(live_app))
    assert reasons[:2] == [("cancelled", "appointment_changed"), ("cancelled", "appointment_changed")]


def test_a_number_given_to_someone_else_after_queueing_is_not_texted(
    live_app: Flask, fake: twilio_fake.FakeTwilio, tmp_path: Path
) -> None:
    set_clock(live_app, next_local(23))
    remind(live_app, "--kind", "due_soon")
    load_caseload(
        live_app,
        tmp_path,
        {
            "cases.csv": [
                "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
                "P9,919-555-0201,en,CASE-19999,custodial,Wake,,",
            ]
        },
    )
    set_clock(live_app, next_local(23) + timedelta(hours=10))
    with live_app.app_context():
        assert service.sweep().outcomes == {"cancelled": 1}
    assert fake.messages() == []


@pytest.fixture
def real_time_app(database_url: str, fake: twilio_fake.FakeTwilio, tmp_path: Path) -> Iterator[Flask]:
    """A live app on the real clock with quiet hours off (development): recovery compares our clock
    with the times Twilio's records carry, so neither may be made up."""
    with serve_app(database_url, fake, QUIET_HOURS="00:00-00:00") as application:
        load_caseload(application, tmp_path)
        yield application


def write_due_soon(app: Flask) -> OutboundMessage:
    with app.app_context():
        report = service.send_reminders(["due_soon"], TODAY, dry_run=False, enqueue=False)
    assert report.written == 1
    (row,) = outbox_rows(app)
    return row


def test_a_worker_that_died_after_twilio_took_the_text_is_not_sent_twice(
    real_time_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    row = write_due_soon(real_time_app)
    with real_time_app.app_context():
        courier = service.courier()
        # What a worker does up to the Twilio call, then it "dies": no callback URL, nothing recorded.
        with courier.database.transaction() as session:
            assert outbox.claim(session, row.id) is not None
        courier.sender.send(PAYER, courier.cipher.decrypt(row.body_enc), None)
        assert recover_stuck(courier, utcnow() + timedelta(minutes=10)) == (1, 0)
        assert recover_stuck(courier, utcnow() + timedelta(minutes=20)) == (0, 0)
    assert len(fake.messages()) == 1
    (row,) = outbox_rows(real_time_app)
    # Marked with the status Twilio's record had (the fake's message had run on to delivered).
    assert row.status == "delivered" and row.twilio_sid == fake.messages()[0]["sid"]
    assert len(outbound_log(real_time_app)) == 1


def test_a_worker_that_died_before_twilio_got_the_text_sends_it_once_on_recovery(
    real_time_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    row = write_due_soon(real_time_app)
    with real_time_app.app_context():
        courier = service.courier()
        with courier.database.transaction() as session:
            assert outbox.claim(session, row.id) is not None
        assert recover_stuck(courier, utcnow() + timedelta(minutes=10)) == (0, 1)
        assert service.sweep().outcomes == {"sent": 1}
    assert len(fake.messages()) == 1
    assert len(outbound_log(real_time_app)) == 1


def test_the_status_callback_of_a_text_whose_worker_died_adopts_it(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    set_clock(live_app, next_local(23))
    remind(live_app, "--kind", "due_soon")
    (row,) = outbox_rows(live_app)
    with live_app.app_context():
        courier = service.courier()
        with courier.database.transaction() as session:
            outbox.claim(session, row.id, next_local(23) + timedelta(hours=13))
        # The worker sent it with its callback URL, then died before saving the SID.
        courier.sender.send(PAYER, courier.cipher.decrypt(row.body_enc), courier._callback_url(row.id))
    fake.wait_for_callbacks()
    (row,) = outbox_rows(live_app)
    assert row.status == "delivered" and row.twilio_sid == fake.messages()[0]["sid"]
    assert outbound_log(live_app) == [(row.twilio_sid, "notice_due_soon", "delivered")]
    with live_app.app_context():
        assert recover_stuck(service.courier(), next_local(23) + timedelta(hours=14)) == (0, 0)
    assert len(fake.messages()) == 1


def test_an_announcement_is_approved_once_and_goes_to_everyone_opted_in(
    live_app: Flask, fake: twilio_fake.FakeTwilio
) -> None:
    runner = live_app.test_cli_runner()
    english = "Offices close Dec 24-25. Payments made online post as usual."
    spanish = "Las oficinas cierran el 24 y 25 de dic. Los pagos en linea se registran como siempre."
    result = runner.invoke(
        args=["approve-announcement", "holiday", "--en", english, "--es", spanish, "--by", "ops"]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["approve-announcement", "holiday", "--en", "x", "--es", "y"])
    assert again.exit_code != 0 and "exists already" in again.output
    bad = runner.invoke(args=["approve-announcement", "ssn", "--en", "Your SSN 123-45-6789", "--es", "x"])
    assert bad.exit_code != 0 and "personal data" in bad.output
    output = remind(live_app, "--kind", "announcement", "--announcement", "holiday")
    assert "not verified" not in output  # announcements carry no case data: opted in is enough
    bodies = {message["to"]: message["body"] for message in fake.messages()}
    assert OPTED_OUT not in bodies and NEVER not in bodies
    assert bodies[PAYER] == f"Child Support Alerts: {english} Reply STOP to cancel."
    assert bodies[RECEIVER] == f"Child Support Alerts: {spanish} Responda STOP para cancelar."
    assert "+19195550205" in bodies  # opted in by SMS, unverified: still gets an announcement


def test_outbox_rows_are_encrypted_and_kinds_are_recorded(live_app: Flask) -> None:
    remind(live_app)
    with live_app.extensions["database"].session() as session:
        rows = session.scalars(select(OutboundMessage)).all()
        assert rows and all("case ending" not in row.body_enc for row in rows)
        assert {row.kind for row in rows} == {
            "due_soon",
            "payment_received",
            "payment_missed",
            "appointment_reminder",
        }


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_batch_that_fails_midway_leaves_the_rows_it_did_not_try_for_the_next_sweep(
    real_time_app: Flask, fake: twilio_fake.FakeTwilio, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    with real_time_app.app_context():
        service.send_reminders(None, TODAY, enqueue=False)
        ids = [row.id for row in outbox_rows(real_time_app)]
        courier = service.courier()
        with courier.database.transaction() as session:
            outbox.mark_enqueued(session, ids)  # as if one batch job carried them all
        real_deliver, tried, lock = courier.deliver, [], threading.Lock()
        fake.latency(100)  # the rows in flight are still waiting for Twilio when the error comes

        def deliver(outbox_id: int) -> str:
            with lock:
                if len(tried) == 2:
                    raise ConnectionError("Redis went away")
                tried.append(outbox_id)
            return real_deliver(outbox_id)

        monkeypatch.setattr(courier, "deliver", deliver)
        monkeypatch.setattr(courier, "concurrency", concurrency)
        with pytest.raises(ConnectionError):
            courier.deliver_all(ids)
        monkeypatch.undo()
        # The rows started before the error finished (sent and recorded); the others wait for the sweep.
        rows = {row.id: row for row in outbox_rows(real_time_app)}
        assert len(tried) == 2 and (concurrency > 1 or tried == ids[:2])
        assert {rows[i].status for i in tried} <= {"sent", "delivered"}
        assert all(rows[i].enqueued_at is None and rows[i].status == "queued" for i in ids if i not in tried)
        assert service.sweep().outcomes == {"sent": len(ids) - 2}
    assert len(fake.messages()) == len(ids)


class RecordingLimiter:
    """A rate limit whose slot comes 0.3 s after it is taken; notes what the courier does around it."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def reserve(self) -> float:
        self.events.append("slot taken")
        return 0.3

    def wait_until(self, moment: float) -> None:
        delay = moment - time.monotonic()
        self.events.append(f"wait {max(0.0, delay):.2f}")
        time.sleep(max(0.0, delay))


def test_consent_is_read_after_the_wait_for_the_slot_and_the_text_goes_at_the_slot(
    live_app: Flask, fake: twilio_fake.FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_state, real_send = ledger.current_state, TwilioSender.send

    def current_state(db, phone_number_id):  # noqa: ANN001, ANN202
        events.append("consent read")
        return real_state(db, phone_number_id)

    def send(self, to, body, status_callback):  # noqa: ANN001, ANN202
        events.append("sent")
        return real_send(self, to, body, status_callback)

    monkeypatch.setattr(ledger, "current_state", current_state)
    monkeypatch.setattr(TwilioSender, "send", send)
    with live_app.app_context():
        monkeypatch.setattr(service.courier(), "limiter", RecordingLimiter(events))
    assert "1 sent" in remind(live_app, "--kind", "due_soon")
    taken, first_wait, read, second_wait, sent = events
    assert (taken, read, sent) == ("slot taken", "consent read", "sent")
    # All the wait but the read's lead comes first; the rest of it (if the read was quick) after it.
    assert float(first_wait.split()[1]) == pytest.approx(0.3 - CONSENT_READ_LEAD, abs=0.02)
    assert 0.0 <= float(second_wait.split()[1]) <= CONSENT_READ_LEAD
