"""Benchmark: due_soon notices through RQ workers to the local Twilio server, against plain client loops.

Run from the repository root:

    .venv/bin/python bench/outbound_load.py                      # 100,000 notices, 3,000 at SEND_RATE=100
    .venv/bin/python bench/outbound_load.py --messages 5000      # a quick run
    .venv/bin/python bench/outbound_load.py --profile 3000       # and where a worker's time goes
    .venv/bin/python bench/outbound_load.py --messages 10000 --latency-ms 100   # Twilio's answer time

What it does (issue 5's benchmark):

1. A throwaway PostgreSQL database `bench_outbound_<random>` on --admin-url's server, `flask --app bot
   migrate`, then participants loaded through the real importers (`import-cases`, `import-consent`, from
   generated CSV files): --messages payers with a case due in 3 days and a web opt-in (authenticated, so
   verified), --rated more due in 4 days, --profile more due in 5 days. Fictional NC numbers
   +1 919 2xx xxxx (so the time zone is known), 20 % Spanish.
2. Starts the local Twilio server (`twilio_fake.spawn()`, its own process; with --latency-ms every
   create is answered that long after it arrives, as Twilio takes ~100-300 ms) and a gunicorn serving
   `bot.wsgi:app` (`python -m gunicorn --workers N`, N = --web-workers) that receives the fake's
   status callbacks on the real, signed `/webhooks/status`, as in production (--no-callbacks: none).
   Every process gets BOT_ENV=development, fresh SECRET_KEY/DATA_KEYS/TWILIO_AUTH_TOKEN,
   QUIET_HOURS=00:00-00:00 (development only: the run must not depend on the hour), a unique
   QUEUE_NAME, REDIS_URL, TWILIO_API_URL = the fake, PUBLIC_BASE_URL = the gunicorn.
3. Baseline, same run, same fake: `twilio.rest.Client.messages.create` in a plain loop, set up exactly as
   the app's TwilioSender (TwilioHttpClient(timeout=10), api.base_url = the fake), no StatusCallback:
   --baseline messages from 1 process, then the same count from 2 processes (one loop each, started
   together). Messages/s is counted at the fake: from the first create to the last. With --latency-ms
   a loop waits out every answer, so --baseline defaults to 300 then (its rate is the same from a
   bounded count).
4. Rate limit off (SEND_RATE=10000, the most the settings allow: slots 0.1 ms apart, never waited for
   at these speeds): `flask --app bot send-reminders --kind due_soon --today T` timed on its own
   (planning, writing the outbox rows, enqueueing), then --workers RQ workers exactly as the Procfile
   runs them (`rq worker --url $REDIS_URL --worker-class rq.worker.SimpleWorker --with-scheduler
   $QUEUE_NAME`) with `--burst`, each sending SEND_CONCURRENCY rows at once (--concurrency, default
   the setting's 8). Messages/s from the first create at the fake to the last.
   Target: >= 80 % of the 2-process baseline (the fair comparison for 2 workers; the issue's "a plain
   loop" is the 1-process one, whose ratio is printed too).
5. SEND_RATE=--rate (100): --rated notices the same way. From the fake's creation times (to the
   microsecond): the busiest 1-second window (sliding, [t, t+1 s) for every message's t), the mean
   rate over the steady state (the first and the last second left out) and its ratio to the rate.
   Target: no window above the rate, and the mean >= 95 % of it.
6. Checks the record after each phase: every outbox row sent (delivered, with callbacks), every
   message created once at the fake (no To+Body twice) with the row's SID, every callback answered 200,
   an outbound exchange-log record per message; at the end `flask --app bot verify-log`.
7. CPU seconds and peak RSS per process (workers and send-reminders: CPU from wait4's rusage, peak
   RSS sampled from /proc; gunicorn, the fake and PostgreSQL backends from /proc, backends sampled
   every 0.2 s; Redis from INFO), CPU ms per message, and the rest of the machine (other people's
   jobs share the 2 cores).
8. --profile N (optional): N more notices through one RQ SimpleWorker in a subprocess under cProfile:
   time per message by component (RQ, claim, consent, Fernet, the twilio client, the exchange log...).
   With SEND_CONCURRENCY=1 (cProfile sees only the thread it runs in; the per-row work is the same).
9. Cleans up on error, Ctrl-C or SIGTERM: kills workers, gunicorn and the fake, drops the database,
   deletes the queue's Redis keys.

Exit status: 0 when both targets are met and the record is right, 2 when a target is missed, 1 when
the record is wrong or the run failed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import io
import os
import pstats
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg
import redis
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import twilio_fake  # noqa: E402
from bench.webhook_load import Server, children, cpu_ticks, free_port  # noqa: E402
from storage.crypto import generate_key  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SENDER = "+15005550006"
TARGET_RATIO = 0.80
TARGET_RATE_SHARE = 0.95
RATE_OFF = 10000  # the most SEND_RATE may be (bot/settings.py)
HZ = os.sysconf("SC_CLK_TCK")
BASELINE_BODY = (
    "NC Child Support: a payment on your case ending 1234 is due Friday, June 12. "
    "Pay online or call us. Reply STOP to opt out."
)


# ---------------------------------------------------------------------------------------------------
# The baseline: a plain loop of creates, in its own process (started by this script with --loop)


def loop_process(url: str, account_sid: str, auth_token: str, count: int, first: int) -> int:
    """Set up the client as TwilioSender does, say ready, wait for "go" on stdin, send `count` creates."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    from bot.outbound.twilio_api import TIMEOUT_SECONDS

    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    client.api.base_url = url.rstrip("/")
    print("ready", flush=True)
    sys.stdin.readline()
    for index in range(first, first + count):
        client.messages.create(to=f"+1919{3000000 + index:07d}", from_=SENDER, body=BASELINE_BODY)
    return 0


