"""Reading the agency's CSV files: header checks, encodings, and line numbers an operator can trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.csv_rows import CsvFile, ImportRejected, read_csv

COLUMNS = ("case_id", "paid_on", "amount", "source")
HEADER = "case_id,paid_on,amount,source"
ROW = "C-1,2026-01-05,10.00,direct"


def write_bytes(tmp_path: Path, data: bytes, name: str = "payments.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rejected(path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        read_csv(path, COLUMNS)
    return caught.value.report()


def test_a_clean_file_gives_rows_with_their_line_numbers(write_csv) -> None:  # noqa: ANN001
    csv_file = read_csv(write_csv("payments.csv", HEADER, ROW, "C-2,2026-01-06,20.00,other"), COLUMNS)
    assert isinstance(csv_file, CsvFile)
    assert csv_file.source == "payments.csv"
    assert [(row.line, row.values) for row in csv_file.rows] == [
        (2, {"case_id": "C-1", "paid_on": "2026-01-05", "amount": "10.00", "source": "direct"}),
        (3, {"case_id": "C-2", "paid_on": "2026-01-06", "amount": "20.00", "source": "other"}),
    ]


def test_header_columns_may_come_in_any_order_and_case(write_csv) -> None:  # noqa: ANN001
    csv_file = read_csv(
        write_csv("payments.csv", " Source ,AMOUNT,paid_on,case_id", "direct,10.00,2026-01-05,C-1"), COLUMNS
    )
    assert csv_file.rows[0].values == {
        "source": "direct",
        "amount": "10.00",
        "paid_on": "2026-01-05",
        "case_id": "C-1",
    }


def test_a_missing_column_is_named(write_csv) -> None:  # noqa: ANN001
    assert rejected(write_csv("payments.csv", "case_id,paid_on,amount", "C-1,2026-01-05,10.00")) == [
        "payments.csv line 1: header lacks source (expected case_id,paid_on,amount,source)"
    ]


def test_an_unexpected_column_is_refused(write_csv) -> None:  # noqa: ANN001
    # Extra columns are refused, not ignored: an export with a "name" (or ssn, address, dob) column carries
    # personal data this product must never hold, and refusing it makes the operator fix the export
    # instead of feeding PII through the importer unnoticed.
    path = write_csv("payments.csv", f"{HEADER},name", f"{ROW},Jane Doe")
    assert rejected(path) == [
        "payments.csv line 1: header has unexpected name (expected case_id,paid_on,amount,source)"
    ]


def test_a_repeated_column_is_refused(write_csv) -> None:  # noqa: ANN001
    path = write_csv("payments.csv", f"{HEADER},Amount", f"{ROW},20.00")
    assert rejected(path) == ["payments.csv line 1: header repeats amount"]


def test_every_header_problem_is_reported_at_once(write_csv) -> None:  # noqa: ANN001
    path = write_csv("payments.csv", "case_id,paid_on,paid_on,ssn", "C-1,2026-01-05,2026-01-05,x")
    with pytest.raises(ImportRejected) as caught:
        read_csv(path, COLUMNS)
    assert str(caught.value) == "payments.csv: 1 bad row(s), nothing was imported"
    assert caught.value.report() == [
        "payments.csv line 1: header lacks amount, source (expected case_id,paid_on,amount,source)",
        "payments.csv line 1: header has unexpected ssn (expected case_id,paid_on,amount,source)",
        "payments.csv line 1: header repeats paid_on",
    ]


def test_a_header_only_file_is_refused(write_csv) -> None:  # noqa: ANN001
    assert rejected(write_csv("payments.csv", HEADER)) == [
        "payments.csv line 2: no data rows after the header"
    ]
    assert rejected(write_csv("payments.csv", HEADER, "", " , , , ", "")) == [
        "payments.csv line 2: no data rows after the header"
    ]


@pytest.mark.parametrize("data", [b"", b"\n", b"\xef\xbb\xbf", b" \r\n\r\n"])
def test_an_empty_file_is_refused(tmp_path: Path, data: bytes) -> None:
    assert rejected(write_bytes(tmp_path, data)) == ["payments.csv line 1: is empty: expected a header row"]


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    report = rejected(tmp_path / "payments.csv")
    assert len(report) == 1
    assert report[0].startswith("payments.csv ")
    assert "cannot be read" in report[0]


def test_invalid_utf8_is_reported_on_its_line(tmp_path: Path) -> None:
    data = f"{HEADER}\n{ROW}\n".encode() + b"C-2,2026-01-05,10.00,dir\xe9ct\n" + f"{ROW}\n".encode()
    assert rejected(write_bytes(tmp_path, data)) == ["payments.csv line 3: is not valid UTF-8"]


def test_invalid_utf8_at_the_start_of_a_line_is_reported_on_that_line(tmp_path: Path) -> None:
    data = f"{HEADER}\n{ROW}\n".encode() + b"\xff-2,2026-01-05,10.00,direct\n"
    assert rejected(write_bytes(tmp_path, data)) == ["payments.csv line 3: is not valid UTF-8"]


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + f"{HEADER}\r\n{ROW}\r\n".encode()
    csv_file = read_csv(write_bytes(tmp_path, data), COLUMNS)
    assert [(row.line, row.values["case_id"]) for row in csv_file.rows] == [(2, "C-1")]


def test_invalid_utf8_after_a_bom_is_reported_on_its_line(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + f"{HEADER}\n{ROW}\n".encode() + b"\xff-2,2026-01-05,10.00,direct\n"
    assert rejected(write_bytes(tmp_path, data)) == ["payments.csv line 3: is not valid UTF-8"]


def test_a_row_with_the_wrong_number_of_fields_is_named(write_csv) -> None:  # noqa: ANN001
    path = write_csv("payments.csv", HEADER, ROW, "C-2,2026-01-05,10.00", ROW, f"{ROW},extra")
    assert rejected(path) == [
        "payments.csv line 3: has 3 fields, the header has 4",
        "payments.csv line 5: has 5 fields, the header has 4",
    ]


def test_a_quoted_newline_keeps_later_line_numbers_right(tmp_path: Path) -> None:
    # Line 3 holds a field that runs on to line 4, so the short row is on line 6.
    data = f'{HEADER}\n{ROW}\n"C-2",2026-01-05,10.00,"dir\nect"\n{ROW}\nC-4,2026-01-05\n'.encode()
    assert rejected(write_bytes(tmp_path, data)) == ["payments.csv line 6: has 2 fields, the header has 4"]
    good = f'{HEADER}\n"C-1\r\n",2026-01-05,10.00,direct\n{ROW}\n'.encode()
    csv_file = read_csv(write_bytes(tmp_path, good), COLUMNS)
    assert [row.line for row in csv_file.rows] == [2, 4]
    assert csv_file.rows[0].values["case_id"] == "C-1\r\n"


def test_blank_lines_are_skipped_and_counted(write_csv) -> None:  # noqa: ANN001
    path = write_csv("payments.csv", HEADER, "", ROW, "", "", "C-2,2026-01-05,10.00,other", "")
    csv_file = read_csv(path, COLUMNS)
    assert [(row.line, row.values["case_id"]) for row in csv_file.rows] == [(3, "C-1"), (6, "C-2")]


def test_crlf_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    data = f"{HEADER}\r\n{ROW}\r\nC-2,2026-01-05\r\n".encode()
    assert rejected(write_bytes(tmp_path, data)) == ["payments.csv line 3: has 2 fields, the header has 4"]


def test_broken_quoting_is_refused(tmp_path: Path) -> None:
    data = f'{HEADER}\n{ROW}\n"C-2"x,2026-01-05,10.00,direct\n'.encode()
    report = rejected(write_bytes(tmp_path, data))
    assert len(report) == 1
    assert report[0].startswith("payments.csv line 3: is not valid CSV")


def test_an_unclosed_quote_is_reported_where_it_starts(tmp_path: Path) -> None:
    data = f'{HEADER}\n{ROW}\nC-2,"2026-01-05,10.00,direct\n{ROW}\n{ROW}\n{ROW}\n'.encode()
    report = rejected(write_bytes(tmp_path, data))
    assert len(report) == 1
    assert report[0].startswith("payments.csv line 3: is not valid CSV")
