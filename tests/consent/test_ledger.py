"""The consent ledger on SQLite and PostgreSQL: the state derived from events, and idempotent records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consent import ledger
from consent.ledger import ConsentState, ConsentStatus
from storage.crypto import DataCipher
from storage.database import Database
from storage.models import ConsentChannel, ConsentEvent, ConsentKind, PhoneNumber

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
IN, OUT, HELP, VERIFY = ConsentKind.OPT_IN, ConsentKind.OPT_OUT, ConsentKind.HELP, ConsentKind.VERIFICATION
AUTHENTICATED = [ConsentChannel.WEB, ConsentChannel.IVR, ConsentChannel.SDU_PHONE, ConsentChannel.TECHNICIAN]
UNAUTHENTICATED = [
    ConsentChannel.SMS,
    ConsentChannel.SMS_KEYWORD,
    ConsentChannel.SMS_PLAIN_LANGUAGE,
    ConsentChannel.TWILIO_OPT_OUT_TYPE,
]


@pytest.fixture
def phone(database: Database, cipher: DataCipher) -> int:
    with database.transaction() as session:
        number = PhoneNumber(
            lookup_hash=cipher.lookup_hash("+19195550142"), number_enc=cipher.encrypt("+19195550142")
        )
        session.add(number)
        session.flush()
        return number.id


def state_after(
    database: Database, phone: int, *events: tuple[ConsentKind, ConsentChannel, int]
) -> ConsentState:
    """Record (kind, channel, minutes after T0) in the order given; return the derived state."""
    with database.transaction() as session:
        for n, (kind, channel, minutes) in enumerate(events):
            ledger.record(
                session, phone, kind, channel, f"EV-{n}", occurred_at=T0 + timedelta(minutes=minutes)
            )
    with database.session() as session:
        return ledger.current_state(session, phone)


def test_no_events_is_never_opted_in(database: Database, phone: int) -> None:
    state = state_after(database, phone)
    assert state == ConsentState(ConsentStatus.NEVER_OPTED_IN, verified=False)
    assert state.label == "never_opted_in"


def new_phone(database: Database, cipher: DataCipher, number: str) -> int:
    with database.transaction() as session:
        row = PhoneNumber(lookup_hash=cipher.lookup_hash(number), number_enc=cipher.encrypt(number))
        session.add(row)
        session.flush()
        return row.id


def test_an_opt_in_through_an_authenticated_channel_verifies(database: Database, cipher: DataCipher) -> None:
    for n, channel in enumerate(AUTHENTICATED):
        state = state_after(database, new_phone(database, cipher, f"+1919555020{n}"), (IN, channel, 0))
        assert state == ConsentState(ConsentStatus.OPTED_IN, verified=True), channel
        assert state.label == "opted_in_verified"


def test_an_opt_in_by_text_does_not_verify(database: Database, cipher: DataCipher) -> None:
    for n, channel in enumerate(UNAUTHENTICATED):
        state = state_after(database, new_phone(database, cipher, f"+1919555030{n}"), (IN, channel, 0))
        assert state == ConsentState(ConsentStatus.OPTED_IN, verified=False), channel
        assert state.label == "opted_in_unverified"


def test_a_verification_event_verifies(database: Database, phone: int) -> None:
    state = state_after(
        database, phone, (IN, ConsentChannel.SMS_KEYWORD, 0), (VERIFY, ConsentChannel.SMS_CASE_DIGITS, 1)
    )
    assert state.label == "opted_in_verified"


def test_verification_alone_is_not_an_opt_in(database: Database, phone: int) -> None:
    state = state_after(database, phone, (VERIFY, ConsentChannel.SMS_CASE_DIGITS, 0))
    assert state == ConsentState(ConsentStatus.NEVER_OPTED_IN, verified=True)
    assert state.label == "never_opted_in"


def test_the_latest_opt_out_wins(database: Database, phone: int) -> None:
    state = state_after(database, phone, (IN, ConsentChannel.WEB, 0), (OUT, ConsentChannel.SMS_KEYWORD, 5))
    assert state == ConsentState(ConsentStatus.OPTED_OUT, verified=True)
    assert state.label == "opted_out"


def test_the_latest_opt_in_wins_and_verification_sticks(database: Database, phone: int) -> None:
    state = state_after(
        database,
        phone,
        (IN, ConsentChannel.WEB, 0),
        (OUT, ConsentChannel.SMS_KEYWORD, 5),
        (IN, ConsentChannel.SMS_KEYWORD, 10),
    )
    assert state.label == "opted_in_verified"


def test_latest_means_latest_in_time_not_latest_recorded(database: Database, phone: int) -> None:
    # An import can bring in an older event after a newer one was recorded.
    state = state_after(database, phone, (OUT, ConsentChannel.SMS_KEYWORD, 60), (IN, ConsentChannel.IVR, 0))
    assert state.status is ConsentStatus.OPTED_OUT
    state = state_after(database, phone, (IN, ConsentChannel.WEB, 30))
    assert state.status is ConsentStatus.OPTED_OUT  # 30 min is still before the opt-out at 60


def test_events_at_the_same_time_are_taken_in_recording_order(database: Database, phone: int) -> None:
    state = state_after(database, phone, (IN, ConsentChannel.WEB, 0), (OUT, ConsentChannel.SMS_KEYWORD, 0))
    assert state.status is ConsentStatus.OPTED_OUT
    state = state_after(database, phone, (IN, ConsentChannel.SMS_KEYWORD, 0))
    assert state.status is ConsentStatus.OPTED_IN


def test_help_changes_nothing(database: Database, phone: int) -> None:
    assert state_after(database, phone, (HELP, ConsentChannel.SMS_KEYWORD, 0)).label == "never_opted_in"
    assert state_after(
        database, phone, (OUT, ConsentChannel.SMS_KEYWORD, 1), (HELP, ConsentChannel.SMS_KEYWORD, 2)
    ).label == ("opted_out")


def test_events_of_other_numbers_do_not_count(database: Database, cipher: DataCipher, phone: int) -> None:
    with database.transaction() as session:
        other = PhoneNumber(
            lookup_hash=cipher.lookup_hash("+19195550143"), number_enc=cipher.encrypt("+19195550143")
        )
        session.add(other)
        session.flush()
        ledger.record(session, other.id, IN, ConsentChannel.WEB, "OTHER")
    assert state_after(database, phone).label == "never_opted_in"


def test_a_dedupe_key_makes_record_idempotent(database: Database, phone: int) -> None:
    with database.transaction() as session:
        first = ledger.record(
            session, phone, OUT, ConsentChannel.SMS_KEYWORD, "SM1", dedupe_key="sms|SM1|opt_out"
        )
        assert first is not None and first.id is not None
    with database.transaction() as session:
        again = ledger.record(
            session, phone, OUT, ConsentChannel.SMS_KEYWORD, "SM1", dedupe_key="sms|SM1|opt_out"
        )
        assert again is None
        other = ledger.record(
            session, phone, HELP, ConsentChannel.SMS_KEYWORD, "SM1", dedupe_key="sms|SM1|help"
        )
        assert other is not None
        ledger.record(session, phone, HELP, ConsentChannel.SMS_KEYWORD, "no key")
        ledger.record(session, phone, HELP, ConsentChannel.SMS_KEYWORD, "no key")  # no key: both kept
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 4


def test_record_keeps_the_evidence_and_history_lists_in_order(database: Database, phone: int) -> None:
    with database.transaction() as session:
        ledger.record(
            session, phone, OUT, ConsentChannel.SMS_KEYWORD, "SM-late", occurred_at=T0 + timedelta(hours=1)
        )
        ledger.record(session, phone, IN, ConsentChannel.WEB, "W" * 200, occurred_at=T0)
    with database.session() as session:
        events = ledger.history(session, phone)
    assert [(e.kind, e.channel, e.evidence, e.occurred_at) for e in events] == [
        ("opt_in", "web", "W" * 128, T0),  # evidence is cut to the column's 128 characters
        ("opt_out", "sms_keyword", "SM-late", T0 + timedelta(hours=1)),
    ]
    assert all(e.recorded_at is not None for e in events)


def test_the_state_read_stays_one_index_probe_however_many_help_events(
    database: Database, phone: int
) -> None:
    """Keywords are honoured however many come, and each HELP is an event: the state read must not walk
    them. Its only bound value is the number (the kinds and channels are constants a prepared statement's
    planner can match against the partial indexes), and both reads use those indexes."""
    with database.transaction() as session:
        ledger.record(session, phone, IN, ConsentChannel.SMS_KEYWORD, "EV-in", occurred_at=T0)
        session.execute(
            ConsentEvent.__table__.insert(),
            [
                {
                    "phone_number_id": phone,
                    "kind": HELP.value,
                    "channel": ConsentChannel.SMS_KEYWORD.value,
                    "occurred_at": T0 + timedelta(seconds=n + 1),
                    "recorded_at": T0,
                    "evidence": f"EV-help-{n}",
                }
                for n in range(2000)
            ],
        )
    with database.session() as session:
        assert ledger.current_state(session, phone) == ConsentState(ConsentStatus.OPTED_IN, False)

    statement = ledger._STATE.statement
    engine = database.engine
    compiled = statement.compile(dialect=engine.dialect)
    assert [value for value in compiled.params.values() if isinstance(value, str)] == []
    bound = statement.params(phone=phone)
    sql = str(bound.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if database.backend == "postgresql":
            connection.exec_driver_sql("ANALYZE consent_events")
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN ANALYZE {sql}"))
            assert "Rows Removed by Filter" not in plan, plan
        else:
            plan = "\n".join(str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_consent_events_phone_status" in plan, plan
    assert "ix_consent_events_phone_verified" in plan, plan