def run_loops(fake: twilio_fake.FakeTwilio, processes: int, total: int, first: int) -> list[Usage]:
    """`total` creates from `processes` loop processes started together; their rusage."""
    share = total // processes
    procs = []
    for n in range(processes):
        command = [sys.executable, __file__, "--loop", fake.url, fake.account_sid, fake.auth_token]
        command += [str(share), str(first + n * share)]
        procs.append(
            subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a baseline loop did not start")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        usages = [reap(proc, f"loop {n + 1}") for n, proc in enumerate(procs)]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                proc.wait()
    if any(usage.status != 0 for usage in usages):
        raise RuntimeError(f"a baseline loop failed: {usages}")
    return usages


# ---------------------------------------------------------------------------------------------------
# Processes and their resources


@dataclass
class Usage:
    """What one finished process used: CPU seconds, peak RSS, exit status."""

    name: str
    cpu: float
    max_rss_mib: float
    status: int
    wall: float = 0.0


def reap(proc: subprocess.Popen, name: str, peak_mib: float | None = None) -> Usage:  # type: ignore[type-arg]
    """Wait for a child with wait4: its own and its waited-for children's CPU. Peak RSS: `peak_mib`
    if sampled (wait4's ru_maxrss carries over the parent's high-water mark from fork, across exec)."""
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = rusage.ru_maxrss / 1024 if peak_mib is None else peak_mib
    return Usage(name, rusage.ru_utime + rusage.ru_stime, peak, proc.returncode)


def watch(procs: list[subprocess.Popen], timeout: float) -> dict[int, float]:  # type: ignore[type-arg]
    """Wait until every child has exited (not reaped), sampling each one's peak RSS (VmHWM, its own
    children included) every 0.1 s; MiB by pid."""
    peaks = {proc.pid: 0.0 for proc in procs}
    deadline = time.monotonic() + timeout
    while True:
        running = [proc for proc in procs if not _exited(proc)]
        for proc in running:
            rss = max((peak_rss_mib(pid) for pid in [proc.pid, *children(proc.pid)]), default=0.0)
            peaks[proc.pid] = max(peaks[proc.pid], rss)
        if not running:
            return peaks
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(running)} processes still running after {timeout:.0f} s")
        time.sleep(0.1)


def peak_rss_mib(pid: int) -> float:
    """A running process's peak resident set (VmHWM), MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / HZ


class BackendSampler:
    """Samples the CPU ticks and peak RSS of the database's PostgreSQL backends every 0.2 s (they come
    and go with the workers' connections, so a before/after snapshot would miss them)."""

    def __init__(self, admin_conninfo: str, database: str) -> None:
        self.admin, self.database = admin_conninfo, database
        self.ticks: dict[int, int] = {}
        self.rss: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BackendSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            own = connection.info.backend_pid
            while True:
                rows = connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
                    (self.database,),
                ).fetchall()
                pids = [pid for (pid,) in rows if pid != own]
                for pid, ticks in cpu_ticks(pids).items():
                    self.ticks[pid] = max(ticks, self.ticks.get(pid, 0))
                    self.rss[pid] = max(self.rss.get(pid, 0.0), peak_rss_mib(pid))
                if self._stop.wait(0.2):
                    return

    def cpu_since(self, before: dict[int, int]) -> float:
        return sum(ticks - before.get(pid, 0) for pid, ticks in self.ticks.items()) / HZ


