"""create-supervisor and export, as operators run them."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select
from werkzeug.security import check_password_hash

from storage.models import Supervisor, SupervisorAccess, utcnow
from tests.dashboard.conftest import ACCOUNTS, SCRIPT_TEXT
from tests.webhooks.conftest import VERIFIED_EN, sqlite_only


@sqlite_only
def test_create_supervisor_reads_the_password_from_stdin_and_hashes_it(app, runner) -> None:  # noqa: ANN001
    result = runner.invoke(
        args=["create-supervisor", "Kim@Agency.gov", "--role", "auditor"], input="a long password 1\n"
    )
    assert result.exit_code == 0, result.output
    with app.extensions["database"].session() as session:
        account = session.scalars(select(Supervisor)).one()
    assert account.email == "kim@agency.gov" and account.role == "auditor"
    assert account.password_hash.startswith("scrypt:") and check_password_hash(
        account.password_hash, "a long password 1"
    )
    again = runner.invoke(
        args=["create-supervisor", "kim@agency.gov", "--role", "admin"], input="another password\n"
    )
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(args=["create-supervisor", "lee@agency.gov", "--role", "admin"], input="short\n")
    assert short.exit_code == 1 and "12 characters" in short.output
    bad_role = runner.invoke(
        args=["create-supervisor", "lee@agency.gov", "--role", "boss"], input="x" * 20 + "\n"
    )
    assert bad_role.exit_code == 2


def test_export_writes_records_with_the_chain_check_and_is_logged(talked) -> None:  # noqa: ANN001
    runner = talked.test_cli_runner()
    by = ["--by", ACCOUNTS["auditor"]]
    result = runner.invoke(args=["export", "--phone", "919-555-0101", "--format", "json", *by])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["hash_chain"]["intact"] is True
    assert SCRIPT_TEXT in [m["body"] for m in document["messages"]]
    today = utcnow().date().isoformat()
    result = runner.invoke(args=["export", "--since", today, "--until", today, "--format", "csv", *by])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows[0]["record"] == "hash_chain" and rows[0]["body"].startswith("intact: 12 records")
    assert {r["phone"] for r in rows if r["record"] == "message"} >= {VERIFIED_EN}
    with talked.extensions["database"].session() as session:
        logged = session.execute(select(SupervisorAccess.target, SupervisorAccess.detail)).all()
    assert [t for t, _ in logged] == [
        f"phone #{document['scope']['phone_number_id']}",
        f"range {today}..{today}",
    ]
    assert all(detail.startswith("cli, os user ") for _, detail in logged)
    assert all("555" not in target for target, _ in logged)


def test_export_refuses_bad_requests_with_one_line(talked) -> None:  # noqa: ANN001
    runner = talked.test_cli_runner()
    auditor = ["--by", ACCOUNTS["auditor"]]
    cases = [
        (["export", *auditor], "give either"),
        (["export", "--phone", "919-555-0101", "--since", "2026-01-01", *auditor], "give either"),
        (["export", "--since", "2026-01-02", "--until", "2026-01-01", *auditor], "before --since"),
        (["export", "--since", "yesterday", "--until", "2026-01-01", *auditor], "not a date"),
        (["export", "--phone", "12", *auditor], "--phone"),
        (["export", "--phone", "919-555-0188", *auditor], "no records"),
        (["export", "--phone", "919-555-0101", "--by", ACCOUNTS["supervisor"]], "auditor or admin"),
    ]
    for args, reason in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert reason in result.output, (args, result.output)
    with talked.extensions["database"].session() as session:
        assert session.scalars(select(SupervisorAccess)).all() == []
