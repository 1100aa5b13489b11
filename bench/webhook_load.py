"""Benchmark: the Twilio SMS webhook under gunicorn on PostgreSQL, against a bare Flask baseline.

Run from the repository root:

    .venv/bin/python bench/webhook_load.py                          # 2 workers, 200 req/s, 20 s
    .venv/bin/python bench/webhook_load.py --workers 4 --seconds 30
    .venv/bin/python bench/webhook_load.py --profile 2000           # and where one request's time goes

What it does:

1. Creates a throwaway database `bench_webhook_<random>` on --admin-url's server (psycopg, autocommit)
   and runs `flask --app bot migrate` against it, then imports --households (500) copies of the demo
   participants (bot/demo.py's files, ids and numbers rewritten: +1 919 2XX YYNN) with `flask --app bot
   import-cases/-payments/-appointments/-consent`, with fresh SECRET_KEY, DATA_KEYS and
   TWILIO_AUTH_TOKEN, BOT_ENV=development, no REDIS_URL, the app's own INBOUND_PER_MINUTE (30) unless
   --inbound-per-minute says otherwise.
2. Starts two servers with the same command line, `python -m gunicorn --workers N --preload --bind
   127.0.0.1:PORT APP`: the real app (`bot.wsgi:app`, ready when GET /healthz answers 200) and the
   baseline (`bench.baseline_app:app`: parse the form, answer a fixed TwiML <Message>, nothing else).
3. Pre-builds signed requests before any clock starts: every form field Twilio posts, a unique
   MessageSid each, X-Twilio-Signature from twilio's RequestValidator over PUBLIC_BASE_URL +
   /webhooks/sms. Texts follow a script per demo participant (see SCRIPTS), drawn by weight, each
   from one of its households at random, that household's next text of the script: questions in
   English and Spanish, HELP/AYUDA, texts from an opted-out number, an unverified one and one never
   opted in, and two (one English, one Spanish) that keep cycling through every way of opting out
   (keyword, plain language, "stop this" + "yes", Twilio OptOutType) and back in. At these rates each
   number texts a few times a minute, under the throttle, as people do.
   The baseline ignores the MessageSid, so it reuses one pool of such requests.
4. Measures each server, baseline first, after a short warm-up:
   - max throughput: a closed loop, --concurrency connections each sending its next request as soon
     as the last one is answered, for --seconds: answers per second;
   - latency at --rate: an open loop, request i sent at t0 + i/rate whatever happened before, its
     latency counted from that scheduled time (so a stalled server cannot hide its queue: no
     coordinated omission), for --seconds: p50/p90/p99/max, errors (anything but 200), achieved rate.
   Gunicorn's sync workers close every connection, so each request is a new TCP connection, for both.
5. Prints one table, the ratio of the real app's throughput to the baseline's and PASS/FAIL for the
   targets (issue 3): throughput >= 0.5 x baseline, and p99 < 50 ms at 200 requests/s (with no
   errors). Then where the time went under load: CPU milliseconds per request of the gunicorn
   processes, of the database's PostgreSQL backends, of this load generator and of everything else on
   the machine (from /proc: other people's jobs make a 2-core benchmark noisy, and the run says so);
   the real handler's own time ("sms handled ... in X ms" in its log); what its PostgreSQL backends
   were doing (pg_stat_activity every 20 ms: running, waiting for a lock, flushing WAL, or idle
   inside a transaction while the app works);
   memory of the gunicorn master, each worker and each of the database's PostgreSQL backends: peak
   resident (VmHWM) and, after the run, unique to the process (USS, from smaps_rollup).
6. Checks the record: every MessageSid answered 200 is logged inbound exactly once (a request the
   client gave up on may be logged too, and is counted apart); the outbound records replying to
   them == the answers carrying a <Message>; intents, reply templates and consent events by kind
   and channel; then `flask --app bot verify-log` must say the chain is intact.
7. --profile N (optional): N more of the same requests through the app in-process (Flask test
   client, one thread, same database): half timed plainly, with every SQL statement, BEGIN, COMMIT
   and pre-ping counted and timed at the driver; half under cProfile, reported per component
   (signature check, lookups, consent ledger, exchange log append, Fernet, HMAC, commit, logging...).
   The same requests through the baseline app in-process give the floor Flask itself costs.
8. Cleans up even on error or Ctrl-C: stops both gunicorns, drops the database.

Exit status: 0 when both targets are met and the record is right; 2 when a target is missed (or
not tested: --rate below 200 prints n/a for the latency target); 1 when the record is wrong (a 200
not logged exactly once, verify-log not intact) or the run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import math
import os
import pstats
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import psycopg
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import demo  # noqa: E402
from storage.crypto import generate_key  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PATH = "/webhooks/sms"
FORM_TYPE = "application/x-www-form-urlencoded"
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
TARGET_RATE = 200.0
WARMUP_REQUESTS = 200
# Each script is texted by this many households, each a copy of its demo participant with its own number
# (bot/demo.py's files with the ids and numbers rewritten): at the closed loop's 300-500 texts a second
# the busiest number then sends about 12 a minute, under the app's throttle (INBOUND_PER_MINUTE, 30), as
# people do; seven numbers texting dozens of times a second would be a flood, throttled to silence.
HOUSEHOLDS = 500
BASELINE_POOL = 5000
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)
OPEN_LOOP_CONNECTIONS = 1000  # waiting for a free connection is queueing, and counts in the latency
SAMPLE_EVERY = 0.02
NOISY_OTHERS = 0.25  # CPUs used by other processes during a phase above which the run is flagged
# Timestamps come from perf_counter: uvloop's loop.time() only ticks in whole milliseconds.
clock = time.perf_counter
HANDLED = re.compile(rb"sms handled: .* in ([0-9.]+) ms")

# The fields Twilio posts with every inbound SMS (../shared/samples/twilio-inbound-sms.json), besides
# MessageSid/SmsSid/SmsMessageSid, From and Body.
TWILIO_FIELDS = {
    "ToCountry": "US",
    "ToState": "NC",
    "ToCity": "",
    "ToZip": "",
    "FromCountry": "US",
    "FromState": "NC",
    "FromCity": "RALEIGH",
    "FromZip": "27601",
    "SmsStatus": "received",
    "NumMedia": "0",
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "To": "89361",
    "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
    "AccountSid": "AC00000000000000000000000000000000",
    "ApiVersion": "2010-04-01",
}

Text = tuple[str, str | None]  # (Body, OptOutType that Twilio Advanced Opt-Out adds, or None)


def _plain(*bodies: str) -> tuple[Text, ...]:
    return tuple((body, None) for body in bodies)


# Per demo number (bot/demo.py): its share of the traffic and the texts it sends, in order, cycling.
SCRIPTS: dict[str, tuple[int, tuple[Text, ...]]] = {
    # English, opted in on the web (verified): questions reach the answering step.
    "+19195550101": (
        20,
        _plain(
            "when is my next payment due?",
            "Did you get my payment",
            "how much do I owe this month",
            "when does my support order end",
            "how do I cancel autopay",
            "HELP",
            "is my hearing still on for next week?",
            "ok thanks!",
        ),
    ),
    # English, verified by IVR: keeps cycling through every way out and back in.
    "+19195550102": (
        12,
        (
            ("did you get my payment?", None),
            ("STOP", None),  # keyword opt-out: one confirmation
            ("hello? are you still there", None),  # opted out: silence
            ("HELP", None),  # HELP is answered even when opted out
            ("START", None),  # keyword opt-in
            ("please stop texting me", None),  # plain-language revocation
            ("Unstop", None),
            ("stop this", None),  # unclear: asked once ("Reply STOP to stop all texts")
            ("yes", None),  # "yes" to that question revokes
            ("start", None),
            ("STOP", "STOP"),  # Twilio Advanced Opt-Out answered itself: record, send nothing
            ("START", "START"),
            ("when is my next payment due", None),
        ),
    ),
    # Spanish, verified by a technician.
    "+19195550103": (
        18,
        _plain(
            "¿cuándo vence mi próximo pago?",
            "¿recibieron mi pago?",
            "cuánto debo este mes",
            "AYUDA",
            "¿cuándo es mi cita?",
            "gracias",
        ),
    ),
    # Spanish, verified: cycles out and in with Spanish words.
    "+19195550104": (
        10,
        (
            ("¿recibieron mi pago?", None),
            ("PARAR", None),
            ("¿hola?", None),  # opted out: silence
            ("AYUDA", None),
            ("COMENZAR", None),
            ("no me manden más mensajes", None),  # plain-language revocation
            ("Sí", None),  # opted out: SÍ opts in again
            ("¿cuándo vence mi próximo pago?", None),
            ("CANCELAR", None),
            ("INICIO", None),
        ),
    ),
    # Opted out by STOP: silence, except HELP; STOP again is recorded quietly.
    "+19195550105": (10, _plain("when is my payment due", "hello?", "HELP", "STOP", "is anyone there")),
    # Opted in by texting START only: asked for the last 4 digits of a case number.
    "+19195550106": (
        15,
        _plain("when is my next payment due?", "did you get my payment", "INFO", "what is my balance"),
    ),
    # On file but never opted in: enrollment instructions; "stop this" is asked about once.
    "+19195550107": (
        15,
        _plain("when is my next payment due?", "what is this", "HELP", "stop this", "who is this?"),
    ),
}


# ---------------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class Prebuilt:
    """One signed webhook request, ready to send."""

    sid: str
    body: bytes
    signature: str


def household_number(demo_number: str, household: int) -> str:
    """Household h's copy of a demo number (+1 919 555 01NN): +1 919 2XX YYNN, fictional NC numbers in
    the same time zone, distinct for every (number, household) up to 10,000 households."""
    return f"+1919{200 + household // 100:03d}{household % 100:02d}{demo_number[-2:]}"


def dashed(e164: str) -> str:
    """+19192001201 -> 919-200-1201, as the agency's files write numbers."""
    return f"{e164[2:5]}-{e164[5:8]}-{e164[8:]}"


