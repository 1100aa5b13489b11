"""cases.csv import: validation names every bad row and writes nothing; re-import updates in place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from storage.case_import import import_cases
from storage.csv_rows import ImportRejected
from storage.models import Case, CaseMember, Participant, PhoneNumber
from storage.phones import find_phone

HEADER = "participant_id,phone,language,case_id,role,county,next_due_date,amount_due"
GOOD = (
    HEADER,
    "P1,(919) 555-0101,en,C-100,custodial,Wake,2026-12-01,350.00",
    "P2,+1 919-555-0102,es,C-100,noncustodial,Wake,2026-12-01,350.00",
    "P2,919.555.0102,ES,C-200,noncustodial,Durham,,",
)


def count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def test_clean_file_imports_everything(database, cipher, write_csv) -> None:  # noqa: ANN001
    path = write_csv("cases.csv", *GOOD)
    with database.transaction() as session:
        summary = import_cases(session, path, cipher)
    assert summary.rows == 3
    assert summary.counts["participants"].created == 2
    assert summary.counts["cases"].created == 2
    assert summary.counts["phone numbers"].created == 2
    assert summary.counts["case members"].created == 3
    with database.session() as session:
        c100 = session.scalars(select(Case).where(Case.case_ref == "C-100")).one()
        assert (c100.county, c100.next_due_date, c100.amount_due) == (
            "Wake",
            date(2026, 12, 1),
            Decimal("350.00"),
        )
        c200 = session.scalars(select(Case).where(Case.case_ref == "C-200")).one()
        assert (c200.next_due_date, c200.amount_due) == (None, None)
        p2 = session.scalars(select(Participant).where(Participant.external_id == "P2")).one()
        assert p2.language == "es"
        phone = find_phone(session, cipher, "+19195550102")
        assert phone is not None and phone.participant_id == p2.id
        assert cipher.decrypt(phone.number_enc) == "+19195550102"
        roles = session.scalars(select(CaseMember.role).where(CaseMember.participant_id == p2.id)).all()
        assert roles == ["noncustodial", "noncustodial"]


def test_reimport_updates_and_never_duplicates(database, cipher, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_cases(session, write_csv("cases.csv", *GOOD), cipher)
    with database.transaction() as session:
        again = import_cases(session, write_csv("cases.csv", *GOOD), cipher)
    assert again.counts["participants"].unchanged == 2
    assert again.counts["cases"].unchanged == 2
    assert again.counts["phone numbers"].unchanged == 2
    assert again.counts["case members"].unchanged == 3
    changed = (
        HEADER,
        "P1,(919) 555-0101,es,C-100,custodial,Wake,2027-01-01,360.00",
        "P2,+1 919-555-0102,es,C-100,noncustodial,Wake,2027-01-01,360.00",
    )
    with database.transaction() as session:
        summary = import_cases(session, write_csv("cases2.csv", *changed), cipher)
    assert summary.counts["participants"].updated == 1
    assert summary.counts["cases"].updated == 1
    with database.session() as session:
        assert count(session, Participant) == 2
        assert count(session, Case) == 2
        assert count(session, PhoneNumber) == 2
        assert count(session, CaseMember) == 3
        c100 = session.scalars(select(Case).where(Case.case_ref == "C-100")).one()
        assert (c100.next_due_date, c100.amount_due) == (date(2027, 1, 1), Decimal("360.00"))


def test_a_bad_row_imports_nothing_and_every_bad_row_is_named(database, cipher, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_cases(session, write_csv("first.csv", *GOOD[:2]), cipher)
    path = write_csv(
        "cases.csv",
        HEADER,
        "P9,919-555-0109,en,C-900,custodial,Wake,2026-12-01,10.00",
        "P10,555-01,en,C-901,custodial,Wake,2026-12-01,10.00",
        "P11,919-555-0111,fr,C-902,parent,Wake,2026-13-01,ten",
        "P12,919-555-0112,en,C-903,custodial,,2026-12-01,-5",
        "P13,+44 20 7946 0000,en,C-904,custodial,Wake,2026-12-01,1.00",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_cases(session, path, cipher)
    report = "\n".join(caught.value.report())
    assert str(caught.value) == "cases.csv: 4 bad row(s), nothing was imported"
    assert "cases.csv line 3, phone: is not a valid phone number" in report
    assert "cases.csv line 4, language: 'fr' is not one of en|es" in report
    assert "cases.csv line 4, role: 'parent' is not one of custodial|noncustodial" in report
    assert "cases.csv line 4, next_due_date: '2026-13-01' is not a date in YYYY-MM-DD form" in report
    assert "cases.csv line 4, amount_due: 'ten' is not an amount like 125.50" in report
    assert "cases.csv line 5, county: is empty" in report
    assert "cases.csv line 5, amount_due: '-5' must be at least 0" in report
    assert "cases.csv line 6, phone: is not a US phone number" in report
    assert "line 2" not in report
    assert "555-01" not in report  # phone numbers are never echoed back
    with database.session() as session:
        assert count(session, Participant) == 1
        assert session.scalar(select(Case.case_ref)) == "C-100"


def test_rows_that_contradict_each_other_are_rejected(database, cipher, write_csv) -> None:  # noqa: ANN001
    path = write_csv(
        "cases.csv",
        HEADER,
        "P1,919-555-0101,en,C-1,custodial,Wake,2026-12-01,1.00",
        "P1,919-555-0101,es,C-2,custodial,Wake,2026-12-01,1.00",
        "P2,919-555-0101,en,C-3,custodial,Wake,2026-12-01,1.00",
        "P3,919-555-0103,en,C-1,custodial,Durham,2026-12-01,1.00",
        "P1,919-555-0101,en,C-1,noncustodial,Wake,2026-12-01,1.00",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_cases(session, path, cipher)
    report = caught.value.report()
    assert "cases.csv line 3, language: differs from line 2 for the same participant_id" in report
    assert "cases.csv line 4, phone: is given for another participant_id on line 2" in report
    assert "cases.csv line 5: county, next_due_date or amount_due differ from line 2 for case_id" in report
    assert "cases.csv line 6, role: differs from line 2 for the same participant and case" in report
    with database.session() as session:
        assert count(session, Participant) == 0


def test_a_recycled_number_moves_to_its_new_owner(database, cipher, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_cases(session, write_csv("a.csv", HEADER, "P1,919-555-0101,en,C-1,custodial,Wake,,"), cipher)
    with database.transaction() as session:
        summary = import_cases(
            session, write_csv("b.csv", HEADER, "P2,919-555-0101,en,C-2,custodial,Wake,,"), cipher
        )
    assert summary.counts["phone numbers"].updated == 1
    with database.session() as session:
        phone = find_phone(session, cipher, "+19195550101")
        owner = session.get(Participant, phone.participant_id)
        assert owner.external_id == "P2"
        assert count(session, PhoneNumber) == 1
