"""payments.csv import: payments land on cases on file, identical rows stay separate, re-import adds
nothing, and a file with any bad row imports nothing and names every bad row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from storage.case_import import import_cases
from storage.csv_rows import ImportRejected
from storage.models import Case, Payment
from storage.payment_import import import_payments

CASES = (
    "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
    "P1,919-555-0101,en,C-100,noncustodial,Wake,2026-12-01,350.00",
    "P2,919-555-0102,en,C-200,noncustodial,Durham,,",
)
HEADER = "case_id,paid_on,amount,source"


def count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def case_id(session, case_ref: str) -> int:  # noqa: ANN001
    return session.scalar(select(Case.id).where(Case.case_ref == case_ref))


@pytest.fixture
def cases(database, cipher, write_csv) -> None:  # noqa: ANN001
    """C-100 and C-200 on file."""
    with database.transaction() as session:
        import_cases(session, write_csv("cases.csv", *CASES), cipher)


def test_payments_land_on_their_cases(database, cases, write_csv) -> None:  # noqa: ANN001
    path = write_csv(
        "payments.csv",
        HEADER,
        "C-100,2026-01-05,125.50,withholding",
        "C-200,2026-01-06,40,direct",
    )
    with database.transaction() as session:
        summary = import_payments(session, path)
    assert summary.rows == 2
    assert summary.counts["payments"].created == 2
    with database.session() as session:
        rows = session.execute(
            select(Payment.case_id, Payment.paid_on, Payment.amount, Payment.source, Payment.seq).order_by(
                Payment.paid_on
            )
        ).all()
        assert [tuple(row) for row in rows] == [
            (case_id(session, "C-100"), date(2026, 1, 5), Decimal("125.50"), "withholding", 1),
            (case_id(session, "C-200"), date(2026, 1, 6), Decimal("40.00"), "direct", 1),
        ]


def test_identical_rows_are_separate_payments_and_reimport_adds_nothing(
    database,
    cases,
    write_csv,  # noqa: ANN001
) -> None:
    lines = (HEADER, "C-100,2026-01-05,100.00,withholding", "C-100,2026-01-05,100.00,withholding")
    with database.transaction() as session:
        first = import_payments(session, write_csv("payments.csv", *lines))
    assert first.counts["payments"].created == 2
    with database.session() as session:
        assert count(session, Payment) == 2
        assert sorted(session.scalars(select(Payment.seq))) == [1, 2]

    with database.transaction() as session:
        again = import_payments(session, write_csv("payments.csv", *lines))
    assert (again.counts["payments"].created, again.counts["payments"].unchanged) == (0, 2)
    with database.session() as session:
        assert count(session, Payment) == 2

    # The next export still lists the two payments, plus a third identical one posted since.
    with database.transaction() as session:
        later = import_payments(session, write_csv("later.csv", *lines, lines[1]))
    assert (later.counts["payments"].created, later.counts["payments"].unchanged) == (1, 2)
    with database.session() as session:
        assert count(session, Payment) == 3


def test_same_amount_written_differently_is_the_same_payment(database, cases, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_payments(session, write_csv("a.csv", HEADER, "C-100,2026-01-05,100,direct"))
    with database.transaction() as session:
        again = import_payments(session, write_csv("b.csv", HEADER, "C-100,2026-01-05,100.00,DIRECT"))
    assert again.counts["payments"].unchanged == 1
    with database.session() as session:
        assert count(session, Payment) == 1


def test_same_day_and_amount_on_another_case_or_source_is_another_payment(
    database,
    cases,
    write_csv,  # noqa: ANN001
) -> None:
    path = write_csv(
        "payments.csv",
        HEADER,
        "C-100,2026-01-05,100.00,withholding",
        "C-200,2026-01-05,100.00,withholding",
        "C-100,2026-01-05,100.00,direct",
    )
    with database.transaction() as session:
        summary = import_payments(session, path)
    assert summary.counts["payments"].created == 3
    with database.session() as session:
        assert sorted(session.scalars(select(Payment.seq))) == [1, 1, 1]


def test_every_source_is_accepted_in_any_case(database, cases, write_csv) -> None:  # noqa: ANN001
    written = ["Withholding", "DIRECT", "Federal_Tax_Offset", "state_tax_offset", "UnEmployment", " other "]
    path = write_csv(
        "payments.csv",
        HEADER,
        *(f"C-100,2026-01-{day:02d},10.00,{src}" for day, src in enumerate(written, 1)),
    )
    with database.transaction() as session:
        import_payments(session, path)
    with database.session() as session:
        stored = session.scalars(select(Payment.source).order_by(Payment.paid_on)).all()
    assert stored == [
        "withholding",
        "direct",
        "federal_tax_offset",
        "state_tax_offset",
        "unemployment",
        "other",
    ]


def test_every_bad_row_is_named_and_nothing_is_written(database, cases, write_csv) -> None:  # noqa: ANN001
    with database.transaction() as session:
        import_payments(session, write_csv("first.csv", HEADER, "C-100,2026-01-02,1.00,direct"))
    future = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    path = write_csv(
        "payments.csv",
        HEADER,
        "C-100,2026-01-05,10.00,direct",
        "C-100,2026-01-05,10.00,lottery",
        "C-100,2026-02-30,10.00,direct",
        "C-999,2026-01-05,10.00,direct",
        "C-100,2026-01-05,0,direct",
        "C-100,2026-01-05,-5.00,direct",
        "C-100,2026-01-05,10.005,direct",
        f"C-100,{future},10.00,direct",
        "C-200,2026-01-07,20.00,withholding",
    )
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_payments(session, path)
    report = caught.value.report()
    assert str(caught.value) == "payments.csv: 7 bad row(s), nothing was imported"
    assert report == [
        "payments.csv line 3, source: 'lottery' is not one of "
        "withholding|direct|federal_tax_offset|state_tax_offset|unemployment|other",
        "payments.csv line 4, paid_on: '2026-02-30' is not a date in YYYY-MM-DD form",
        "payments.csv line 5, case_id: is not a case on file (import cases.csv first)",
        "payments.csv line 6, amount: '0' must be more than 0",
        "payments.csv line 7, amount: '-5.00' must be more than 0",
        "payments.csv line 8, amount: '10.005' is not an amount like 125.50",
        f"payments.csv line 9, paid_on: {future} is in the future",
    ]
    with database.session() as session:
        assert count(session, Payment) == 1  # only the earlier import's payment


def test_a_date_two_days_ahead_is_in_the_future(database, cases, write_csv) -> None:  # noqa: ANN001
    # One day of slack is allowed for exports written east of UTC; two days is not.
    ahead = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_payments(session, write_csv("payments.csv", HEADER, f"C-100,{ahead},1.00,direct"))
    assert caught.value.report() == [f"payments.csv line 2, paid_on: {ahead} is in the future"]


def test_only_the_last_row_of_a_long_file_bad_writes_nothing(database, cases, write_csv) -> None:  # noqa: ANN001
    good = [f"C-{100 if n % 2 else 200},2026-01-05,{n}.00,withholding" for n in range(1, 2501)]
    path = write_csv("payments.csv", HEADER, *good, "C-100,2026-01-05,12.00,bank_error")
    with pytest.raises(ImportRejected) as caught, database.transaction() as session:
        import_payments(session, path)
    assert caught.value.report() == [
        "payments.csv line 2502, source: 'bank_error' is not one of "
        "withholding|direct|federal_tax_offset|state_tax_offset|unemployment|other"
    ]
    with database.session() as session:
        assert count(session, Payment) == 0
    # The same rows without the bad one import completely (the file's size is not the problem).
    with database.transaction() as session:
        summary = import_payments(session, write_csv("payments.csv", HEADER, *good))
    assert summary.counts["payments"].created == 2500
    with database.session() as session:
        assert count(session, Payment) == 2500
