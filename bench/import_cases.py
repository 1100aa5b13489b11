"""Benchmark: how fast `import_cases` loads a cases.csv export, against the cheapest possible load.

What it measures, per backend (SQLite file and/or a throwaway PostgreSQL database):

  baseline             the same file read with csv.DictReader and inserted raw into one plain table
                       (SQLAlchemy Core, executemany in chunks of 1000, one transaction)
  first import         storage.case_import.import_cases into a freshly migrated, empty schema
  re-import unchanged  the same file again: every row already on file, nothing to write
  re-import 10% moved  a copy where ~10% of the cases (so ~10% of the rows) have a new next_due_date

Each import runs in one transaction (Database.transaction(), as `flask --app bot import-cases` does) and
its time includes reading, checking and committing. The "check" and "write" columns split it at the
importer's own progress stages. parse_phone's cache is cleared before each import, as a new CLI process
would start with it empty. Peak RSS is the whole process's high-water mark so far (resource.getrusage),
so later steps and backends include what earlier ones used.

After each import the script counts participants, cases, case_members and phone_numbers and compares
them (and every case's next_due_date) with what it generated; a mismatch exits 1. The target is
"100,000 case rows import in well under a minute", taken as < 30 s for every import step; a miss
prints FAIL and exits 2.

Run from the repository root:

    .venv/bin/python bench/import_cases.py                      # 100,000 rows, sqlite and postgresql
    .venv/bin/python bench/import_cases.py --rows 20000 --backend sqlite
    .venv/bin/python bench/import_cases.py --backend postgresql \\
        --database-url postgresql://postgres@127.0.0.1:5432/test

--database-url names a PostgreSQL server (and a database on it to connect to for administration); the
benchmark creates `bench_import_<random>` there and drops it at the end. SQLite uses a temporary file.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import phonenumbers
import psycopg
from psycopg import sql
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage import fields, schema  # noqa: E402
from storage.bulk import ImportSummary  # noqa: E402
from storage.case_import import COLUMNS, import_cases  # noqa: E402
from storage.crypto import DataCipher, generate_key  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Case, CaseMember, Participant, PhoneNumber  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_SECONDS = 30.0
TARGET_ROWS = 100_000
CHANGED_SHARE = 0.10

AREA_CODES = ("919", "704", "336", "252", "828", "910", "980", "984")
COUNTIES = (
    "Alamance", "Brunswick", "Buncombe", "Cabarrus", "Catawba", "Craven", "Cumberland", "Davidson",
    "Durham", "Forsyth", "Gaston", "Guilford", "Harnett", "Henderson", "Iredell", "Johnston", "Mecklenburg",
    "New Hanover", "Nash", "Onslow", "Orange", "Pitt", "Randolph", "Robeson", "Rowan", "Union", "Wake",
    "Wayne", "Wilson",
)  # fmt: skip
PHONE_FORMATS: tuple[Callable[[str, str, str], str], ...] = (
    lambda a, e, s: f"({a}) {e}-{s}",
    lambda a, e, s: f"{a}-{e}-{s}",
    lambda a, e, s: f"+1{a}{e}{s}",
    lambda a, e, s: f"{a}.{e}.{s}",
)


# --------------------------------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------------------------------


@dataclass
class Generated:
    """What was written to cases.csv: the counts the database must end up holding."""

    rows: int
    participants: int
    cases: int
    case_members: int
    phone_numbers: int
    due_dates: dict[str, date | None]  # case_id -> next_due_date


def _cases_per_participant(rng: random.Random) -> int:
    # Mean ~1.67 cases per participant, so ~60% as many participants as rows.
    return rng.choices((1, 2, 3), weights=(50, 33, 17))[0]


def _participant_slots(rng: random.Random, total: int, first_id: int) -> tuple[list[int], int]:
    """`total` slots, each a participant id, a participant holding 1-3 of them; shuffled."""
    slots: list[int] = []
    participant = first_id
    while len(slots) < total:
        slots.extend([participant] * min(_cases_per_participant(rng), total - len(slots)))
        participant += 1
    rng.shuffle(slots)
    return slots, participant


def _new_phone(rng: random.Random, taken: set[str]) -> tuple[str, str, str]:
    """A valid US number no one else has, as (area code, exchange, subscriber)."""
    while True:
        parts = (rng.choice(AREA_CODES), str(rng.randint(200, 999)), f"{rng.randint(0, 9999):04d}")
        e164 = "+1" + "".join(parts)
        if e164 not in taken and phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            taken.add(e164)
            return parts


def generate_cases_csv(path: Path, rows: int, seed: int) -> Generated:
    """Write a realistic cases.csv of exactly `rows` rows that the importer accepts."""
    rng = random.Random(seed)
    # Every case has one custodial parent; about 70% also list the noncustodial parent.
    n_cases = max(1, round(rows / 1.7))
    n_noncustodial = rows - n_cases
    custodial, next_id = _participant_slots(rng, n_cases, 1)
    noncustodial, end_id = _participant_slots(rng, n_noncustodial, next_id)
    with_noncustodial = rng.sample(range(n_cases), n_noncustodial)
    noncustodial_of = dict(zip(with_noncustodial, noncustodial, strict=True))

    taken: set[str] = set()
    language: dict[int, str] = {}
    phones: dict[int, list[tuple[str, str, str]]] = {}
    for participant in range(1, end_id):
        language[participant] = "es" if rng.random() < 0.2 else "en"
        phones[participant] = [_new_phone(rng, taken)]
        if rng.random() < 0.04:  # a second number, used on some of the participant's rows
            phones[participant].append(_new_phone(rng, taken))

    today = date(2026, 3, 1)
    used_phones: set[str] = set()
    due_dates: dict[str, date | None] = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(n_cases):
            case_ref = f"NC{20000000 + index * 7:010d}"
            county = rng.choice(COUNTIES)
            due = today + timedelta(days=rng.randint(1, 45)) if rng.random() < 0.95 else None
            amount = f"{rng.randint(2500, 150000) / 100:.2f}" if rng.random() < 0.93 else ""
            due_dates[case_ref] = due
            members = [(custodial[index], "custodial")]
            if index in noncustodial_of:
                members.append((noncustodial_of[index], "noncustodial"))
            for participant, role in members:
                area, exchange, subscriber = rng.choice(phones[participant])
                used_phones.add(area + exchange + subscriber)
                lang = language[participant]
                writer.writerow(
                    (
                        f"P{700000000 + participant:09d}",
                        rng.choice(PHONE_FORMATS)(area, exchange, subscriber),
                        lang.upper() if rng.random() < 0.05 else lang,
                        case_ref,
                        role,
                        county,
                        due.isoformat() if due else "",
                        amount,
                    )
                )
    return Generated(
        rows=rows,
        participants=end_id - 1,
        cases=n_cases,
        case_members=rows,
        phone_numbers=len(used_phones),
        due_dates=due_dates,
    )


def write_changed_copy(source: Path, target: Path, generated: Generated, seed: int) -> dict[str, date | None]:
    """Copy cases.csv giving ~10% of the cases a new next_due_date; returns every case's due date in it."""
    rng = random.Random(seed + 1)
    cases = sorted(generated.due_dates)
    changed = set(rng.sample(cases, max(1, round(len(cases) * CHANGED_SHARE))))
    due_dates = dict(generated.due_dates)
    for case_ref in changed:
        due_dates[case_ref] = (due_dates[case_ref] or date(2026, 3, 1)) + timedelta(days=30)
    with (
        source.open(newline="", encoding="utf-8") as reader,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in csv.DictReader(reader):
            due = due_dates[row["case_id"]]
            row["next_due_date"] = due.isoformat() if due else ""
            writer.writerow(row)
    return due_dates


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


class StageTimer:
    """A Progress that remembers how long each of the importer's stages ("Checking", "Writing") took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._label = ""
        self._started = 0.0

    def start(self, label: str, total: int) -> None:
        self._label, self._started = label.split()[0].lower(), time.perf_counter()

    def advance(self, steps: int) -> None:
        pass

    def finish(self) -> None:
        self.seconds[self._label] = self.seconds.get(self._label, 0.0) + time.perf_counter() - self._started


@dataclass
class Step:
    name: str
    rows: int
    seconds: float
    peak_rss_mb: float
    stages: dict[str, float] = field(default_factory=dict)
    summary: ImportSummary | None = None


def _read_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def time_baseline(database: Database, path: Path) -> Step:
    """Read the file with csv.DictReader and insert the rows as they are into one plain table."""
    table = Table(
        "bench_baseline_rows",
        MetaData(),
        Column("id", Integer, primary_key=True),
        *(Column(name, String(64)) for name in COLUMNS),
    )
    table.create(database.engine)
    rows = 0
    started = time.perf_counter()
    with database.engine.begin() as connection, path.open(newline="", encoding="utf-8") as handle:
        batch: list[dict[str, str]] = []
        for row in csv.DictReader(handle):
            batch.append(row)
            if len(batch) == 1000:
                connection.execute(table.insert(), batch)
                rows += len(batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
            rows += len(batch)
    seconds = time.perf_counter() - started
    table.drop(database.engine)
    return Step("baseline (raw insert)", rows, seconds, peak_rss_mb())


def time_import(name: str, database: Database, path: Path, cipher: DataCipher, rows: int) -> Step:
    """One import_cases call in one transaction, timed including the commit."""
    fields._e164.cache_clear()  # a new CLI process starts with an empty cache
    stages = StageTimer()
    started = time.perf_counter()
    with database.transaction() as session:
        summary = import_cases(session, path, cipher, stages)
    seconds = time.perf_counter() - started
    return Step(name, rows, seconds, peak_rss_mb(), stages.seconds, summary)


# --------------------------------------------------------------------------------------------------
# Checking the result
# --------------------------------------------------------------------------------------------------


def verify(
    database: Database,
    generated: Generated,
    due_dates: dict[str, date | None],
    step: Step,
    expect: dict[str, tuple[int, int, int]],
) -> list[str]:
    """Problems found: table counts, every case's due date, and the summary's created/updated/unchanged."""
    problems: list[str] = []
    wanted = {
        "participants": (Participant, generated.participants),
        "cases": (Case, generated.cases),
        "case members": (CaseMember, generated.case_members),
        "phone numbers": (PhoneNumber, generated.phone_numbers),
    }
    with database.session() as session:
        for table, (model, count) in wanted.items():
            found = session.scalar(select(func.count()).select_from(model))
            if found != count:
                problems.append(f"{step.name}: {table} holds {found} rows, generated {count}")
        stored = {ref: due for ref, due in session.execute(select(Case.case_ref, Case.next_due_date))}
    wrong = [ref for ref, due in due_dates.items() if stored.get(ref, "missing") != due]
    if wrong:
        problems.append(f"{step.name}: {len(wrong)} cases have the wrong next_due_date (e.g. {wrong[0]})")
    assert step.summary is not None
    for table, (created, updated, unchanged) in expect.items():
        counts = step.summary.counts[table]
        if (counts.created, counts.updated, counts.unchanged) != (created, updated, unchanged):
            problems.append(
                f"{step.name}: summary says {table} {counts}, expected "
                f"{created} new, {updated} updated, {unchanged} unchanged"
            )
    return problems


def expectations(generated: Generated, kind: str, changed: int = 0) -> dict[str, tuple[int, int, int]]:
    totals = {
        "participants": generated.participants,
        "cases": generated.cases,
        "phone numbers": generated.phone_numbers,
        "case members": generated.case_members,
    }
    if kind == "first":
        return {table: (n, 0, 0) for table, n in totals.items()}
    expect = {table: (0, 0, n) for table, n in totals.items()}
    if kind == "changed":
        expect["cases"] = (0, changed, generated.cases - changed)
    return expect


# --------------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{workdir / 'bench.sqlite3'}")
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def postgresql_database(admin_url: str) -> Iterator[Database]:
    """A new database `bench_import_<random>` on the server of admin_url, dropped afterwards."""
    admin = make_url(admin_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    name = f"bench_import_{uuid.uuid4().hex[:10]}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database = Database(admin.set(database=name).render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def server_version(database: Database) -> str:
    with database.engine.connect() as connection:
        info = connection.dialect.server_version_info or ()
    return ".".join(str(part) for part in info)


# --------------------------------------------------------------------------------------------------
# One backend, and the report
# --------------------------------------------------------------------------------------------------


def run_backend(
    database: Database,
    cases_csv: Path,
    changed_csv: Path,
    generated: Generated,
    changed_due: dict[str, date | None],
) -> tuple[list[Step], list[str]]:
    """Migrate, then time the baseline and the three imports, checking the database after each import."""
    schema.upgrade(database)
    cipher = DataCipher([generate_key()])
    changed = sum(changed_due[ref] != due for ref, due in generated.due_dates.items())
    plan = (
        ("first import", cases_csv, generated.due_dates, expectations(generated, "first")),
        ("re-import, unchanged", cases_csv, generated.due_dates, expectations(generated, "unchanged")),
        (
            f"re-import, {changed:,} cases changed",
            changed_csv,
            changed_due,
            expectations(generated, "changed", changed),
        ),
    )
    steps = [time_baseline(database, cases_csv)]
    problems: list[str] = []
    for name, path, due_dates, expect in plan:
        step = time_import(name, database, path, cipher, generated.rows)
        steps.append(step)
        problems += verify(database, generated, due_dates, step, expect)
    return steps, problems


def print_report(title: str, steps: list[Step]) -> bool:
    """Print one backend's table; True when every import step met the target."""
    baseline = steps[0].seconds
    print(f"\n== {title} ==")
    header = f"{'step':<32}{'rows':>9}{'seconds':>9}{'rows/s':>10}{'x baseline':>12}{'check s':>9}"
    print(header + f"{'write s':>9}{'peak RSS MB':>13}")
    for step in steps:
        check = f"{step.stages['checking']:.2f}" if "checking" in step.stages else "-"
        write = f"{step.stages['writing']:.2f}" if "writing" in step.stages else "-"
        print(
            f"{step.name:<32}{step.rows:>9,}{step.seconds:>9.2f}{step.rows / step.seconds:>10,.0f}"
            f"{step.seconds / baseline:>12.1f}{check:>9}{write:>9}{step.peak_rss_mb:>13,.0f}"
        )
    imports = steps[1:]
    slowest = max(imports, key=lambda s: s.seconds)
    ok = slowest.seconds < TARGET_SECONDS
    scale = "" if slowest.rows == TARGET_ROWS else f" [target is stated for {TARGET_ROWS:,} rows]"
    print(
        f"{'PASS' if ok else 'FAIL'}: slowest import ({slowest.name}) of {slowest.rows:,} rows took "
        f'{slowest.seconds:.2f} s; target < {TARGET_SECONDS:.0f} s ("well under a minute"){scale}'
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=TARGET_ROWS, help="rows in cases.csv (default 100000)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_ADMIN_URL,
        help=f"PostgreSQL server to create the throwaway database on (default {DEFAULT_ADMIN_URL})",
    )
    parser.add_argument("--seed", type=int, default=20260301, help="random seed for the generated file")
    args = parser.parse_args(argv)
    if args.rows < 2:
        parser.error("--rows must be at least 2")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)

    all_ok, problems = True, []
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        workdir = Path(tmp)
        cases_csv, changed_csv = workdir / "cases.csv", workdir / "cases_changed.csv"
        started = time.perf_counter()
        generated = generate_cases_csv(cases_csv, args.rows, args.seed)
        changed_due = write_changed_copy(cases_csv, changed_csv, generated, args.seed)
        moved = {ref for ref, due in generated.due_dates.items() if changed_due[ref] != due}
        changed_rows = sum(row["case_id"] in moved for row in _read_rows(cases_csv))
        print(
            f"Generated {generated.rows:,} rows in {time.perf_counter() - started:.1f} s "
            f"({cases_csv.stat().st_size / 1e6:.1f} MB): {generated.participants:,} participants, "
            f"{generated.cases:,} cases, {generated.case_members:,} case members, "
            f"{generated.phone_numbers:,} phone numbers; the changed copy moves the due date of "
            f"{len(moved):,} cases ({changed_rows:,} rows)"
        )
        for backend in backends:
            if backend == "sqlite":
                context = sqlite_database(workdir)
            else:
                context = postgresql_database(args.database_url)
            try:
                with context as database:
                    title = f"{backend} {server_version(database)}"
                    steps, found = run_backend(database, cases_csv, changed_csv, generated, changed_due)
            except (psycopg.OperationalError, OSError) as exc:
                print(f"\n== {backend} ==\nERROR: cannot set up the database: {exc}".rstrip())
                return 1
            all_ok = print_report(title, steps) and all_ok
            problems += found
    if problems:
        print("\nVERIFICATION FAILED:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("\nVerification: table counts, due dates and import summaries match the generated data.")
    return 0 if all_ok else 2


if __name__ == "__main__":
    sys.exit(main())
