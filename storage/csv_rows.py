"""Reading the agency's CSV files: header checks, line numbers, and the problems found in rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.fields import FieldError


@dataclass(frozen=True)
class RowProblem:
    """Why one row (or the file itself, line 1 being its header) cannot be imported."""

    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ImportRejected(Exception):
    """A file had problems, so nothing from it was imported."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: p.line)
        bad_lines = len({p.line for p in self.problems})
        super().__init__(f"{source}: {bad_lines} bad row(s), nothing was imported")

    def report(self) -> list[str]:
        """Every problem as one line naming the file, the line and the field."""
        return [f"{self.source} {problem}" for problem in self.problems]


@dataclass
class CsvRow:
    """One data row with its (first) line number in the file."""

    line: int
    values: dict[str, str]


@dataclass
class CsvFile:
    """A whole CSV file, read and checked for shape but not yet for content."""

    source: str
    rows: list[CsvRow]


def read_csv(path: str | Path, columns: Sequence[str]) -> CsvFile:
    """Read a UTF-8 CSV file whose header names exactly `columns` (in any order).

    Raises ImportRejected for an unreadable file, a wrong header, bad UTF-8 or rows of the wrong width.
    """
    path = Path(path)
    source = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRejected(source, [RowProblem(0, None, f"cannot be read ({exc.strerror})")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # utf-8-sig counts positions after the BOM; count lines in the same bytes.
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        line = body[: exc.start].count(b"\n") + 1
        raise ImportRejected(source, [RowProblem(line, None, "is not valid UTF-8")]) from None
    return parse_csv_text(source, text, columns)


def parse_csv_text(source: str, text: str, columns: Sequence[str]) -> CsvFile:
    """Parse CSV text (see read_csv)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[RowProblem] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportRejected(source, [RowProblem(1, None, f"header is not CSV ({exc})")]) from None
    if header is None or not any(cell.strip() for cell in header):
        raise ImportRejected(source, [RowProblem(1, None, "is empty: expected a header row")])
    names = [cell.strip().lower() for cell in header]
    if "" in names:
        problems.append(RowProblem(1, None, "header has an empty column name (a stray comma?)"))
    missing = [c for c in columns if c not in names]
    unknown = [n for n in names if n and n not in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    expected = ",".join(columns)
    if missing:
        problems.append(RowProblem(1, None, f"header lacks {', '.join(missing)} (expected {expected})"))
    if unknown:
        problems.append(
            RowProblem(1, None, f"header has unexpected {', '.join(unknown)} (expected {expected})")
        )
    if repeated:
        problems.append(RowProblem(1, None, f"header repeats {', '.join(repeated)}"))
    if problems:
        raise ImportRejected(source, problems)

    rows: list[CsvRow] = []
    first_line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # Name the line where the broken row starts (an unclosed quote swallows the rest of the file).
            problem = RowProblem(first_line, None, f"is not valid CSV ({exc}); look for an unclosed quote")
            raise ImportRejected(source, [problem]) from None
        if cells and any(cell.strip() for cell in cells):
            if len(cells) != len(names):
                problems.append(
                    RowProblem(first_line, None, f"has {len(cells)} fields, the header has {len(names)}")
                )
            else:
                rows.append(CsvRow(first_line, dict(zip(names, cells, strict=True))))
        first_line = reader.line_num + 1
    if problems:
        raise ImportRejected(source, problems)
    if not rows:
        raise ImportRejected(source, [RowProblem(2, None, "no data rows after the header")])
    return CsvFile(source, rows)


@dataclass
class RowCheck:
    """Collects the problems of one row while its fields are parsed, so all of them are reported."""

    row: CsvRow
    problems: list[RowProblem] = field(default_factory=list)

    def get(self, name: str, parse: Callable[..., Any], **options: Any) -> Any:
        """Parse field `name` with `parse`; on failure record the problem and return None."""
        try:
            return parse(self.row.values[name], **options)
        except FieldError as exc:
            self.problems.append(RowProblem(self.row.line, name, str(exc)))
            return None

    def fail(self, name: str | None, reason: str) -> None:
        """Record a problem that is not about one field's format (a conflict, an unknown case)."""
        self.problems.append(RowProblem(self.row.line, name, reason))

    @property
    def ok(self) -> bool:
        """True when no problem has been recorded for this row."""
        return not self.problems