def household_files(today: date, households: int) -> dict[str, str]:
    """bot/demo.py's four import files, once per household: ids and numbers rewritten."""
    numbers = re.compile(r"919-555-01\d\d")
    files = {
        "cases.csv": demo._cases(today),
        "payments.csv": demo._payments(today),
        "appointments.csv": demo._appointments(today),
        "consent.csv": demo.CONSENT,
    }
    out = {}
    for name, text in files.items():
        header, *rows = [line for line in text.splitlines() if line]
        copies = [header]
        for household in range(households):
            for row in rows:
                row = row.replace("DEMO-", f"H{household}-")
                row = numbers.sub(lambda m, h=household: dashed(household_number(m.group(0), h)), row)
                copies.append(row)
        out[name] = "\n".join(copies) + "\n"
    return out


def seed_households(env: dict[str, str], folder: Path, households: int) -> None:
    """Import the households through the app's own import commands, as an operator would."""
    for name, text in household_files(date.today(), households).items():
        path = folder / f"households-{name}"
        path.write_text(text)
        flask_command(env, f"import-{name.removesuffix('.csv')}", str(path))


class RequestMaker:
    """Builds signed requests from SCRIPTS: numbers drawn by weight, each number's texts in order."""

    def __init__(self, url: str, auth_token: str, households: int = 1, seed: int = 3) -> None:
        self._url = url
        self._validator = RequestValidator(auth_token)
        self._rng = random.Random(seed)
        self._numbers = list(SCRIPTS)
        self._weights = [weight for weight, _ in SCRIPTS.values()]
        self._households = households
        self._next: Counter[str] = Counter()

    def make(self) -> Prebuilt:
        """The next request of the mix, with a new MessageSid: a script drawn by weight, a household
        at random, that household's next text of the script (the first at a random place in it)."""
        script = self._rng.choices(self._numbers, self._weights)[0]
        sender = household_number(script, self._rng.randrange(self._households))
        texts = SCRIPTS[script][1]
        if sender not in self._next:  # each household starts somewhere in its script: all of it runs
            self._next[sender] = self._rng.randrange(len(texts))
        body, opt_out_type = texts[self._next[sender] % len(texts)]
        self._next[sender] += 1
        sid = "SM" + uuid.uuid4().hex
        params = {
            **TWILIO_FIELDS,
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "From": sender,
            "Body": body,
        }
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        signature = self._validator.compute_signature(self._url, params)
        return Prebuilt(sid, urlencode(params).encode("ascii"), signature)


