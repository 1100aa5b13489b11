"""consent.csv import: rows become ledger events in UTC with their evidence, numbers are created without
an owner, re-import adds nothing, owners are never changed, and any bad row imports nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.csv_rows import ImportRejected
from storage.models import ConsentEvent, Participant, PhoneNumber
from storage.phones import find_phone

HEADER = "phone,status,method,recorded_at,reference"
GOOD = (
    HEADER,
    "(919) 555-0101,opted_in,web,2026-03-02T10:00:00-05:00,WEB-1001",
    "919.555.0101,OPTED_OUT,Sms,2026-03-05T08:00:00Z,SMS-2002",
    "+1 919 555 0199,opted_in,ivr,2026-03-06T12:30:00+00:00,IVR-3003",
)


def count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def test_rows_become_consent_events_in_utc(database, cipher, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        summary = import_consent(session, write_csv("consent.csv", *GOOD), cipher)
    assert summary.rows == 3
    assert summary.counts["phone numbers"].created == 2
    assert summary.counts["consent events"].created == 3
    with database.session() as session:
        first = find_phone(session, cipher, "+19195550101")
        second = find_phone(session, cipher, "+19195550199")
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.occurred_at)).all()
        assert [(e.phone_number_id, e.kind, e.channel, e.occurred_at, e.evidence) for e in events] == [
            (first.id, "opt_in", "web", datetime(2026, 3, 2, 15, 0, tzinfo=UTC), "WEB-1001"),
            (first.id, "opt_out", "sms", datetime(2026, 3, 5, 8, 0, tzinfo=UTC), "SMS-2002"),
            (second.id, "opt_in", "ivr", datetime(2026, 3, 6, 12, 30, tzinfo=UTC), "IVR-3003"),
        ]
        assert all(e.dedupe_key for e in events)


@pytest.mark.parametrize("method", ["web", "ivr", "sdu_phone", "technician", "sms"])
def test_every_method_is_the_event_channel(database, cipher, write_csv, method: str) -> None:  # noqa: ANN001
    path = write_csv(
        "consent.csv", HEADER, f"919-555-0101,opted_in,{method.upper()},2026-03-02T10:00:00Z,R-1"
    )
    with database.transaction() as session:
        import_consent(session, path, cipher)
    with database.session() as session:
        assert session.scalars(select(ConsentEvent.channel)).all() == [method]


def test_a_new_number_is_stored_encrypted_with_no_participant(database, cipher, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_consent(session, write_csv("consent.csv", *GOOD), cipher)
    with database.session() as session:
        phone = find_phone(session, cipher, "+19195550199")
        assert phone is not None
        assert phone.participant_id is None
        assert cipher.decrypt(phone.number_enc) == "+19195550199"
        assert count(session, PhoneNumber) == 2


def test_reimport_adds_nothing(database, cipher, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_consent(session, write_csv("consent.csv", *GOOD), cipher)
    with database.transaction() as session:
        again = import_consent(session, write_csv("consent.csv", *GOOD), cipher)
    assert (again.counts["consent events"].created, again.counts["consent events"].unchanged) == (0, 3)
    assert (again.counts["phone numbers"].created, again.counts["phone numbers"].unchanged) == (0, 2)
    with database.session() as session:
        assert count(session, ConsentEvent) == 3
        assert count(session, PhoneNumber) == 2


def test_the_same_moment_written_with_another_offset_is_the_same_event(
    database,
    cipher,
    write_csv,  # noqa: ANN001
) -> None:
    with database.transaction() as session:
        import_consent(
            session,
            write_csv("a.csv", HEADER, "919-555-0101,opted_in,web,2026-03-02T10:00:00-05:00,W-1"),
            cipher,
        )
    with database.transaction() as session:
        again = import_consent(
            session, write_csv("b.csv", HEADER, "+19195550101,opted_in,web,2026-03-02T15:00:00Z,W-1"), cipher
        )
    assert again.counts["consent events"].created == 0
    with database.session() as session:
        assert count(session, ConsentEvent) == 1


def test_consent_never_changes_a_numbers_participant(database, cipher, write_csv) -> None:  # noqa: ANN001
    cases = write_csv(
        "cases.csv",
        "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
        "P1,919-555-0101,en,C-100,custodial,Wake,,",
    )
    with database.transaction() as session:
        import_cases(session, cases, cipher)
    with database.transaction() as session:
        summary = import_consent(session, write_csv("consent.csv", *GOOD), cipher)
    assert summary.counts["phone numbers"].updated == 0
    with database.session() as session:
        owner = session.scalars(select(Participant.id).where(Participant.external_id == "P1")).one()
        phone = find_phone(session, cipher, "+19195550101")
        assert phone.participant_id == owner
        assert count(session, PhoneNumber) == 2  # the owned number plus the new one, no duplicate
        events = session.scalars(select(ConsentEvent.phone_number_id)).all()
        assert events.count(phone.id) == 2


def test_every_bad_row_is_named_and_nothing_is_written(database, cipher, write_csv) -> None:  # noqa: ANN001
    future = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    path = write_csv(
        "consent.csv",
        HEADER,
        "919-555-0101,opted_in,web,2026-03-02T10:00:00-05:00,WEB-1",
        "919-555-0102,maybe,web,2026-03-02T10:00:00-05:00,WEB-2",
        "919-555-0103,opted_in,email,2026-03-02T10:00:00-05:00,WEB-3",
        "919-555-0104,opted_in,web,2026-03-02T10:00:00,WEB-4",
        "919-555-0105,opted_in,web,yesterday,WEB-5",
        f"919-555-0106,opted_in,web,{future.isoformat()},WEB-6",
        "919-555-0107,opted_out,ivr,2026-03-02T10:00:00-05:00,  ",
        "555-01,opted_out,ivr,2026-03-02T10:00:00-05:00,IVR-8",
        "919-555-0109,opted_out,technician,2026-03-02T10:00:00-05:00,T-9",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_consent(session, path, cipher)
    report = caught.value.report()
    assert str(caught.value) == "consent.csv: 7 bad row(s), nothing was imported"
    assert report == [
        "consent.csv line 3, status: 'maybe' is not one of opted_in|opted_out",
        "consent.csv line 4, method: 'email' is not one of web|ivr|sdu_phone|technician|sms",
        "consent.csv line 5, recorded_at: '2026-03-02T10:00:00' has no UTC offset "
        "(add one, e.g. -05:00 or Z)",
        "consent.csv line 6, recorded_at: 'yesterday' is not an ISO 8601 date and time "
        "(e.g. 2026-03-02T09:30:00-05:00)",
        f"consent.csv line 7, recorded_at: {future.isoformat()} is in the future",
        "consent.csv line 8, reference: is empty",
        "consent.csv line 9, phone: is not a valid phone number",
    ]
    assert not any("555-01" in line or "5550" in line for line in report)  # numbers are never echoed
    with database.session() as session:
        assert count(session, PhoneNumber) == 0
        assert count(session, ConsentEvent) == 0
