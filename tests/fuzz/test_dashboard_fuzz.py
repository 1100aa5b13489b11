"""Fuzzing the supervisors' dashboard: every form and query string, signed in or not, with arbitrary
values, through the real app on SQLite and PostgreSQL.

Every answer is checked four ways: never a 500 or a traceback; a refusal of bad input is a 400 whose
message names the field at fault; the database holds exactly what the request may legitimately write
(the access log's entry, the handled item, the counted sign-in failure) and nothing from a refused
request; nothing sent comes back as markup, and no phone number sent reaches the application log.

The expected outcome of each request is worked out here from the request as sent, beside the app, so
these tests also pin down which values each form accepts. Query-string filters are the exception to
"refused by field": a bad filter is ignored and the page shown without it (dashboard.conversations).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, quote_from_bytes

import pytest
from flask import Flask
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from dashboard import sync
from storage.fields import FieldError, parse_phone
from storage.models import (
    ConsentEvent,
    Conversation,
    Exchange,
    PhoneNumber,
    QueueItem,
    SignInFailure,
    Supervisor,
    SupervisorAccess,
)
from storage.supervisors import LOCK_AFTER
from tests.dashboard.conftest import ACCOUNTS
from tests.webhooks.conftest import sqlite_only

MAX_ID = 2**31 - 1  # every id column is a 32-bit INTEGER
NOTE_MAX = 1000  # dashboard.queue
# A third of the suite's examples per test, a sixth for signing in (a scrypt check each, slow on
# purpose): 21 tests with both databases, the file stays within a minute at the suite's default.
fuzz = settings(max_examples=max(10, settings.default.max_examples // 3))
fuzz_sign_in = settings(max_examples=max(10, settings.default.max_examples // 6))

# --- Values: what a person, a browser or an attacker may put in a field ---

# Markup that must never come back as markup; none of it is in any page by itself.
PAYLOADS = ("<script>fuzz(1)</script>", '"><img src=x onerror=fuzz(2)>', "'><svg onload=fuzz(3)>")
ODD = ["", " ", "\x00", "a\x00b", "\t\r\n", "\u202e", "\ufeff", "%", "%00", "%FF", "&", "=", "+", "null"]
phones = st.from_regex(r"\(?[2-9][0-9]{2}\)? ?[2-9][0-9]{2}[-.]?[0-9]{4}", fullmatch=True)
# 10,000 characters: ASCII ones fit in a form (MAX_CONTENT_LENGTH is 64 KiB), others may not (413).
long_texts = st.one_of(
    st.text(st.characters(codec="ascii"), min_size=1, max_size=3), st.text(min_size=1, max_size=3)
).map(lambda chunk: (chunk * 10_000)[:10_000])
texts = st.one_of(
    st.text(max_size=40),  # any code point but surrogates: controls, NUL, combining marks, emoji
    st.sampled_from(ODD + list(PAYLOADS)),
    st.builds(lambda a, p, b: a + p + b, st.text(max_size=8), st.sampled_from(PAYLOADS), st.text(max_size=8)),
    phones,
    long_texts,
)
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ["0", "00", "-0", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "1_000", "²", "٣", "١٢", "１", "ⅷ"]
        + [str(MAX_ID), str(MAX_ID + 1), str(2**63 - 1), str(2**63), str(2**64)]
    ),
)
dates = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(
        ["2026-02-30", "99999-01-01", "", " ", "0000-01-01", "0001-01-01", "9999-12-31", "2026-13-01"]
        + ["2026-1-1", "20260101", "2026-W01-1", "2026-01-01T00:00", "٢٠٢٦-٠١-٠١", "2026-01-01\x00"]
    ),
    texts,
)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Bytes that are not UTF-8: percent-encoded in a field, or raw in a query string or form.
not_utf8 = st.binary(min_size=1, max_size=12).filter(lambda raw: not _is_utf8(raw))
any_value = st.one_of(texts, numbers, dates)


def fields(values: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[list[tuple[Any, Any]]]:
    """Form or query fields as (name, value) pairs: some missing, some twice, unknown ones mixed in,
    now and then one whose name or value is not UTF-8."""
    names = st.sampled_from(sorted(values))
    known = names.flatmap(lambda name: st.tuples(st.just(name), st.one_of(values[name], any_value)))
    unknown = st.tuples(st.text(max_size=8), any_value)
    undecodable = st.one_of(st.tuples(names, not_utf8), st.tuples(not_utf8, any_value))
    pairs = st.lists(st.one_of(known, known, unknown), max_size=6)
    # Mostly well-encoded: the checks behind the encoding check need examples too.
    return st.one_of(
        pairs, pairs, pairs, st.tuples(pairs, undecodable, pairs).map(lambda p: [*p[0], p[1], *p[2]])
    )


def encode(pairs: Sequence[tuple[Any, Any]]) -> str:
    """The pairs percent-encoded as a browser does; a bytes value (not UTF-8) byte for byte."""

    def part(value: str | bytes) -> str:
        return quote_from_bytes(value if isinstance(value, bytes) else value.encode("utf-8"), safe="")

    return "&".join(f"{part(name)}={part(value)}" for name, value in pairs)


def decode(encoded: str) -> dict[str, str] | None:
    """The form as the app reads it (the first value of each name); None when it is not UTF-8."""
    try:
        pairs = parse_qsl(encoded, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def day(value: str) -> date | None:
    """A day as the dashboard's forms take it: YYYY-MM-DD, a real date."""
    try:
        return date.fromisoformat(value) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) else None
    except ValueError:
        return None