def redis_cpu(connection: redis.Redis) -> float:
    info = connection.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


# ---------------------------------------------------------------------------------------------------
# Set-up: database, data, Redis keys


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[tuple[str, str, str]]:
    """Create `bench_outbound_<random>`; yield (name, its URL, admin conninfo); drop it afterwards."""
    admin = make_url(admin_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    name = f"bench_outbound_{secrets.token_hex(5)}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name, admin.set(database=name).render_as_string(hide_password=False), conninfo
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def delete_queue_keys(connection: redis.Redis, queue: str) -> int:
    """Every Redis key of this queue: the queue, its registries, their jobs, the workers, the rate key."""
    job_ids: set[str] = set()
    names = [f"rq:queue:{queue}"] + [
        f"rq:{kind}:{queue}" for kind in ("wip", "finished", "failed", "scheduled", "deferred", "canceled")
    ]
    for name in names:
        kind = connection.type(name)
        if kind == b"list":
            job_ids.update(v.decode() for v in connection.lrange(name, 0, -1))
        elif kind == b"zset":
            job_ids.update(v.decode().split(":", 1)[0] for v in connection.zrange(name, 0, -1))
    keys = [f"rq:job:{job_id}" for job_id in job_ids] + [f"rq:results:{job_id}" for job_id in job_ids]
    keys += [key.decode() for key in connection.scan_iter(match=f"*{queue}*", count=1000)]
    deleted = 0
    for start in range(0, len(keys), 1000):
        deleted += connection.delete(*keys[start : start + 1000])
    return deleted


def phone(index: int) -> str:
    """+1 919 2xx xxxx: fictional Raleigh numbers (Eastern time), written as operators' exports do."""
    digits = f"{2000000 + index:07d}"
    return f"919-{digits[:3]}-{digits[3:]}"


@dataclass(frozen=True)
class Batch:
    """Participants whose due_soon notice goes out when send-reminders runs with --today `today`."""

    name: str
    first: int
    count: int
    today: date


def write_csvs(folder: Path, batches: list[Batch], seed: int = 5) -> tuple[Path, Path]:
    rng = random.Random(seed)
    cases, consent = io.StringIO(), io.StringIO()
    case_rows, consent_rows = csv.writer(cases, lineterminator="\n"), csv.writer(consent, lineterminator="\n")
    case_rows.writerow(
        ["participant_id", "phone", "language", "case_id", "role", "county", "next_due_date", "amount_due"]
    )
    consent_rows.writerow(["phone", "status", "method", "recorded_at", "reference"])
    for batch in batches:
        due = (batch.today + timedelta(days=3)).isoformat()
        for index in range(batch.first, batch.first + batch.count):
            language = "es" if rng.random() < 0.2 else "en"
            amount = f"{rng.randrange(50, 900)}.00"
            case_rows.writerow(
                [
                    f"P{index:07d}",
                    phone(index),
                    language,
                    f"C{index:07d}",
                    "noncustodial",
                    "Wake",
                    due,
                    amount,
                ]
            )
            consent_rows.writerow([phone(index), "opted_in", "web", "2026-01-05T10:00:00-05:00", f"W{index}"])
    paths = folder / "cases.csv", folder / "consent.csv"
    paths[0].write_text(cases.getvalue())
    paths[1].write_text(consent.getvalue())
    return paths


def flask(env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    """Run `flask --app bot ARGS`; its output, or RuntimeError."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"flask {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    return done.stdout.strip()


def flask_measured(env: dict[str, str], *args: str) -> tuple[str, Usage]:
    """Like flask(), with CPU and peak RSS from wait4 (output to a temporary file, not a pipe)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "bot", *args], cwd=ROOT, env=env, stdout=out, stderr=err
        )
        try:
            usage = reap(proc, args[0], watch([proc], 3600)[proc.pid])
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        usage.wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if usage.status != 0:
            raise RuntimeError(
                f"flask {' '.join(args)} failed ({usage.status}): {err.read().strip()[-2000:]}"
            )
        return out.read().strip(), usage


