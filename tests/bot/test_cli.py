"""The operators' commands, run through Flask's CLI runner against the real database."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import demo
from storage.models import ConsentEvent, Participant, Payment, PaymentSource
from storage.phones import find_phone

CASES_HEADER = "participant_id,phone,language,case_id,role,county,next_due_date,amount_due"


def test_import_cases_prints_a_summary(runner, write_csv) -> None:  # noqa: ANN001
    path = write_csv("cases.csv", CASES_HEADER, "P1,919-555-0101,en,C-1,custodial,Wake,2026-12-01,10.00")
    result = runner.invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("cases.csv: 1 rows imported; participants 1 new")


def test_import_with_bad_rows_names_each_and_exits_non_zero(runner, app, write_csv) -> None:  # noqa: ANN001
    path = write_csv(
        "cases.csv",
        CASES_HEADER,
        "P1,919-555-0101,en,C-1,custodial,Wake,2026-12-01,10.00",
        "P2,12,en,C-2,custodial,Wake,2026-12-01,10.00",
        "P3,919-555-0103,en,C-3,custodial,Wake,someday,10.00",
    )
    result = runner.invoke(args=["import-cases", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "cases.csv line 3, phone: is not a valid phone number",
        "cases.csv line 4, next_due_date: 'someday' is not a date in YYYY-MM-DD form",
        "Error: cases.csv: 2 bad row(s), nothing was imported",
    ]
    with app.extensions["database"].session() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 0


def test_import_payments_with_unknown_case(runner, write_csv) -> None:  # noqa: ANN001
    path = write_csv("payments.csv", "case_id,paid_on,amount,source", "NOPE-1,2026-01-02,10.00,direct")
    result = runner.invoke(args=["import-payments", str(path)])
    assert result.exit_code == 1
    assert "payments.csv line 2, case_id: is not a case on file (import cases.csv first)" in result.stderr


def test_missing_file_is_a_clear_error(runner, tmp_path) -> None:  # noqa: ANN001
    result = runner.invoke(args=["import-consent", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_large_import_shows_progress(runner, write_csv) -> None:  # noqa: ANN001
    rows = [f"P{i},919-{200 + i // 10000:03d}-{i % 10000:04d},en,C-{i},custodial,Wake,," for i in range(2500)]
    path = write_csv("cases.csv", CASES_HEADER, *rows)
    result = runner.invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    assert "Checking cases.csv" in result.stderr
    assert "Writing cases.csv" in result.stderr
    assert "2500 rows imported" in result.stdout


def test_seed_demo_loads_once_and_covers_every_situation(runner, app) -> None:  # noqa: ANN001
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "+19195550101" in first.stdout
    again = runner.invoke(args=["seed-demo"])
    assert "already loaded" in again.stdout
    cipher = app.extensions["cipher"]
    with app.extensions["database"].session() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == len(demo.PEOPLE)
        sources = set(session.scalars(select(Payment.source)))
        assert PaymentSource.FEDERAL_TAX_OFFSET.value in sources
        for number, _ in demo.PEOPLE:
            assert find_phone(session, cipher, number) is not None
        opted_out = find_phone(session, cipher, "+19195550105")
        kinds = session.scalars(
            select(ConsentEvent.kind).where(ConsentEvent.phone_number_id == opted_out.id)
        ).all()
        assert sorted(kinds) == ["opt_in", "opt_out"]
    refreshed = runner.invoke(args=["seed-demo", "--refresh"])
    assert refreshed.exit_code == 0
    with app.extensions["database"].session() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 6


def test_seed_demo_refuses_production(database_url) -> None:  # noqa: ANN001
    from bot import create_app
    from tests.conftest import app_settings

    app = create_app(
        app_settings(
            database_url, BOT_ENV="production", AGENCY_PHONE="1-888-555-0142", AGENCY_URL="https://a.example"
        )
    )
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "production" in result.stderr


def test_generate_key_makes_a_usable_key(runner) -> None:  # noqa: ANN001
    from storage.crypto import DataCipher

    result = runner.invoke(args=["generate-key"])
    key = result.stdout.strip()
    assert DataCipher([key]).decrypt(DataCipher([key]).encrypt("x")) == "x"