def whole_number(value: str) -> int | None:
    """An id as the dashboard's forms take it: ASCII digits, 1 to MAX_ID."""
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 0 < int(value) <= MAX_ID:
        return None
    return int(value)


def path_id(segment: str) -> int | None:
    """The id a route's <id:...> takes from a path segment; None when no route matches."""
    if not re.fullmatch(r"[0-9]{1,10}", segment):
        return None
    number = int(segment)
    return number if number <= MAX_ID else None


def refused_before_the_view(
    response: Any, target: int | None, body: str, before: Stored, after: Stored
) -> bool:
    """What every POST to /dashboard/<things>/<id>/<action> gets before its view acts: 404 for an id
    that is no id, the size limit, 400 naming UTF-8 for a body that is not. True when one of them
    applied (and then nothing was stored)."""
    if target is None:
        answered(response)
        assert response.status_code == 404 and after == before
    elif too_large(response):
        assert after == before
    elif decode(body) is None:
        refused(response, "UTF-8")
        assert after == before
    else:
        return False
    return True


# A path segment where a route wants an id. The small ids come first (hypothesis leans to the first
# choice): rows with them exist (the demo's phones, the three accounts, the queue's items) or just not.
segments = st.one_of(
    st.integers(1, 9).map(str),
    numbers,
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#.%"), min_size=1, max_size=10),
)


# --- What is stored, before and after a request ---


@dataclass(frozen=True)
class Stored:
    """Everything a dashboard request might write, read back from the database."""

    access: tuple[tuple[Any, ...], ...]
    queue: tuple[tuple[Any, ...], ...]
    accounts: tuple[tuple[Any, ...], ...]
    sign_in_failures: int
    conversations: tuple[tuple[Any, ...], ...]
    exchanges: int
    consent_events: int

    def without(self, *names: str) -> Stored:
        """The same with these parts left out, to compare the rest."""
        return replace(self, **dict.fromkeys(names))

    def new_access(self, before: Stored) -> list[tuple[Any, ...]]:
        """The access-log entries added since `before`, as (supervisor id, action, target)."""
        assert self.access[: len(before.access)] == before.access, "an access-log entry changed"
        return [row[1:4] for row in self.access[len(before.access) :]]


def stored(app: Flask) -> Stored:
    with app.extensions["database"].session() as session:

        def rows(*columns: Any) -> tuple[tuple[Any, ...], ...]:
            return tuple(tuple(row) for row in session.execute(select(*columns).order_by(columns[0])))

        def count(model: Any) -> Any:
            return select(func.count()).select_from(model).scalar_subquery()

        counts = session.execute(select(count(SignInFailure), count(Exchange), count(ConsentEvent))).one()
        return Stored(
            access=rows(
                SupervisorAccess.id,
                SupervisorAccess.supervisor_id,
                SupervisorAccess.action,
                SupervisorAccess.target,
                SupervisorAccess.detail,
            ),
            queue=rows(QueueItem.id, QueueItem.handled_at, QueueItem.handled_by, QueueItem.note_enc),
            accounts=rows(
                Supervisor.id,
                Supervisor.email,
                Supervisor.failed_logins,
                Supervisor.locked_until,
                Supervisor.last_login_at,
                Supervisor.password_hash,
                Supervisor.role,
            ),
            sign_in_failures=counts[0],
            conversations=rows(
                Conversation.phone_number_id,
                Conversation.open_items,
                Conversation.messages,
                Conversation.last_seq,
                Conversation.consent_state,
            ),
            exchanges=counts[1],
            consent_events=counts[2],
        )


