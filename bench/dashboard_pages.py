"""Dashboard page times with a large exchange log.

    .venv/bin/python bench/dashboard_pages.py [--exchanges 100000] [--phones 5000]
        [--backend sqlite|postgresql] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Fills a throwaway database (temporary SQLite file, or a PostgreSQL database it creates and drops) with
--exchanges log records over the last 14 days from --phones numbers (bulk inserts; the hash chain is not
computed, pages do not need it), then times each dashboard page through the app: the first request
(which brings the summaries up to date from the whole log) and the median of 5 more. Prints one line
per page; exit 2 when a warm page takes over 300 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from bot import create_app  # noqa: E402
from storage import schema  # noqa: E402
from storage.crypto import DataCipher, generate_key  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import ConsentEvent, Exchange, PhoneNumber, Supervisor, utcnow  # noqa: E402

INTENTS = ["next_due_date", "last_payment", "greet", "out_of_scope", "agent_request", "thanks", "help"]
LIMIT_MS = 300


def fill(database: Database, cipher: DataCipher, exchanges: int, phones: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    body = cipher.encrypt("when is my next payment due <b>?</b>")
    with database.transaction() as session:
        session.execute(
            insert(PhoneNumber),
            [
                {"id": i, "lookup_hash": uuid.uuid4().hex, "number_enc": cipher.encrypt(f"+1919555{i:04d}")}
                for i in range(1, phones + 1)
            ],
        )
        session.execute(
            insert(ConsentEvent),
            [
                {"phone_number_id": i, "kind": "opt_in", "channel": "web", "evidence": f"REF-{i}",
                 "occurred_at": now - timedelta(days=20), "recorded_at": now}
                for i in range(1, phones + 1)
            ],
        )  # fmt: skip
        rows, seq = [], 0
        for n in range(exchanges // 2):
            phone = rng.randint(1, phones)
            at = now - timedelta(seconds=(exchanges // 2 - n) * 14 * 86400 / (exchanges // 2))
            intent = rng.choice(INTENTS)
            for direction in ("inbound", "outbound"):
                seq += 1
                rows.append(
                    {
                        "chain_seq": seq, "direction": direction, "occurred_at": at, "phone_number_id": phone,
                        "reply_to_seq": seq - 1 if direction == "outbound" else None, "body_enc": body,
                        "intent": intent if direction == "inbound" else None,
                        "template_id": intent if direction == "outbound" else None,
                        "consent_state": "opted_in_verified",
                        "delivery_status": ("failed" if rng.random() < 0.002 else "twiml")
                        if direction == "outbound" else None,
                        "message_sid": f"SM{uuid.uuid4().hex}" if direction == "inbound" else None,
                        "prev_hash": "0" * 64, "record_hash": "0" * 64, "key_id": "bench",
                    }
                )  # fmt: skip
            if len(rows) >= 10000:
                session.execute(insert(Exchange), rows)
                rows = []
        if rows:
            session.execute(insert(Exchange), rows)
        session.add(Supervisor(email="bench@agency.gov", role="admin", password_hash=generate_password_hash(
            "bench password 1", method="scrypt"), failed_logins=0))  # fmt: skip


def timed(client, url: str) -> float:  # noqa: ANN001
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def run(url: str, exchanges: int, phones: int, backend: str) -> bool:
    key = generate_key()
    database = Database(url)
    schema.upgrade(database)
    cipher = DataCipher([key])
    started = time.perf_counter()
    fill(database, cipher, exchanges, phones)
    took = time.perf_counter() - started
    print(f"[{backend}] filled {exchanges} exchanges, {phones} numbers in {took:.1f} s")
    app = create_app(
        {"DATABASE_URL": url, "DATA_KEYS": key, "SECRET_KEY": "bench", "TWILIO_AUTH_TOKEN": "bench"}
    )
    client = app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/dashboard/login", data={"email": "bench@agency.gov", "password": "bench password 1",
                                          "csrf_token": token})  # fmt: skip
    pages = [
        "/dashboard/",
        "/dashboard/conversations",
        "/dashboard/conversations?page=40",
        "/dashboard/conversations?intent=agent_request&consent=opted_in_verified",
        "/dashboard/conversations?flag=open",
        "/dashboard/conversations/rows",
        "/dashboard/conversations/17",
        "/dashboard/conversations/17/messages?after=99999999",
        "/dashboard/queue",
        "/dashboard/access",
    ]
    ok = True
    for index, page_url in enumerate(pages):
        first = timed(client, page_url)
        warm = statistics.median(timed(client, page_url) for _ in range(5))
        ok &= warm <= LIMIT_MS
        note = " (includes the first summary sync over the whole log)" if index == 0 else ""
        print(f"[{backend}] {page_url:<75} first {first:8.1f} ms   warm median {warm:7.1f} ms{note}")
    app.extensions["database"].dispose()
    database.dispose()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchanges", type=int, default=100_000)
    parser.add_argument("--phones", type=int, default=5000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            ok = run(f"sqlite:///{folder}/bench.sqlite3", args.exchanges, args.phones, "sqlite")
    else:
        admin = make_url(args.database_url).set(drivername="postgresql")
        name = f"dashboard_bench_{uuid.uuid4().hex[:8]}"
        admin_dsn = admin.render_as_string(hide_password=False)
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            ok = run(admin.set(database=name).render_as_string(hide_password=False), args.exchanges,
                     args.phones, "postgresql")  # fmt: skip
        finally:
            with psycopg.connect(admin_dsn, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("PASS" if ok else f"FAIL: a warm page took over {LIMIT_MS} ms")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