# ---------------------------------------------------------------------------------------------------
# Workers


def rq_command(env: dict[str, str]) -> list[str]:
    """The Procfile's worker line with --burst: rq worker --url --worker-class --with-scheduler QUEUE."""
    rq = str(Path(sys.executable).parent / "rq")
    return [
        rq,
        "worker",
        "--url",
        env["REDIS_URL"],
        "--worker-class",
        "rq.worker.SimpleWorker",
        "--with-scheduler",
        "--burst",
        env["QUEUE_NAME"],
    ]


class Workers:
    """--workers RQ workers; killed on clean-up if still running."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []  # type: ignore[type-arg]

    def start(self, count: int, env: dict[str, str], logs: Path, label: str) -> None:
        for n in range(count):
            with (logs / f"{label}-worker{n + 1}.log").open("wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        rq_command(env),
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def wait(self, timeout: float) -> list[Usage]:
        peaks = watch(self.procs, timeout)
        usages = [reap(proc, f"worker {n + 1}", peaks[proc.pid]) for n, proc in enumerate(self.procs)]
        self.procs = []
        return usages

    def kill(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []


def _exited(proc: subprocess.Popen) -> bool:  # type: ignore[type-arg]
    """Has the child exited (a zombie, not reaped: wait4 still gets its rusage)?"""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


# ---------------------------------------------------------------------------------------------------
# Analysis


def span_rate(created: list[float]) -> float:
    """Messages per second from the first create to the last."""
    if len(created) < 2:
        return 0.0
    return (len(created) - 1) / (created[-1] - created[0])


def busiest_window(created: list[float], width: float = 1.0) -> tuple[int, float]:
    """The most creates in any [t, t + width) (t at every create), and where that window starts."""
    best, start_at, j = 0, 0.0, 0
    for i, t in enumerate(created):
        j = max(j, i)
        while j < len(created) and created[j] < t + width:
            j += 1
        if j - i > best:
            best, start_at = j - i, t
    return best, start_at


def per_second(created: list[float]) -> list[int]:
    """Creates in each whole second from the first create."""
    counts = Counter(int(t - created[0]) for t in created)
    return [counts.get(s, 0) for s in range(int(created[-1] - created[0]) + 1)]


@dataclass
class Phase:
    name: str
    messages: int
    created: list[float] = field(default_factory=list)
    workers: list[Usage] = field(default_factory=list)
    reminders: Usage | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    @property
    def rate(self) -> float:
        return span_rate(self.created)


def check_phase(
    fake_messages: list[dict], database_url: str, batch: Batch, callbacks: bool
) -> tuple[list[str], bool]:
    """The outbox rows of a batch against what the fake received."""
    lines, good = [], True
    mine = [
        m for m in fake_messages if batch.first <= int(m["to"][-7:]) - 2000000 < batch.first + batch.count
    ]
    pairs = Counter((m["to"], m["body"]) for m in mine)
    twice = sum(1 for n in pairs.values() if n > 1)
    sids = {m["sid"] for m in mine}
    failed_callbacks = sum(1 for m in mine for c in m["callbacks"] if c["http_status"] != 200)
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT status, twilio_sid FROM outbound_messages WHERE dedupe_key LIKE %s",
            (f"due_soon:%:{(batch.today + timedelta(days=3)).isoformat()}:3d:%",),
        ).fetchall()
        logged = connection.execute(
            "SELECT count(*) FROM exchanges WHERE direction = 'outbound' AND message_sid = ANY(%s)",
            (list(sids),),
        ).fetchone()[0]
    statuses = Counter(status for status, _ in rows)
    row_sids = Counter(sid for _, sid in rows)
    final = "delivered" if callbacks else "sent"
    lines.append(
        f"  record: {len(rows)} outbox rows {dict(statuses)}; {len(mine)} messages at the fake, "
        f"{twice} To+Body twice; {logged} outbound log records; failed callbacks: {failed_callbacks}"
    )
    problems = []
    if len(rows) != batch.count or statuses != Counter({final: batch.count}):
        problems.append(f"expected {batch.count} rows all {final}")
    if len(mine) != batch.count or twice:
        problems.append(f"expected {batch.count} messages at the fake, each once")
    if set(row_sids) != sids or any(n != 1 for n in row_sids.values()):
        problems.append("outbox SIDs differ from the fake's")
    if logged != batch.count:
        problems.append(f"expected {batch.count} outbound log records")
    if callbacks and failed_callbacks:
        problems.append("callbacks failed")
    if problems:
        good = False
        lines.append("  FAIL record: " + "; ".join(problems))
    return lines, good


# ---------------------------------------------------------------------------------------------------
# The profile: one worker in a subprocess under cProfile


PROFILE_PARTS = (
    ("RQ: dequeue, job bookkeeping, logging", None),
    ("  send_notices / send_notice (the jobs)", None),
    ("    Courier.deliver", ("bot/outbound/delivery.py", "deliver")),
    ("      claim + number (UPDATE ... RETURNING)", ("storage/outbox.py", "claim_to_send")),
    ("      number moved? subject changed?", ("bot/outbound/delivery.py", "_changed")),
    ("      quiet hours", ("bot/outbound/quiet_hours.py", "next_allowed")),
    ("      rate limit (Redis script)", ("bot/outbound/rate_limit.py", "reserve")),
    ("      rate limit (waiting for the slot)", ("bot/outbound/rate_limit.py", "wait_until")),
    ("      consent (ledger.current_state)", ("consent/ledger.py", "current_state")),
    ("      twilio create (TwilioSender.send)", ("bot/outbound/twilio_api.py", "send")),
    ("      record: mark sent + exchange log", ("bot/outbound/delivery.py", "record_sent")),
    ("        exchange_log.append", ("storage/exchange_log.py", "append")),
    ("  Fernet decrypt (all)", ("storage/crypto.py", "decrypt")),
    ("  Fernet encrypt (all)", ("storage/crypto.py", "encrypt")),
    ("  COMMIT (all)", ("sqlalchemy/engine/base.py", "commit")),
    ("  waiting for PostgreSQL (psycopg wait, all)", ("psycopg/connection.py", "wait")),
)


def profile_worker(queue: str, redis_url: str, out_path: str) -> int:
    """Run one SimpleWorker in burst mode under cProfile (env: the app's settings); dump the stats."""
    from rq import Queue
    from rq.worker import SimpleWorker

    connection = redis.Redis.from_url(redis_url)
    worker = SimpleWorker([Queue(queue, connection=connection)], connection=connection)
    profiler = cProfile.Profile()
    profiler.enable()
    worker.work(burst=True, logging_level="WARNING")
    profiler.disable()
    profiler.dump_stats(out_path)
    return 0


def profile_summary(path: str, messages: int) -> list[str]:
    stats = pstats.Stats(path)
    raw = stats.stats  # type: ignore[attr-defined]

    def cumulative(suffix: str, name: str) -> float:
        return sum(ct for (f, _, n), (_, _, _, ct, _) in raw.items() if n == name and f.endswith(suffix))

    total = cumulative("rq/worker/base.py", "work") or cumulative("rq/worker.py", "work")

    lines = [f"  profile of one worker, {messages} messages, {1000 * total / messages:.2f} ms each in all:"]
    job = cumulative("bot/outbound/jobs.py", "send_notice") + cumulative(
        "bot/outbound/jobs.py", "send_notices"
    )
    for n, (label, where) in enumerate(PROFILE_PARTS):
        seconds = (total - job if n == 0 else job) if where is None else cumulative(*where)
        lines.append(f"    {1000 * seconds / messages:7.3f} ms  {label}")
    by_package: Counter[str] = Counter()
    for (filename, _, _), (_, _, tt, _, _) in raw.items():
        by_package[package_of(filename)] += tt
    lines.append("  own time by package (ms per message):")
    for package, seconds in by_package.most_common(12):
        lines.append(f"    {1000 * seconds / messages:7.3f} ms  {package}")
    buffer = io.StringIO()
    pstats.Stats(path, stream=buffer).sort_stats("tottime").print_stats(15)
    lines.append("  top functions by own time:")
    lines += ["    " + line for line in buffer.getvalue().splitlines() if line.strip()][-16:]
    return lines


def package_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "built-ins (C: sockets, hashing, time.sleep...)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if str(ROOT) in filename:
        return "app: " + Path(filename).relative_to(ROOT).parts[0]
    return "python stdlib"


# ---------------------------------------------------------------------------------------------------
# The run


def cpu_table(phase: Phase, usages: dict[str, tuple[float, float]]) -> list[str]:
    """CPU seconds, ms per message and peak RSS per process kind for a phase."""
    lines = [f"  {'process':<34}{'CPU s':>8}{'ms/msg':>9}{'peak RSS MiB':>14}"]
    for name, (cpu, rss) in usages.items():
        rss_text = f"{rss:14.0f}" if rss else f"{'-':>14}"
        lines.append(f"  {name:<34}{cpu:8.1f}{1000 * cpu / max(phase.messages, 1):9.2f}{rss_text}")
    return lines


def run(args: argparse.Namespace) -> int:  # noqa: PLR0915 - one straight script
    account_sid = twilio_fake.TEST_ACCOUNT_SID
    auth_token = secrets.token_hex(16)
    queue = f"bench-outbound-{secrets.token_hex(5)}"
    redis_connection = redis.Redis.from_url(args.redis_url)
    redis_connection.ping()
    today = date.today()
    batches = [
        Batch("rate off", 0, args.messages, today),
        Batch(f"SEND_RATE={args.rate:g}", args.messages, args.rated, today + timedelta(days=1)),
    ]
    if args.profile:
        batches.append(Batch("profile", args.messages + args.rated, args.profile, today + timedelta(days=2)))
    targets_met, record_ok = True, True
    workers = Workers()
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: print(f"deleted {delete_queue_keys(redis_connection, queue)} Redis keys"))
        stack.callback(workers.kill)
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_outbound_")))
        name, database_url, admin_conninfo = stack.enter_context(throwaway_database(args.admin_url))
        fake = stack.enter_context(
            twilio_fake.spawn(account_sid=account_sid, auth_token=auth_token, latency_ms=args.latency_ms)
        )
        fake_pid = int(fake.stats()["pid"])
        web = Server("web", "bot.wsgi:app", free_port(), logs / "web.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "REDIS_", "TWILIO_"))}
        env |= {
            "BOT_ENV": "development",
            "SECRET_KEY": secrets.token_hex(32),
            "DATA_KEYS": generate_key(),
            "TWILIO_ACCOUNT_SID": account_sid,
            "TWILIO_AUTH_TOKEN": auth_token,
            "TWILIO_API_URL": fake.url,
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url,
            "QUEUE_NAME": queue,
            "QUIET_HOURS": "00:00-00:00",
            "SEND_RATE": str(RATE_OFF),
            "SEND_CONCURRENCY": str(args.concurrency),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        if args.callbacks:
            env["PUBLIC_BASE_URL"] = web.base_url
        print(
            f"{os.cpu_count()} CPUs shared by everything; database {name}, queue {queue}, fake {fake.url}"
            + (f", callbacks to gunicorn {web.base_url}" if args.callbacks else ", no status callbacks")
        )
        print(
            f"SEND_CONCURRENCY={args.concurrency} per worker, {args.workers} workers; Twilio latency "
            f"{args.latency_ms:g} ms (the fake answers each create that long after it arrives)"
        )
        print(f"migrate: {flask(env, 'migrate').splitlines()[-1]}")
        cases_csv, consent_csv = write_csvs(logs, batches)
        total = sum(batch.count for batch in batches)
        for command, path in (("import-cases", cases_csv), ("import-consent", consent_csv)):
            started = time.perf_counter()
            out = flask(env, command, str(path))
            print(f"{command} ({total} rows): {time.perf_counter() - started:.1f} s; {out.splitlines()[-1]}")
        if args.callbacks:
            stack.callback(web.stop)
            command_env = env | {"WEB_CONCURRENCY": str(args.web_workers)}
            web.start(args.web_workers, command_env)
            web.wait_ready("/healthz")

        # Baselines: the same fake, the same client set-up, no callbacks.
        run_loops(fake, 1, 200, 0)  # warm-up (connections, imports, the fake's code paths)
        fake.reset()
        baseline: dict[int, float] = {}
        baseline_count = args.baseline or (300 if args.latency_ms else 10_000)
        for processes in (1, 2):
            run_loops(fake, processes, baseline_count, 0)
            created = sorted(m["created"] for m in fake.messages())
            if len(created) != baseline_count // processes * processes:
                raise RuntimeError(f"baseline: the fake has {len(created)} messages")
            baseline[processes] = span_rate(created)
            print(f"baseline, {processes} loop(s): {baseline[processes]:.0f} messages/s ({len(created)})")
            fake.reset()

        phases: list[Phase] = []
        for batch, rate in zip(batches, (RATE_OFF, args.rate, RATE_OFF), strict=False):
            phase_env = env | {"SEND_RATE": str(rate)}
            if batch.name == "profile":  # cProfile sees only its own thread: rows in turn, in it
                phase_env["SEND_CONCURRENCY"] = "1"
            phase = Phase(batch.name, batch.count)
            with BackendSampler(admin_conninfo, name) as backends:
                time.sleep(0.3)
                before_backends = dict(backends.ticks)
                out, phase.reminders = flask_measured(
                    phase_env, "send-reminders", "--kind", "due_soon", "--today", batch.today.isoformat()
                )
                print(
                    f"\n[{batch.name}] send-reminders: {phase.reminders.wall:.1f} s wall, "
                    f"{phase.reminders.cpu:.1f} s CPU, {phase.reminders.max_rss_mib:.0f} MiB; "
                    + " / ".join(out.splitlines())
                )
                if f"queued for the workers: {batch.count}" not in out:
                    raise RuntimeError(f"send-reminders did not queue {batch.count}: {out}")
                mid_backends = dict(backends.ticks)
                web_pids = web.pids() if args.callbacks else []
                before = {
                    "web": cpu_ticks(web_pids),
                    "fake": cpu_ticks([fake_pid]),
                    "redis": redis_cpu(redis_connection),
                    "machine": machine_busy_seconds(),
                }
                started = time.perf_counter()
                if batch.name == "profile":
                    profile_path = str(logs / "worker.prof")
                    command = [
                        sys.executable,
                        __file__,
                        "--profile-worker",
                        queue,
                        args.redis_url,
                        profile_path,
                    ]
                    proc = subprocess.Popen(command, cwd=ROOT, env=phase_env)
                    workers.procs.append(proc)
                    phase.workers = workers.wait(timeout=3600)
                else:
                    workers.start(args.workers, phase_env, logs, batch.name.split("=")[0].replace(" ", "-"))
                    phase.workers = workers.wait(timeout=3600)
                phase.wall = time.perf_counter() - started
                if args.callbacks:
                    fake.wait_for_callbacks(timeout=1800)
                after_web = cpu_ticks(web_pids)
                phase.cpu = {
                    "web": sum(t - before["web"].get(p, 0) for p, t in after_web.items()) / HZ,
                    "fake": (cpu_ticks([fake_pid]).get(fake_pid, 0) - before["fake"].get(fake_pid, 0)) / HZ,
                    "redis": redis_cpu(redis_connection) - before["redis"],
                    "machine": machine_busy_seconds() - before["machine"],
                    "elapsed": time.perf_counter() - started,
                }
                time.sleep(0.3)
                phase.cpu["postgres"] = backends.cpu_since(mid_backends)
                phase.cpu["postgres (send-reminders)"] = (
                    sum(mid_backends.get(p, 0) - before_backends.get(p, 0) for p in mid_backends) / HZ
                )
                pg_rss = max(backends.rss.values(), default=0.0)
            if any(usage.status != 0 for usage in phase.workers):
                raise RuntimeError(f"a worker failed: {phase.workers}")
            messages = fake.messages()
            phase.created = sorted(m["created"] for m in messages)
            lines, good = check_phase(messages, database_url, batch, args.callbacks)
            record_ok &= good
            phases.append(phase)
            fake.reset()

            workers_cpu = sum(u.cpu for u in phase.workers)
            usages = {
                f"{len(phase.workers)} worker(s) (rq, incl. scheduler)": (
                    workers_cpu,
                    max(u.max_rss_mib for u in phase.workers),
                ),
                "PostgreSQL backends (this db)": (phase.cpu["postgres"], pg_rss),
                "twilio_fake": (phase.cpu["fake"], peak_rss_mib(fake_pid)),
                "Redis (whole server)": (phase.cpu["redis"], 0.0),
            }
            if args.callbacks:
                usages[f"gunicorn ({args.web_workers} workers, callbacks)"] = (
                    phase.cpu["web"],
                    max((peak_rss_mib(p) for p in web_pids), default=0.0),
                )
            ours = sum(cpu for cpu, _ in usages.values())
            usages["everything else on the machine"] = (max(0.0, phase.cpu["machine"] - ours), 0.0)
            capacity = (os.cpu_count() or 1) * phase.cpu["elapsed"]
            print(
                f"[{batch.name}] {phase.messages} messages in {phase.wall:.1f} s (workers started to "
                f"workers done); {phase.rate:.1f} messages/s from the first create to the last"
            )
            print(
                f"  machine busy {phase.cpu['machine']:.1f} of {capacity:.1f} CPU s "
                f"({os.cpu_count()} x "
                f"{phase.cpu['elapsed']:.1f} s, callbacks included)"
            )
            print("\n".join(cpu_table(phase, usages)))
            print(
                "  send-reminders' own PostgreSQL backend: "
                f"{phase.cpu['postgres (send-reminders)']:.1f} CPU s"
            )
            print("\n".join(lines))
            if batch.name == "profile":
                print("\n".join(profile_summary(profile_path, batch.count)))

        web.stop()
        verdict = flask(env, "verify-log")
        intact = "intact" in verdict
        record_ok &= intact
        print(f"\nverify-log: {verdict}")

        off, rated = phases[0], phases[1]
        print("\nsummary")
        ratio1, ratio2 = off.rate / baseline[1], off.rate / baseline[2]
        speed_ok = ratio2 >= TARGET_RATIO
        print(
            f"  SEND_CONCURRENCY={args.concurrency}, {args.workers} workers, "
            f"Twilio latency {args.latency_ms:g} ms"
        )
        print(
            f"  rate off: {off.rate:.0f} messages/s; "
            f"baseline 1 loop {baseline[1]:.0f}/s (ratio {ratio1:.2f}), "
            f"2 loops {baseline[2]:.0f}/s (ratio {ratio2:.2f})"
        )
        print(
            f"  {'PASS' if speed_ok else 'FAIL'}  throughput >= {TARGET_RATIO:.0%} of the 2-loop baseline "
            f"({ratio2:.0%}; against 1 loop, the issue's literal wording: {ratio1:.0%}, "
            f"{'pass' if ratio1 >= TARGET_RATIO else 'fail'})"
        )
        print(f"  send-reminders for {off.messages}: {off.reminders.wall:.1f} s" if off.reminders else "")
        busiest, at = busiest_window(rated.created)
        steady = [t for t in rated.created if rated.created[0] + 1 <= t < rated.created[-1] - 1]
        mean = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
        seconds = per_second(rated.created)
        full = seconds[1:-1] or seconds
        print(
            f"  SEND_RATE={args.rate:g}: busiest 1 s window {busiest} (at +{at - rated.created[0]:.2f} s); "
            f"mean over the steady state {mean:.2f}/s ({mean / args.rate:.1%}); "
            f"whole seconds min/max {min(full)}/{max(full)}; overall {rated.rate:.2f}/s"
        )
        rate_ok = busiest <= args.rate and mean >= TARGET_RATE_SHARE * args.rate
        print(
            f"  {'PASS' if rate_ok else 'FAIL'}  never above {args.rate:g} in any 1 s window, "
            f"mean >= {TARGET_RATE_SHARE:.0%} of it"
        )
        targets_met = speed_ok and rate_ok
        if not record_ok:
            print("  FAIL  the record is wrong (see above)")
            return 1
        print(f"  record: right ({'' if intact else 'NOT '}intact log)")
        return 0 if targets_met else 2


def main(argv: list[str] | None = None) -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--loop":
        url, sid, token, count, first = sys.argv[2:7]
        return loop_process(url, sid, token, int(count), int(first))
    if len(sys.argv) > 1 and sys.argv[1] == "--profile-worker":
        return profile_worker(*sys.argv[2:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="notices with the rate limit off")
    parser.add_argument("--rated", type=int, default=3000, help="notices at --rate (default 3000)")
    parser.add_argument("--rate", type=float, default=100.0, help="SEND_RATE of the paced phase")
    parser.add_argument(
        "--baseline", type=int, default=0, help="creates per baseline (default 10000; 300 with --latency-ms)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="the fake answers each create this late (every phase)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="SEND_CONCURRENCY of the workers (8)")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (default 2)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers for callbacks")
    parser.add_argument("--no-callbacks", dest="callbacks", action="store_false", help="no PUBLIC_BASE_URL")
    parser.add_argument("--profile", type=int, default=0, help="then N notices through 1 profiled worker")
    parser.add_argument(
        "--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL server to create the db on"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clean-up still runs
    try:
        return run(args)
    except (RuntimeError, psycopg.Error, redis.RedisError, subprocess.TimeoutExpired, TimeoutError) as exc:
        print(f"outbound_load: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "outbound_load: interrupted (processes stopped, database dropped, keys deleted)", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