class Pool:
    """Requests built before the clock starts; if a phase needs more, they are built on the fly
    (counted in `built_late`). With cycle=True (the baseline) the pool is reused instead."""

    def __init__(self, maker: RequestMaker, size: int, *, cycle: bool = False) -> None:
        self._maker = maker
        self._items = [maker.make() for _ in range(size)]
        self._index = 0
        self._cycle = cycle
        self.built_late = 0

    def next(self) -> Prebuilt:
        """The next request."""
        if self._index < len(self._items):
            item = self._items[self._index]
        elif self._cycle:
            item = self._items[self._index % len(self._items)]
        else:
            item = self._maker.make()
            self.built_late += 1
        self._index += 1
        return item

    def take(self, count: int) -> list[Prebuilt]:
        """The next `count` requests, as a list (taken before an open loop starts)."""
        return [self.next() for _ in range(count)]


# ---------------------------------------------------------------------------------------------------
# Load


@dataclass
class Tally:
    """What one phase against one server saw."""

    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    max_send_lag: float = 0.0  # open loop: how late the load generator sent against its schedule
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process group
    handler_ms: list[float] = field(default_factory=list)  # the real app's own "in X ms" log lines

    @property
    def sent(self) -> int:
        return self.ok + sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms (nearest rank)."""
        return percentile(self.latencies, q) * 1000


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of values (q in 0..100); NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Answers:
    """Across every phase against the real app: which MessageSids got a 200, and how many had a reply."""

    ok_sids: set[str] = field(default_factory=set)
    with_message: int = 0


async def send(session: aiohttp.ClientSession, url: str, request: Prebuilt) -> tuple[str | int, bool]:
    """POST one request; (HTTP status or the exception's name, whether the TwiML holds a <Message>)."""
    headers = {"Content-Type": FORM_TYPE, "X-Twilio-Signature": request.signature}
    try:
        async with session.post(url, data=request.body, headers=headers) as response:
            text = await response.read()
            return response.status, b"<Message>" in text
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__, False


def _record(
    tally: Tally, answers: Answers | None, request: Prebuilt, outcome: tuple[str | int, bool]
) -> None:
    status, has_message = outcome
    if status == 200:
        tally.ok += 1
        if answers is not None:
            answers.ok_sids.add(request.sid)
            answers.with_message += has_message
    else:
        tally.errors[str(status)] += 1


def _session(limit: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, force_close=True)
    return aiohttp.ClientSession(connector=connector, timeout=REQUEST_TIMEOUT)


async def closed_loop(
    url: str, pool: Pool, concurrency: int, seconds: float, answers: Answers | None
) -> Tally:
    """`concurrency` clients, each sending its next request when the last is answered, for `seconds`."""
    tally = Tally()
    async with _session(concurrency) as session:
        start = clock()
        deadline = start + seconds

        async def client() -> None:
            while clock() < deadline:
                request = pool.next()
                sent = clock()
                outcome = await send(session, url, request)
                tally.latencies.append(clock() - sent)
                _record(tally, answers, request, outcome)

        await asyncio.gather(*(client() for _ in range(concurrency)))
        tally.elapsed = clock() - start
    return tally


async def open_loop(url: str, pool: Pool, rate: float, seconds: float, answers: Answers | None) -> Tally:
    """Request i is sent at start + i/rate; its latency runs from that scheduled time to the answer."""
    tally = Tally()
    requests = pool.take(round(rate * seconds))
    async with _session(OPEN_LOOP_CONNECTIONS) as session:

        async def one(request: Prebuilt, due: float) -> None:
            outcome = await send(session, url, request)
            tally.latencies.append(clock() - due)
            _record(tally, answers, request, outcome)

        tasks = []
        start = clock() + 0.05
        for i, request in enumerate(requests):
            due = start + i / rate
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            tally.max_send_lag = max(tally.max_send_lag, clock() - due)
            tasks.append(asyncio.create_task(one(request, due)))
        await asyncio.gather(*tasks)
        tally.elapsed = clock() - start
    return tally


# ---------------------------------------------------------------------------------------------------
# Processes: gunicorn, flask commands, CPU accounting


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask_command(env: dict[str, str], *args: str) -> str:
    """Run `flask --app bot ARGS` in the repository; its output, or RuntimeError with it."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class Server:
    """One gunicorn, its log file and where to reach it."""

    name: str
    app: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int, env: dict[str, str]) -> None:
        """Start `python -m gunicorn --workers N --preload --bind 127.0.0.1:PORT APP` (the Procfile's
        options: --preload loads the app once in the master; workers share its pages), logging to log_path."""
        command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--preload"]
        command += ["--bind", f"127.0.0.1:{self.port}", self.app]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, path: str | None, timeout: float = 60) -> None:
        """Wait until GET path answers 200 (or, with path None, until anything answers over HTTP)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} gunicorn exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + (path or "/"), timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                if path is None:
                    return
                last = exc.code
            except OSError:
                last = "no answer"
            else:
                last = "not 200"
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the master (it stops its workers), SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.process is None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def handler_times(self, start: int, end: int) -> list[float]:
        """The ms figures of the app's "sms handled ... in X ms" lines logged between two log offsets."""
        with self.log_path.open("rb") as log:
            log.seek(start)
            chunk = log.read(end - start)
        return [float(m.group(1)) for m in HANDLED.finditer(chunk)]


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    """utime + stime of each process still running, in clock ticks."""
    ticks = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = int(fields_[11]) + int(fields_[12])
    return ticks


def memory_mib(pid: int) -> tuple[float, float] | None:
    """(peak resident memory in its life (VmHWM), memory now its own (USS: private pages, not shared
    with the gunicorn master it forked from)) in MiB; None once the process is gone."""
    with contextlib.suppress(OSError, ValueError):
        peak = next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmHWM:")
        )
        private = sum(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
            if line.startswith(("Private_Clean:", "Private_Dirty:"))
        )
        return peak / 1024, private / 1024
    return None


