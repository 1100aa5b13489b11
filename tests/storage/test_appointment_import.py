"""appointments.csv import: times kept in UTC with the office's offset, re-import updates in place, and a
file with any bad row imports nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from storage.appointment_import import import_appointments
from storage.case_import import import_cases
from storage.csv_rows import ImportRejected
from storage.models import Appointment, Case

CASES = (
    "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
    "P1,919-555-0101,en,C-100,noncustodial,Wake,2026-12-01,350.00",
    "P2,919-555-0102,en,C-200,noncustodial,Durham,,",
)
HEADER = "case_id,appointment_id,kind,starts_at,office,status"
GOOD = (
    HEADER,
    "C-100,A-1,hearing,2026-12-03T09:30:00-05:00,Wake County Courthouse,scheduled",
    "C-200,A-2,Genetic_Testing,2026-12-04T14:00:00Z,Durham  office,SCHEDULED",
    "C-100,A-3,mediation,2026-12-05T08:00:00-06:00,Wake office,scheduled",
)


def count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def appointment(session, external_id: str) -> Appointment:  # noqa: ANN001
    return session.scalars(select(Appointment).where(Appointment.external_id == external_id)).one()


@pytest.fixture
def cases(database, cipher, write_csv) -> None:  # noqa: ANN001
    """C-100 and C-200 on file."""
    with database.transaction() as session:
        import_cases(session, write_csv("cases.csv", *CASES), cipher)


def test_appointments_are_stored_in_utc_with_the_offset_kept(database, cases, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        summary = import_appointments(session, write_csv("appointments.csv", *GOOD))
    assert summary.rows == 3
    assert summary.counts["appointments"].created == 3
    with database.session() as session:
        c100 = session.scalar(select(Case.id).where(Case.case_ref == "C-100"))
        c200 = session.scalar(select(Case.id).where(Case.case_ref == "C-200"))
        a1, a2, a3 = (appointment(session, name) for name in ("A-1", "A-2", "A-3"))
        assert (a1.case_id, a1.kind, a1.office, a1.status) == (
            c100,
            "hearing",
            "Wake County Courthouse",
            "scheduled",
        )
        assert a1.starts_at == datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
        assert a1.starts_at.utcoffset().total_seconds() == 0
        assert a1.utc_offset_minutes == -300
        assert (a2.case_id, a2.kind, a2.office, a2.status) == (
            c200,
            "genetic_testing",
            "Durham office",
            "scheduled",
        )
        assert (a2.starts_at, a2.utc_offset_minutes) == (datetime(2026, 12, 4, 14, 0, tzinfo=UTC), 0)
        assert (a3.starts_at, a3.utc_offset_minutes) == (datetime(2026, 12, 5, 14, 0, tzinfo=UTC), -360)


def test_reimport_updates_the_same_row(database, cases, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_appointments(session, write_csv("appointments.csv", *GOOD))
    with database.session() as session:
        row_id = appointment(session, "A-1").id

    with database.transaction() as session:
        same = import_appointments(session, write_csv("appointments.csv", *GOOD))
    assert (same.counts["appointments"].created, same.counts["appointments"].unchanged) == (0, 3)

    rescheduled = (HEADER, "C-100,A-1,hearing,2026-12-10T11:00:00-05:00,Wake County Courthouse,scheduled")
    with database.transaction() as session:
        moved = import_appointments(session, write_csv("moved.csv", *rescheduled))
    assert (moved.counts["appointments"].created, moved.counts["appointments"].updated) == (0, 1)
    with database.session() as session:
        a1 = appointment(session, "A-1")
        assert (a1.id, a1.starts_at, a1.status) == (
            row_id,
            datetime(2026, 12, 10, 16, 0, tzinfo=UTC),
            "scheduled",
        )

    cancelled = (HEADER, "C-100,A-1,hearing,2026-12-10T11:00:00-05:00,Wake County Courthouse,Cancelled")
    with database.transaction() as session:
        dropped = import_appointments(session, write_csv("cancelled.csv", *cancelled))
    assert dropped.counts["appointments"].updated == 1
    with database.session() as session:
        a1 = appointment(session, "A-1")
        assert (a1.id, a1.status) == (row_id, "cancelled")
        assert count(session, Appointment) == 3


def test_the_same_appointment_twice_with_the_same_details_is_one_row(
    database,
    cases,
    write_csv,  # noqa: ANN001
) -> None:
    with database.transaction() as session:
        import_appointments(session, write_csv("appointments.csv", *GOOD, GOOD[1]))
    with database.session() as session:
        assert count(session, Appointment) == 3


def test_the_same_appointment_twice_with_other_details_names_both_lines(
    database,
    cases,
    write_csv,  # noqa: ANN001
) -> None:
    path = write_csv(
        "appointments.csv",
        *GOOD,
        "C-100,A-1,hearing,2026-12-03T10:30:00-05:00,Wake County Courthouse,scheduled",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_appointments(session, path)
    assert caught.value.report() == [
        "appointments.csv line 5, appointment_id: appears on line 2 with other details"
    ]
    with database.session() as session:
        assert count(session, Appointment) == 0


def test_the_same_instant_with_another_office_offset_is_other_details(
    database,
    cases,
    write_csv,  # noqa: ANN001
) -> None:
    path = write_csv(
        "appointments.csv",
        HEADER,
        "C-100,A-1,hearing,2026-12-03T09:30:00-05:00,Wake County Courthouse,scheduled",
        "C-100,A-1,hearing,2026-12-03T14:30:00+00:00,Wake County Courthouse,scheduled",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_appointments(session, path)
    assert caught.value.report() == [
        "appointments.csv line 3, appointment_id: appears on line 2 with other details"
    ]


def test_every_bad_row_is_named_and_nothing_is_written(database, cases, write_csv) -> None:  # noqa: ANN001
    path = write_csv(
        "appointments.csv",
        *GOOD,
        "C-999,A-5,hearing,2026-12-03T09:30:00-05:00,Wake office,scheduled",
        "C-100,A-6,trial,2026-12-03T09:30:00-05:00,Wake office,scheduled",
        "C-100,A-7,hearing,2026-12-03T09:30:00,Wake office,scheduled",
        "C-100,A-8,hearing,2026-12-03T09:30:00-05:00,Wake office,postponed",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_appointments(session, path)
    assert caught.value.report() == [
        "appointments.csv line 5, case_id: is not a case on file (import cases.csv first)",
        "appointments.csv line 6, kind: 'trial' is not one of hearing|appointment|genetic_testing|mediation",
        "appointments.csv line 7, starts_at: '2026-12-03T09:30:00' has no UTC offset "
        "(add one, e.g. -05:00 or Z)",
        "appointments.csv line 8, status: 'postponed' is not one of scheduled|cancelled",
    ]
    with database.session() as session:
        assert count(session, Appointment) == 0


def test_a_bad_reimport_leaves_the_stored_appointment_alone(database, cases, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_appointments(session, write_csv("appointments.csv", *GOOD))
    path = write_csv(
        "appointments.csv",
        HEADER,
        "C-100,A-1,hearing,2026-12-10T11:00:00-05:00,Wake County Courthouse,cancelled",
        "C-100,A-9,hearing,2026-12-10,Wake County Courthouse,scheduled",
    )
    with pytest.raises(ImportRejected), database.transaction() as session:
        import_appointments(session, path)
    with database.session() as session:
        a1 = appointment(session, "A-1")
        assert (a1.starts_at, a1.status) == (datetime(2026, 12, 3, 14, 30, tzinfo=UTC), "scheduled")
        assert count(session, Appointment) == 3