def phone_ids(app: Flask) -> list[int]:
    with app.extensions["database"].session() as session:
        return list(session.scalars(select(PhoneNumber.id).order_by(PhoneNumber.id)))


def stored_numbers(app: Flask) -> dict[str, int]:
    """Every stored number (E.164) and its phone id."""
    with app.extensions["database"].session() as session:
        rows = session.execute(select(PhoneNumber.id, PhoneNumber.number_enc))
        return {app.extensions["cipher"].decrypt(encrypted): phone for phone, encrypted in rows}


def queue_ids(app: Flask) -> list[int]:
    with app.extensions["database"].session() as session:
        return list(session.scalars(select(QueueItem.id).order_by(QueueItem.id)))


@pytest.fixture
def board(talked: Flask) -> Flask:
    """The demo app with accounts and conversations, its dashboard summaries synced (as the first page
    view would: that write is not what the requests under test store)."""
    with talked.app_context(), talked.extensions["database"].transaction() as session:
        sync.sync(session)
    return talked


# --- Requests and answers ---

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address not used before in this run, so the per-client sign-in throttle starts at 0."""
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def client_as(app: Flask, supervisor_id: int | None) -> tuple[Any, str]:
    """A test client signed in as this supervisor (None: signed out), and its session's CSRF token.

    The session is written as signing in writes it (security.start_session), without the slow
    password check; the sign-in form has its own test.
    """
    client = app.test_client()
    token = secrets.token_urlsafe(32)
    now = int(time.time())
    with client.session_transaction() as session:
        session["csrf"] = token
        if supervisor_id is not None:
            session.update(supervisor=supervisor_id, started=now, seen=now)
    return client, token


def submit(client: Any, url: str, body: str, *, method: str = "POST", address: str = "127.0.0.1") -> Any:
    """Send an encoded form as application/x-www-form-urlencoded."""
    return client.open(
        url,
        method=method,
        data=body.encode("ascii"),
        content_type="application/x-www-form-urlencoded",
        environ_base={"REMOTE_ADDR": address},
    )


def with_token(token: str, pairs: Sequence[tuple[Any, Any]]) -> str:
    return encode([("csrf_token", token), *pairs])


def answered(response: Any) -> str:
    """The answer's text, checked: no 500, no traceback, nothing sent echoed as markup."""
    body = response.get_data(as_text=True)
    event(f"HTTP {response.status_code}")  # --hypothesis-show-statistics: how often each answer came
    assert response.status_code < 500, body[:2000]
    assert "Traceback" not in body, body[:2000]
    for payload in PAYLOADS:
        assert payload not in body, f"{payload!r} echoed unescaped"
        assert payload not in response.headers.get("Location", "")
    return body


def refused(response: Any, *names: str) -> str:
    """A 400 whose message names the field at fault (one of `names`)."""
    body = answered(response)
    assert response.status_code == 400, (response.status_code, body[:2000])
    assert any(name in body for name in names), (names, body[:2000])
    return body


def too_large(response: Any) -> bool:
    """Whether the form was over MAX_CONTENT_LENGTH (long values percent-encoded can be): refused whole."""
    if response.status_code != 413:
        return False
    assert "exceeds the capacity limit" in answered(response)
    return True