@dataclass(frozen=True)
class Memory:
    """Memory of each process of a server after its phases: (peak RSS, USS) in MiB each."""

    master: tuple[float, float] | None
    workers: list[tuple[float, float]]
    backends: list[tuple[float, float]]  # PostgreSQL client backends of its database

    def line(self, name: str) -> str:
        def pair(mib: tuple[float, float] | None) -> str:
            return f"{mib[0]:.0f}/{mib[1]:.0f}" if mib else "-"

        text = f"  {name:<8}: gunicorn master {pair(self.master)}, workers "
        text += ", ".join(pair(mib) for mib in self.workers) or "-"
        if self.backends:
            text += f"; PostgreSQL backends ({len(self.backends)}) max {pair(max(self.backends))}"
        return text


def machine_busy_ticks() -> int:
    """CPU ticks the whole machine spent busy (all cores, every process), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return user + nice + system + irq + softirq + steal


@dataclass(frozen=True)
class CpuSnapshot:
    app: dict[int, int]
    db: dict[int, int]
    own: float
    machine: int


class CpuMeter:
    """CPU seconds used during a phase by a server's processes, its PostgreSQL backends, this process,
    and everything else on the machine (other people's jobs make a benchmark on 2 cores noisy)."""

    def __init__(self, server: Server, admin_conninfo: str, database: str | None) -> None:
        self._server = server
        self.admin = admin_conninfo
        self.database = database
        self._hz = os.sysconf("SC_CLK_TCK")

    def _backends(self) -> list[int]:
        if self.database is None:
            return []
        with psycopg.connect(self.admin, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
                (self.database,),
            ).fetchall()
        return [pid for (pid,) in rows]

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(
            cpu_ticks(self._server.pids()),
            cpu_ticks(self._backends()),
            time.process_time(),
            machine_busy_ticks(),
        )

    def memory(self) -> Memory:
        """Peak RSS of the master, each worker and each backend, read now (before they stop)."""
        master = self._server.process.pid if self._server.process else None
        workers = [memory_mib(pid) for pid in self._server.pids() if pid != master]
        backends = [memory_mib(pid) for pid in self._backends()]
        return Memory(
            memory_mib(master) if master else None,
            [mib for mib in workers if mib is not None],
            [mib for mib in backends if mib is not None],
        )

    def since(self, before: CpuSnapshot) -> dict[str, float]:
        now = self.snapshot()

        def used(later: dict[int, int], earlier: dict[int, int]) -> float:
            return sum(ticks - earlier.get(pid, 0) for pid, ticks in later.items()) / self._hz

        spent = {
            "gunicorn": used(now.app, before.app),
            "postgres": used(now.db, before.db),
            "loadgen": now.own - before.own,
        }
        spent["others"] = max(0.0, (now.machine - before.machine) / self._hz - sum(spent.values()))
        return spent


async def sample_backends(
    admin_conninfo: str, database: str, stop: asyncio.Event, seen: Counter[str]
) -> None:
    """Every SAMPLE_EVERY s, note what each of the database's client backends is doing."""
    query = (
        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
        "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    async with await psycopg.AsyncConnection.connect(admin_conninfo, autocommit=True) as connection:
        while not stop.is_set():
            cursor = await connection.execute(query, (database,))
            for state, wait_type, wait_event in await cursor.fetchall():
                if state == "active":
                    label = f"active, waiting {wait_type}:{wait_event}" if wait_type else "active, running"
                else:
                    label = str(state)
                seen[label] += 1
            seen["(samples)"] += 1
            await asyncio.sleep(SAMPLE_EVERY)


# ---------------------------------------------------------------------------------------------------
# Database


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[tuple[str, str]]:
    """Create `bench_webhook_<random>`; yield (its name, its URL); drop it afterwards."""
    admin = make_url(admin_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    name = f"bench_webhook_{secrets.token_hex(5)}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name, admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def check_record(database_url: str, answers: Answers) -> tuple[list[str], bool]:
    """Compare the exchange log with what the clients were answered; (report lines, all good)."""
    lines, good = [], True
    with psycopg.connect(database_url) as connection:
        inbound = [
            sid
            for (sid,) in connection.execute("SELECT message_sid FROM exchanges WHERE direction = 'inbound'")
        ]
        replied = [
            sid
            for (sid,) in connection.execute(
                "SELECT i.message_sid FROM exchanges o JOIN exchanges i ON i.chain_seq = o.reply_to_seq "
                "WHERE o.direction = 'outbound'"
            )
        ]
        intents = connection.execute(
            "SELECT coalesce(intent, '-'), count(*) FROM exchanges WHERE direction = 'inbound' "
            "GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        templates = connection.execute(
            "SELECT coalesce(template_id, '-'), count(*) FROM exchanges WHERE direction = 'outbound' "
            "GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        events = connection.execute(
            "SELECT kind, channel, count(*) FROM consent_events WHERE evidence LIKE 'SM%%' "
            "GROUP BY 1, 2 ORDER BY 3 DESC"
        ).fetchall()
        seeded = connection.execute(
            "SELECT count(*) FROM consent_events WHERE evidence NOT LIKE 'SM%%'"
        ).fetchone()[0]
    logged = set(inbound)
    missing, unanswered = answers.ok_sids - logged, logged - answers.ok_sids
    lines.append(
        f"exchanges: {len(inbound)} inbound, {len(replied)} outbound; 200 answers: {len(answers.ok_sids)}, "
        f"{answers.with_message} of them with a <Message>"
    )
    once = len(inbound) == len(logged) and not missing
    lines.append(
        f"  every 200 logged inbound exactly once: {'yes' if once else 'NO'}"
        f" (duplicates {len(inbound) - len(logged)}, 200s not logged {len(missing)})"
    )
    good &= once
    if unanswered:
        lines.append(f"  logged without a 200 reaching the client (timed out or refused): {len(unanswered)}")
    replies_match = sum(sid in answers.ok_sids for sid in replied) == answers.with_message
    lines.append(
        "  outbound records replying to a 200 == answers with a <Message>: "
        + ("yes" if replies_match else "NO")
    )
    good &= replies_match
    lines.append("  inbound intents: " + ", ".join(f"{name} {n}" for name, n in intents))
    lines.append("  reply templates: " + ", ".join(f"{name} {n}" for name, n in templates))
    lines.append(
        f"consent events from these texts: {sum(n for *_, n in events)} (plus {seeded} seeded): "
        + ", ".join(f"{kind}/{channel} {n}" for kind, channel, n in events)
    )
    return lines, good


# ---------------------------------------------------------------------------------------------------
# In-process profile


class DriverTimer:
    """Times what the app asks of PostgreSQL, at the driver: every statement SQLAlchemy sends, the
    pool's pre-ping and COMMIT (and counts psycopg's implicit BEGIN); per transaction, how long it
    stayed open and how long it held the exchange chain head's row lock (SELECT ... FOR UPDATE to COMMIT).
    """

    def __init__(self, engine: object) -> None:
        self.calls: dict[str, list[float]] = {}
        self.open_ms: list[float] = []  # first round trip to the end of COMMIT
        self.locked_ms: list[float] = []  # the chain head's FOR UPDATE to the end of COMMIT
        self._first: float | None = None
        self._locked: float | None = None
        self._starts: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        dialect = engine.dialect  # type: ignore[attr-defined]
        dialect.do_ping = self._wrap(dialect.do_ping, "pre-ping SELECT 1")
        dialect.do_commit = self._wrap(dialect.do_commit, "COMMIT", ends_transaction=True)
        self._begins = BeginCounter(lambda: self.calls.setdefault(BEGIN_LABEL, []).append(0.0))

    def reset(self) -> None:
        self.calls.clear()
        self.open_ms.clear()
        self.locked_ms.clear()

    def close(self) -> None:
        self._begins.close()

    def _started(self) -> float:
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        return now

    def _before(self, *_args: object) -> None:
        self._starts.append(self._started())

    def _after(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        started = self._starts.pop()
        kind = statement_kind(statement)
        if kind.endswith("FOR UPDATE") and self._locked is None:
            self._locked = started
        self.calls.setdefault(kind, []).append(time.perf_counter() - started)

    def _wrap(
        self, original: Callable[..., object], label: str, *, ends_transaction: bool = False
    ) -> Callable[..., object]:
        def timed(*args: object, **kwargs: object) -> object:
            started = self._started()
            try:
                return original(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                self.calls.setdefault(label, []).append(ended - started)
                if ends_transaction:
                    if self._first is not None:
                        self.open_ms.append((ended - self._first) * 1000)
                    if self._locked is not None:
                        self.locked_ms.append((ended - self._locked) * 1000)
                    self._first = self._locked = None

        return timed


BEGIN_LABEL = "BEGIN (psycopg, implicit; its time is inside the next call)"


def profile_in_process(overrides: dict[str, str], requests: list[Prebuilt], base_url: str) -> list[str]:
    """Where one request's time goes in one worker, without contention: driver timings, then cProfile."""
    from bench.baseline_app import app as bare_app
    from bot.app import create_app

    # The app logs one line per request at INFO (create_app's basicConfig). Keep that cost, lose the text.
    root = logging.getLogger()
    sink = logging.FileHandler(os.devnull)
    sink.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(sink)
    root.setLevel(logging.INFO)
    app = create_app(overrides=overrides)
    client, bare = app.test_client(), bare_app.test_client()

    def post(test_client, request: Prebuilt) -> None:  # noqa: ANN001 - a FlaskClient
        response = test_client.post(
            PATH,
            data=request.body,
            headers={"X-Twilio-Signature": request.signature},
            content_type=FORM_TYPE,
            base_url=base_url,
        )
        if response.status_code != 200:
            raise RuntimeError(f"in-process request answered {response.status_code}")

    def timed(test_client, batch: list[Prebuilt]) -> tuple[float, float]:  # noqa: ANN001
        """(wall ms, CPU ms of this process) per request."""
        wall, cpu = time.perf_counter(), time.process_time()
        for request in batch:
            post(test_client, request)
        count = len(batch)
        return (time.perf_counter() - wall) * 1000 / count, (time.process_time() - cpu) * 1000 / count

    warm, rest = requests[:20], requests[20:]
    plain, profiled = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    timer = DriverTimer(app.extensions["database"].engine)
    try:
        for request in warm:  # connections, statement caches, prepared statements
            post(client, request)
        timer.reset()
        real_ms, real_cpu = timed(client, plain)
        calls = {kind: list(values) for kind, values in timer.calls.items()}
        open_ms, locked_ms = list(timer.open_ms), list(timer.locked_ms)
    finally:
        timer.close()
    for request in warm:
        post(bare, request)
    bare_ms, bare_cpu = timed(bare, plain)

    n = len(plain)
    lines = [
        f"in process (one worker, no contention), {n} requests timed plainly, Flask test client included:",
        f"  real app {real_ms:.2f} ms/request wall, {real_cpu:.2f} ms CPU in Python; "
        f"baseline app {bare_ms:.3f} ms wall, {bare_cpu:.3f} ms CPU",
        f"  transaction open per request: mean {sum(open_ms) / max(1, len(open_ms)):.2f} ms; exchange "
        f"chain head row locked: mean {sum(locked_ms) / max(1, len(locked_ms)):.2f} ms, p99 "
        f"{percentile(locked_ms, 99):.2f} ms (every request of every worker queues for that lock: "
        f"at most ~{1000 / (sum(locked_ms) / max(1, len(locked_ms))):.0f} req/s whatever the workers)",
        "  PostgreSQL round trips per request (time = the DBAPI call: wire + server + driver; a WITH "
        "statement carries writes the webhook batched):",
    ]
    total_calls = total_ms = 0.0
    for kind, values in sorted(calls.items(), key=lambda item: -sum(item[1])):
        per_request, spent = len(values) / n, sum(values) * 1000 / n
        total_calls, total_ms = total_calls + per_request, total_ms + spent
        lines.append(f"    {per_request:5.2f} x  {spent:6.3f} ms  {kind}")
    lines.append(
        f"    {total_calls:5.2f} round trips, {total_ms:.2f} ms of the {real_ms:.2f} ms "
        f"({total_ms / real_ms:.0%}); the rest is Python in the worker"
    )

    profiler = cProfile.Profile()
    profiler.enable()
    for request in profiled:
        post(client, request)
    profiler.disable()
    lines += cprofile_summary(pstats.Stats(profiler), len(profiled))
    return lines


def statement_kind(statement: str) -> str:
    """A statement shortened to its verb and table(s), e.g. "SELECT exchange_chain_head FOR UPDATE"."""
    flat = " ".join(statement.split())
    verb = flat.split(" ", 1)[0].upper()
    tables = re.findall(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_]+)", flat, re.IGNORECASE)
    where = ""
    if verb == "SELECT":
        column = re.match(r"SELECT\s+([a-z_]+)\.([a-z_]+)", flat, re.IGNORECASE)
        where = f" ({column.group(2)}...)" if column else ""
    suffix = " FOR UPDATE" if "FOR UPDATE" in flat.upper() else ""
    return f"{verb} {'+'.join(dict.fromkeys(tables))}{where}{suffix}"


class BeginCounter:
    """Count psycopg's implicit BEGIN (one round trip at the first statement of each transaction).

    psycopg sends it from BaseConnection._exec_command; its time is inside the statement that caused it.
    """

    def __init__(self, note: Callable[[], None]) -> None:
        from psycopg import _connection_base

        self._cls = _connection_base.BaseConnection
        self._original = self._cls._exec_command
        original = self._original

        def exec_command(conn, command, *args, **kwargs):  # noqa: ANN001, ANN202
            if isinstance(command, bytes) and command.startswith(b"BEGIN"):
                note()
            return (yield from original(conn, command, *args, **kwargs))

        self._cls._exec_command = exec_command

    def close(self) -> None:
        self._cls._exec_command = self._original


PROFILE_PARTS = (
    ("whole request through the test client", "werkzeug/test.py", "open"),
    ("  webhooks.sms.receive_sms", "webhooks/sms.py", "receive_sms"),
    ("    parse_form", "webhooks/twilio_request.py", "parse_form"),
    ("    check_signature (twilio HMAC-SHA1)", "webhooks/twilio_request.py", "check_signature"),
    ("    conversation.handle_inbound", "bot/conversation.py", "handle_inbound"),
    ("      exchange_log.find_inbound (duplicate?)", "storage/exchange_log.py", "find_inbound"),
    ("      phones.find_phone", "storage/phones.py", "find_phone"),
    ("      ledger.current_state (x2)", "consent/ledger.py", "current_state"),
    ("      conversation._last_template", "bot/conversation.py", "_last_template"),
    ("      policy.decide (keywords, revocation)", "consent/policy.py", "decide"),
    ("      ledger.record", "consent/ledger.py", "record"),
    ("      conversation._verify", "bot/conversation.py", "_verify"),
    ("      exchange_log.append (x2)", "storage/exchange_log.py", "append"),
    ("        exchange_log.lock_head", "storage/exchange_log.py", "lock_head"),
    ("        Session.flush", "sqlalchemy/orm/session.py", "flush"),
    ("      conversation._language", "bot/conversation.py", "_language"),
    ("      Replies.render", "bot/replies.py", "render"),
    ("    transaction commit (SessionTransaction)", "sqlalchemy/orm/session.py", "commit"),
    ("    Session.close", "sqlalchemy/orm/session.py", "close"),
    ("    twiml (MessagingResponse)", "webhooks/sms.py", "twiml"),
    ("    log.info", "logging/__init__.py", "info"),
    ("  across the request: DataCipher.encrypt (Fernet)", "storage/crypto.py", "encrypt"),
    ("  across the request: DataCipher.lookup_hashes", "storage/crypto.py", "lookup_hashes"),
    ("  across the request: DataCipher.sign (HMAC-SHA256)", "storage/crypto.py", "sign"),
    ("  across the request: psycopg Cursor.execute", "psycopg/cursor.py", "execute"),
    ("  across the request: psycopg Connection.commit", "psycopg/connection.py", "commit"),
    ("  across the request: SQL compilation (compile)", "sqlalchemy/sql/elements.py", "_compile_w_cache"),
    ("  across the request: pool checkout (+ pre-ping)", "sqlalchemy/pool/base.py", "_checkout"),
)


WAITING = "waiting for PostgreSQL's answers (psycopg Connection.wait, blocked in C)"


def package_of(path: str) -> str:
    """Who owns a profiled function's file: a site-packages distribution, this repository's package,
    the standard library, or C (built-ins, C extension methods)."""
    if path == "~":
        return "C functions (built-ins, C extensions: socket, hashing, psycopg's C layer...)"
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    with contextlib.suppress(ValueError):
        return f"{Path(path).relative_to(ROOT).parts[0]}/ (this repository)"
    return "Python standard library"


def cprofile_summary(stats: pstats.Stats, requests: int) -> list[str]:
    """Cumulative ms per request of the named parts, and the costliest functions by own time."""
    table = stats.stats  # type: ignore[attr-defined]
    whole = None
    lines = [f"  cProfile over {requests} more requests (profiler overhead inflates Python-heavy parts):"]
    for label, path_end, function in PROFILE_PARTS:
        hits = [
            (calls, cumulative)
            for (path, _line, name), (_cc, calls, _tt, cumulative, _callers) in table.items()
            if name == function and path.replace(os.sep, "/").endswith(path_end)
        ]
        if not hits:
            continue
        calls = sum(c for c, _ in hits) / requests
        ms = max(cum for _, cum in hits) * 1000 / requests  # the outermost frame; nested ones repeat it
        whole = whole or ms
        lines.append(f"    {ms:7.3f} ms {ms / whole:5.0%}  {calls:5.1f} calls  {label}")
    by_package: Counter[str] = Counter()
    for (path, _line, name), (_cc, _calls, tottime, _ct, _callers) in table.items():
        waiting = name == "wait" and path.replace(os.sep, "/").endswith("psycopg/connection.py")
        by_package[WAITING if waiting else package_of(path)] += tottime
    total_own = sum(by_package.values())
    lines.append("  own time (tottime) by package, per request:")
    for package, seconds in by_package.most_common(10):
        lines.append(f"    {seconds * 1000 / requests:7.3f} ms {seconds / total_own:5.0%}  {package}")
    own = sorted(table.items(), key=lambda item: -item[1][2])[:12]
    lines.append("  most own time (tottime) per request:")
    for (path, line, name), (_cc, calls, tottime, _ct, _callers) in own:
        short = "/".join(Path(path).parts[-2:]) if path != "~" else "built-in"
        lines.append(
            f"    {tottime * 1000 / requests:7.3f} ms  {calls / requests:6.1f} calls  {short}:{line} {name}"
        )
    return lines


# ---------------------------------------------------------------------------------------------------
# The run


@dataclass
class ServerResult:
    name: str
    closed: Tally
    opened: Tally
    memory: Memory


async def measure(
    server: Server, pool: Pool, args: argparse.Namespace, answers: Answers | None, meter: CpuMeter
) -> tuple[ServerResult, Counter[str]]:
    """Warm-up, closed loop, open loop against one server, metering CPU (and, for the real app,
    sampling what its PostgreSQL backends do)."""
    url = server.base_url + PATH
    await closed_loop_count(url, pool, WARMUP_REQUESTS, answers)
    activity: Counter[str] = Counter()
    results = []
    for phase in ("closed", "open"):
        stop = asyncio.Event()
        sampler = None
        if meter.database is not None:
            sampler = asyncio.create_task(sample_backends(meter.admin, meter.database, stop, activity))
        before, log_from = meter.snapshot(), server.log_size()
        if phase == "closed":
            tally = await closed_loop(url, pool, args.concurrency, args.seconds, answers)
        else:
            tally = await open_loop(url, pool, args.rate, args.seconds, answers)
        stop.set()
        if sampler is not None:
            await sampler
        tally.cpu = meter.since(before)
        await asyncio.sleep(0.3)  # let the last log lines land
        tally.handler_ms = server.handler_times(log_from, server.log_size())
        results.append(tally)
        await asyncio.sleep(1)
    return ServerResult(server.name, *results, meter.memory()), activity


async def closed_loop_count(url: str, pool: Pool, count: int, answers: Answers | None) -> None:
    """Warm-up: `count` requests from 4 clients (opens database connections, fills caches)."""
    async with _session(4) as session:
        remaining = count

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                request = pool.next()
                outcome = await send(session, url, request)
                _record(Tally(), answers, request, outcome)

        await asyncio.gather(*(client() for _ in range(4)))


def report(results: list[ServerResult], args: argparse.Namespace) -> tuple[list[str], bool]:
    """The table and the two verdicts; (lines, both targets met)."""
    lines = [
        f"{'server':<10} {'max req/s':>10} {'p50':>7} {'p99':>7} │ {'at ' + str(int(args.rate)) + '/s':>9}"
        f" {'p50':>7} {'p90':>7} {'p99':>7} {'max':>8} │ {'errors':>13}",
        f"{'':<10} {'(c=' + str(args.concurrency) + ')':>10} {'ms':>7} {'ms':>7} │ {'achieved':>9}"
        f" {'ms':>7} {'ms':>7} {'ms':>7} {'ms':>8} │ {'closed / open':>13}",
    ]
    for result in results:
        closed, opened = result.closed, result.opened
        errors = f"{sum(closed.errors.values())} / {sum(opened.errors.values())}"
        lines.append(
            f"{result.name:<10} {closed.rate:10.1f}"
            f" {closed.percentile(50):7.1f} {closed.percentile(99):7.1f} │"
            f" {opened.rate:9.1f} {opened.percentile(50):7.1f} {opened.percentile(90):7.1f}"
            f" {opened.percentile(99):7.1f} {opened.percentile(100):8.1f} │ {errors:>13}"
        )
    for result in results:
        for phase, tally in (("closed", result.closed), ("open", result.opened)):
            if tally.errors:
                lines.append(f"  {result.name} {phase}-loop errors: {dict(tally.errors)}")
    baseline, real = results
    ratio = real.closed.rate / baseline.closed.rate if baseline.closed.rate else 0.0
    p99 = real.opened.percentile(99)
    clean = not real.opened.errors and real.opened.sent > 0
    throughput_ok = ratio >= TARGET_RATIO
    at_target_rate = args.rate >= TARGET_RATE
    latency_ok = p99 < TARGET_P99_MS and clean and at_target_rate
    lines += [
        f"throughput: real {real.closed.rate:.1f} req/s / baseline {baseline.closed.rate:.1f} req/s "
        f"= ratio {ratio:.3f}",
        f"{'PASS' if throughput_ok else 'FAIL'}  throughput >= {TARGET_RATIO} x baseline ({ratio:.3f})",
        f"{'PASS' if latency_ok else 'FAIL' if at_target_rate else 'n/a '}  p99 < {TARGET_P99_MS:.0f} ms "
        f"at {args.rate:g} req/s "
        f"(real: p99 {p99:.1f} ms, achieved {real.opened.rate:.1f} req/s, "
        f"{sum(real.opened.errors.values())} errors)",
    ]
    if args.rate != TARGET_RATE:
        lines.append(
            f"      (the target is judged at {TARGET_RATE:.0f} req/s or more; "
            f"this run used --rate {args.rate:g})"
        )
    return lines, throughput_ok and latency_ok


def diagnostics(results: list[ServerResult], activity: Counter[str]) -> list[str]:
    """Where the time went under load: CPU per request (/proc), the real app's own log, pg_stat_activity."""
    lines = ["CPU ms per request (/proc; 'others' = the rest of the machine, e.g. other people's jobs):"]
    for result in results:
        for phase, tally in (("closed", result.closed), ("open", result.opened)):
            if tally.cpu and tally.sent:
                per = {name: seconds * 1000 / tally.sent for name, seconds in tally.cpu.items()}
                busy = {name: seconds / tally.elapsed for name, seconds in tally.cpu.items()}
                lines.append(
                    f"  {result.name:<8} {phase:<6}: gunicorn {per['gunicorn']:5.2f}, postgres backends "
                    f"{per['postgres']:5.2f}, load generator {per['loadgen']:5.2f}; CPUs busy: "
                    f"{busy['gunicorn'] + busy['postgres'] + busy['loadgen']:.2f} these, "
                    f"{busy['others']:.2f} others (of {os.cpu_count()})"
                )
    busiest = max(
        (t.cpu.get("others", 0) / t.elapsed for r in results for t in (r.closed, r.opened)), default=0
    )
    if busiest > NOISY_OTHERS:
        lines.append(
            f"  NOTE: other processes used up to {busiest:.2f} CPUs during a phase: unless they were niced"
            " (then they only took idle time) the figures are noisy; run again on a quiet machine"
        )
    lines.append(
        "memory per process, MiB: peak resident (VmHWM) / its own now (USS: private pages, not shared with"
        " the master; PostgreSQL's shared buffers are shared)"
    )
    lines.extend(result.memory.line(result.name) for result in results)
    real = results[-1]
    lines.append(
        "open loop: the load generator sent at most "
        + ", ".join(f"{r.opened.max_send_lag * 1000:.1f} ms ({r.name})" for r in results)
        + " behind its schedule"
    )
    for phase, tally in (("closed loop", real.closed), ("open loop", real.opened)):
        handled = tally.handler_ms
        if handled:
            lines.append(
                f"real app, {phase}: handler's own time (its log) p50 {percentile(handled, 50):.1f} ms, "
                f"p90 {percentile(handled, 90):.1f}, p99 {percentile(handled, 99):.1f}, "
                f"max {percentile(handled, 100):.1f} ({len(handled)} requests)"
            )
    samples = activity.pop("(samples)", 0)
    if samples:
        lines.append(
            f"real app: its PostgreSQL backends, mean number in each state "
            f"({samples} samples over both phases):"
        )
        for label, count in activity.most_common():
            lines.append(f"    {count / samples:6.2f}  {label}")
    return lines


def run(args: argparse.Namespace) -> int:
    admin = make_url(args.admin_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    admin_conninfo = admin.render_as_string(hide_password=False)
    secrets_ = {
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_KEYS": generate_key(),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    }
    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_webhook_")))
        name, database_url = stack.enter_context(throwaway_database(args.admin_url))
        real = Server("real", "bot.wsgi:app", free_port(), logs / "real.log")
        baseline = Server("baseline", "bench.baseline_app:app", free_port(), logs / "baseline.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "REDIS_", "TWILIO_"))}
        env |= secrets_ | {
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": real.base_url,
            "BOT_ENV": "development",
            "PYTHONUNBUFFERED": "1",
        }
        if args.inbound_per_minute:
            env["INBOUND_PER_MINUTE"] = str(args.inbound_per_minute)
        print(f"database {name}: {flask_command(env, 'migrate')}")
        started = time.perf_counter()
        seed_households(env, logs, args.households)
        print(
            f"{args.households} households x 7 demo participants imported in "
            f"{time.perf_counter() - started:.1f} s"
        )
        for server in (baseline, real):
            stack.callback(server.stop)
            server.start(args.workers, env)
        baseline.wait_ready(None)
        real.wait_ready("/healthz")

        maker = RequestMaker(real.base_url + PATH, secrets_["TWILIO_AUTH_TOKEN"], args.households)
        started = time.perf_counter()
        baseline_pool = Pool(maker, BASELINE_POOL, cycle=True)
        print(
            f"built {BASELINE_POOL} signed requests in {time.perf_counter() - started:.2f} s; "
            "measuring the baseline"
        )
        baseline_result, _ = asyncio.run(
            measure(baseline, baseline_pool, args, None, CpuMeter(baseline, admin_conninfo, None))
        )

        # The real app needs a new MessageSid per request: enough for the baseline's pace, then some.
        needed = WARMUP_REQUESTS + round(
            min(baseline_result.closed.rate, 5000) * args.seconds * 1.1 + args.rate * args.seconds
        )
        real_pool = Pool(maker, needed)
        print(f"built {needed} more signed requests; measuring the real app")
        answers = Answers()
        real_result, activity = asyncio.run(
            measure(real, real_pool, args, answers, CpuMeter(real, admin_conninfo, name))
        )

        print()
        print(
            f"webhook load: gunicorn --workers {args.workers} (sync), PostgreSQL on 127.0.0.1, "
            f"{os.cpu_count()} CPUs shared by servers, database and load generator; "
            f"{args.seconds:g} s per phase"
        )
        table, targets_met = report([baseline_result, real_result], args)
        print("\n".join(table))
        print("\n".join(diagnostics([baseline_result, real_result], activity)))
        if real_pool.built_late:
            print(f"  note: {real_pool.built_late} requests were signed during the run (pool ran out)")

        for server in (real, baseline):
            server.stop()
        record, record_ok = check_record(database_url, answers)
        print("\n".join(record))

        if args.profile:
            overrides = secrets_ | {"DATABASE_URL": database_url, "PUBLIC_BASE_URL": real.base_url}
            if args.inbound_per_minute:
                overrides["INBOUND_PER_MINUTE"] = str(args.inbound_per_minute)
            requests = Pool(maker, args.profile).take(args.profile)
            print("\n".join(profile_in_process(overrides, requests, real.base_url)))

        verdict = flask_command(env, "verify-log")
        intact = "exchange log intact" in verdict
        print(f"verify-log: {verdict}")
        record_ok &= intact
        if not record_ok:
            print("FAIL  the exchange log does not match the answers given (see above)")
            return 1
        return 0 if targets_met else 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="open-loop requests/s (default 200)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase (default 20)")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop connections (default 32)")
    parser.add_argument(
        "--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL server to create the db on"
    )
    parser.add_argument("--profile", type=int, default=0, help="then profile N requests in-process")
    parser.add_argument(
        "--households",
        type=int,
        default=HOUSEHOLDS,
        help=f"copies of the 7 demo participants, each with its own number (default {HOUSEHOLDS})",
    )
    parser.add_argument(
        "--inbound-per-minute",
        type=int,
        default=0,
        help="the app's INBOUND_PER_MINUTE (default: the app's own, 30)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clean-up below still runs
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        return run(args)
    except (RuntimeError, psycopg.Error, subprocess.TimeoutExpired) as exc:
        print(f"webhook_load: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("webhook_load: interrupted (servers stopped, database dropped)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
