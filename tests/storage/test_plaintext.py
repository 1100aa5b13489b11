"""No phone number is ever written to disk in the clear: read the SQLite file's raw bytes after imports."""

from __future__ import annotations

from pathlib import Path

from storage import schema
from storage.case_import import import_cases
from storage.consent_import import import_consent
from storage.database import Database

CASES = (
    "participant_id,phone,language,case_id,role,county,next_due_date,amount_due",
    "P1,(919) 555-0101,en,C-100,custodial,Wake,2026-12-01,350.00",
    "P2,+1 919-555-0102,es,C-100,noncustodial,Wake,2026-12-01,350.00",
)
CONSENT = (
    "phone,status,method,recorded_at,reference",
    "919.555.0101,opted_in,web,2026-03-02T10:00:00-05:00,WEB-1001",
    "9195550103,opted_in,technician,2026-03-02T11:00:00-05:00,TECH-77",
    "+19195550102,opted_out,sms,2026-03-03T09:00:00Z,SMS-88",
)
LAST_FOUR = ("0101", "0102", "0103")


def forms(last_four: str) -> list[str]:
    """The ways a person or a program writes the number 919-555-<last_four>."""
    return [
        f"919555{last_four}",
        f"919-555-{last_four}",
        f"+1919555{last_four}",
        f"(919) 555-{last_four}",
        f"919.555.{last_four}",
        f"555-{last_four}",
        f"555{last_four}",
    ]


def files_of(database: Database) -> dict[str, bytes]:
    main = Path(database.url.database)
    found = {main.name: main.read_bytes()}
    for suffix in ("-wal", "-journal"):
        extra = main.with_name(main.name + suffix)
        if extra.exists():
            found[extra.name] = extra.read_bytes()
    return found


def assert_no_phone_numbers(files: dict[str, bytes]) -> None:
    for name, data in files.items():
        for last_four in LAST_FOUR:
            for form in forms(last_four):
                for encoded in (form.encode("utf-8"), form.encode("utf-16-le")):
                    assert encoded not in data, f"{form!r} found in {name}"


def test_imports_leave_no_phone_number_in_the_sqlite_files(tmp_path: Path, cipher, write_csv) -> None:  # noqa: ANN001
    # A database file of its own: the shared test database may hold pages from other tests, and this
    # test must judge only what these imports wrote.
    database = Database(f"sqlite:///{tmp_path / 'plaintext.sqlite3'}")
    try:
        schema.upgrade(database)
        with database.transaction() as session:
            import_cases(session, write_csv("cases.csv", *CASES), cipher)
        with database.transaction() as session:
            import_consent(session, write_csv("consent.csv", *CONSENT), cipher)
        # While connections are open the newest pages sit in the write-ahead log.
        open_files = files_of(database)
        assert "plaintext.sqlite3-wal" in open_files
        assert len(open_files["plaintext.sqlite3-wal"]) > 0
        assert_no_phone_numbers(open_files)
        assert b"TECH-77" in b"".join(open_files.values())  # the search does see what was written
    finally:
        database.dispose()
    # Closing checkpoints the log into the main file.
    assert_no_phone_numbers(files_of(database))
    assert b"TECH-77" in b"".join(files_of(database).values())