def log_as_deployed(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the log at INFO, as bot.create_app configures it (libraries keep their own levels:
    SQLAlchemy's statement log, which holds the parameters, is off unless asked for)."""
    caplog.set_level(logging.INFO)


def no_phone_logged(caplog: pytest.LogCaptureFixture, pairs: Sequence[tuple[Any, Any]]) -> None:
    """No phone-number-looking value sent is in the log, as typed or as its digits."""
    log = caplog.text
    for _, value in pairs:
        if isinstance(value, str) and len(value) <= 20 and 10 <= len(re.sub(r"\D", "", value)) <= 11:
            assert value not in log and re.sub(r"\D", "", value) not in log, "a phone number was logged"


# --- Signed out, without the form's token, with the wrong method ---

PAGES = ["/", "/conversations", "/conversations/rows", "/conversations/1", "/conversations/1/messages"]
PAGES += ["/queue", "/records", "/access", "/accounts", "/login"]
POSTS = ["/login", "/logout", "/conversations/1/reveal", "/queue/1/handle", "/records/export"]
POSTS += ["/accounts/1/unlock"]
ANY_FIELD = {name: texts for name in ("email", "password", "note", "format", "phone_id", "since", "until")}


@sqlite_only  # refused or redirected before any query that differs between databases
@fuzz
@given(
    url=st.sampled_from(POSTS),
    pairs=fields(ANY_FIELD),
    token=st.one_of(st.none(), st.text(max_size=50), st.just("another session's token")),
    signed_in=st.booleans(),
)
@example(url="/logout", pairs=[], token="\x80", signed_in=True)  # compare_digest of non-ASCII str: 500
def test_a_post_without_its_token_is_refused_and_stores_nothing(
    board: Flask,
    accounts: dict[str, int],
    url: str,
    pairs: list,
    token: str | None,
    signed_in: bool,
) -> None:
    client, _ = client_as(board, accounts["admin"] if signed_in else None)
    body = encode([("csrf_token", token), *pairs] if token is not None else pairs)
    before = stored(board)
    response = submit(client, "/dashboard" + url, body, address=fresh_address())
    if not too_large(response):
        refused(response, "UTF-8" if decode(body) is None else "security token")
    assert stored(board) == before


@sqlite_only  # refused or redirected before any query that differs between databases
@fuzz
@given(url=st.sampled_from(PAGES + POSTS), query=fields(ANY_FIELD), method=st.sampled_from(["GET", "POST"]))
def test_signed_out_every_page_sends_to_sign_in(board: Flask, url: str, query: list, method: str) -> None:
    client, token = client_as(board, None)
    before = stored(board)
    response = client.open(
        f"/dashboard{url}?{encode(query)}",
        method=method,
        data={"csrf_token": token},
        environ_base={"REMOTE_ADDR": fresh_address()},
    )
    answered(response)
    if url not in (POSTS if method == "POST" else PAGES):
        assert response.status_code == 405
    elif decode(encode(query)) is None:
        refused(response, "query string is not valid UTF-8")
    elif url == "/login":
        # GET shows the form; a POST with no email or password in it is a failed sign-in.
        assert response.status_code == (200 if method == "GET" else 401)
    elif url.endswith(("/rows", "/messages")):
        assert response.status_code == 401  # live updates: no redirect for a script to follow
    else:
        assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/login")
    if (method, url) != ("POST", "/login") or response.status_code == 400:
        assert stored(board) == before


@sqlite_only  # refused or redirected before any query that differs between databases
@fuzz
@given(url=st.sampled_from(POSTS), pairs=fields(ANY_FIELD), raw=not_utf8, signed_in=st.booleans())
def test_a_form_with_raw_bytes_that_are_not_utf8_is_refused_by_encoding(
    board: Flask,
    accounts: dict[str, int],
    url: str,
    pairs: list,
    raw: bytes,
    signed_in: bool,
) -> None:
    client, token = client_as(board, accounts["admin"] if signed_in else None)
    body = with_token(token, pairs).encode("ascii") + b"&note=" + raw  # not percent-encoded
    before = stored(board)
    response = client.post(
        "/dashboard" + url,
        data=body,
        content_type="application/x-www-form-urlencoded",
        environ_base={"REMOTE_ADDR": fresh_address()},
    )
    if not too_large(response):
        refused(response, "the form is not valid UTF-8")
    assert stored(board) == before


@sqlite_only  # refused or redirected before any query that differs between databases
@fuzz
@given(
    url=st.sampled_from(PAGES + POSTS),
    method=st.sampled_from(["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "BREW"]),
    pairs=fields(ANY_FIELD),
)
def test_a_wrong_method_is_refused(
    board: Flask,
    accounts: dict[str, int],
    url: str,
    method: str,
    pairs: list,
) -> None:
    client, token = client_as(board, accounts["admin"])
    before = stored(board)
    response = submit(client, "/dashboard" + url, with_token(token, pairs), method=method)
    answered(response)
    if method == "OPTIONS":
        assert response.status_code == 200 and "Allow" in response.headers
    else:
        assert response.status_code == 405
    assert stored(board) == before


# --- Signing in and out ---

emails = st.one_of(
    st.sampled_from(sorted(ACCOUNTS.values())),
    st.sampled_from(sorted(ACCOUNTS.values())).map(lambda email: f"  {email.upper()} "),
    st.emails(),
    texts,
)
SIGN_IN_REFUSALS = ("do not match an account", "locked for a while")


@fuzz_sign_in
@given(pairs=fields({"email": emails, "password": texts}))
@example(pairs=[("email", "a\x00b"), ("password", "x")])  # NUL in a PostgreSQL query: 500
def test_any_sign_in_is_refused_and_counts_exactly_one_failure(
    board: Flask, caplog: pytest.LogCaptureFixture, pairs: list
) -> None:
    log_as_deployed(caplog)
    client, token = client_as(board, None)
    body = with_token(token, pairs)
    before = stored(board)
    response = submit(client, "/dashboard/login", body, address=fresh_address())
    after = stored(board)
    no_phone_logged(caplog, pairs)
    form = decode(body)
    email = "" if form is None else form.get("email", "")[:254].strip()
    if too_large(response) or form is None or re.search(r"[\x00-\x1f\x7f-\x9f]", email):
        if response.status_code != 413:
            refused(response, "UTF-8" if form is None else "email")
        assert after == before
        return
    page = answered(response)
    assert response.status_code == 401, (response.status_code, page[:500])
    assert any(message in page for message in SIGN_IN_REFUSALS), page[:2000]
    # One failure counted against this client, and one against the account named, if any.
    assert after.sign_in_failures == before.sign_in_failures + 1
    assert after.without("sign_in_failures", "accounts") == before.without("sign_in_failures", "accounts")
    named = email.lower()
    for old, new in zip(before.accounts, after.accounts, strict=True):
        _, account, failures, locked_until, *rest = old
        if account != named:
            assert new == old
        elif locked_until is not None and locked_until > datetime.now(UTC):
            assert new == old and "locked" in page  # already locked: nothing more to count
        elif failures + 1 >= LOCK_AFTER:
            assert new[2] == 0 and new[3] is not None and "locked" in page
        else:
            assert new == (old[0], account, failures + 1, locked_until, *rest)


@sqlite_only  # refused or redirected before any query that differs between databases
@fuzz
@given(pairs=fields({"next": texts}))
def test_signing_out_takes_any_extra_fields(board: Flask, accounts: dict[str, int], pairs: list) -> None:
    client, token = client_as(board, accounts["supervisor"])
    body = with_token(token, pairs)
    before = stored(board)
    response = submit(client, "/dashboard/logout", body)
    if not too_large(response):
        if decode(body) is None:
            refused(response, "UTF-8")
        else:
            answered(response)
            assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/login")
            assert client.get("/dashboard/").status_code == 302
    assert stored(board) == before


# --- Query strings: a bad filter is ignored, the page shown without it ---

LIST_FIELDS = {
    "consent": st.sampled_from(["opted_in_verified", "opted_out", "never_opted_in", "OPTED_OUT"]),
    "intent": st.sampled_from(["agent_request", "out_of_scope", "greet", "nope"]),
    "since": dates,
    "until": dates,
    "flag": st.sampled_from(["open", "none", "all"]),
    "page": numbers,
}
OTHER_FIELDS = {"show": st.sampled_from(["handled", "open", "HANDLED"]), "page": numbers, "before": numbers}


def query_environ(pairs: Sequence[tuple[Any, Any]], raw: bytes | None) -> dict[str, str]:
    """The query string of these pairs, with raw bytes (not percent-encoded) appended when given."""
    query = encode(pairs).encode("ascii") + (b"&raw=" + raw if raw else b"")
    return {"QUERY_STRING": query.decode("latin-1")}  # WSGI carries the bytes as latin-1 text


@fuzz
@given(
    url=st.sampled_from(["/conversations", "/conversations/rows"]),
    pairs=fields(LIST_FIELDS),
    raw=st.one_of(st.none(), st.none(), st.none(), not_utf8),
)
@example(url="/conversations", pairs=[("page", "²")], raw=None)  # "²".isdigit(), int("²") fails: 500
@example(url="/conversations", pairs=[("page", "9" * 5000)], raw=None)  # int() of 5000 digits: 500
@example(url="/conversations", pairs=[("page", str(10**20))], raw=None)  # offset overflows: 500
@example(url="/conversations", pairs=[("until", "9999-12-31")], raw=None)  # the day after: 500
@example(url="/conversations/rows", pairs=[], raw=b"\x80")  # raw bytes in the query string: 500
def test_any_conversation_filter_shows_a_page_and_stores_nothing(
    board: Flask,
    accounts: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    url: str,
    pairs: list,
    raw: bytes | None,
) -> None:
    log_as_deployed(caplog)
    client, _ = client_as(board, accounts["supervisor"])
    before = stored(board)
    response = client.get("/dashboard" + url, environ_overrides=query_environ(pairs, raw))
    assert stored(board) == before
    no_phone_logged(caplog, pairs)
    if raw or decode(encode(pairs)) is None:
        refused(response, "query string is not valid UTF-8")
        return
    page = answered(response)
    assert response.status_code == 200, page[:2000]
    # The date inputs show a date the app understood, or nothing.
    for shown in re.findall(r'type="date" name="(?:since|until)" value="([^"]*)"', page):
        assert shown == "" or date.fromisoformat(shown)


@fuzz
@given(
    url=st.sampled_from(["/", "/queue", "/access", "/accounts", "/records"]),
    pairs=fields(OTHER_FIELDS),
    raw=st.one_of(st.none(), st.none(), st.none(), not_utf8),
)
@example(url="/queue", pairs=[("page", str(10**20))], raw=None)  # offset overflows: 500
@example(url="/access", pairs=[("before", "²")], raw=None)  # int("²"): 500
def test_any_query_on_the_other_pages_shows_the_page_and_stores_nothing(
    board: Flask,
    accounts: dict[str, int],
    url: str,
    pairs: list,
    raw: bytes | None,
) -> None:
    client, _ = client_as(board, accounts["admin"])
    before = stored(board)
    response = client.get("/dashboard" + url, environ_overrides=query_environ(pairs, raw))
    assert stored(board) == before
    if raw or decode(encode(pairs)) is None:
        refused(response, "query string is not valid UTF-8")
    else:
        page = answered(response)
        assert response.status_code == 200, page[:2000]


# --- One conversation: its transcript, live updates, and revealing its number ---


@fuzz
@given(segment=segments, pairs=fields({"before": numbers, "after": numbers}), poll=st.booleans())
@example(segment=str(MAX_ID + 1), pairs=[], poll=True)  # INTEGER out of range on PostgreSQL: 500
@example(segment=str(10**20), pairs=[], poll=True)  # too large for SQLite: 500
@example(segment="1", pairs=[("before", str(10**20))], poll=False)  # 500
@example(segment="1", pairs=[("after", "²")], poll=True)  # 500
def test_any_transcript_request_shows_it_or_404_and_records_only_the_view(
    board: Flask,
    accounts: dict[str, int],
    segment: str,
    pairs: list,
    poll: bool,
) -> None:
    client, _ = client_as(board, accounts["supervisor"])
    url = f"/dashboard/conversations/{quote(segment, safe='')}" + ("/messages" if poll else "")
    before = stored(board)
    response = client.get(f"{url}?{encode(pairs)}")
    answered(response)
    after = stored(board)
    phone = path_id(segment)
    if phone is None:
        assert response.status_code == 404 and after == before
    elif decode(encode(pairs)) is None:
        refused(response, "query string is not valid UTF-8")
        assert after == before
    elif phone not in phone_ids(board) and not poll:
        assert response.status_code == 404 and after == before
    elif poll:
        assert response.status_code == 200 and response.headers["X-Last-Seq"].isdigit()
        assert after == before  # a live update is not a view
    else:
        assert response.status_code == 200
        assert after.new_access(before) == [(accounts["supervisor"], "view_transcript", f"phone #{phone}")]
        assert after.without("access") == before.without("access")


@fuzz
@given(segment=segments, pairs=fields({"reason": texts, "phone_id": numbers}))
@example(segment=str(MAX_ID + 1), pairs=[])  # INTEGER out of range on PostgreSQL: 500
def test_any_reveal_is_recorded_once_or_refused_without_a_record(
    board: Flask,
    accounts: dict[str, int],
    segment: str,
    pairs: list,
) -> None:
    client, token = client_as(board, accounts["supervisor"])
    body = with_token(token, pairs)
    before = stored(board)
    response = submit(client, f"/dashboard/conversations/{quote(segment, safe='')}/reveal", body)
    after = stored(board)
    phone = path_id(segment)
    if refused_before_the_view(response, phone, body, before, after):
        return
    answered(response)
    if phone not in phone_ids(board):
        assert response.status_code == 404 and after == before
        return
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dashboard/conversations/{phone}")
    assert after.new_access(before) == [(accounts["supervisor"], "reveal_number", f"phone #{phone}")]
    assert after.without("access") == before.without("access")


# --- The queue: marking an item handled ---


def reopen_every_item(app: Flask) -> None:
    """Put every queue item back open, so that any example may handle one."""
    with app.app_context(), app.extensions["database"].transaction() as session:
        session.execute(update(QueueItem).values(handled_at=None, handled_by=None, note_enc=None))
        sync.count_open_items(session, list(session.scalars(select(Conversation.phone_number_id))))


notes = st.one_of(texts, st.text(min_size=NOTE_MAX - 5, max_size=NOTE_MAX + 5))
# Forms likely to be valid, so that items are often marked handled.
valid_handles = st.tuples(
    st.text(min_size=1, max_size=60).filter(str.strip), st.sampled_from([[], [("back", "transcript")]])
).map(lambda chosen: [("note", chosen[0]), *chosen[1]])


@fuzz
@given(
    segment=segments,
    pairs=st.one_of(valid_handles, fields({"note": notes, "back": st.just("transcript")})),
    role=st.sampled_from(["supervisor", "admin", "auditor"]),
)
@example(segment=str(10**20), pairs=[("note", "called back")], role="supervisor")  # 500
def test_any_handle_form_marks_one_item_or_is_refused_by_field(
    board: Flask,
    accounts: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    segment: str,
    pairs: list,
    role: str,
) -> None:
    log_as_deployed(caplog)
    reopen_every_item(board)
    client, token = client_as(board, accounts[role])
    body = with_token(token, pairs)
    before = stored(board)
    response = submit(client, f"/dashboard/queue/{quote(segment, safe='')}/handle", body)
    after = stored(board)
    no_phone_logged(caplog, pairs)
    item, form = path_id(segment), decode(body)
    if refused_before_the_view(response, item, body, before, after):
        return
    assert form is not None
    if role == "auditor":
        answered(response)
        assert response.status_code == 403 and after == before
        return
    note = form.get("note", "").strip()
    if not 1 <= len(note) <= NOTE_MAX:
        refused(response, "note")
        assert after == before
        return
    answered(response)
    if item not in queue_ids(board):
        assert response.status_code == 404 and after == before
        return
    assert response.status_code == 302
    back = "/dashboard/conversations/" if form.get("back") == "transcript" else "/dashboard/queue"
    assert back in response.headers["Location"]
    assert after.new_access(before) == [(accounts[role], "handle_queue_item", f"queue item #{item}")]
    changed = [new for old, new in zip(before.queue, after.queue, strict=True) if old != new]
    assert [row[0] for row in changed] == [item] and changed[0][2] == accounts[role]
    assert board.extensions["cipher"].decrypt(changed[0][3]) == note
    recounted = [
        new for old, new in zip(before.conversations, after.conversations, strict=True) if old != new
    ]
    assert len(recounted) <= 1  # the open count of the item's conversation
    assert after.without("access", "queue", "conversations") == before.without(
        "access", "queue", "conversations"
    )


# --- Records requests: the export form ---

EXPORT_FIELDS = {
    "format": st.sampled_from(["json", "csv", "xml", "JSON"]),
    "phone_id": numbers,
    "phone": st.one_of(phones, st.sampled_from(["(919) 555-0101", "919-555-0102", "+44 20 7946 0958"])),
    "since": dates,
    "until": dates,
}
# Forms likely to be valid, so the export itself is reached often.
valid_exports = st.tuples(
    st.one_of(
        st.just([("phone_id", "1")]),
        st.sampled_from(["(919) 555-0101", "+1 919 555 0103", "919-555-0188"]).map(lambda p: [("phone", p)]),
        st.lists(st.dates().map(date.isoformat), min_size=2, max_size=2).map(
            lambda days: [("since", min(days)), ("until", max(days))]
        ),
    ),
    st.sampled_from(["json", "csv"]),
).map(lambda chosen: [*chosen[0], ("format", chosen[1])])


def expected_export(form: dict[str, str], known: list[int], numbers: dict[str, int]) -> tuple[str, Any]:
    """What the export form must do: ("refused", words naming the field), ("not found", None), ("no
    records", None), or ("export", the access log's target)."""
    if form.get("format", "json") not in ("json", "csv"):
        return "refused", ("format",)
    if form.get("phone_id", "").strip():
        phone_id = whole_number(form["phone_id"])
        if phone_id is None:
            return "refused", ("phone_id",)
        return ("export", f"phone #{phone_id}") if phone_id in known else ("not found", None)
    if form.get("phone", "").strip():
        try:
            number = parse_phone(form["phone"])
        except FieldError:
            return "refused", ("phone number",)
        return ("export", f"phone #{numbers[number]}") if number in numbers else ("no records", None)
    if not form.get("since", "").strip() and not form.get("until", "").strip():
        return "refused", ("first day (since)",)
    days = []
    for name, label in (("since", "first day (since)"), ("until", "last day (until)")):
        found = day(form.get(name, ""))
        if found is None:
            return "refused", (label,)
        days.append(found)
    if days[1] < days[0]:
        return "refused", ("last day (until) is before",)
    return "export", f"range {days[0]}..{days[1]}"


@fuzz
@given(pairs=st.one_of(valid_exports, fields(EXPORT_FIELDS)))
@example(pairs=[("phone_id", "²")])  # 500
@example(pairs=[("phone_id", str(10**20))])  # 500
@example(pairs=[("since", "2026-01-01"), ("until", "9999-12-31")])  # the day after: 500
@example(pairs=[("since", "2026-02-30"), ("until", "2026-03-01")])  # was a redirect, "Give a number, or..."
def test_any_export_form_exports_once_or_is_refused_by_field(
    board: Flask,
    accounts: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    pairs: list,
) -> None:
    log_as_deployed(caplog)
    client, token = client_as(board, accounts["auditor"])
    body = with_token(token, pairs)
    before = stored(board)
    response = submit(client, "/dashboard/records/export", body)
    after = stored(board)
    no_phone_logged(caplog, pairs)
    form = decode(body)
    if too_large(response):
        assert after == before
        return
    if form is None:
        refused(response, "UTF-8")
        assert after == before
        return
    outcome, detail = expected_export(form, phone_ids(board), stored_numbers(board))
    if outcome == "refused":
        page = refused(response, *detail)
        assert after == before
        phone = form.get("phone", "").strip()
        assert len(phone) < 7 or phone not in page  # a number typed is never repeated back
        return
    answered(response)
    if outcome == "not found":
        assert response.status_code == 404 and after == before
    elif outcome == "no records":
        assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/records")
        assert after == before
    else:
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        assert "attachment" in response.headers["Content-Disposition"]
        assert after.new_access(before) == [(accounts["auditor"], "export", detail)]
        assert after.without("access") == before.without("access")


# --- Accounts: unlocking one ---


@fuzz
@given(segment=segments, pairs=fields({"reason": texts}))
@example(segment=str(MAX_ID + 1), pairs=[])  # INTEGER out of range on PostgreSQL: 500
def test_any_unlock_clears_one_lock_or_404_without_a_record(
    board: Flask,
    accounts: dict[str, int],
    segment: str,
    pairs: list,
) -> None:
    with board.extensions["database"].transaction() as session:
        session.execute(
            update(Supervisor)
            .where(Supervisor.id == accounts["supervisor"])
            .values(failed_logins=3, locked_until=datetime(2099, 1, 1, tzinfo=UTC))
        )
    client, token = client_as(board, accounts["admin"])
    body = with_token(token, pairs)
    before = stored(board)
    response = submit(client, f"/dashboard/accounts/{quote(segment, safe='')}/unlock", body)
    after = stored(board)
    target = path_id(segment)
    if refused_before_the_view(response, target, body, before, after):
        return
    answered(response)
    if target not in accounts.values():
        assert response.status_code == 404 and after == before
        return
    assert response.status_code == 302
    assert after.new_access(before) == [(accounts["admin"], "unlock_account", f"supervisor #{target}")]
    unlocked = {row[0]: row for row in after.accounts}
    assert unlocked[target][2] == 0 and unlocked[target][3] is None
    others = [row for row in before.accounts if row[0] != target]
    assert [unlocked[row[0]] for row in others] == others
    assert after.without("access", "accounts") == before.without("access", "accounts")
